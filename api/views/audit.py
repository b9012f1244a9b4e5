"""API for the workspace's audit log (admins)."""

from __future__ import annotations

from drf_spectacular.utils import (
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, viewsets

from api.filters import (
    id_parameter,
    query_id,
    query_text,
    text_parameter,
)
from api.scoping import WorkspaceScoped
from api.serializers.access import AuditEventSerializer
from brands.models import AuditEvent


@extend_schema_view(list=extend_schema(summary="The workspace's audit log, newest first (admin)",
                                       parameters=[
    text_parameter("verb", "e.g. asset.approved", max_length=60),
    text_parameter("object_type", "e.g. asset, campaign", max_length=40),
    id_parameter("object_id", "The changed object's id"),
]))
class AuditEventViewSet(WorkspaceScoped, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = AuditEventSerializer
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
