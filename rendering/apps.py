from django.apps import AppConfig
from django.db.models.signals import post_migrate


class RenderingConfig(AppConfig):
    name = "rendering"
    verbose_name = "Rendering"

    def ready(self):
        from brands.signals import disclaimer_check_register, layout_ids_register
        from rendering.compose.copy_rules import disclaimer_validate
        from rendering.design.layout_classes import layout_ids
        from rendering.jobs import worker  # noqa: F401  (connects the Celery worker signals)

        # A disclaimer is set on every ad: the brand kit refuses one the layer could not set.
        disclaimer_check_register(disclaimer_validate)
        # A brand kit prefers layouts by id: the ones the layout engine has.
        layout_ids_register(layout_ids)
        from rendering.compose.formats import sync_presets

        # The channel presets are code: every migrate brings the table up to date with it.
        post_migrate.connect(sync_presets, sender=self, dispatch_uid="rendering.sync_presets")
