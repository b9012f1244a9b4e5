from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from adstudio import pages
from adstudio.health import healthz
from adstudio.login import ThrottledLoginView
from api import dashboard as api_dashboard
from brands import feed_views, member_views
from brands import views as brand_views
from campaigns import review_views
from campaigns import views as campaign_views
from core.files import signed_file
from rendering import views as rendering_views

workspace_patterns = [
    path("", pages.workspace_dashboard, name="workspace"),
    path("brands/", brand_views.brand_list, name="brand-list"),
    path("brands/new/", brand_views.brand_edit, name="brand-create"),
    path("brands/<int:brand_id>/", brand_views.brand_edit, name="brand-edit"),
    path("brands/<int:brand_id>/delete/", brand_views.brand_delete, name="brand-delete"),
    path("brands/<int:brand_id>/fonts/", brand_views.brand_upload, {"what": "font"},
         name="brand-font-upload"),
    path("brands/<int:brand_id>/logos/", brand_views.brand_upload, {"what": "logo"},
         name="brand-logo-upload"),
    path("logos/<int:logo_id>/file/", brand_views.brand_logo_file, name="brand-logo-file"),
    path("products/", brand_views.product_list, name="product-list"),
    path("products/new/", brand_views.product_edit, name="product-create"),
    path("products/<int:product_id>/", brand_views.product_edit, name="product-edit"),
    path("products/<int:product_id>/delete/", brand_views.product_delete,
         name="product-delete"),
    path("products/<int:product_id>/photos/", brand_views.product_photo_upload,
         name="product-photo-upload"),
    path("products/<int:product_id>/photos/<int:photo_id>/file/",
         brand_views.product_photo_file, {"variant": "photo"}, name="product-photo-file"),
    path("products/<int:product_id>/photos/<int:photo_id>/cutout/file/",
         brand_views.product_photo_file, {"variant": "cutout"}, name="product-photo-cutout-file"),
    path("products/<int:product_id>/photos/<int:photo_id>/cutout/",
         brand_views.product_photo_cutout_replace, name="product-photo-cutout-replace"),
    path("products/import/", brand_views.feed_import, name="feed-import"),
    path("products/import/<int:import_id>/", brand_views.feed_import_report,
         name="feed-import-report"),
    path("products/import/<int:import_id>/progress/", feed_views.feed_import_progress,
         name="feed-import-progress"),
    path("products/import/<int:import_id>/cancel/", feed_views.feed_import_cancel_view,
         name="feed-import-cancel"),
    path("products/feeds/", feed_views.feed_source_list, name="feed-source-list"),
    path("products/feeds/new/", feed_views.feed_source_edit, name="feed-source-create"),
    path("products/feeds/<int:source_id>/", feed_views.feed_source_edit,
         name="feed-source-edit"),
    path("products/feeds/<int:source_id>/run/", feed_views.feed_source_run,
         name="feed-source-run"),
    path("products/feeds/<int:source_id>/delete/", feed_views.feed_source_delete,
         name="feed-source-delete"),
    path("templates/", rendering_views.template_list, name="template-list"),
    path("templates/new/", rendering_views.template_edit, name="template-create"),
    path("templates/<int:template_id>/", rendering_views.template_edit, name="template-edit"),
    path("templates/<int:template_id>/delete/", rendering_views.template_delete,
         name="template-delete"),
    path("formats/", rendering_views.format_list, name="format-list"),
    path("assets/<int:asset_id>/", review_views.asset_detail, name="asset-detail"),
    path("assets/<int:asset_id>/approve/", review_views.asset_review, {"action": "approve"},
         name="asset-approve"),
    path("assets/<int:asset_id>/request-changes/", review_views.asset_review,
         {"action": "request_changes"}, name="asset-request-changes"),
    path("assets/<int:asset_id>/reject/", review_views.asset_review, {"action": "reject"},
         name="asset-reject"),
    path("assets/<int:asset_id>/edit/", review_views.asset_edit, name="asset-edit"),
    path("review/", review_views.review_queue_view, name="review-queue"),
    path("review/approve/", review_views.review_bulk_approve, name="review-bulk-approve"),
    path("campaigns/<int:campaign_id>/slots/<int:slot_id>/regenerate/",
         review_views.slot_regenerate, name="slot-regenerate"),
    path("campaigns/<int:campaign_id>/export/", review_views.campaign_export,
         name="campaign-export"),
    path("members/", member_views.member_list, name="member-list"),
    path("members/<int:member_id>/", member_views.member_change, name="member-change"),
    path("members/invitations/<int:invitation_id>/", member_views.invitation_change,
         name="invitation-change"),
    path("settings/notifications/", member_views.notification_settings,
         name="notification-settings"),
    path("assets/<int:asset_id>/file/", rendering_views.asset_file, {"variant": "file"},
         name="asset-file"),
    path("assets/<int:asset_id>/thumbnail/", rendering_views.asset_file,
         {"variant": "thumbnail"}, name="asset-thumbnail"),
    path("assets/<int:asset_id>/layers/<int:index>.png", review_views.asset_layer,
         {"variant": "file"}, name="asset-layer"),
    path("assets/<int:asset_id>/layers/<int:index>/thumbnail.png", review_views.asset_layer,
         {"variant": "thumbnail"}, name="asset-layer-thumbnail"),
    path("campaigns/", campaign_views.campaign_list, name="campaign-list"),
    path("campaigns/new/", campaign_views.campaign_create, name="campaign-create"),
    path("campaigns/<int:campaign_id>/", campaign_views.campaign_detail, name="campaign-detail"),
    path("campaigns/<int:campaign_id>/edit/", campaign_views.campaign_edit, name="campaign-edit"),
    path("campaigns/<int:campaign_id>/delete/", campaign_views.campaign_delete,
         name="campaign-delete"),
    path("campaigns/<int:campaign_id>/archive/", campaign_views.campaign_archive,
         {"archived": True}, name="campaign-archive"),
    path("campaigns/<int:campaign_id>/unarchive/", campaign_views.campaign_archive,
         {"archived": False}, name="campaign-unarchive"),
    path("campaigns/<int:campaign_id>/generate/", campaign_views.campaign_generate,
         name="campaign-generate"),
    path("campaigns/<int:campaign_id>/schedule/", campaign_views.campaign_schedule,
         name="campaign-schedule"),
    path("campaigns/<int:campaign_id>/refresh/", campaign_views.campaign_refresh_now,
         name="campaign-refresh"),
    path("campaigns/<int:campaign_id>/rerender-stale/", campaign_views.campaign_rerender_stale,
         name="campaign-rerender-stale"),
    path("campaigns/<int:campaign_id>/jobs.json", rendering_views.campaign_jobs_json,
         name="campaign-jobs-json"),
    path("jobs/<int:job_id>/cancel/", rendering_views.job_action, {"action": "cancel"},
         name="job-cancel"),
    path("jobs/<int:job_id>/retry/", rendering_views.job_action, {"action": "retry"},
         name="job-retry"),
    path("api-tokens/", api_dashboard.token_page, name="api-tokens"),
]

urlpatterns = [
    path("", brand_views.home, name="home"),
    path("login/", ThrottledLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("api/", include("api.urls")),
    path("files/<str:token>", signed_file, name="signed-file"),
    # The link of an invitation email: the token is the invitation (brands/invitations.py).
    path("invitations/<str:token>/", member_views.invitation_accept_page,
         name="invitation-accept"),
    path("ops/", rendering_views.operator_view, name="operator"),
    path("ops/status.json", rendering_views.operator_view, name="operator-json"),
    path("w/<slug:ws>/", include(workspace_patterns)),
    # A signed, expiring link: the link itself is the permission (campaigns/export.py).
    path("exports/<str:token>/", review_views.campaign_export_download,
         name="campaign-export-download"),
]

# Under /api/ errors answer JSON like the API's own (api/errors.py); elsewhere Django's pages.
handler400 = "api.errors.bad_request"
handler403 = "api.errors.permission_denied"
handler404 = "api.errors.page_not_found"
handler500 = "api.errors.server_error"
