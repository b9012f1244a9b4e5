"""API for feed sources (catalog sync) and feed imports with their progress."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.scoping import WorkspaceScoped
from api.serializers.feeds import FeedImportSerializer, FeedSourceSerializer
from brands import feed_sources
from brands.feed_jobs import feed_import_cancel
from brands.models import FeedImport, FeedSource


@extend_schema_view(list=extend_schema(summary="Feed imports with their progress, newest first"),
                    retrieve=extend_schema(summary="One feed import: status, progress, report"))
class FeedImportViewSet(WorkspaceScoped, viewsets.ReadOnlyModelViewSet):
    serializer_class = FeedImportSerializer
    lookup_url_kwarg = "import_id"
    actions = {"cancel": "product.import"}

    def get_queryset(self):
        return FeedImport.objects.filter(workspace=self.workspace)

    @extend_schema(summary="Cancel an import: a queued one never starts, a running one stops "
                           "within a batch", request=None, responses={200: FeedImportSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, *args, **kwargs):
        feed_import = feed_import_cancel(feed_import=self.get_object())
        return Response(FeedImportSerializer(feed_import).data)


_SOURCE_FIELDS = ("name", "url", "format", "full_feed", "auth", "auth_username",
                  "auth_header_name", "auth_secret_ref", "schedule", "schedule_cron",
                  "schedule_timezone")


@extend_schema_view(
    list=extend_schema(summary="List feed sources"),
    retrieve=extend_schema(summary="A feed source with its last import"),
    create=extend_schema(summary="Add a feed source at a URL (marketer, admin)"),
    partial_update=extend_schema(summary="Change a feed source and its schedule"),
    destroy=extend_schema(summary="Delete a feed source and its schedule; products stay"),
)
class FeedSourceViewSet(WorkspaceScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        viewsets.GenericViewSet):
    serializer_class = FeedSourceSerializer
    lookup_url_kwarg = "source_id"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    actions = {"create": "product.import", "partial_update": "product.import",
               "destroy": "product.import", "run": "product.import"}

    def get_queryset(self):
        return FeedSource.objects.filter(workspace=self.workspace).select_related("last_import")

    def _save(self, source=None, *, partial=False):
        serializer = self.get_serializer(source, data=self.request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        fields = {k: v for k, v in serializer.validated_data.items() if k in _SOURCE_FIELDS}
        if source is None:
            fields["kind"] = "url"
        return feed_sources.feed_source_save(workspace=self.workspace, user=self.request.user,
                                             source=source, **fields)

    def create(self, request, *args, **kwargs):
        source = self._save()
        return Response(self.get_serializer(source).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        source = self._save(self.get_object(), partial=True)
        return Response(self.get_serializer(self.get_queryset().get(pk=source.pk)).data)

    def destroy(self, request, *args, **kwargs):
        feed_sources.feed_source_delete(source=self.get_object(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Run the feed now: queues an import (or returns the one already "
                           "queued or running)", request=None,
                   responses={202: FeedImportSerializer})
    @action(detail=True, methods=["post"])
    def run(self, request, *args, **kwargs):
        feed_import = feed_sources.feed_source_run(source=self.get_object(), user=request.user)
        return Response(FeedImportSerializer(feed_import).data,
                        status=status.HTTP_202_ACCEPTED)

    @extend_schema(summary="This feed's imports with their progress, newest first",
                   responses={200: FeedImportSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def imports(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_object().imports.all())
        return self.get_paginated_response(FeedImportSerializer(page, many=True).data)
