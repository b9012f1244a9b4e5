from django.core.management.base import BaseCommand

from rendering.tiny_model import build_tiny_qwen_image


class Command(BaseCommand):
    help = (
        "Build a tiny random-weight Qwen-Image pipeline in DIR, offline. It loads with "
        "QwenImagePipeline.from_pretrained(DIR) like real weights; its images are noise."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory")
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, directory, seed, **options):
        path = build_tiny_qwen_image(directory, seed=seed)
        self.stdout.write(self.style.SUCCESS(f"Tiny Qwen-Image pipeline written to {path}"))
        self.stdout.write(f"Use it with ADSTUDIO_QWEN_IMAGE_MODEL={path}")
