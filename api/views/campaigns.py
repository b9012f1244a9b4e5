"""API for campaigns (generate, refresh, schedules), render jobs, assets and the audit log."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from adstudio.files import file_redirect
from brands.models import AuditEvent
from campaigns import export, refresh, review, services, staleness
from campaigns.models import Campaign, CampaignStatus, RefreshSchedule
from campaigns.selectors import review_queue
from rendering import jobs
from rendering.models import Asset, JobStatus, RenderJob, ReviewState

from .. import serializers as s
from ..filters import (
    bool_parameter,
    choice_parameter,
    id_parameter,
    query_bool,
    query_choice,
    query_id,
    query_text,
    text_parameter,
)
from ..idempotency import HEADER, idempotent
from ..scoping import WorkspaceScoped

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    HEADER, str, OpenApiParameter.HEADER, required=False,
    description="Any unique string (a UUID). Sending the same key and body again returns the "
                "first response without queuing again; another body with it gives 422.")


@extend_schema_view(
    list=extend_schema(summary="List campaigns", parameters=[
        choice_parameter("status", CampaignStatus.values)]),
    retrieve=extend_schema(summary="A campaign with its slots"),
    create=extend_schema(summary="Create a campaign: one slot per product x format"),
    update=extend_schema(
        summary="Replace a campaign's name, dates, variants, products, formats and templates",
        description=s.CampaignUpdateSerializer.__doc__, request=s.CampaignUpdateSerializer,
        responses={200: s.CampaignSerializer}),
    partial_update=extend_schema(
        summary="Change a campaign (the fields sent)",
        description=s.CampaignUpdateSerializer.__doc__, request=s.CampaignUpdateSerializer,
        responses={200: s.CampaignSerializer}),
    destroy=extend_schema(
        summary="Delete a campaign with its slots, renders and assets",
        description="Unfinished renders are cancelled. Refused (400) while it has approved "
                    "assets, unless it is archived first."),
)
class CampaignViewSet(WorkspaceScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      viewsets.GenericViewSet):
    serializer_class = s.CampaignSerializer
    lookup_url_kwarg = "campaign_id"
    actions = {"create": "campaign.edit", "update": "campaign.edit",
               "partial_update": "campaign.edit", "destroy": "campaign.edit",
               "archive": "campaign.edit", "unarchive": "campaign.edit",
               "generate": "campaign.generate", "refresh_now": "campaign.generate",
               "schedule:put": "campaign.edit", "export": "campaign.export",
               "rerender_stale": "campaign.generate"}

    def get_queryset(self):
        campaigns = (Campaign.objects.filter(workspace=self.workspace)
                     .prefetch_related("products", "formats", "templates", "slots"))
        wanted = query_choice(self.request, "status", CampaignStatus.values)
        if wanted:
            campaigns = campaigns.filter(status=wanted)
        return campaigns

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        campaign = services.campaign_create(workspace=self.workspace, user=request.user,
                                            **serializer.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=campaign.pk)).data,
                        status=status.HTTP_201_CREATED)

    def _fresh(self, campaign) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=campaign.pk)).data)

    def update(self, request, *args, **kwargs):
        campaign = self.get_object()
        params = s.CampaignUpdateSerializer(campaign, data=request.data,
                                            partial=kwargs.get("partial", False),
                                            context=self.get_serializer_context())
        params.is_valid(raise_exception=True)
        campaign = services.campaign_update(campaign=campaign, user=request.user,
                                            **params.validated_data)
        return self._fresh(campaign)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request, *args, **kwargs):
        services.campaign_delete(campaign=self.get_object(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Archive: assets stay, nothing new renders, the schedule stops",
                   request=None, responses={200: s.CampaignSerializer})
    @action(detail=True, methods=["post"])
    def archive(self, request, *args, **kwargs):
        return self._fresh(services.campaign_archive(campaign=self.get_object(),
                                                     user=request.user))

    @extend_schema(summary="Unarchive: the campaign can render again and its schedule resumes",
                   request=None, responses={200: s.CampaignSerializer})
    @action(detail=True, methods=["post"])
    def unarchive(self, request, *args, **kwargs):
        return self._fresh(services.campaign_unarchive(campaign=self.get_object(),
                                                       user=request.user))

    @extend_schema(summary="Queue renders for every slot (or the given ones)",
                   request=s.GenerateInputSerializer,
                   parameters=[IDEMPOTENCY_PARAMETER],
                   responses={202: s.GenerateResultSerializer})
    @action(detail=True, methods=["post"])
    def generate(self, request, *args, **kwargs):
        campaign = self.get_object()
        params = s.GenerateInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)

        def run() -> Response:
            data = params.validated_data
            slots = None
            if "slots" in data:
                slots = list(campaign.slots.select_related("product", "format")
                             .filter(pk__in=data["slots"]).order_by("id"))
                if len(slots) != len(set(data["slots"])):
                    raise ValidationError({"slots": ["Some slots are not in this campaign."]})
            result = services.campaign_generate(campaign=campaign, user=request.user,
                                                slots=slots, variants=data.get("variants"),
                                                seed=data.get("seed"))
            ids = [job.pk for job in result.jobs]
            return Response({"jobs": ids, "count": len(ids)}, status=status.HTTP_202_ACCEPTED)

        return idempotent(request, workspace=self.workspace,
                          operation=f"campaign.generate:{campaign.pk}", run=run)

    @extend_schema(summary="Refresh now: new variants for the scheduled slots, once per period",
                   request=None, responses={200: s.RefreshResultSerializer})
    @action(detail=True, methods=["post"], url_path="refresh")
    def refresh_now(self, request, *args, **kwargs):
        campaign = self.get_object()
        done = refresh.campaign_refresh(campaign_id=campaign.pk, trigger="manual")
        return Response({"refreshed": done is not None,
                         "period": done.period if done else None,
                         "jobs_created": done.jobs_created if done else 0})

    @extend_schema(methods=["GET"], summary="The campaign's refresh schedule",
                   responses={200: s.RefreshScheduleSerializer})
    @extend_schema(methods=["PUT"], summary="Set the campaign's refresh schedule",
                   request=s.RefreshScheduleSerializer,
                   responses={200: s.RefreshScheduleSerializer})
    @action(detail=True, methods=["get", "put"])
    def schedule(self, request, *args, **kwargs):
        campaign = self.get_object()
        context = self.get_serializer_context()
        if request.method == "GET":
            schedule = RefreshSchedule.objects.filter(campaign=campaign).first()
            if schedule is None:
                raise NotFound("This campaign has no refresh schedule.")
            data = s.RefreshScheduleSerializer(schedule, context=context).data
            data["auto_rerender_stale"] = campaign.auto_rerender_stale
            return Response(data)
        serializer = s.RefreshScheduleSerializer(data=request.data, context=context)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        schedule = refresh.refresh_schedule_save(
            campaign=campaign, kind=data.get("kind", "cron"), cron=data.get("cron", ""),
            interval_seconds=data.get("interval_seconds"), tz=data.get("timezone", "UTC"),
            formats=data.get("formats", []), variants=data.get("variants", 1),
            enabled=data.get("enabled", True),
            auto_rerender_stale=data.get("auto_rerender_stale"))
        campaign.refresh_from_db(fields=["auto_rerender_stale"])
        result = s.RefreshScheduleSerializer(schedule, context=context).data
        result["auto_rerender_stale"] = campaign.auto_rerender_stale
        return Response(result)

    @extend_schema(summary="A signed, expiring download link for the approved assets (ZIP)",
                   description="Stale live assets are left out (listed in left_out_stale and "
                               "in the ZIP's stale.csv) unless include_stale is true.",
                   request=s.ExportInputSerializer, responses={200: s.ExportLinkSerializer})
    @action(detail=True, methods=["post"])
    def export(self, request, *args, **kwargs):
        campaign = self.get_object()
        params = s.ExportInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        include_stale = params.validated_data["include_stale"]
        link = export.campaign_export_link(campaign=campaign, user=request.user,
                                           include_stale=include_stale)
        left_out = [] if include_stale else export.export_stale_assets(campaign)
        return Response({"url": request.build_absolute_uri(link),
                         "include_stale": include_stale,
                         "left_out_stale": s.ExportLeftOutSerializer(left_out, many=True).data})

    @extend_schema(summary="Render all stale slots again (one new render per slot)",
                   description="Queues one render for each slot whose live asset (or, with "
                               "nothing live, every candidate) is stale. Slots with a fresh "
                               "render already queued or waiting for review are skipped, so "
                               "calling it again before the renders finish queues nothing.",
                   request=s.RerenderStaleInputSerializer,
                   responses={202: s.RerenderStaleResultSerializer})
    @action(detail=True, methods=["post"], url_path="rerender-stale")
    def rerender_stale(self, request, *args, **kwargs):
        campaign = self.get_object()
        params = s.RerenderStaleInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        product = None
        if "product" in params.validated_data:
            product = campaign.products.filter(pk=params.validated_data["product"]).first()
            if product is None:
                raise ValidationError({"product": ["This product is not in the campaign."]})
        result = staleness.campaign_rerender_stale(campaign=campaign, user=request.user,
                                                   product=product)
        ids = [job.pk for job in result.jobs]
        return Response({"jobs": ids, "count": len(ids),
                         "already_pending": result.already_pending},
                        status=status.HTTP_202_ACCEPTED)

    @extend_schema(summary="Refresh history, newest first",
                   responses={200: s.CampaignRefreshSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)
    def refreshes(self, request, *args, **kwargs):
        campaign = self.get_object()
        return Response(s.CampaignRefreshSerializer(campaign.refreshes.all()[:100],
                                                    many=True).data)


@extend_schema_view(
    list=extend_schema(summary="Render jobs with progress and queue position", parameters=[
        choice_parameter("status", JobStatus.values),
        id_parameter("campaign", "Campaign id"),
    ]),
    retrieve=extend_schema(summary="A render job with its recipe"),
)
class RenderJobViewSet(WorkspaceScoped, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.RenderJobSerializer
    lookup_url_kwarg = "job_id"
    actions = {"cancel": "campaign.generate", "retry": "campaign.generate"}

    def get_serializer_class(self):
        return s.RenderJobDetailSerializer if self.action != "list" else s.RenderJobSerializer

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
                jobs.queue_positions(self.workspace.pk, queued) if queued else {})
        return super().get_serializer(*args, **kwargs)

    @extend_schema(summary="Cancel: a queued job never starts; a running one stops",
                   request=None, responses={200: s.RenderJobDetailSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, *args, **kwargs):
        job = jobs.job_cancel(job=self.get_object())
        return Response(self.get_serializer(job).data)

    @extend_schema(summary="Queue a failed or cancelled job again", request=None,
                   responses={200: s.RenderJobDetailSerializer})
    @action(detail=True, methods=["post"])
    def retry(self, request, *args, **kwargs):
        job = jobs.job_retry(job=self.get_object())
        return Response(self.get_serializer(self.get_queryset().get(pk=job.pk)).data)


@extend_schema_view(
    list=extend_schema(summary="Assets, newest first", parameters=[
        id_parameter("campaign", "Campaign id"),
        id_parameter("slot", "Slot id"),
        choice_parameter("review_state", ReviewState.values),
        bool_parameter("live", "true: only the live (shipping) assets; false: the others"),
        bool_parameter("stale", "true: only stale assets; false: only fresh ones"),
    ]),
    retrieve=extend_schema(summary="An asset with its recipe, versions and quality checks"),
)
class AssetViewSet(WorkspaceScoped, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.AssetSerializer
    lookup_url_kwarg = "asset_id"
    actions = {"approve": "asset.review", "request_changes": "asset.review",
               "reject": "asset.review", "approve_bulk": "asset.review", "edit": "asset.edit"}

    def get_serializer_class(self):
        return s.AssetDetailSerializer if self.action == "retrieve" else s.AssetSerializer

    def get_queryset(self):
        found = Asset.objects.filter(workspace=self.workspace).select_related("slot")
        request = self.request
        campaign, slot = query_id(request, "campaign"), query_id(request, "slot")
        if campaign is not None:
            found = found.filter(slot__campaign_id=campaign)
        if slot is not None:
            found = found.filter(slot_id=slot)
        review_state = query_choice(request, "review_state", ReviewState.values)
        if review_state:
            found = found.filter(review_state=review_state)
        live, stale = query_bool(request, "live"), query_bool(request, "stale")
        if live is not None:
            found = found.filter(is_live=live)
        if stale is not None:
            found = found.filter(stale_at__isnull=not stale)
        return found.order_by("-created_at", "-id")

    @extend_schema(summary="Approve this version: it becomes its slot's live asset",
                   description="Refused (403) for your own asset; refused (400) when the file "
                               "changed since you looked (send the sha256 you saw); refused "
                               "(409, with stale_reasons) when the asset is stale, unless "
                               "confirm_stale is true.",
                   request=s.ApproveInputSerializer,
                   responses={200: s.ReviewEventSerializer,
                              409: s.StaleApprovalConflictSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, *args, **kwargs):
        asset = self.get_object()  # 404 before any validation (P1)
        params = s.ApproveInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            event = review.asset_approve(asset=asset, user=request.user,
                                         **params.validated_data)
        except review.StaleAssetError as exc:
            return Response({"detail": f"{exc.messages[0]} Send confirm_stale: true to "
                                       "approve it anyway.",
                             "asset": exc.asset_id, "stale_reason": exc.reason,
                             "stale_reasons": exc.reasons}, status=status.HTTP_409_CONFLICT)
        return Response(s.ReviewEventSerializer(event).data)

    @extend_schema(summary="Request changes: the comment becomes a Qwen-Image-Edit job",
                   request=s.RequestChangesInputSerializer,
                   responses={200: s.ReviewEventSerializer})
    @action(detail=True, methods=["post"], url_path="request-changes")
    def request_changes(self, request, *args, **kwargs):
        asset = self.get_object()  # 404 before any validation (P1)
        params = s.RequestChangesInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        event = review.asset_request_changes(asset=asset, user=request.user,
                                             **params.validated_data)
        return Response(s.ReviewEventSerializer(event).data)

    @extend_schema(summary="Reject this version (a live one is withdrawn)",
                   request=s.RejectInputSerializer, responses={200: s.ReviewEventSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request, *args, **kwargs):
        asset = self.get_object()  # 404 before any validation (P1)
        params = s.RejectInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        event = review.asset_reject(asset=asset, user=request.user,
                                    **params.validated_data)
        return Response(s.ReviewEventSerializer(event).data)

    @extend_schema(summary="Edit by instruction: queues an edit job whose output is a new "
                           "version", request=s.EditInputSerializer,
                   responses={202: s.RenderJobDetailSerializer})
    @action(detail=True, methods=["post"])
    def edit(self, request, *args, **kwargs):
        asset = self.get_object()  # 404 before any validation (P1)
        params = s.EditInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        job = review.asset_edit(asset=asset, user=request.user, **params.validated_data)
        job = RenderJob.objects.select_related("slot").get(pk=job.pk)
        return Response(s.RenderJobDetailSerializer(job, context={"positions": {}}).data,
                        status=status.HTTP_202_ACCEPTED)

    @extend_schema(summary="Review events of this asset, oldest first",
                   responses={200: s.ReviewEventSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)
    def reviews(self, request, *args, **kwargs):
        events = self.get_object().review_events.select_related("user")
        return Response(s.ReviewEventSerializer(events, many=True).data)

    @extend_schema(summary="The review queue: assets waiting for review, oldest first",
                   responses={200: s.AssetSerializer(many=True)})
    @action(detail=False, methods=["get"], url_path="review-queue")
    def review_queue(self, request, *args, **kwargs):
        page = self.paginate_queryset(review_queue(self.workspace))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(summary="Approve several assets; each is approved or says why not",
                   request=s.BulkApproveInputSerializer,
                   responses={200: s.BulkApproveResultSerializer})
    @action(detail=False, methods=["post"], url_path="bulk-approve")
    def approve_bulk(self, request, *args, **kwargs):
        params = s.BulkApproveInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        assets = Asset.objects.filter(workspace=self.workspace, pk__in=params.validated_data[
            "assets"])
        result = review.assets_approve_bulk(
            assets=assets, user=request.user,
            confirm_stale=params.validated_data["confirm_stale"])
        stale = [{"asset": e.asset_id, "stale_reason": e.reason, "stale_reasons": e.reasons}
                 for e in result.stale]
        problems = result.problems + [f"Asset {e.asset_id} skipped: {e.messages[0]}"
                                      for e in result.stale]
        return Response({"approved": [event.asset_id for event in result.approved],
                         "problems": problems, "stale": stale})

    @extend_schema(summary="The asset's PNG file: a redirect to a signed link that expires",
                   responses={302: OpenApiResponse(
                       description="Location: a signed link to the PNG that expires; the link "
                                   "itself needs no token.")})
    @action(detail=True, methods=["get"], url_name="download")
    def download(self, request, *args, **kwargs):
        asset = self.get_object()  # the workspace and permission checks come first
        return file_redirect(asset.file.name, filename=f"asset-{asset.pk}.png")


@extend_schema_view(list=extend_schema(summary="The workspace's audit log, newest first (admin)",
                                       parameters=[
    text_parameter("verb", "e.g. asset.approved", max_length=60),
    text_parameter("object_type", "e.g. asset, campaign", max_length=40),
    id_parameter("object_id", "The changed object's id"),
]))
class AuditEventViewSet(WorkspaceScoped, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = s.AuditEventSerializer
    actions = {"list": "member.manage"}  # as on the dashboard's members page: admins only

    def get_queryset(self):
        events = AuditEvent.objects.filter(workspace=self.workspace).select_related("actor")
        for name, max_length in (("verb", 60), ("object_type", 40)):
            value = query_text(self.request, name, max_length=max_length)
            if value:
                events = events.filter(**{name: value})
        object_id = query_id(self.request, "object_id")
        if object_id is not None:
            events = events.filter(object_id=object_id)
        return events
