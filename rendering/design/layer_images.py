"""Each layer of a design alone: an RGBA PNG of the design's canvas (the format size plus
bleed), transparent where the layer paints nothing, drawn by the compositor's own layer code.

Stacking the layer images bottom to top with ordinary "over" alpha blending gives the composed
image again, to within rounding: the compositor blends each paint straight onto the canvas,
a layer image first blends its paints onto transparency and is stored in 8 bits (straight
alpha), so a pixel may differ by a level or two where a layer is partly transparent.

``layer_name`` names the files (``03-text-headline.png``); ``layer_entries`` describes each
layer for the asset page and the export's README; ``layer_png`` draws one layer, the same
design and input bytes giving the same PNG bytes; ``asset_layer_png`` draws one from a stored
composed asset (its design and its recipe's input files).
"""

from __future__ import annotations

from collections.abc import Mapping

from PIL import Image

from rendering.design.canvas import Canvas
from rendering.design.compositor import canvas_size, draw_layer, encode_png
from rendering.design.input_files import verify_inputs
from rendering.design.recipe import recipe_inputs
from rendering.design.schema import design_validate

TRANSPARENT = (0, 0, 0, 0)


class LayerCanvas(Canvas):
    """A transparent RGBA canvas: each paint is alpha-composited ("over") onto it, so the
    image holds one layer's colour and coverage and nothing of the layers below."""

    def blend(self, src, at, end, mask) -> None:
        if isinstance(src, Image.Image):
            tile = src if src.mode == "RGBA" and mask is src else src.convert("RGBA")
        else:
            tile = Image.new("RGBA", (end[0] - at[0], end[1] - at[1]), (*src[:3], 255))
        if mask is not src:  # tile is a new image here: a cached one is never changed
            alpha = (255 if mask is None else
                     mask.getchannel("A") if mask.mode == "RGBA" else mask.convert("L"))
            tile.putalpha(alpha)
        self.image.alpha_composite(tile, dest=at)


def layer_name(layer: dict, index: int) -> str:
    """The file name of layer ``index`` (0 is the background): number, kind and, for text and
    shapes, the role or shape, e.g. ``01-background.png``, ``03-text-headline.png``."""
    detail = layer.get("role") if layer["kind"] == "text" else (
        layer.get("shape") if layer["kind"] == "shape" else None)
    return f"{index + 1:02d}-{layer['kind']}{f'-{detail}' if detail else ''}.png"


def layer_entries(doc: dict) -> list[dict]:
    """What each layer of the (validated) design is, bottom to top: index, file name, kind,
    id, role or shape, the exact text, font size, colour and box."""
    entries = []
    for index, layer in enumerate(doc["layers"]):
        source = layer.get("source") or {}
        fill = source.get("fill") or {}
        color = layer.get("color") or fill.get("color") or (fill.get("colors") or [None])[0]
        entries.append({
            "index": index, "name": layer_name(layer, index), "kind": layer["kind"],
            "id": layer["id"], "role": layer.get("role") or layer.get("shape") or "",
            "text": layer.get("text", ""), "size": layer.get("size"), "color": color or "",
            "box": layer.get("box") or [0, 0, *doc["size"]],
            "source": source.get("type", ""),
        })
    return entries


def layer_png(doc: dict, inputs: Mapping[str, bytes], index: int) -> bytes:
    """Layer ``index`` of ``doc`` alone as deterministic RGBA PNG bytes (the compositor's PNG
    settings). A bad design or input is a ValidationError naming the field, as compose's."""
    doc = design_validate(doc)
    verify_inputs(doc, inputs)
    if not 0 <= index < len(doc["layers"]):
        raise IndexError(f"the design has {len(doc['layers'])} layers, not {index + 1}")
    return encode_png(_draw(doc, inputs, index))


def layer_pngs(doc: dict, inputs: Mapping[str, bytes]) -> list[tuple[str, bytes]]:
    """Every layer of ``doc`` alone, bottom to top, as (file name, PNG bytes)."""
    doc = design_validate(doc)
    verify_inputs(doc, inputs)
    return [(layer_name(layer, i), encode_png(_draw(doc, inputs, i)))
            for i, layer in enumerate(doc["layers"])]


def asset_layer_entries(asset) -> list[dict]:
    """The layers of a composed asset, bottom to top (``layer_entries``); [] for a flat render."""
    return layer_entries(design_validate(asset.design)) if asset.design else []


def asset_layer_png(asset, index: int, *, fit: int | None = None) -> bytes:
    """Layer ``index`` of a composed asset alone, drawn from its stored design and the input
    files its recipe names; ``fit`` scales it down to fit a square of that many px (a
    thumbnail). LookupError when the asset has no such layer; OSError when an input file is
    gone from storage."""
    if not asset.design or not 0 <= index < len(asset.design.get("layers", [])):
        raise LookupError(f"asset {asset.pk} has no layer {index}")
    if fit is None:
        return layer_png(asset.design, recipe_inputs(asset.recipe or {}), index)
    doc = design_validate(asset.design)
    inputs = recipe_inputs(asset.recipe or {})
    verify_inputs(doc, inputs)
    image = _draw(doc, inputs, index)
    image.thumbnail((fit, fit), Image.Resampling.LANCZOS)  # premultiplied: no dark fringes
    return encode_png(image)


def _draw(doc: dict, inputs: Mapping[str, bytes], index: int) -> Image.Image:
    canvas = LayerCanvas(Image.new("RGBA", canvas_size(doc), TRANSPARENT), doc["bleed"])
    draw_layer(canvas, doc, index, inputs)
    return canvas.image
