"""The Qwen-Image-Edit renderer: an instruction applied to an asset's image, optionally only
inside a marked region.

``get_edit_renderer()`` loads ``QwenImageEditPlusPipeline.from_pretrained(model)`` once per
process, device and dtype explicit as for generation (bf16 on CUDA, float32 on CPU). ``model`` is
``ADSTUDIO_QWEN_IMAGE_EDIT_MODEL`` (a hub id such as ``Qwen/Qwen-Image-Edit-2509`` or a local
folder); when unset, the embedded tiny random-weight edit model is built offline on first use.
A region edit runs diffusers' inpaint variant, ``QwenImageEditInpaintPipeline``, on the same
weights (``from_pipe``: nothing is loaded twice).

Two things differ from calling diffusers directly, each explained where it happens:
- the Qwen2-VL processor is built image-only (``load_edit_processor``): transformers cannot
  even construct ``Qwen2VLProcessor`` without torchvision;
- the sizes diffusers scales the source to are settings (``ADSTUDIO_EDIT_CONDITION_SIZE``,
  ``ADSTUDIO_EDIT_VAE_IMAGE_SIZE``; real weights default to the pipeline's own 384 and 1024),
  so the tiny model edits in a fraction of a second on a CPU instead of half a minute.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from django.conf import settings
from PIL import Image

from rendering.engine.generate import (
    QwenImageRenderer,
    _device_and_dtype,
    library_versions,
    weights_fingerprint,
)
from rendering.engine.processor import build_edit_processor

logger = logging.getLogger(__name__)

TINY_EDIT_MODEL_NOTICE = """
************************************************************************************
*  NO EDIT MODEL CONFIGURED: using the tiny random-weight Qwen-Image-Edit pipeline  *
*  in {path}
*  Its edits are NOISE. For real edits, on a GPU machine set:                       *
*      ADSTUDIO_QWEN_IMAGE_EDIT_MODEL=Qwen/Qwen-Image-Edit-2509  (or a local folder)  *
************************************************************************************
"""

# A marked region is redrawn entirely; the model still sees the whole source as its condition.
INPAINT_STRENGTH = 1.0


@dataclass(frozen=True)
class EditRequest:
    image: Image.Image  # the source asset's image; the edit comes back at its size
    instruction: str
    seed: int
    steps: int
    true_cfg_scale: float  # true CFG runs only with a negative prompt and a scale above 1
    negative_prompt: str = ""
    # (x, y, width, height) as fractions of the image: only this box changes. None: everything.
    region: tuple[float, float, float, float] | None = None
    # More images the model sees (Qwen-Image-Edit-Plus takes several): the product's cut-out
    # beside the background it edits. Not used with a region (the inpaint variant takes one).
    references: tuple[Image.Image, ...] = ()


def load_edit_processor(model: str):
    """The edit pipeline's processor from ``model``'s ``processor`` folder, without torchvision.

    The image processor is transformers' PIL one even where torchvision is installed (its
    default there), so every worker prepares the condition image the same way.
    """
    from transformers import AutoTokenizer, Qwen2VLImageProcessorPil

    return build_edit_processor(
        image_processor=Qwen2VLImageProcessorPil.from_pretrained(model, subfolder="processor"),
        tokenizer=AutoTokenizer.from_pretrained(model, subfolder="processor"),
    )


def _inpaint_dimensions(area: int, _requested_area: int, ratio: float):
    from diffusers.pipelines.qwenimage import pipeline_qwenimage_edit_plus as plus

    return (*plus.calculate_dimensions(area, ratio), None)


@contextmanager
def _edit_sizes(condition_size: int, vae_image_size: int):
    """diffusers takes these sizes from module-level values, not from arguments: the EditPlus
    pipeline from ``CONDITION_IMAGE_SIZE`` and ``VAE_IMAGE_SIZE`` (areas), the inpaint variant
    from a 1024² literal it hands to its module's ``calculate_dimensions``. Set them for one
    call, then put diffusers' own back."""
    from diffusers.pipelines.qwenimage import pipeline_qwenimage_edit_inpaint as inpaint
    from diffusers.pipelines.qwenimage import pipeline_qwenimage_edit_plus as plus

    saved = plus.CONDITION_IMAGE_SIZE, plus.VAE_IMAGE_SIZE, inpaint.calculate_dimensions
    plus.CONDITION_IMAGE_SIZE = condition_size**2
    plus.VAE_IMAGE_SIZE = vae_image_size**2
    inpaint.calculate_dimensions = partial(_inpaint_dimensions, vae_image_size**2)
    try:
        yield
    finally:
        plus.CONDITION_IMAGE_SIZE, plus.VAE_IMAGE_SIZE, inpaint.calculate_dimensions = saved


