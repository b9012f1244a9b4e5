from django.apps import AppConfig


class RenderingConfig(AppConfig):
    name = "rendering"
    verbose_name = "Rendering"

    def ready(self):
        from . import worker  # noqa: F401  (connects the Celery worker signals)
