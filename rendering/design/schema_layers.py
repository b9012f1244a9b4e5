"""Per-layer-kind validation of the design document (the contract: rendering/design/schema.py):
the fields each kind has, and one check per kind that returns the layer with its defaults
filled in, adding every problem to the error collector."""

from __future__ import annotations

import unicodedata

from rendering.design.schema_fields import (
    MAX_SIDE,
    check_box,
    check_choice,
    check_color,
    check_fraction,
    check_sha,
    is_int,
    is_number,
    quoted,
)

KINDS = ("background", "product", "shape", "text", "logo")
ROLES = ("headline", "subline", "price", "cta", "disclaimer")
SHAPES = ("panel", "scrim", "button", "badge")
GRADIENTS = ("to-left", "to-right", "to-top", "to-bottom")
ALIGNS = ("left", "center", "right")
VALIGNS = ("top", "middle", "bottom")
WEIGHTS = ("regular", "bold")
MAX_TEXT = 500
MIN_TEXT_SIZE, MAX_TEXT_SIZE = 6, 1000
MAX_LINES = 20
MAX_BLUR = 200

LAYER_FIELDS = {
    "background": {"id", "kind", "meta", "source", "fit", "focus"},
    "product": {"id", "kind", "meta", "sha256", "box", "shadow"},
    "shape": {"id", "kind", "meta", "shape", "box", "color", "opacity", "radius", "gradient"},
    "text": {"id", "kind", "meta", "role", "text", "box", "size", "color", "align", "valign",
             "weight", "line_height", "max_lines", "font"},
    "logo": {"id", "kind", "meta", "sha256", "box", "align", "valign"},
}


def _background(layer, path, ctx, errors) -> dict:
    out = dict(layer)
    source = layer.get("source")
    spath = f"{path}.source"
    if not isinstance(source, dict) or source.get("type") not in ("fill", "image"):
        errors.add(f"{spath}.type" if isinstance(source, dict) else spath,
                   'source must be {"type": "fill", "fill": {...}} or '
                   '{"type": "image", "sha256": "..."}.')
        return out
    if source["type"] == "image":
        extra = set(source) - {"type", "sha256", "crop"}
        if extra:
            errors.add(spath, f"Unknown field(s) {quoted(sorted(extra))} in an image source.")
        out["source"] = {"type": "image",
                         "sha256": check_sha(source.get("sha256"), f"{spath}.sha256", errors)}
        crop = source.get("crop")
        if crop is not None:
            if not (isinstance(crop, list | tuple) and len(crop) == 4
                    and all(is_number(v) and 0 <= v <= MAX_SIDE for v in crop)
                    and crop[2] > 0 and crop[3] > 0):
                errors.add(f"{spath}.crop", "crop must be null or [x, y, w, h]: the part of the "
                                            "image to show, in its pixels (w and h above 0).")
            else:
                out["source"]["crop"] = [float(v) for v in crop]
    else:
        extra = set(source) - {"type", "fill"}
        if extra:
            errors.add(spath, f"Unknown field(s) {quoted(sorted(extra))} in a fill source.")
        out["source"] = {"type": "fill", "fill": _fill(source.get("fill"), f"{spath}.fill",
                                                       errors)}
    if layer.get("fit", "cover") != "cover":
        errors.add(f"{path}.fit", 'fit must be "cover".')
    out["fit"] = "cover"
    focus = layer.get("focus", [0.5, 0.5])
    if not (isinstance(focus, list | tuple) and len(focus) == 2
            and all(is_number(v) and 0 <= v <= 1 for v in focus)):
        errors.add(f"{path}.focus", "focus must be 2 numbers [fx, fy], fractions 0..1 of the "
                                    "image.")
        focus = [0.5, 0.5]
    out["focus"] = list(focus)
    return out


def _fill(fill, path, errors) -> dict | None:
    if not isinstance(fill, dict) or fill.get("type") not in ("solid", "linear"):
        errors.add(path, 'fill must be {"type": "solid", "color": "#RRGGBB"} or '
                         '{"type": "linear", "colors": [...], "angle": 0..359}.')
        return None
    if fill["type"] == "solid":
        if set(fill) - {"type", "color"}:
            errors.add(path, 'A solid fill has only "type" and "color".')
        return {"type": "solid", "color": check_color(fill.get("color"), f"{path}.color", errors)}
    if set(fill) - {"type", "colors", "angle"}:
        errors.add(path, 'A linear fill has only "type", "colors" and "angle".')
    colors = fill.get("colors")
    if not isinstance(colors, list | tuple) or not 2 <= len(colors) <= 8:
        errors.add(f"{path}.colors", 'colors must be a list of 2..8 "#RRGGBB" colours.')
        colors = []
    colors = [check_color(c, f"{path}.colors[{k}]", errors) for k, c in enumerate(colors)]
    angle = fill.get("angle", 180)
    if not (is_number(angle) and 0 <= angle < 360):
        errors.add(f"{path}.angle", "angle must be a number of degrees, 0 <= angle < 360 "
                                    "(0: bottom to top, 90: left to right).")
    return {"type": "linear", "colors": colors, "angle": angle}