def region_box(size: tuple[int, int], region) -> tuple[int, int, int, int]:
    """The pixel box (left, top, right, bottom) of a fractional ``(x, y, width, height)``
    region of an image of ``size``; ValueError when it is not a box inside the image."""
    try:
        x, y, w, h = (float(v) for v in region)
    except (TypeError, ValueError):
        raise ValueError("The marked region must be four numbers: x, y, width and height.") \
            from None
    if not all(math.isfinite(v) for v in (x, y, w, h)) or w <= 0 or h <= 0:
        raise ValueError("The marked region must have a width and a height.")
    if x < 0 or y < 0 or x + w > 1 + 1e-9 or y + h > 1 + 1e-9:
        raise ValueError("The marked region must lie inside the image.")
    width, height = size
    box = (round(x * width), round(y * height),
           min(width, round((x + w) * width)), min(height, round((y + h) * height)))
    if box[2] <= box[0] or box[3] <= box[1]:
        raise ValueError("The marked region is too small: mark at least one pixel.")
    return box


class EditRenderer:
    """A loaded Qwen-Image-Edit pipeline (and its inpaint variant on the same weights)."""

    # The edit pipelines have generation's components (transformer, VAE, text encoder), so the
    # out-of-memory ladder's modes apply to them unchanged.
    set_memory_mode = QwenImageRenderer.set_memory_mode
    free_memory = QwenImageRenderer.free_memory

    def __init__(self, model: str, *, device: str, dtype_name: str, condition_size: int,
                 vae_image_size: int):
        import torch
        from diffusers import QwenImageEditInpaintPipeline, QwenImageEditPlusPipeline

        if settings.ADSTUDIO_TORCH_THREADS:
            torch.set_num_threads(settings.ADSTUDIO_TORCH_THREADS)
        for name, value in (("ADSTUDIO_EDIT_CONDITION_SIZE", condition_size),
                            ("ADSTUDIO_EDIT_VAE_IMAGE_SIZE", vae_image_size)):
            if value < 32:
                raise ValueError(f"{name} must be at least 32 pixels, not {value}")
        self.model = model
        self.device = device
        self.dtype_name = dtype_name
        self.condition_size = condition_size
        self.vae_image_size = vae_image_size
        dtype = getattr(torch, dtype_name)
        self.pipeline = QwenImageEditPlusPipeline.from_pretrained(
            model, processor=load_edit_processor(model), dtype=dtype)
        self.pipeline.to(device)
        # from_pipe casts the shared models to its dtype argument (float32 when not given).
        self.inpaint_pipeline = QwenImageEditInpaintPipeline.from_pipe(self.pipeline, dtype=dtype)
        for pipeline in (self.pipeline, self.inpaint_pipeline):
            pipeline.set_progress_bar_config(disable=True)
        self.weights_sha256 = weights_fingerprint(model)
        self.memory_mode = "normal"
        # One edit at a time: a pipeline call keeps state (scheduler, interrupt flag) on itself.
        self._calls = threading.Lock()

    def recipe_fields(self) -> dict:
        """What a recipe records about this renderer to edit again bit for bit."""
        import torch

        return {
            "model": self.model,
            "weights_sha256": self.weights_sha256,
            "device": self.device,
            "dtype": self.dtype_name,
            "edit_condition_size": self.condition_size,
            "edit_vae_image_size": self.vae_image_size,
            "inpaint_strength": INPAINT_STRENGTH,
            "torch_threads": torch.get_num_threads(),
            "libraries": library_versions(),
        }

    def working_size(self, size: tuple[int, int]) -> tuple[int, int]:
        """The size the pipeline edits at: the VAE image's area, the source's aspect ratio
        (sides multiples of 32, as diffusers rounds them)."""
        from diffusers.pipelines.qwenimage.pipeline_qwenimage_edit_plus import (
            calculate_dimensions,
        )

        return calculate_dimensions(self.vae_image_size**2, size[0] / size[1])

    def edit(self, request: EditRequest,
             on_step: Callable[[int, int], bool | None] | None = None,
             output_type: str = "pil"):
        """Apply ``request.instruction`` to ``request.image``; returns the edited image at the
        source's size. With a region, only that box changes: every pixel outside it is the
        source's own. ``on_step(step, total)`` returning False interrupts the edit.
        ``output_type="latent"`` returns the pipeline's packed latents instead (tests)."""
        import torch

        from rendering.engine.faults import maybe_inject_oom

        source = request.image.convert("RGB")
        box = self._check(request, source.size)

        def callback(pipe, step_index, timestep, callback_kwargs):
            if on_step is not None and on_step(step_index + 1, pipe.num_timesteps) is False:
                pipe._interrupt = True
            return {}

        use_cfg = request.true_cfg_scale > 1 and bool(request.negative_prompt)
        images = [source, *(r.convert("RGB") for r in request.references)]
        common = {
            "image": images if len(images) > 1 and box is None else source,
            "prompt": request.instruction,
            "negative_prompt": request.negative_prompt if use_cfg else None,
            "true_cfg_scale": request.true_cfg_scale if use_cfg else 1.0,
            "num_inference_steps": request.steps,
            # Noise from a CPU generator: the same seed gives the same noise on any device.
            "generator": torch.Generator(device="cpu").manual_seed(request.seed),
            "callback_on_step_end": callback,
            "output_type": output_type,
        }
        mask = None
        if box is not None:
            mask = Image.new("L", source.size, 0)
            mask.paste(255, box)
        width, height = self.working_size(source.size)
        maybe_inject_oom()
        with self._calls, _edit_sizes(self.condition_size, self.vae_image_size), \
                torch.inference_mode():
            if mask is None:
                result = self.pipeline(width=width, height=height, **common)
            else:
                result = self.inpaint_pipeline(mask_image=mask, strength=INPAINT_STRENGTH,
                                               **common)
        edited = result.images[0]
        if output_type != "pil":
            return edited
        edited = edited.resize(source.size, Image.Resampling.LANCZOS)
        if mask is None:
            return edited
        # The pipeline round-trips the whole image through the VAE: outside the region, the
        # source's pixels are kept exactly.
        return Image.composite(edited, source, mask)

    def render_batch(self, requests: list[EditRequest],
                     on_step: Callable[[int, int], bool | None] | None = None) -> list:
        """Edits one after the other (the edit pipelines take one prompt per call), so the
        out-of-memory ladder in rendering.engine.memory can drive edits as it drives renders."""
        return [self.edit(request, on_step) for request in requests]

    def _check(self, request: EditRequest, size: tuple[int, int]):
        if not request.instruction or not request.instruction.strip():
            raise ValueError("Say what to change: the edit instruction is empty.")
        if request.steps < 1:
            raise ValueError(f"An edit needs at least one step, not {request.steps}.")
        if min(size) < 1:
            raise ValueError("The image to edit is empty.")
        return None if request.region is None else region_box(size, request.region)


