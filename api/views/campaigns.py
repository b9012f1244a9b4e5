"""API for campaigns: CRUD, generate, refresh and its schedule, export, stale re-rendering."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from api.filters import (
    choice_parameter,
    query_choice,
)
from api.idempotency import HEADER, idempotent
from api.scoping import WorkspaceScoped
from api.serializers.campaigns import (
    CampaignRefreshSerializer,
    CampaignSerializer,
    CampaignUpdateSerializer,
    ExportInputSerializer,
    ExportLeftOutSerializer,
    ExportLinkSerializer,
    GenerateInputSerializer,
    GenerateResultSerializer,
    RefreshResultSerializer,
    RefreshScheduleSerializer,
    RerenderStaleInputSerializer,
    RerenderStaleResultSerializer,
)
from campaigns import export, refresh, refresh_run, services, staleness
from campaigns.models import Campaign, CampaignStatus, RefreshSchedule

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
        description=CampaignUpdateSerializer.__doc__, request=CampaignUpdateSerializer,
        responses={200: CampaignSerializer}),
    partial_update=extend_schema(
        summary="Change a campaign (the fields sent)",
        description=CampaignUpdateSerializer.__doc__, request=CampaignUpdateSerializer,
        responses={200: CampaignSerializer}),
    destroy=extend_schema(
        summary="Delete a campaign with its slots, renders and assets",
        description="Unfinished renders are cancelled. Refused (400) while it has approved "
                    "assets, unless it is archived first."),
)
class CampaignViewSet(WorkspaceScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      viewsets.GenericViewSet):
    serializer_class = CampaignSerializer
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
        params = CampaignUpdateSerializer(campaign, data=request.data,
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
                   request=None, responses={200: CampaignSerializer})
    @action(detail=True, methods=["post"])
    def archive(self, request, *args, **kwargs):
        return self._fresh(services.campaign_archive(campaign=self.get_object(),
                                                     user=request.user))

    @extend_schema(summary="Unarchive: the campaign can render again and its schedule resumes",
                   request=None, responses={200: CampaignSerializer})
    @action(detail=True, methods=["post"])
    def unarchive(self, request, *args, **kwargs):
        return self._fresh(services.campaign_unarchive(campaign=self.get_object(),
                                                       user=request.user))

    @extend_schema(summary="Queue renders for every slot (or the given ones)",
                   request=GenerateInputSerializer,
                   parameters=[IDEMPOTENCY_PARAMETER],
                   responses={202: GenerateResultSerializer})
    @action(detail=True, methods=["post"])
    def generate(self, request, *args, **kwargs):
        campaign = self.get_object()
        params = GenerateInputSerializer(data=request.data)
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
                   request=None, responses={200: RefreshResultSerializer})
    @action(detail=True, methods=["post"], url_path="refresh")
    def refresh_now(self, request, *args, **kwargs):
        campaign = self.get_object()
        done = refresh_run.campaign_refresh(campaign_id=campaign.pk, trigger="manual")
        return Response({"refreshed": done is not None,
                         "period": done.period if done else None,
                         "jobs_created": done.jobs_created if done else 0})

    @extend_schema(methods=["GET"], summary="The campaign's refresh schedule",
                   responses={200: RefreshScheduleSerializer})
    @extend_schema(methods=["PUT"], summary="Set the campaign's refresh schedule",
                   request=RefreshScheduleSerializer,
                   responses={200: RefreshScheduleSerializer})
    @action(detail=True, methods=["get", "put"])
    def schedule(self, request, *args, **kwargs):
        campaign = self.get_object()
        context = self.get_serializer_context()
        if request.method == "GET":
            schedule = RefreshSchedule.objects.filter(campaign=campaign).first()
            if schedule is None:
                raise NotFound("This campaign has no refresh schedule.")
            data = RefreshScheduleSerializer(schedule, context=context).data
            data["auto_rerender_stale"] = campaign.auto_rerender_stale
            return Response(data)
        serializer = RefreshScheduleSerializer(data=request.data, context=context)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        schedule = refresh.refresh_schedule_save(
            campaign=campaign, user=request.user, kind=data.get("kind", "cron"),
            cron=data.get("cron", ""),
            interval_seconds=data.get("interval_seconds"), tz=data.get("timezone", "UTC"),
            formats=data.get("formats", []), variants=data.get("variants", 1),
            enabled=data.get("enabled", True),
            auto_rerender_stale=data.get("auto_rerender_stale"))
        campaign.refresh_from_db(fields=["auto_rerender_stale"])
        result = RefreshScheduleSerializer(schedule, context=context).data
        result["auto_rerender_stale"] = campaign.auto_rerender_stale
        return Response(result)

    @extend_schema(summary="A signed, expiring download link for the approved assets (ZIP)",
                   description="Stale live assets are left out (listed in left_out_stale and "
                               "in the ZIP's stale.csv) unless include_stale is true. Each "
                               "image fits its channel's weight limit (PNG, else JPEG; see "
                               "manifest.csv's export_* columns); layers: true adds each "
                               "composed asset's design, layer PNGs and input files.",
                   request=ExportInputSerializer, responses={200: ExportLinkSerializer})
    @action(detail=True, methods=["post"])
    def export(self, request, *args, **kwargs):
        campaign = self.get_object()
        params = ExportInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        include_stale = params.validated_data["include_stale"]
        layers = params.validated_data["layers"]
        link = export.campaign_export_link(campaign=campaign, user=request.user,
                                           include_stale=include_stale, layers=layers)
        left_out = [] if include_stale else export.export_stale_assets(campaign)
        return Response({"url": request.build_absolute_uri(link),
                         "include_stale": include_stale, "layers": layers,
                         "left_out_stale": ExportLeftOutSerializer(left_out, many=True).data})

    @extend_schema(summary="Render all stale slots again (one new render per slot)",
                   description="Queues one render for each slot whose live asset (or, with "
                               "nothing live, every candidate) is stale. Slots with a fresh "
                               "render already queued or waiting for review are skipped, so "
                               "calling it again before the renders finish queues nothing.",
                   request=RerenderStaleInputSerializer,
                   responses={202: RerenderStaleResultSerializer})
    @action(detail=True, methods=["post"], url_path="rerender-stale")
    def rerender_stale(self, request, *args, **kwargs):
        campaign = self.get_object()
        params = RerenderStaleInputSerializer(data=request.data)
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
                   responses={200: CampaignRefreshSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)
    def refreshes(self, request, *args, **kwargs):
        campaign = self.get_object()
        return Response(CampaignRefreshSerializer(campaign.refreshes.all()[:100],
                                                    many=True).data)
