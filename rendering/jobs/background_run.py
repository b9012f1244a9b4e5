"""Running a claimed background job (gpu queue): a scene master painted around the product's
cut-out, or an outpaint of a master to a format it does not reach, with diffusers'
``QwenImageInpaintPipeline`` (rendering/engine/inpaint.py). What must stay exact (the cut-out,
the master under an outpaint) is pasted back on top after decoding. The result is a
``BackgroundLayer`` kept by its recipe's hash; the compositions waiting for it are rung."""

from __future__ import annotations

import hashlib
import io
import logging
import time

import numpy as np
from django.conf import settings
from django.core.files.storage import default_storage
from PIL import Image

from rendering.compose.formats import model_request_size
from rendering.design.scene_recipe import SCENE_ENGINE, scene_hash
from rendering.engine.generate import RenderRequest, get_renderer, library_versions
from rendering.engine.inpaint import (
    InpaintRequest,
    get_inpainter,
    scene_canvas,
    scene_mask,
    unmasked_keep,
)
from rendering.engine.memory import OutOfMemory, render_with_ladder
from rendering.jobs.store import store_background
from rendering.models import BackgroundLayer, RenderJob

logger = logging.getLogger(__name__)

KEYS = ("engine", "derive", "prompt", "negative_prompt", "seed", "steps", "true_cfg_scale",
        "render_scale", "output_size", "product_rect", "scene_sha256")


def _problem(recipe) -> str | None:
    if not isinstance(recipe, dict):
        return "the job has no recipe"
    missing = [key for key in KEYS if key not in recipe]
    if missing:
        return f"the recipe lacks {', '.join(missing)}"
    if recipe["engine"] != SCENE_ENGINE or recipe["derive"] not in ("scene", "plain",
                                                                     "outpaint"):
        return "the recipe is not a scene, a plain picture or an outpaint"
    if scene_hash(recipe) != recipe["scene_sha256"]:
        return "the recipe does not match its hash (it was changed after it was made)"
    try:
        width, height = (int(v) for v in recipe["output_size"])
        if min(width, height) < 8 or int(recipe["steps"]) < 1:
            return "the recipe has no size or no steps"
    except (TypeError, ValueError):
        return "the recipe's size or steps are invalid"
    return None


def _read(name: str, sha256: str, what: str) -> Image.Image:
    with default_storage.open(name, "rb") as handle:
        data = handle.read()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ValueError(f"the {what} changed since the job was made (its hash differs)")
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _scene_request(recipe: dict, workspace_id: int) -> tuple[Image.Image, Image.Image, tuple]:
    """The canvas, the paint mask and what goes back on top, for a master or an outpaint."""
    size = tuple(recipe["output_size"])
    if recipe["derive"] == "scene":
        cutout = recipe["cutout"]
        x, y, w, h = recipe["product_rect"]
        scaled = _read(cutout["file"], cutout["sha256"], "product's cut-out").convert("RGBA")
        scaled = scaled.resize((w, h), Image.Resampling.LANCZOS)
        return scene_canvas(size, scaled, (x, y)), scene_mask(size, scaled, (x, y)), \
            (scaled, (x, y))
    master = BackgroundLayer.objects.filter(workspace_id=workspace_id,
                                            recipe_sha256=recipe["master"]).first()
    if master is None:
        raise ValueError("the scene master this outpaint extends is gone")
    image = _read(master.file.name, master.sha256, "scene master").convert("RGB")
    px, py, pw, ph = recipe["placement"]
    placed = image.resize((pw, ph), Image.Resampling.LANCZOS)
    fill = tuple(int(v) for v in np.asarray(placed).reshape(-1, 3).mean(axis=0).round())
    canvas = Image.new("RGB", size, fill)
    canvas.paste(placed, (px, py))
    mask = Image.new("L", size, 255)
    mask.paste(0, (max(0, px), max(0, py), min(size[0], px + pw), min(size[1], py + ph)))
    return canvas, mask, unmasked_keep(canvas, mask)


def _paint(claim, recipe: dict, workspace_id: int) -> tuple[Image.Image, dict]:
    """The painted image at the recipe's size, and what the recipe records of how: a plain
    picture with ``QwenImagePipeline`` (nothing kept: the product goes on top), a scene or an
    outpaint with ``QwenImageInpaintPipeline``."""
    from rendering.jobs.states import ProgressReporter

    size = tuple(recipe["output_size"])
    on_step = ProgressReporter([claim])
    if recipe["derive"] == "plain":
        renderer = get_renderer()
        width, height = model_request_size(size, scale=float(recipe["render_scale"]),
                                           multiple=renderer.size_multiple)
        request = RenderRequest(
            prompt=recipe["prompt"], negative_prompt=recipe["negative_prompt"],
            seed=int(recipe["seed"]), steps=int(recipe["steps"]),
            true_cfg_scale=float(recipe["true_cfg_scale"]), width=width, height=height)
        [image], _mode = render_with_ladder(renderer, [request], on_step)
        image = image.convert("RGB").resize(size, Image.Resampling.LANCZOS)
        return image, {"render_size": [width, height], "pipeline": "QwenImagePipeline",
                       "model": renderer.model, "weights_sha256": renderer.weights_sha256,
                       "device": renderer.device, "dtype": renderer.dtype_name,
                       "libraries": library_versions()}
    canvas, mask, keep = _scene_request(recipe, workspace_id)
    inpainter = get_inpainter()
    work = model_request_size(canvas.size, scale=float(recipe["render_scale"]),
                              multiple=inpainter.size_multiple)
    request = InpaintRequest(
        image=canvas, mask=mask, prompt=recipe["prompt"], seed=int(recipe["seed"]),
        steps=int(recipe["steps"]), true_cfg_scale=float(recipe["true_cfg_scale"]),
        negative_prompt=recipe["negative_prompt"], render_size=work, keep=keep)
    [image], _mode = render_with_ladder(inpainter, [request], on_step)
    return image, {"render_size": list(work), **inpainter.recipe_fields()}


def background_run(claim, recipe) -> BackgroundLayer | None:
    """Paint one background and store it; a failure fails the job (and what waits for it)."""
    from celery.exceptions import SoftTimeLimitExceeded

    from rendering.jobs.states import job_fail

    problem = _problem(recipe)
    if problem:
        job_fail(claim, f"This background cannot be painted: {problem}.")
        return None
    workspace_id = RenderJob.objects.filter(pk=claim.job_id).values_list(
        "workspace_id", flat=True).first()
    started = time.monotonic()
    try:
        image, how = _paint(claim, recipe, workspace_id)
    except SoftTimeLimitExceeded:
        job_fail(claim, "timeout: the background took longer than "
                        f"{settings.ADSTUDIO_RENDER_SOFT_TIME_LIMIT} s and was stopped.")
        return None
    except FileNotFoundError as exc:
        job_fail(claim, f"This background cannot be painted: an input file is gone ({exc}).")
        return None
    except (OutOfMemory, RuntimeError, ValueError, OSError) as exc:
        logger.exception("background job %s failed", claim.job_id)
        job_fail(claim, str(exc) if isinstance(exc, OutOfMemory)
                 else f"Painting the background failed: {exc}",
                 gpu_seconds=time.monotonic() - started)
        return None
    return store_background(claim, image, {**recipe, **how},
                            gpu_seconds=time.monotonic() - started)
