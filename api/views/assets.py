"""API for assets: list with filters, detail with versions and checks, the file, review actions
(approve, bulk approve, request changes, reject) and edits."""

from __future__ import annotations

from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from api.filters import (
    bool_parameter,
    choice_parameter,
    id_parameter,
    query_bool,
    query_choice,
    query_id,
)
from api.scoping import WorkspaceScoped
from api.serializers.assets import (
    ApproveInputSerializer,
    AssetDetailSerializer,
    AssetSerializer,
    BulkApproveInputSerializer,
    BulkApproveResultSerializer,
    DesignSerializer,
    EditInputSerializer,
    RejectInputSerializer,
    RequestChangesInputSerializer,
    ReviewEventSerializer,
    StaleApprovalConflictSerializer,
)
from api.serializers.jobs import RenderJobDetailSerializer
from campaigns import design_edits, review
from campaigns.selectors import review_queue
from core.files import file_redirect
from rendering.models import Asset, RenderJob, ReviewState


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
    serializer_class = AssetSerializer
    lookup_url_kwarg = "asset_id"
    actions = {"approve": "asset.review", "request_changes": "asset.review",
               "reject": "asset.review", "approve_bulk": "asset.review", "edit": "asset.edit",
               "design:put": "asset.edit"}

    def get_serializer_class(self):
        return AssetDetailSerializer if self.action == "retrieve" else AssetSerializer

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
                   request=ApproveInputSerializer,
                   responses={200: ReviewEventSerializer,
                              409: StaleApprovalConflictSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, *args, **kwargs):
        asset = self.get_object()  # 404 before any validation (P1)
        params = ApproveInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            event = review.asset_approve(asset=asset, user=request.user,
                                         **params.validated_data)
        except review.StaleAssetError as exc:
            return Response({"detail": f"{exc.messages[0]} Send confirm_stale: true to "
                                       "approve it anyway.",
                             "asset": exc.asset_id, "stale_reason": exc.reason,
                             "stale_reasons": exc.reasons}, status=status.HTTP_409_CONFLICT)
        return Response(ReviewEventSerializer(event).data)

    @extend_schema(summary="Request changes: the comment becomes a Qwen-Image-Edit job",
                   request=RequestChangesInputSerializer,
                   responses={200: ReviewEventSerializer})
    @action(detail=True, methods=["post"], url_path="request-changes")
    def request_changes(self, request, *args, **kwargs):
        asset = self.get_object()  # 404 before any validation (P1)
        params = RequestChangesInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        event = review.asset_request_changes(asset=asset, user=request.user,
                                             **params.validated_data)
        return Response(ReviewEventSerializer(event).data)

    @extend_schema(summary="Reject this version (a live one is withdrawn)",
                   request=RejectInputSerializer, responses={200: ReviewEventSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request, *args, **kwargs):
        asset = self.get_object()  # 404 before any validation (P1)
        params = RejectInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        event = review.asset_reject(asset=asset, user=request.user,
                                    **params.validated_data)
        return Response(ReviewEventSerializer(event).data)

    @extend_schema(summary="Edit by instruction: queues an edit job whose output is a new "
                           "version", request=EditInputSerializer,
                   responses={202: RenderJobDetailSerializer})
    @action(detail=True, methods=["post"])
    def edit(self, request, *args, **kwargs):
        asset = self.get_object()  # 404 before any validation (P1)
        params = EditInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        job = review.asset_edit(asset=asset, user=request.user, **params.validated_data)
        job = RenderJob.objects.select_related("slot").get(pk=job.pk)
        return Response(RenderJobDetailSerializer(job, context={"positions": {}}).data,
                        status=status.HTTP_202_ACCEPTED)

    @extend_schema(methods=["GET"], summary="The design of a composed asset",
                   responses={200: DesignSerializer})
    @extend_schema(methods=["PUT"], summary="Save a changed design: composes the next version "
                                            "(in review) on the CPU, no GPU",
                   request=DesignSerializer, responses={202: RenderJobDetailSerializer})
    @action(detail=True, methods=["get", "put"])
    def design(self, request, *args, **kwargs):
        asset = self.get_object()  # 404 before any validation (P1)
        if request.method == "GET":
            if not asset.design:
                raise NotFound("This asset is a picture the model drew; it has no design.")
            return Response({"design": asset.design, "design_sha256": asset.design_sha256})
        params = DesignSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        job = design_edits.asset_design_save(asset=asset, user=request.user,
                                             design=params.validated_data["design"])
        job = RenderJob.objects.select_related("slot").get(pk=job.pk)
        return Response(RenderJobDetailSerializer(job, context={"positions": {}}).data,
                        status=status.HTTP_202_ACCEPTED)

    @extend_schema(summary="Review events of this asset, oldest first",
                   responses={200: ReviewEventSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)
    def reviews(self, request, *args, **kwargs):
        events = self.get_object().review_events.select_related("user")
        return Response(ReviewEventSerializer(events, many=True).data)

    @extend_schema(summary="The review queue: assets waiting for review, oldest first",
                   responses={200: AssetSerializer(many=True)})
    @action(detail=False, methods=["get"], url_path="review-queue")
    def review_queue(self, request, *args, **kwargs):
        page = self.paginate_queryset(review_queue(self.workspace))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(summary="Approve several assets; each is approved or says why not",
                   request=BulkApproveInputSerializer,
                   responses={200: BulkApproveResultSerializer})
    @action(detail=False, methods=["post"], url_path="bulk-approve")
    def approve_bulk(self, request, *args, **kwargs):
        params = BulkApproveInputSerializer(data=request.data)
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
