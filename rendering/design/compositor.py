"""The compositor: a design document and its input files in, deterministic pixels out.

``compose(doc, inputs)`` validates the document (rendering/design/schema.py, whose docstring is
the contract), verifies every input file against its sha256 and draws the layers bottom to top
on an RGB canvas of the format size plus bleed: fills (solid; linear gradients by angle, exact
in numpy), an image background (cover, cropped around its focus), the product cut-out (scaled
with LANCZOS to fit its box, bottom-centred, over its optional soft shadow), shapes
(antialiased rounded rectangles, soft scrims), text (per-character font fallback from
rendering/compose/fonts.py, wrapped by rendering/compose/line_breaking.py) and the logo.
``compose_png`` writes it with fixed PNG settings and no metadata, so the same design and the
same input bytes give the same bytes. Problems are ``django.core.exceptions.ValidationError``
keyed by the field path (``"layers[3].text"``) with the layer id in the message: a missing or
mismatching input, a file that is no image, text that does not fit its box in ``max_lines``
at its size, a character no font can draw.

The product check is rendering/design/fidelity.py; the layers are drawn by
rendering/design/layer_draw.py and rendering/design/text_draw.py onto the canvas of
rendering/design/canvas.py, from inputs verified and decoded by rendering/design/input_files.py;
``draw_layer`` is also how rendering/design/layer_images.py draws each layer alone.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

import numpy as np
from PIL import Image

from rendering.design.canvas import Canvas
from rendering.design.input_files import verify_inputs
from rendering.design.layer_draw import draw_background, draw_logo, draw_product, draw_shape
from rendering.design.schema import design_validate
from rendering.design.text_draw import draw_text

# Level 3: near the default size, several times faster on print-size images. Every stored
# asset is encoded here (rendering/jobs/store.py), so a composition re-encodes to its bytes.
PNG_OPTIONS = {"compress_level": 3, "optimize": False}

_DRAW = {"background": draw_background, "product": draw_product, "shape": draw_shape,
         "text": draw_text, "logo": draw_logo}


def render_canvas(doc: dict, inputs: Mapping[str, bytes], *, track: bool = False) -> Canvas:
    """The validated design drawn on its canvas; ``track`` records the pixels that layers above
    the product paint (for the product check)."""
    doc = design_validate(doc)
    verify_inputs(doc, inputs)
    size = canvas_size(doc)
    canvas = Canvas(Image.new("RGB", size, (0, 0, 0)), doc["bleed"])
    for i, layer in enumerate(doc["layers"]):
        draw_layer(canvas, doc, i, inputs)
        if track and layer["kind"] == "product":
            canvas.cover = np.zeros((size[1], size[0]), dtype=bool)
    return canvas


def canvas_size(doc: dict) -> tuple[int, int]:
    """The (validated) design's image size: the format size plus bleed on every side."""
    (width, height), bleed = doc["size"], doc["bleed"]
    return width + 2 * bleed, height + 2 * bleed


def draw_layer(canvas: Canvas, doc: dict, index: int, inputs: Mapping[str, bytes]) -> None:
    """Draw layer ``index`` of the validated ``doc`` (inputs verified) onto ``canvas``."""
    layer = doc["layers"][index]
    _DRAW[layer["kind"]](canvas, layer, inputs, f"layers[{index}]")


def compose(doc: dict, inputs: Mapping[str, bytes]) -> Image.Image:
    """The design drawn: an RGB image of the format size plus bleed on every side."""
    return render_canvas(doc, inputs).image


def compose_png(doc: dict, inputs: Mapping[str, bytes], *, dpi: int | None = None) -> bytes:
    """``compose`` as PNG bytes, deterministic: fixed zlib settings, no text chunks, no time;
    ``dpi`` (print) adds only the pHYs chunk."""
    return encode_png(compose(doc, inputs), dpi=dpi)


def encode_png(image: Image.Image, *, dpi: int | None = None) -> bytes:
    buffer = io.BytesIO()
    options = dict(PNG_OPTIONS)
    if dpi:
        options["dpi"] = (dpi, dpi)
    image.save(buffer, format="PNG", **options)
    return buffer.getvalue()
