import json
from pathlib import Path

from django.core.management.base import BaseCommand

from rendering.engine.tiny import build_tiny_qwen_image, build_tiny_qwen_image_edit

# --pipeline: what it builds, and the setting that points AdStudio at it.
PIPELINES = {
    "generate": (build_tiny_qwen_image, "Qwen-Image", "ADSTUDIO_QWEN_IMAGE_MODEL"),
    "edit": (build_tiny_qwen_image_edit, "Qwen-Image-Edit", "ADSTUDIO_QWEN_IMAGE_EDIT_MODEL"),
}
# --pipeline all: each one in its own folder under DIR.
ALL_FOLDERS = {"generate": "qwen-image", "edit": "qwen-image-edit"}


def verify_inpaint(directory: Path) -> None:
    """Load ``QwenImageInpaintPipeline`` from a Qwen-Image folder and inpaint 2 steps at
    32x32: it needs no folder of its own (same transformer, VAE, text encoder, tokenizer,
    scheduler). Raises when it does not load or run."""
    import torch
    from diffusers import QwenImageInpaintPipeline
    from PIL import Image

    pipe = QwenImageInpaintPipeline.from_pretrained(directory, dtype=torch.float32)
    pipe.set_progress_bar_config(disable=True)
    mask = Image.new("L", (32, 32), 255)
    mask.paste(0, (8, 8, 24, 24))
    image = pipe(prompt="a scene", image=Image.new("RGB", (32, 32), (128, 128, 128)),
                 mask_image=mask, strength=1.0, width=32, height=32, num_inference_steps=2,
                 true_cfg_scale=1.0, generator=torch.Generator().manual_seed(0)).images[0]
    if image.size != (32, 32):
        raise RuntimeError(f"the inpaint pipeline returned {image.size}, not (32, 32)")


class Command(BaseCommand):
    help = (
        "Build a tiny random-weight Qwen-Image pipeline in DIR, offline: the generation one, or "
        "with --pipeline edit the Qwen-Image-Edit one. --pipeline inpaint builds the generation "
        "one (when DIR has none) and checks that QwenImageInpaintPipeline loads and runs from "
        "it: inpainting needs no folder of its own. --pipeline all builds both in DIR/qwen-image "
        "and DIR/qwen-image-edit and checks inpainting. They load with from_pretrained(DIR) like "
        "real weights; their images are noise."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--pipeline", choices=[*PIPELINES, "inpaint", "all"],
                            default="generate")

    def handle(self, directory, seed, pipeline, **options):
        if pipeline == "all":
            root = Path(directory)
            for name, folder in ALL_FOLDERS.items():
                self._build(name, root / folder, seed)
            self._inpaint(root / ALL_FOLDERS["generate"], seed, build=False)
        elif pipeline == "inpaint":
            self._inpaint(Path(directory), seed, build=True)
        else:
            self._build(pipeline, directory, seed)

    def _build(self, pipeline: str, directory, seed: int) -> Path:
        build, name, setting = PIPELINES[pipeline]
        path = build(directory, seed=seed)
        self.stdout.write(self.style.SUCCESS(f"Tiny {name} pipeline written to {path}"))
        self.stdout.write(f"Use it with {setting}={path}")
        return path

    def _inpaint(self, directory: Path, seed: int, *, build: bool) -> None:
        index = directory / "model_index.json"
        if index.exists():
            found = json.loads(index.read_text()).get("_class_name")
            if found != "QwenImagePipeline":
                raise SystemExit(f"{directory} holds a {found}, not a Qwen-Image pipeline")
            if build:
                self.stdout.write(f"Using the tiny Qwen-Image pipeline already in {directory}")
        elif build:
            self._build("generate", directory, seed)
        verify_inpaint(directory)
        self.stdout.write(self.style.SUCCESS(
            f"QwenImageInpaintPipeline loads from {directory} and inpaints: no separate "
            "inpaint folder is needed (scenes and outpainting use the generation model, "
            "ADSTUDIO_QWEN_IMAGE_MODEL, on the same weights)"))
