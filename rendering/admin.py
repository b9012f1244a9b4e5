from django.contrib import admin

from rendering.models import Asset, Format, PromptTemplate, RenderJob


@admin.register(Format)
class FormatAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "channel", "width", "height", "dpi", "workspace"]
    list_filter = ["channel"]


@admin.register(PromptTemplate)
class PromptTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "brand", "version", "workspace"]
    # Template text is changed in the dashboard or the API, which check it (B11, B13, B14)
    # and keep its revisions; the admin site only shows it.
    readonly_fields = ["body", "headline", "subline", "cta", "version"]


@admin.register(RenderJob)
class RenderJobAdmin(admin.ModelAdmin):
    list_display = ["pk", "workspace", "status", "attempt", "progress_step", "progress_total",
                    "created_at"]
    list_filter = ["status"]
    readonly_fields = ["recipe"]


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    list_display = ["pk", "workspace", "width", "height", "created_at"]
    readonly_fields = ["recipe", "sha256"]
