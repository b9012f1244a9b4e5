"""Scenes around a real product, and outpainting, with diffusers' ``QwenImageInpaintPipeline``.

The model paints only where the mask says (255 = paint); afterwards the pixels that must be
exact (the product's cut-out, or the master background an outpaint extends) are pasted back on
top of the decoded image, so they are the source's own bytes and not a VAE round trip of them.

``get_inpainter()`` builds the inpaint pipeline once per process from the generation renderer's
pipeline with ``from_pipe``: the transformer, VAE and text encoder are the same tensor objects
(no second copy in GPU memory, the renderer's speed options, LoRA and memory mode apply), and the
text-embedding cache is shared too. Only the scheduler is a copy: it keeps per-call state.

What diffusers 0.42's inpaint pipeline does, and what we do about it:

- The mask is binarized at 0.5 (``mask_processor``: ``do_binarize``) and then resized with
  nearest-neighbour to the latent grid (one latent cell = ``vae_scale_factor`` pixels: 8 for
  Qwen-Image, 4 for the tiny model), so a grey, feathered mask is not a soft blend, and a cell
  straddling the mask's edge is painted or kept by its top-left pixel alone. ``inpaint`` snaps
  the mask to whole cells first (a cell is painted when any of its pixels may be): what is
  kept is then exactly what the mask kept, cell-rounded toward painting. Blending happens where
  it can be soft: the cut-out's own alpha when it goes back on top.
- Outside the mask the pipeline puts the input's latents back at every step, so the kept area
  comes out as a VAE encode-decode of the input: close, never exact. The ``keep`` paste makes
  it exact.
- Width and height must be multiples of ``vae_scale_factor * 2`` (16; 8 for the tiny model);
  diffusers would only warn and silently return a smaller image. ``inpaint`` pads the canvas to
  the next multiple (edge pixels, painted area) and crops the result back: any size works.
- ``strength`` defaults to 0.6 in diffusers; scenes use 1.0 (the masked area starts from pure
  noise; the kept area still conditions every step). The steps that run are
  ``int(steps * strength)``: ``on_step`` is told that total.
- The pipeline also VAE-encodes the masked image for "64-channel" inpaint transformers and
  then never uses it with Qwen-Image's transformer; we hand it zero latents instead, which
  saves one VAE encode per call and changes no output (a test proves it).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from PIL import Image, ImageFilter

from rendering.engine.generate import (
    QwenImageRenderer,
    _device_and_dtype,
    get_renderer,
    library_versions,
    resolve_model,
    weights_fingerprint,
)

logger = logging.getLogger(__name__)

SCENE_STRENGTH = 1.0
# How far (pixels) the paint area reaches under the product's opaque edge by default.
SCENE_GROW = 2

# A cut-out and where its top-left corner goes on the canvas, in canvas pixels.
Keep = tuple[Image.Image, tuple[int, int]]


@dataclass(frozen=True)
class InpaintRequest:
    image: Image.Image  # RGB, at the render size: what the model sees; the output has its size
    mask: Image.Image  # "L", same size: 255 = the model may paint there, 0 = keep
    prompt: str
    seed: int
    steps: int
    true_cfg_scale: float  # true CFG runs only with a negative prompt and a scale above 1
    negative_prompt: str = ""
    strength: float = SCENE_STRENGTH
    # The size the pipeline runs at (None: the image's). The image is scaled down to it and
    # the painting scaled back up to the image's size before ``keep`` goes on, so the kept
    # pixels are exact at the image's (the format's) size.
    render_size: tuple[int, int] | None = None
    # RGBA cut-out pasted back after decoding, alpha-composited: its fully opaque pixels are
    # the cut-out's exactly. None: the decoded image as it is.
    keep: Keep | None = None


class Inpainter:
    """``QwenImageInpaintPipeline`` on the generation renderer's weights."""

    def __init__(self, renderer: QwenImageRenderer | None = None, *, model: str | None = None,
                 device: str | None = None, dtype_name: str | None = None):
        """From ``renderer`` (shared weights, ``from_pipe``); without one, or when its pipeline
        cannot be reused, ``from_pretrained(model)`` with the same device and dtype."""
        import torch
        from diffusers import FlowMatchEulerDiscreteScheduler, QwenImageInpaintPipeline

        self.renderer = renderer
        self.model = model or (renderer.model if renderer else resolve_model())
        self.device = device or (renderer.device if renderer else _device_and_dtype()[0])
        self.dtype_name = dtype_name or (renderer.dtype_name if renderer
                                         else _device_and_dtype()[1])
        dtype = getattr(torch, self.dtype_name)
        pipeline = None
        if renderer is not None:
            # from_pipe's cast to the dtype the models already have is a no-op, but diffusers
            # warns about it (an empty list of float32 modules): quiet that logger meanwhile.
            quiet = logging.getLogger("diffusers.models.modeling_utils")
            level = quiet.level
            quiet.setLevel(logging.ERROR)
            try:
                # A scheduler of its own (set_timesteps/begin index are state on the object);
                # dtype given: from_pipe casts the shared models to float32 otherwise.
                pipeline = QwenImageInpaintPipeline.from_pipe(
                    renderer.pipeline, dtype=dtype,
                    scheduler=FlowMatchEulerDiscreteScheduler.from_config(
                        renderer.pipeline.scheduler.config))
                self.shares_weights = True
                self.weights_sha256 = renderer.weights_sha256
                self.embeddings = renderer.embeddings
            except (ValueError, TypeError, AttributeError) as exc:
                logger.warning("cannot build the inpaint pipeline from the renderer's (%s); "
                               "loading %s a second time", exc, self.model)
            finally:
                quiet.setLevel(level)
        if pipeline is None:
            from rendering.engine.speed import TextEmbeddingCache

            pipeline = QwenImageInpaintPipeline.from_pretrained(self.model, dtype=dtype)
            pipeline.to(self.device)
            self.shares_weights = False
            self.weights_sha256 = weights_fingerprint(self.model)
            self.embeddings = TextEmbeddingCache(pipeline,
                                                 size=settings.ADSTUDIO_TEXT_EMBEDDING_CACHE)
        pipeline.set_progress_bar_config(disable=True)
        self.pipeline = pipeline
        # Pixels per latent cell, and the multiple the pipeline's sides must be.
        self.cell = pipeline.vae_scale_factor
        self.size_multiple = pipeline.vae_scale_factor * 2
        # One call at a time: the pipeline keeps per-call state (interrupt flag, timesteps).
        self._calls = threading.Lock()

    # The out-of-memory ladder (rendering.engine.memory) drives the renderer's memory mode; the
    # models are shared, so it applies to both pipelines.
    @property
    def base_memory_mode(self) -> str:
        return self.renderer.base_memory_mode if self.renderer else "normal"

    def set_memory_mode(self, mode: str) -> None:
        if self.renderer is not None and self.shares_weights:
            self.renderer.set_memory_mode(mode)
        elif mode != "normal":
            raise ValueError("memory modes need the inpainter built from the renderer")

    def free_memory(self) -> None:
        QwenImageRenderer.free_memory(self)

    def recipe_fields(self) -> dict:
        """What a recipe records about this inpainter to paint again bit for bit."""
        import torch

        return {
            "pipeline": "QwenImageInpaintPipeline",
            "model": self.model,
            "weights_sha256": self.weights_sha256,
            "device": self.device,
            "dtype": self.dtype_name,
            "torch_threads": torch.get_num_threads(),
            "libraries": library_versions(),
        }

    def render_batch(self, requests: list[InpaintRequest],
                     on_step: Callable[[int, int], bool | None] | None = None) -> list:
        """One after the other (one image per call), so the out-of-memory ladder can drive it."""
        return [self.inpaint(request, on_step) for request in requests]

    def inpaint(self, request: InpaintRequest,
                on_step: Callable[[int, int], bool | None] | None = None,
                output_type: str = "pil"):
        """Paint ``request.mask``'s area of ``request.image`` and return an RGB image of the
        same size, with ``request.keep`` pasted back on top. ``on_step(step, total)`` returning
        False interrupts the denoising (the image is still decoded and returned: the caller
        knows it cancelled). ``output_type="latent"``: the packed latents, no paste (tests)."""
        import torch

        from rendering.engine.faults import maybe_inject_oom
        from rendering.engine.speed import BatchedCFG

        image, mask = self._check(request)
        size = image.size
        work = tuple(request.render_size or size)
        mask = mask.point(lambda v: 255 if v >= 128 else 0)
        if work != size:
            image = image.resize(work, Image.Resampling.LANCZOS)
            # A render pixel is painted when any of the pixels it covers may be.
            mask = mask.resize(work, Image.Resampling.BOX).point(lambda v: 255 if v else 0)
        image, mask = self._padded(image, mask)
        mask = snap_to_cells(mask, self.cell)
        width, height = image.size

        def callback(pipe, step_index, timestep, callback_kwargs):
            if on_step is not None and on_step(step_index + 1, pipe.num_timesteps) is False:
                pipe._interrupt = True
            return {}

        use_cfg = request.true_cfg_scale > 1 and bool(request.negative_prompt)
        pipe = self.pipeline
        maybe_inject_oom()
        with self._calls, torch.inference_mode():
            embeds, embeds_mask = self.embeddings.batch([request.prompt])
            negative = (self.embeddings.batch([request.negative_prompt])
                        if use_cfg else (None, None))
            batched = (self.renderer is not None and self.shares_weights
                       and self.renderer.speed["batched_cfg"])
            batched_cfg = (BatchedCFG(pipe.transformer, *negative)
                           if use_cfg and batched else nullcontext())
            # Stands in for the masked image's latents, which Qwen-Image never reads.
            unused = torch.zeros(1, pipe.latent_channels, 1, height // self.cell,
                                 width // self.cell, device=embeds.device, dtype=embeds.dtype)
            with batched_cfg:
                result = pipe(
                    image=image,
                    mask_image=mask,
                    masked_image_latents=unused,
                    prompt_embeds=embeds,
                    prompt_embeds_mask=embeds_mask,
                    negative_prompt_embeds=negative[0],
                    negative_prompt_embeds_mask=negative[1],
                    true_cfg_scale=request.true_cfg_scale if use_cfg else 1.0,
                    strength=request.strength,
                    width=width,
                    height=height,
                    num_inference_steps=request.steps,
                    # Noise from a CPU generator: the same seed gives the same noise anywhere.
                    generator=torch.Generator(device="cpu").manual_seed(request.seed),
                    callback_on_step_end=callback,
                    output_type=output_type,
                )
        painted = result.images[0]
        if output_type != "pil":
            return painted
        painted = painted.convert("RGB").crop((0, 0, *work))
        if work != size:
            painted = painted.resize(size, Image.Resampling.LANCZOS)
        if request.keep is not None:
            paste_keep(painted, request.keep)
        return painted

    def _check(self, request: InpaintRequest) -> tuple[Image.Image, Image.Image]:
        if request.steps < 1:
            raise ValueError(f"An inpaint needs at least one step, not {request.steps}.")
        if not 0 < request.strength <= 1:
            raise ValueError(f"strength must be in (0, 1], not {request.strength}")
        if int(request.steps * request.strength) < 1:
            raise ValueError(f"{request.steps} steps at strength {request.strength} run none")
        image, mask = request.image.convert("RGB"), request.mask
        if mask.mode != "L":
            raise ValueError(f"the mask must be an 'L' image (255 = paint), not {mask.mode!r}")
        if mask.size != image.size:
            raise ValueError(f"the mask is {mask.size}, the image {image.size}")
        if min(image.size) < 1:
            raise ValueError("the image to inpaint is empty")
        if request.render_size is not None and (
                len(request.render_size) != 2 or min(request.render_size) < 1):
            raise ValueError(f"render_size must be (width, height), not {request.render_size}")
        if request.keep is not None and request.keep[0].mode != "RGBA":
            raise ValueError("keep must be an RGBA cut-out and its (x, y)")
        return image, mask

    def _padded(self, image: Image.Image, mask: Image.Image):
        """Pad right and bottom to the size multiple: edge pixels, and all of it painted."""
        m = self.size_multiple
        width, height = image.size
        padded = (math.ceil(width / m) * m, math.ceil(height / m) * m)
        if padded == image.size:
            return image, mask
        pixels = np.pad(np.asarray(image), ((0, padded[1] - height), (0, padded[0] - width),
                                            (0, 0)), mode="edge")
        grown = Image.new("L", padded, 255)
        grown.paste(mask, (0, 0))
        return Image.fromarray(pixels), grown


def snap_to_cells(mask: Image.Image, cell: int) -> Image.Image:
    """The binary mask diffusers will actually use, in pixels: a ``cell``-pixel square is
    painted (255) when any of its pixels is at least 128 (diffusers' 0.5 threshold), else
    kept (0). Sides must be multiples of ``cell``."""
    paint = np.asarray(mask) >= 128
    h, w = paint.shape
    cells = paint.reshape(h // cell, cell, w // cell, cell).any(axis=(1, 3))
    full = np.repeat(np.repeat(cells, cell, axis=0), cell, axis=1)
    return Image.fromarray(np.where(full, 255, 0).astype(np.uint8), "L")


def paste_keep(image: Image.Image, keep: Keep) -> Image.Image:
    """Alpha-composite the cut-out onto ``image`` in place (parts off the canvas are clipped):
    where its alpha is 255 the pixels are the cut-out's exactly, where it is 0 they are
    ``image``'s, in between a blend (PIL's integer ``paste`` with a mask)."""
    cutout, xy = keep
    image.paste(cutout.convert("RGB"), tuple(int(v) for v in xy), cutout.getchannel("A"))
    return image


def scene_mask(size: tuple[int, int], cutout: Image.Image, xy: tuple[int, int], *,
               grow: int = SCENE_GROW) -> Image.Image:
    """The paint mask for a scene around a product: everything but the product.

    Kept (0) are the cut-out's fully opaque pixels placed at ``xy``, shrunk by ``grow``
    pixels; everything else is painted (255), including the cut-out's semi-transparent edge.
    So the scene runs ``grow`` pixels under the product's silhouette: no sliver of the input
    canvas's background (or a matting fringe) survives next to it, and the edge blends when
    the cut-out goes back on top with its own alpha (the soft part of the edge is the
    cut-out's alpha: diffusers binarizes the mask, a feathered one would not blend). Painting
    under the product costs nothing: its pixels are pasted back exactly.
    """
    if cutout.mode != "RGBA":
        raise ValueError(f"the cut-out must be RGBA, not {cutout.mode}")
    if grow < 0:
        raise ValueError(f"grow must be 0 or more pixels, not {grow}")
    opaque = cutout.getchannel("A").point(lambda a: 255 if a == 255 else 0)
    mask = Image.new("L", size, 255)
    mask.paste(0, tuple(int(v) for v in xy), opaque)  # 0 where the cut-out is opaque
    if grow:
        mask = mask.filter(ImageFilter.MaxFilter(2 * grow + 1))
    return mask


def scene_canvas(size: tuple[int, int], cutout: Image.Image, xy: tuple[int, int], *,
                 background: tuple[int, int, int] = (128, 128, 128)) -> Image.Image:
    """The input image for a scene: the cut-out on a flat ``background`` (what the model sees
    as the product; at strength 1 the background itself is repainted from noise)."""
    canvas = Image.new("RGB", size, background)
    return paste_keep(canvas, (cutout, xy))


def outpaint_request(master: Image.Image, target_size: tuple[int, int],
                     focus: tuple[int, int, int, int] | None = None,
                     ) -> tuple[Image.Image, Image.Image]:
    """The canvas and the mask to extend ``master`` to ``target_size``.

    ``focus`` is the subject's box (left, top, right, bottom) in master pixels (None: the
    whole master). The master is scaled as large as covers the target, but never so large
    that the subject is cropped (at least "contain": all of it fits), placed with the
    subject as central as the edges allow, and cropped to the canvas; the rest of the canvas
    (mean colour of the master: at strength 1 it is repainted from noise) is the mask (255).
    Paste the master back after decoding with ``keep=unmasked_keep(canvas, mask)``.
    """
    master = master.convert("RGB")
    mw, mh = master.size
    tw, th = target_size
    if min(mw, mh, tw, th) < 1:
        raise ValueError("the master and the target size must not be empty")
    left, top, right, bottom = focus if focus is not None else (0, 0, mw, mh)
    if not (0 <= left < right <= mw and 0 <= top < bottom <= mh):
        raise ValueError(f"the focus box {focus} is not inside the {mw}x{mh} master")
    fw, fh = right - left, bottom - top
    cover = max(tw / mw, th / mh)
    scale = min(cover, tw / fw, th / fh)  # >= contain, since the subject is inside the master
    sw, sh = max(1, round(mw * scale)), max(1, round(mh * scale))
    scaled = master.resize((sw, sh), Image.Resampling.LANCZOS) if (sw, sh) != (mw, mh) \
        else master.copy()

    def offset(target: int, side: int, lo: float, hi: float) -> int:
        centre = round(target / 2 - (lo + hi) * scale / 2)
        if side >= target:  # covers this axis: no gap, and the subject stays inside
            low = max(target - side, math.ceil(-lo * scale))
            high = min(0, math.floor(target - hi * scale))
            return min(max(centre, low), max(low, high))
        return min(max(centre, 0), target - side)

    x, y = offset(tw, sw, left, right), offset(th, sh, top, bottom)
    fill = tuple(int(v) for v in np.asarray(master).reshape(-1, 3).mean(axis=0).round())
    canvas = Image.new("RGB", target_size, fill)
    canvas.paste(scaled, (x, y))
    mask = Image.new("L", target_size, 255)
    mask.paste(0, (x, y, x + sw, y + sh))
    return canvas, mask


def unmasked_keep(image: Image.Image, mask: Image.Image) -> Keep:
    """``image``'s kept (unmasked) pixels as an opaque cut-out at (0, 0), to paste back."""
    cutout = image.convert("RGBA")
    cutout.putalpha(mask.point(lambda a: 0 if a >= 128 else 255))
    return cutout, (0, 0)


_lock = threading.Lock()
_inpainters: dict[tuple[str, str, str], Inpainter] = {}


def get_inpainter() -> Inpainter:
    """The process's inpainter, on the process's renderer's weights, built on first use."""
    renderer = get_renderer()
    key = (renderer.model, renderer.device, renderer.dtype_name)
    with _lock:
        if key not in _inpainters:
            logger.info("building the Qwen-Image inpaint pipeline on %s's weights",
                        renderer.model)
            _inpainters[key] = Inpainter(renderer)
        return _inpainters[key]