def _product(layer, path, ctx, errors) -> dict:
    out = dict(layer)
    out["sha256"] = check_sha(layer.get("sha256"), f"{path}.sha256", errors)
    out["box"] = check_box(layer.get("box"), f"{path}.box", ctx, errors, safe=True)
    shadow = layer.get("shadow")
    if shadow is not None:
        spath = f"{path}.shadow"
        if not isinstance(shadow, dict):
            errors.add(spath, 'shadow must be null or {"opacity": 0..1, "blur": px, '
                              '"offset": [dx, dy]}.')
            return out
        extra = set(shadow) - {"opacity", "blur", "offset", "color"}
        if extra:
            errors.add(spath, f"Unknown field(s) {quoted(sorted(extra))} in a shadow.")
        opacity = check_fraction(shadow.get("opacity"), f"{spath}.opacity", errors)
        blur = shadow.get("blur", 0)
        if not (is_number(blur) and 0 <= blur <= MAX_BLUR):
            errors.add(f"{spath}.blur", f"blur must be a number of px, 0..{MAX_BLUR}.")
        offset = shadow.get("offset", [0, 0])
        if not (isinstance(offset, list | tuple) and len(offset) == 2
                and all(map(is_int, offset)) and all(abs(v) <= MAX_SIDE for v in offset)):
            errors.add(f"{spath}.offset", "offset must be 2 integers [dx, dy] in px.")
            offset = [0, 0]
        color = check_color(shadow.get("color", "#000000"), f"{spath}.color", errors)
        out["shadow"] = {"opacity": opacity, "blur": blur, "offset": list(offset),
                         "color": color}
    else:
        out["shadow"] = None
    return out


def _shape(layer, path, ctx, errors) -> dict:
    out = dict(layer)
    out["shape"] = check_choice(layer.get("shape"), SHAPES, f"{path}.shape", errors, "shape")
    out["box"] = check_box(layer.get("box"), f"{path}.box", ctx, errors)
    out["color"] = check_color(layer.get("color"), f"{path}.color", errors)
    out["opacity"] = check_fraction(layer.get("opacity", 1), f"{path}.opacity", errors)
    radius = layer.get("radius", 0)
    if not (is_number(radius) and 0 <= radius <= MAX_SIDE):
        errors.add(f"{path}.radius", "radius must be a number of px, 0 or more.")
    out["radius"] = radius
    gradient = layer.get("gradient")
    if gradient is not None:
        check_choice(gradient, GRADIENTS, f"{path}.gradient", errors, "gradient")
    out["gradient"] = gradient
    return out


def _text(layer, path, ctx, errors) -> dict:
    out = dict(layer)
    out["role"] = check_choice(layer.get("role"), ROLES, f"{path}.role", errors, "role")
    text = layer.get("text")
    tpath = f"{path}.text"
    if not isinstance(text, str) or not text.strip():
        errors.add(tpath, "text must be a non-empty string.")
    elif len(text) > MAX_TEXT:
        errors.add(tpath, f"text must be at most {MAX_TEXT} characters (it has {len(text)}).")
    else:
        bad = [c for c in text if unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp")]
        if bad:
            names = ", ".join(dict.fromkeys(f"U+{ord(c):04X}" for c in bad))
            errors.add(tpath, f"text must not contain control characters or line breaks "
                              f"({names}); the compositor wraps lines itself.")
    out["box"] = check_box(layer.get("box"), f"{path}.box", ctx, errors, safe=True)
    size = layer.get("size")
    if not (is_int(size) and MIN_TEXT_SIZE <= size <= MAX_TEXT_SIZE):
        errors.add(f"{path}.size", f"size must be an integer font size in px, "
                                   f"{MIN_TEXT_SIZE}..{MAX_TEXT_SIZE}.")
    out["color"] = check_color(layer.get("color"), f"{path}.color", errors)
    out["align"] = check_choice(layer.get("align", "left"), ALIGNS, f"{path}.align", errors,
                                "align")
    out["valign"] = check_choice(layer.get("valign", "top"), VALIGNS, f"{path}.valign", errors,
                                 "valign")
    out["weight"] = check_choice(layer.get("weight", "bold"), WEIGHTS, f"{path}.weight", errors,
                                 "weight")
    line_height = layer.get("line_height", 1.2)
    if not (is_number(line_height) and 1.0 <= line_height <= 2.0):
        errors.add(f"{path}.line_height", "line_height must be a number from 1.0 to 2.0.")
    out["line_height"] = line_height
    max_lines = layer.get("max_lines", 3)
    if not (is_int(max_lines) and 1 <= max_lines <= MAX_LINES):
        errors.add(f"{path}.max_lines", f"max_lines must be an integer 1..{MAX_LINES}.")
    out["max_lines"] = max_lines
    font = layer.get("font")
    out["font"] = None if font is None else check_sha(font, f"{path}.font", errors)
    return out


def _logo(layer, path, ctx, errors) -> dict:
    out = dict(layer)
    out["sha256"] = check_sha(layer.get("sha256"), f"{path}.sha256", errors)
    out["box"] = check_box(layer.get("box"), f"{path}.box", ctx, errors, safe=True)
    out["align"] = check_choice(layer.get("align", "center"), ALIGNS, f"{path}.align", errors,
                                "align")
    out["valign"] = check_choice(layer.get("valign", "middle"), VALIGNS, f"{path}.valign",
                                 errors, "valign")
    return out


LAYER_CHECKS = {"background": _background, "product": _product, "shape": _shape,
                 "text": _text, "logo": _logo}
