from django.apps import AppConfig
from django.db.models.signals import post_migrate


class RenderingConfig(AppConfig):
    name = "rendering"
    verbose_name = "Rendering"

    def ready(self):
        from . import worker  # noqa: F401  (connects the Celery worker signals)
        from .formats import sync_presets

        # The channel presets are code: every migrate brings the table up to date with it.
        post_migrate.connect(sync_presets, sender=self, dispatch_uid="rendering.sync_presets")