def resolve_edit_model() -> str:
    """The configured edit model id or folder; builds the tiny edit model when none is."""
    if settings.ADSTUDIO_QWEN_IMAGE_EDIT_MODEL:
        return settings.ADSTUDIO_QWEN_IMAGE_EDIT_MODEL
    folder = Path(settings.ADSTUDIO_TINY_EDIT_MODEL_DIR)
    if not (folder / "model_index.json").exists():
        from rendering.engine.tiny import build_tiny_qwen_image_edit

        build_tiny_qwen_image_edit(folder)
    return str(folder)


_lock = threading.Lock()
_renderers: dict[tuple, EditRenderer] = {}


def get_edit_renderer() -> EditRenderer:
    """The process's edit renderer for the configured model and sizes, loaded on first use."""
    model = resolve_edit_model()
    device, dtype = _device_and_dtype()
    sizes = settings.ADSTUDIO_EDIT_CONDITION_SIZE, settings.ADSTUDIO_EDIT_VAE_IMAGE_SIZE
    key = (model, device, dtype, *sizes)
    with _lock:
        if key not in _renderers:
            if not settings.ADSTUDIO_QWEN_IMAGE_EDIT_MODEL:
                logger.warning(TINY_EDIT_MODEL_NOTICE.format(path=model))
            logger.info("loading Qwen-Image-Edit from %s on %s (%s)", model, device, dtype)
            _renderers[key] = EditRenderer(model, device=device, dtype_name=dtype,
                                           condition_size=sizes[0], vae_image_size=sizes[1])
        return _renderers[key]
