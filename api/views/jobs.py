"""API for render jobs: list, detail with queue position, cancel, retry."""

from __future__ import annotations

from drf_spectacular.utils import (
    extend_schema,
    extend_schema_view,
)
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.filters import (
    choice_parameter,
    id_parameter,
    query_choice,
    query_id,
)
from api.scoping import WorkspaceScoped
from api.serializers.jobs import RenderJobDetailSerializer, RenderJobSerializer
from rendering.jobs import enqueue, states
from rendering.models import JobStatus, RenderJob


@extend_schema_view(
    list=extend_schema(summary="Render jobs with progress and queue position", parameters=[
        choice_parameter("status", JobStatus.values),
        id_parameter("campaign", "Campaign id"),
    ]),
    retrieve=extend_schema(summary="A render job with its recipe"),
)
class RenderJobViewSet(WorkspaceScoped, viewsets.ReadOnlyModelViewSet):
    serializer_class = RenderJobSerializer
    lookup_url_kwarg = "job_id"
    actions = {"cancel": "campaign.generate", "retry": "campaign.generate"}

    def get_serializer_class(self):
        return RenderJobDetailSerializer if self.action != "list" else RenderJobSerializer

    def get_queryset(self):
        found = (RenderJob.objects.filter(workspace=self.workspace)
                 .select_related("slot", "asset").order_by("-id"))
        wanted = query_choice(self.request, "status", JobStatus.values)
        if wanted:
            found = found.filter(status=wanted)
        campaign = query_id(self.request, "campaign")
        if campaign is not None:
            found = found.filter(slot__campaign_id=campaign)
        return found

    def get_serializer(self, *args, **kwargs):
        instances = args[0] if args else None
        if instances is not None and not getattr(self, "swagger_fake_view", False):
            listed = instances if isinstance(instances, list | tuple) else [instances]
            queued = [j.pk for j in listed if j.status == JobStatus.QUEUED]
            kwargs.setdefault("context", self.get_serializer_context())
            kwargs["context"]["positions"] = (
                enqueue.queue_positions(self.workspace.pk, queued) if queued else {})
        return super().get_serializer(*args, **kwargs)

    @extend_schema(summary="Cancel: a queued job never starts; a running one stops",
                   request=None, responses={200: RenderJobDetailSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, *args, **kwargs):
        job = states.job_cancel(job=self.get_object())
        return Response(self.get_serializer(job).data)

    @extend_schema(summary="Queue a failed or cancelled job again", request=None,
                   responses={200: RenderJobDetailSerializer})
    @action(detail=True, methods=["post"])
    def retry(self, request, *args, **kwargs):
        job = states.job_retry(job=self.get_object())
        return Response(self.get_serializer(self.get_queryset().get(pk=job.pk)).data)
