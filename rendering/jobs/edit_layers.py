"""Editing a composed ad by instruction (gpu queue): Qwen-Image-Edit changes the background
layer only, with the product's cut-out as a reference image so the model knows what stands on
the scene; the layers go back on top, so the product stays pixel-exact and the copy exact.

The edited background is kept like a painted scene (a ``BackgroundLayer`` by its recipe's
hash, its product where the design's product is), so a later recomposition of the slot (a new
price) is laid on the edited scene and the edit is not lost.
"""

from __future__ import annotations

import hashlib
import io
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from PIL import Image

from rendering.design.compositor import compose, encode_png
from rendering.design.recipe import recipe_input_names
from rendering.design.scene_recipe import (
    SCENE_ENGINE,
    canvas_of,
    design_product_rect,
    scene_hash,
    virtual_rect,
)
from rendering.design.schema import design_validate, layer_inputs
from rendering.models import BackgroundLayer


def edit_images(source, inputs: dict) -> tuple[Image.Image, list[Image.Image]]:
    """The source design's background layer alone, and the product cut-out (on white) as the
    model's reference image when the design shows one."""
    design = source.design
    background = compose({**design, "layers": design["layers"][:1]}, inputs)
    references = []
    product = next((la for la in design["layers"] if la["kind"] == "product"), None)
    if product is not None and settings.ADSTUDIO_EDIT_PRODUCT_REFERENCE:
        cutout = Image.open(io.BytesIO(inputs[product["sha256"]])).convert("RGBA")
        white = Image.new("RGB", cutout.size, (255, 255, 255))
        white.paste(cutout, (0, 0), cutout)
        references.append(white)
    return background, references


def edited_background(*, source, recipe: dict, edited: Image.Image, inputs: dict
                      ) -> tuple[BackgroundLayer, dict]:
    """Keep the edited background (file first, then its row; the same recipe twice keeps the
    first) and return it with the source's design laid on it."""
    design = source.design
    cutout = next((la for la in design["layers"] if la["kind"] == "product"), None)
    size = canvas_of(design)
    rect = (design_product_rect(design, Image.open(io.BytesIO(
        inputs[cutout["sha256"]])).size) if cutout else None) or virtual_rect(size)
    layer_recipe = {"engine": SCENE_ENGINE, "derive": "edit", "edit_of": {
        "asset": source.pk, "sha256": source.sha256, "design_sha256": source.design_sha256},
        **{key: recipe[key] for key in ("instruction", "region", "seed", "steps",
                                        "true_cfg_scale", "negative_prompt")},
        "output_size": list(size), "product_rect": list(rect),
        "inputs_key": ((source.recipe or {}).get("background") or {}).get("inputs_key")}
    layer_recipe["scene_sha256"] = scene_hash(layer_recipe)
    edited = edited.convert("RGB")
    if edited.size != size:
        edited = edited.resize(size, Image.Resampling.LANCZOS)
    content = encode_png(edited, dpi=None)
    digest = hashlib.sha256(content).hexdigest()
    layer = BackgroundLayer.objects.filter(workspace_id=source.workspace_id,
                                           recipe_sha256=layer_recipe["scene_sha256"]).first()
    if layer is None:
        name = default_storage.save(
            f"ws/{source.workspace_id}/backgrounds/edits/{uuid.uuid4().hex}.png",
            ContentFile(content))
        try:
            with transaction.atomic():
                layer = BackgroundLayer.objects.create(
                    workspace_id=source.workspace_id, recipe_sha256=layer_recipe["scene_sha256"],
                    recipe=layer_recipe, file=name, sha256=digest, width=size[0],
                    height=size[1], product_rect=list(rect))
        except IntegrityError:  # painted by a parallel attempt: keep that one
            default_storage.delete(name)
            layer = BackgroundLayer.objects.get(workspace_id=source.workspace_id,
                                                recipe_sha256=layer_recipe["scene_sha256"])
    with default_storage.open(layer.file.name, "rb") as handle:
        inputs[layer.sha256] = handle.read()
    layers = [dict(la) for la in design["layers"]]
    layers[0] = {**layers[0], "source": {"type": "image", "sha256": layer.sha256}}
    return layer, design_validate({**design, "layers": layers})


def layered_edit_recipe(*, source, recipe: dict, layer: BackgroundLayer, design: dict) -> dict:
    """The new version's recipe: the edit, the design it composes, and every input file."""
    names = recipe_input_names(source.recipe or {})
    names[layer.sha256] = layer.file.name
    scene = {"layer": layer.recipe_sha256, "file": layer.file.name, "sha256": layer.sha256,
             "size": [layer.width, layer.height], "derive": "edit",
             "master": ((source.recipe or {}).get("scene") or {}).get("master"),
             "crop": None, "aligned": True, "inputs_key": layer.recipe.get("inputs_key")}
    background = {**((source.recipe or {}).get("background") or {}), "type": "scene",
                  "layer": layer.recipe_sha256}
    keep = {key: source.recipe[key] for key in ("copy", "palette", "font", "logo", "cutout",
                                                "text_mode", "variant", "language", "engine")
            if key in (source.recipe or {})}
    return {**recipe, **keep, "background": background, "scene": scene, "design": design,
            "inputs": {d: n for d, n in names.items()
                       if d in {sha for la in design["layers"] for sha in _shas(la)}}}


def _shas(layer: dict):
    return [sha for _, sha in layer_inputs(layer)]
