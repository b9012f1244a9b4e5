"""API for the workspaces a caller can reach and the one in the URL."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.response import Response

from api.models import ApiToken
from api.scoping import WorkspaceScoped
from api.serializers.access import WorkspaceDetailSerializer, WorkspaceSerializer
from brands.models import Membership
from rendering.jobs.enqueue import gpu_seconds_this_month


class WorkspaceListView(generics.ListAPIView):
    """Your workspaces and your role in each (a token sees only its own workspace)."""

    serializer_class = WorkspaceSerializer

    def get_queryset(self):
        mine = Membership.objects.filter(user=self.request.user).select_related("workspace")
        if isinstance(self.request.auth, ApiToken):
            mine = mine.filter(workspace_id=self.request.auth.workspace_id)
        return mine.order_by("workspace__name")


class WorkspaceDetailView(WorkspaceScoped, generics.GenericAPIView):
    serializer_class = WorkspaceDetailSerializer

    @extend_schema(summary="The workspace, your role and its GPU use this month",
                   operation_id="workspace_retrieve")
    def get(self, request, *args, **kwargs):
        membership = self.membership
        data = WorkspaceSerializer(membership).data
        data["gpu_seconds_this_month"] = round(gpu_seconds_this_month(self.workspace.pk), 1)
        data["gpu_quota_seconds"] = self.workspace.gpu_quota_seconds
        return Response(data)
