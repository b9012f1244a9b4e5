"""The design document: contract, validation and hash (schema ``adstudio.design/1``).

A design is a JSON object. All coordinates are integer pixels in the format's canvas, origin
top-left; boxes are ``[x, y, width, height]``::

    {
      "schema": "adstudio.design/1",
      "size": [W, H],                  # the format size (print: the trim size), 16..10000 each
      "bleed": 0,                      # px added on every side (print); default 0
      "safe": [left, top, right, bottom],  # insets no text/logo/product box may enter; default 0s
      "layout": "rectangle.stack",     # the layout that made it (informational); default ""
      "meta": {...},                   # optional, informational, any JSON object
      "layers": [ ... bottom to top ... ]   # 1..40 layers, exactly one background, first
    }

The image is ``W + 2*bleed`` by ``H + 2*bleed``; boxes are in trim coordinates and are drawn
offset by ``bleed``. Every box has a positive size and lies inside the canvas plus bleed
(``-bleed <= x`` and ``x + width <= W + bleed``, the same for y); the boxes of text, logo and
product layers also stay inside the safe area (``[left, top, W - right, H - bottom]``).

Every layer has ``"id"`` (unique, 1..64 characters of letters, digits, ``_ - .``), ``"kind"``
and optionally ``"meta"`` (informational). Other keys than those listed are an error (a typo
would otherwise be ignored silently). Defaults are filled in by ``design_validate``.

- background: ``{"kind": "background", "id": ..., "source": S, "fit": "cover",
  "focus": [fx, fy]}``, S one of
    ``{"type": "fill", "fill": {"type": "solid", "color": "#RRGGBB"}}``,
    ``{"type": "fill", "fill": {"type": "linear", "colors": ["#RRGGBB", ...], "angle": a}}``
    (2..8 colours evenly spaced; ``a`` in degrees, 0 <= a < 360, the CSS convention: 0 runs
    bottom to top, 90 left to right, 180 top to bottom; the gradient line is as long as CSS
    makes it, so the corners get the end colours), or
    ``{"type": "image", "sha256": H, "crop": null | [x, y, w, h]}`` (an image file among the
    inputs; ``crop`` in its pixels, numbers, inside the image).
  ``fit`` is "cover" (the only fit; default): the image is scaled (LANCZOS) to cover the whole
  canvas including bleed and cropped around ``focus`` (fractions 0..1 of the image; default
  [0.5, 0.5]). An image of exactly the canvas size is used as it is. With ``crop`` (a format
  cut from a scene master: rendering/design/scene_geometry.py) exactly that part is scaled
  to the canvas and ``focus`` is not used.
- product: ``{"kind": "product", "id": ..., "sha256": H, "box": [...], "shadow": null |
  {"opacity": 0..1, "blur": px, "offset": [dx, dy], "color": "#RRGGBB"}}``. At most one per
  design. The cut-out (RGBA; an image without alpha counts as fully opaque) is scaled, aspect
  kept, with LANCZOS (premultiplied) to fit inside the box, centred horizontally and
  bottom-aligned; its pixels are otherwise untouched. The shadow is the cut-out's alpha times
  ``opacity``, blurred (Gaussian, radius ``blur`` px, 0..200), moved by ``offset`` and drawn
  under the product in ``color`` (extension; default "#000000").
- shape: ``{"kind": "shape", "id": ..., "shape": "panel" | "scrim" | "button" | "badge",
  "box": [...], "color": "#RRGGBB", "opacity": 0..1, "radius": px, "gradient": null |
  "to-left" | "to-right" | "to-top" | "to-bottom"}``. A rounded rectangle (antialiased; the
  radius is capped at half the shorter side, so a square badge with a large radius is a
  circle) filled with ``color`` at ``opacity``. With a gradient the alpha runs from
  ``opacity`` at the start side to 0 at the side the gradient goes to ("to-top": opaque at the
  bottom, clear at the top), eased (smoothstep) so a scrim is soft. Defaults: opacity 1,
  radius 0, gradient null.
- text: ``{"kind": "text", "id": ..., "role": "headline" | "subline" | "price" | "cta" |
  "disclaimer", "text": "exact string", "box": [...], "size": px, "color": "#RRGGBB",
  "align": "left" | "center" | "right", "valign": "top" | "middle" | "bottom",
  "weight": "regular" | "bold", "line_height": 1.0..2.0, "max_lines": int, "font": null | H}``.
  The text is 1..500 characters, not only spaces, without control characters (line breaks
  included: the compositor wraps). ``size`` 6..1000 px, ``max_lines`` 1..20. ``font`` is a
  brand font file among the inputs, tried first; then the fallback chain
  (ADSTUDIO_FALLBACK_FONTS, per character: rendering/compose/fonts.py), in its bold files for
  "bold" and their regular siblings for "regular". Lines are wrapped greedily at the box width
  (rendering/compose/line_breaking.py). Lines are ``size * line_height`` apart (line i's box
  starts ``round(i * size * line_height)`` below the block top, the glyphs centred in it as
  rendering/compose/fonts.py sets them); the block is ``round(n * size * line_height)`` tall
  and is placed in the box by ``valign``, each line by ``align``. It is an error (at compose
  time, naming the layer) when a word is wider than the box, when the text needs more than
  ``max_lines`` lines, when the block is taller than the box (1 px of rounding allowed), or when
  a character has no font. Defaults: align "left", valign "top", weight "bold",
  line_height 1.2, max_lines 3, font null.
- logo: ``{"kind": "logo", "id": ..., "sha256": H, "box": [...], "align": "left" | "center" |
  "right", "valign": "top" | "middle" | "bottom"}``: a PNG/JPEG/WebP file scaled (LANCZOS) to
  fit the box, aspect kept, composited with its alpha; ``align``/``valign`` (extension;
  default centred) place it in the box when the aspects differ.

Hashes ``H`` are 64 lowercase hex digits (sha256 of the file bytes). Colours are "#RRGGBB"
(normalized to upper case). The compositor takes ``inputs: Mapping[str, bytes]`` (sha256 ->
bytes), verifies each hash, and a missing or mismatching input is an error naming the layer.

``design_hash(design)`` is the sha256 of the canonical JSON (sort_keys, separators ``(",",
":")``, ensure_ascii=False) of the document as given; hash the output of ``design_validate``
to get the same hash for documents that differ only in defaults.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re

from django.core.exceptions import ValidationError

from rendering.design.schema_fields import MAX_SIDE, MIN_SIDE, Errors, is_int, quoted
from rendering.design.schema_layers import KINDS, LAYER_CHECKS, LAYER_FIELDS

DESIGN_SCHEMA = "adstudio.design/1"
MAX_BLEED = 1000
MAX_LAYERS = 40

_ID = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
_TOP = {"schema", "size", "bleed", "safe", "layout", "meta", "layers"}


def design_validate(doc) -> dict:
    """A normalized copy of ``doc`` (defaults filled in, colours upper case), or a
    ValidationError whose ``message_dict`` maps each bad field's path (``"size"``,
    ``"layers[2].box"``) to what is wrong with it."""
    errors = Errors()
    if not isinstance(doc, dict):
        raise ValidationError({"design": ["A design must be a JSON object."]})
    schema = doc.get("schema")
    if schema != DESIGN_SCHEMA:
        raise ValidationError({"schema": [
            f'Unknown design schema {schema!r}; this compositor reads "{DESIGN_SCHEMA}".'
            if schema is not None else f'Missing "schema"; expected "{DESIGN_SCHEMA}".']})
    out = copy.deepcopy(doc)
    for key in sorted(set(doc) - _TOP):
        errors.add(key, f"Unknown field; a design has {quoted(sorted(_TOP))}.")

    size = doc.get("size")
    if (not isinstance(size, list | tuple) or len(size) != 2 or not all(map(is_int, size))
            or not all(MIN_SIDE <= v <= MAX_SIDE for v in size)):
        errors.add("size", f"size must be 2 integers [width, height], each {MIN_SIDE}..{MAX_SIDE}"
                           " px.")
        errors.raise_any()  # nothing else can be checked without the canvas
    width, height = size
    out["size"] = [width, height]

    bleed = doc.get("bleed", 0)
    if not is_int(bleed) or not 0 <= bleed <= MAX_BLEED:
        errors.add("bleed", f"bleed must be an integer 0..{MAX_BLEED} px.")
        bleed = 0
    out["bleed"] = bleed

    safe = doc.get("safe", [0, 0, 0, 0])
    if (not isinstance(safe, list | tuple) or len(safe) != 4 or not all(map(is_int, safe))
            or min(safe) < 0 or safe[0] + safe[2] >= width or safe[1] + safe[3] >= height):
        errors.add("safe", f"safe must be 4 non-negative integers [left, top, right, bottom] "
                           f"that leave room inside the {width}x{height} canvas.")
        safe = [0, 0, 0, 0]
    out["safe"] = list(safe)

    layout = doc.get("layout", "")
    if not isinstance(layout, str) or len(layout) > 100:
        errors.add("layout", "layout must be a string of at most 100 characters.")
    out["layout"] = layout
    if "meta" in doc and not isinstance(doc["meta"], dict):
        errors.add("meta", "meta must be a JSON object.")

    layers = doc.get("layers")
    if not isinstance(layers, list) or not layers:
        errors.add("layers", "layers must be a non-empty list, the background first.")
        errors.raise_any()
    if len(layers) > MAX_LAYERS:
        errors.add("layers", f"A design has at most {MAX_LAYERS} layers; this one has "
                             f"{len(layers)}.")
    ctx = {"width": width, "height": height, "bleed": bleed, "safe": safe}
    seen: dict[str, int] = {}
    kinds = []
    for i, layer in enumerate(layers):
        path = f"layers[{i}]"
        if not isinstance(layer, dict):
            errors.add(path, "Each layer must be a JSON object.")
            kinds.append(None)
            continue
        kind = layer.get("kind")
        kinds.append(kind)
        layer_id = layer.get("id")
        if not isinstance(layer_id, str) or not _ID.fullmatch(layer_id):
            errors.add(f"{path}.id", "id must be 1..64 letters, digits, '_', '-' or '.'.")
        elif layer_id in seen:
            errors.add(f"{path}.id", f'id "{layer_id}" is already used by layers[{seen[layer_id]}];'
                                     " ids must be unique.")
        else:
            seen[layer_id] = i
        if kind not in KINDS:
            errors.add(f"{path}.kind",
                       f"Unknown layer kind {kind!r}; use one of {quoted(KINDS)}.")
            continue
        for key in sorted(set(layer) - LAYER_FIELDS[kind]):
            errors.add(f"{path}.{key}", f"Unknown field for a {kind} layer; it has "
                                        f"{quoted(sorted(LAYER_FIELDS[kind]))}.")
        if "meta" in layer and not isinstance(layer["meta"], dict):
            errors.add(f"{path}.meta", "meta must be a JSON object.")
        out["layers"][i] = LAYER_CHECKS[kind](layer, path, ctx, errors)

    if kinds.count("background") != 1 or kinds[0] != "background":
        errors.add("layers", "A design needs exactly one background layer, and it must be "
                             f"first (found {kinds.count('background')}).")
    if kinds.count("product") > 1:
        errors.add("layers", "A design has at most one product layer.")
    errors.raise_any()
    return out


# --- hash and inputs ---------------------------------------------------------------------

def canonical_json(doc) -> str:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def design_hash(doc) -> str:
    """sha256 (hex) of the canonical JSON of ``doc`` as given."""
    return hashlib.sha256(canonical_json(doc).encode("utf-8")).hexdigest()


def layer_inputs(layer: dict) -> list[tuple[str, str]]:
    """(field, sha256) of each input file one layer needs."""
    kind = layer.get("kind")
    if kind == "background":
        source = layer.get("source") or {}
        return [("source.sha256", source["sha256"])] if source.get("type") == "image" else []
    if kind in ("product", "logo"):
        return [("sha256", layer["sha256"])]
    if kind == "text" and layer.get("font"):
        return [("font", layer["font"])]
    return []


def design_inputs(doc) -> set[str]:
    """The sha256 of every input file the design needs (images, cut-out, logo, fonts)."""
    return {sha for layer in doc.get("layers", []) if isinstance(layer, dict)
            for _, sha in layer_inputs(layer)}
