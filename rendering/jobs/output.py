"""From pipeline output to what is stored: the exact format size, the typeset copy, the
completed recipe, and the PNG and thumbnail bytes."""

from __future__ import annotations

import logging

import torch
from PIL import Image

from rendering.compose.formats import fit_to_format
from rendering.compose.recipes import render_size
from rendering.compose.typeset import typeset_recipe
from rendering.engine.generate import RenderRequest, get_renderer, library_versions

logger = logging.getLogger(__name__)


def render_recipe(recipe: dict) -> tuple[Image.Image, dict]:
    """Render a recipe with this process's model; returns the exact-size image and the
    completed recipe (model, weights fingerprint, device, dtype, library versions)."""
    renderer = get_renderer()
    request = render_request_for(recipe, renderer)
    image = renderer.render(request)
    return render_finish(image, recipe, renderer, request, batch_size=1)


def render_request_for(recipe: dict, renderer) -> RenderRequest:
    width, height = render_size(recipe, renderer.size_multiple)
    return RenderRequest(
        prompt=recipe["prompt"], negative_prompt=recipe["negative_prompt"],
        seed=recipe["seed"], steps=recipe["steps"], true_cfg_scale=recipe["true_cfg_scale"],
        width=width, height=height,
    )


def render_finish(image, recipe: dict, renderer, request: RenderRequest, *, batch_size: int):
    out_w, out_h = recipe["output_size"]
    image = fit_to_format(image.convert("RGB"), out_w, out_h)
    image, typography = typeset_recipe(image, recipe)  # the exact copy, when the recipe asks
    completed = {
        **recipe,
        **typography,
        "model": renderer.model,
        "weights_sha256": renderer.weights_sha256,
        "render_size": [request.width, request.height],
        "batch_size": batch_size,
        "device": renderer.device,
        "dtype": renderer.dtype_name,
        "speed": renderer.speed,
        "torch_threads": torch.get_num_threads(),
        "libraries": library_versions(),
    }
    return image, completed
