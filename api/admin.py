from django.contrib import admin

from api.models import ApiToken, WebhookDelivery, WebhookEndpoint


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "user", "workspace", "role", "created_at", "last_used_at",
                    "expires_at", "revoked_at"]
    list_filter = ["workspace", "role"]
    readonly_fields = ["prefix", "token_sha256", "created_at", "last_used_at"]
    search_fields = ["name", "prefix", "user__username"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "workspace", "events", "active", "created_at"]
    list_filter = ["workspace", "active"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log: every event sent, its attempts and the last response."""

    list_display = ["id", "event", "endpoint", "status", "attempts", "response_status",
                    "next_retry_at", "created_at", "delivered_at"]
    list_filter = ["status", "event", "endpoint__workspace"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]

    def has_add_permission(self, request):
        return False
