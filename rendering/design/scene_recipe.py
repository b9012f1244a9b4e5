"""Recipes of scene backgrounds, and the part of a scene each format shows.

A scene master's recipe says what the model paints (prompt, negatives, seed, steps, guidance),
around what (the product's cut-out by its hash, at ``product_rect`` of ``output_size``), and
for whom (template, brand and product with their versions). An outpaint's recipe names its
master by the master recipe's hash and where the master goes on its canvas. A recipe's hash
(``scene_sha256``, over everything else in it) is the key of the background it makes: the same
recipe is painted once per workspace, and a recomposition names its background by that key.

``scene_inputs_key`` is narrower: what the picture depends on (prompt, negatives, cut-out,
steps, guidance). A stale composition whose key is unchanged is recomposed on its old
background; one whose key changed needs a new scene (rendering/design/scene_staleness.py).
"""

from __future__ import annotations

import hashlib
import io
import json

from django.conf import settings
from PIL import Image

from rendering.compose.ad_copy import NO_TEXT_NEGATIVE
from rendering.compose.recipes import RECIPE_VERSION
from rendering.design.scene_geometry import (
    MasterPlan,
    OutpaintPlan,
    clamp_crop,
    crop_for,
    product_rect,
)

SCENE_ENGINE = "qwen-image-inpaint"
# What every scene asks for besides the template's words: a photograph around the product
# (or, for a plain picture, a backdrop with room for it).
SCENE_SUFFIX = (", the product stands in this scene, professional product photography, "
                "soft natural light, realistic shadow, empty space, no text")
PLAIN_SUFFIX = ", professional photography backdrop, soft natural light, empty space, no text"
# Stands in for the scene's file while a design is laid out before the scene exists.
PLACEHOLDER = {"type": "image", "sha256": "0" * 64}


def scene_hash(recipe: dict) -> str:
    payload = {k: v for k, v in recipe.items() if k != "scene_sha256"}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":"),
                                     default=str).encode()).hexdigest()


def scene_inputs_key(*, prompt: str, negative_prompt: str, cutout_sha256: str | None,
                     steps: int, true_cfg_scale: float) -> str:
    payload = [prompt, negative_prompt, cutout_sha256 or "", steps, true_cfg_scale]
    return hashlib.sha256(json.dumps(payload).encode()).hexdigest()


def scene_sampling(negative_prompt: str) -> tuple[int, float]:
    """Steps and true CFG of a scene (true CFG needs negatives)."""
    cfg = settings.ADSTUDIO_DEFAULT_TRUE_CFG_SCALE if negative_prompt else 1.0
    return settings.ADSTUDIO_DEFAULT_STEPS, cfg


def scene_key(*, prompt: str, negative_prompt: str, cutout: dict | None) -> str:
    """The ``scene_inputs_key`` a scene painted now from these would have."""
    steps, cfg = scene_sampling(negative_prompt)
    return scene_inputs_key(prompt=prompt, negative_prompt=negative_prompt,
                            cutout_sha256=cutout["sha256"] if cutout else None, steps=steps,
                            true_cfg_scale=cfg)


def scene_prompt(composed, *, around_product: bool = True) -> tuple[str, str]:
    """The scene's prompt and negatives from the template's ``ComposedPrompt``."""
    negative = ", ".join(n for n in (composed.negative_prompt, NO_TEXT_NEGATIVE) if n)
    return composed.prompt + (SCENE_SUFFIX if around_product else PLAIN_SUFFIX), negative


def _sealed(recipe: dict) -> dict:
    recipe["scene_sha256"] = scene_hash(recipe)
    return recipe


def scene_master_recipe(*, prompt: str, negative_prompt: str, seed: int, plan: MasterPlan,
                        cutout: dict | None, provenance: dict) -> dict:
    """A master's recipe: ``cutout`` is the compose recipe's (file, sha256, size) to paint
    around, or None (a plain picture: QwenImagePipeline paints all of it). ``provenance``:
    template, brand, product, variant, language."""
    steps, cfg = scene_sampling(negative_prompt)
    return _sealed({
        "recipe_version": RECIPE_VERSION,
        "engine": SCENE_ENGINE,
        "derive": "scene" if cutout else "plain",
        "prompt": prompt,
        "negative_prompt": negative_prompt,
        "seed": seed,
        "steps": steps,
        "true_cfg_scale": cfg,
        "render_scale": settings.ADSTUDIO_RENDER_SCALE,
        "output_size": list(plan.size),
        # Where the cut-out goes (for a plain scene: where a product would stand).
        "product_rect": list(plan.product_rect),
        "cutout": ({"file": cutout["file"], "sha256": cutout["sha256"]} if cutout else None),
        "inputs_key": scene_key(prompt=prompt, negative_prompt=negative_prompt,
                                cutout=cutout),
        "format": {"dpi": None},
        **provenance,
    })


def scene_outpaint_recipe(*, master: dict, plan: OutpaintPlan, format_key: str) -> dict:
    """The recipe extending ``master`` (its recipe) to a format it does not cover."""
    keep = ("recipe_version", "prompt", "negative_prompt", "seed", "steps", "true_cfg_scale",
            "render_scale", "inputs_key", "format", "template", "brand", "product", "variant",
            "language")
    return _sealed({
        **{key: master[key] for key in keep if key in master},
        "engine": SCENE_ENGINE,
        "derive": "outpaint",
        "master": master["scene_sha256"],
        "for_format": format_key,
        "output_size": list(plan.size),
        "placement": list(plan.placement),
        "product_rect": list(plan.product_rect),
    })


def design_product_rect(design: dict, cutout_size) -> tuple[int, int, int, int] | None:
    """Where the design's product is drawn, in canvas pixels (None: no product layer)."""
    for layer in design["layers"]:
        if layer["kind"] == "product":
            return product_rect(layer["box"], cutout_size, design["bleed"])
    return None


def virtual_rect(size) -> tuple[int, int, int, int]:
    """A stand-in product for a scene without one: half the short side, in the lower middle."""
    side = max(1, min(size) // 2)
    return (size[0] - side) // 2, round(size[1] * 0.8) - side, side, side


def canvas_of(design: dict) -> tuple[int, int]:
    (width, height), bleed = design["size"], design["bleed"]
    return width + 2 * bleed, height + 2 * bleed


def scene_source(design: dict, *, layer_size, layer_rect, layer_sha256: str,
                 cutout_size=None) -> tuple[dict, bool]:
    """The background source that shows a scene (``layer_size``, its product at
    ``layer_rect``) under the design's product; and whether the cut had to be moved to stay
    inside the scene, so the light may not sit exactly under the product (never for a design
    without a product: any nearby cut will do).
    """
    size = canvas_of(design)
    rect = design_product_rect(design, cutout_size) if cutout_size else None
    crop = crop_for(layer_size, layer_rect, size, rect or virtual_rect(size))
    crop, moved = clamp_crop(layer_size, crop)
    return {"type": "image", "sha256": layer_sha256,
            "crop": [round(v, 3) for v in crop]}, moved and rect is not None


def image_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size
