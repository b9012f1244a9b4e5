"""/api/: the v1 REST API (workspace-scoped), its OpenAPI schema and interactive docs."""

from django.urls import include, path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from api.converters import IdConverter
from api.views import access, assets, audit, campaigns, catalog, feeds, jobs, workspaces

register_converter(IdConverter, "id")  # before router.urls: the routes use <id:...>
router = SimpleRouter(use_regex_path=False)
router.register("brands", catalog.BrandKitViewSet, basename="api-brand")
router.register("products/imports", feeds.FeedImportViewSet, basename="api-feed-import")
router.register("products/feeds", feeds.FeedSourceViewSet, basename="api-feed-source")
router.register("products", catalog.ProductViewSet, basename="api-product")
router.register("templates", catalog.PromptTemplateViewSet, basename="api-template")
router.register("formats", catalog.FormatViewSet, basename="api-format")
router.register("campaigns", campaigns.CampaignViewSet, basename="api-campaign")
router.register("jobs", jobs.RenderJobViewSet, basename="api-job")
router.register("assets", assets.AssetViewSet, basename="api-asset")
router.register("audit-events", audit.AuditEventViewSet, basename="api-audit-event")
router.register("tokens", access.ApiTokenViewSet, basename="api-token")
router.register("webhooks", access.WebhookEndpointViewSet, basename="api-webhook")
router.register("members", access.MemberViewSet, basename="api-member")
router.register("invitations", access.InvitationViewSet, basename="api-invitation")

urlpatterns = [
    path("v1/workspaces/", workspaces.WorkspaceListView.as_view(), name="api-workspace-list"),
    path("v1/workspaces/<slug:ws>/", workspaces.WorkspaceDetailView.as_view(),
         name="api-workspace-detail"),
    path("v1/workspaces/<slug:ws>/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]
