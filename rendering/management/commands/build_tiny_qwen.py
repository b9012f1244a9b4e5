from django.core.management.base import BaseCommand

from rendering.tiny_model import build_tiny_qwen_image, build_tiny_qwen_image_edit

# --pipeline: what it builds, and the setting that points AdStudio at it.
PIPELINES = {
    "generate": (build_tiny_qwen_image, "Qwen-Image", "ADSTUDIO_QWEN_IMAGE_MODEL"),
    "edit": (build_tiny_qwen_image_edit, "Qwen-Image-Edit", "ADSTUDIO_QWEN_IMAGE_EDIT_MODEL"),
}


class Command(BaseCommand):
    help = (
        "Build a tiny random-weight Qwen-Image pipeline in DIR, offline: the generation one, or "
        "with --pipeline edit the Qwen-Image-Edit one. It loads with from_pretrained(DIR) like "
        "real weights; its images are noise."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--pipeline", choices=sorted(PIPELINES), default="generate")

    def handle(self, directory, seed, pipeline, **options):
        build, name, setting = PIPELINES[pipeline]
        path = build(directory, seed=seed)
        self.stdout.write(self.style.SUCCESS(f"Tiny {name} pipeline written to {path}"))
        self.stdout.write(f"Use it with {setting}={path}")
