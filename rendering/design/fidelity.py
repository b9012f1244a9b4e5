"""The product check: the design's product pixels in a final image are the catalog cut-out's.

``product_fidelity``: the catalog cut-out, scaled as the compositor scales
it, is compared with the final image at every pixel where the scaled cut-out is fully opaque
(alpha == 255), except pixels that a layer drawn above the product paints (any alpha > 0: text
glyphs, a button, the logo). The metric is the maximum absolute difference of any RGB channel
(``max_diff``) and the share of compared pixels that differ at all (``share``); the threshold
is exact: the check passes when ``max_diff == 0`` over at least one compared pixel.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from PIL import Image

from rendering.design.compositor import render_canvas
from rendering.design.input_files import verify_inputs
from rendering.design.layer_draw import product_place, scaled_cutout
from rendering.design.schema import design_validate


def _product_layer(doc: dict) -> tuple[int, dict] | None:
    return next(((i, layer) for i, layer in enumerate(doc["layers"])
                 if layer["kind"] == "product"), None)


def product_region(doc: dict, inputs: Mapping[str, bytes]):
    """Where the product lands in the composed image: ``([x, y, width, height], mask)`` in
    final-image pixels (bleed included), the mask an "L" image of that size holding the scaled
    cut-out's alpha (255: the product's own pixels, exactly; 0: not product). ``(None, None)``
    for a design without a product."""
    doc = design_validate(doc)
    found = _product_layer(doc)
    if found is None:
        return None, None
    i, layer = found
    verify_inputs({"layers": [layer]}, inputs)
    scaled = scaled_cutout(layer, inputs, f"layers[{i}]")
    x, y = product_place(layer, scaled, doc["bleed"])
    return [x, y, scaled.width, scaled.height], scaled.getchannel("A")


def product_fidelity(final_image: Image.Image, doc: dict,
                     inputs: Mapping[str, bytes]) -> dict:
    """Whether ``final_image`` shows the catalog cut-out's own pixels (see the module
    docstring for the metric and threshold). Returns ``ok``, ``max_diff`` (max absolute RGB
    channel difference), ``differing`` and ``share`` (pixels that differ, and their share of
    the compared ones), ``compared`` (fully opaque product pixels checked), ``covered`` (fully
    opaque product pixels under a layer above, left out), ``box`` (the product's
    [x, y, width, height]) and ``reason`` when it fails."""
    canvas = render_canvas(doc, inputs, track=True)
    if not canvas.product:
        return {"ok": True, "product": None, "compared": 0, "covered": 0, "max_diff": 0,
                "differing": 0, "share": 0.0, "threshold": 0, "box": None,
                "reason": "the design has no product layer"}
    px, py, scaled = canvas.product["x"], canvas.product["y"], canvas.product["image"]
    box = [px, py, scaled.width, scaled.height]
    result = {"ok": False, "product": True, "box": box, "threshold": 0, "compared": 0,
              "covered": 0, "max_diff": None, "differing": 0, "share": 0.0}
    if final_image.size != canvas.image.size:
        result["reason"] = (f"the image is {final_image.width}x{final_image.height}, the design "
                            f"composes {canvas.image.width}x{canvas.image.height}")
        return result
    # The part of the cut-out inside the canvas (a box may reach into the bleed).
    left, top = max(0, -px), max(0, -py)
    right = min(scaled.width, final_image.width - px)
    bottom = min(scaled.height, final_image.height - py)
    cut = np.asarray(scaled)[top:bottom, left:right]
    shown = np.asarray(final_image.convert("RGB").crop(
        (px + left, py + top, px + right, py + bottom)), dtype=np.int16)
    opaque = cut[..., 3] == 255
    covered = canvas.cover[py + top:py + bottom, px + left:px + right] & opaque
    compare = opaque & ~covered
    diff = np.abs(shown - cut[..., :3].astype(np.int16)).max(axis=2)[compare]
    result.update(compared=int(compare.sum()), covered=int(covered.sum()))
    if not diff.size:
        result["reason"] = "no fully opaque product pixel is visible to compare"
        return result
    differing = int((diff > 0).sum())
    result.update(max_diff=int(diff.max()), differing=differing,
                  share=differing / int(diff.size), ok=int(diff.max()) == 0)
    if not result["ok"]:
        result["reason"] = (f"{differing} product pixel(s) differ from the cut-out (max channel"
                            f" difference {result['max_diff']})")
    return result
