from django.contrib import admin

from brands.models import BrandKit, FeedImport, Invitation, Membership, Product, Workspace


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]


@admin.register(BrandKit)
class BrandKitAdmin(admin.ModelAdmin):
    list_display = ["name", "workspace", "version", "updated_at"]
    list_filter = ["workspace"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "price", "currency", "workspace", "version"]
    list_filter = ["workspace"]
    search_fields = ["sku", "name"]


@admin.register(FeedImport)
class FeedImportAdmin(admin.ModelAdmin):
    list_display = ["filename", "workspace", "rows_total", "rows_failed", "created_at"]
    readonly_fields = ["errors", "notes"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Read only: invitations are sent, resent and revoked by workspace admins (P10)."""

    list_display = ["email", "workspace", "role", "sent_at", "expires_at", "accepted_at",
                    "revoked_at"]
    list_filter = ["role"]
    search_fields = ["email"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
