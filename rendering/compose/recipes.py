"""Recipes: everything needed to render an asset again, bit for bit on the same machine.

A recipe is composed when a job is created (prompt, seed, sizes, input versions) and completed
by the worker that renders it (model, weights fingerprint, device, dtype, library versions).
"""

from __future__ import annotations

import hashlib
import json
import secrets

from django.conf import settings

from rendering.compose.ad_copy import NO_TEXT_NEGATIVE, compose_copy, copy_prompt
from rendering.compose.formats import model_request_size, nearest_bucket
from rendering.compose.prompts import ComposedPrompt

RECIPE_VERSION = 1
# The product fields a prompt can use: a change to any of them makes the asset stale.
PRODUCT_FIELDS = ("name", "slogan", "description", "price", "currency", "features",
                  "brand_name", "sale_price", "product_type", "extra")


def product_snapshot(product) -> dict:
    """The product's prompt-visible fields as plain JSON values (prices as text)."""
    snapshot = {field: getattr(product, field) for field in PRODUCT_FIELDS}
    for field in ("price", "sale_price"):
        snapshot[field] = "" if snapshot[field] is None else str(snapshot[field])
    return snapshot


def new_seed() -> int:
    return secrets.randbelow(2**31)


def input_hash(*, product, brand, template) -> str:
    """A hash of the inputs an asset was made from, to tell when it goes stale."""
    payload = {
        "product": [product.sku, product.name, product.slogan, str(product.price),
                    product.currency, product.features],
        "brand": [brand.id, brand.version],
        "template": [template.id, template.version],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def compose_recipe(*, composed: ComposedPrompt, format, template, brand, product,
                   seed: int | None = None, steps: int | None = None,
                   true_cfg_scale: float | None = None) -> dict:
    """The job-time part of a recipe for one render of ``product`` in ``format``."""
    text_mode = getattr(template, "text_mode", "") or "native"
    copy = compose_copy(template=template, brand=brand, product=product, format=format,
                        language=composed.language)
    asked = copy_prompt(copy, text_mode)  # native copy: the model is asked for it, quoted
    negative = composed.negative_prompt
    if text_mode == "overlay":  # the layer sets every word on a text-free image
        negative = ", ".join(n for n in (negative, NO_TEXT_NEGATIVE) if n)
    cfg = settings.ADSTUDIO_DEFAULT_TRUE_CFG_SCALE if true_cfg_scale is None else true_cfg_scale
    if not negative:
        cfg = 1.0  # true CFG needs a negative prompt; record what actually runs
    return {
        "recipe_version": RECIPE_VERSION,
        "engine": "qwen-image",
        "prompt": composed.prompt + asked,
        "negative_prompt": negative,
        "language": composed.language,
        "seed": new_seed() if seed is None else seed,
        "steps": settings.ADSTUDIO_DEFAULT_STEPS if steps is None else steps,
        "true_cfg_scale": cfg,
        "bucket": list(nearest_bucket(format.width, format.height)),
        "render_scale": settings.ADSTUDIO_RENDER_SCALE,
        "output_size": [format.width, format.height],
        "format": {"key": format.key, "dpi": format.dpi, "channel": format.channel,
                   "safe_zone": format.safe_zone or {}, "max_kilobytes": format.max_kilobytes},
        # Copy and who draws it (rendering/compose/ad_copy.py); copy_attempt counts re-renders.
        "text_mode": text_mode,
        "copy": copy,
        "copy_prompt": asked,
        "copy_attempt": 1,
        "template": {"id": template.id, "version": template.version},
        "brand": {"id": brand.id, "version": brand.version},
        "product": {"id": product.id, "sku": product.sku, "version": product.version,
                    "fields": product_snapshot(product)},
        "input_hash": input_hash(product=product, brand=brand, template=template),
    }


def render_size(recipe: dict, size_multiple: int) -> tuple[int, int]:
    return model_request_size(
        tuple(recipe["bucket"]), scale=recipe["render_scale"], multiple=size_multiple
    )


def batch_key(recipe: dict) -> str:
    """Jobs with equal keys can share one pipeline call: same size, steps and guidance (the
    model is the worker's own)."""
    width, height = recipe["bucket"]
    cfg = recipe["true_cfg_scale"] if recipe["negative_prompt"] else 1.0
    return f"{width}x{height}@{recipe['render_scale']}:{recipe['steps']}:{cfg}"
