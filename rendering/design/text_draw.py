"""The compositor's text layers: the font chain (brand font, then the weight's fallbacks), the
lines a text layer sets (or why it cannot), and drawing them onto the canvas."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from functools import lru_cache

from django.core.exceptions import ValidationError
from PIL import ImageFont

from rendering.compose import fonts
from rendering.compose.contrast import hex_rgb
from rendering.compose.fonts import FontRef
from rendering.compose.line_breaking import wrap
from rendering.design.canvas import Canvas


def _fail(path: str, message: str):
    raise ValidationError({path: [message]})


@lru_cache(maxsize=16)
def _fallbacks(weight: str, entries: tuple[FontRef, ...]) -> tuple[FontRef, ...]:
    return entries if weight == "bold" else tuple(fonts.regular_sibling(f) for f in entries)


def _brand_font(sha: str, data: bytes, path: str, layer_id: str) -> FontRef:
    """A brand font from the inputs as a content-addressed file (fonts.py loads by path)."""
    folder = os.path.join(tempfile.gettempdir(), "adstudio-design-fonts")
    target = os.path.join(folder, f"{sha}.font")
    if not os.path.exists(target):
        os.makedirs(folder, exist_ok=True)
        partial = f"{target}.{os.getpid()}.part"
        with open(partial, "wb") as fh:
            fh.write(data)
        os.replace(partial, target)
    ref = FontRef(path=target)
    try:
        ImageFont.truetype(target, 12)
        fonts.cmap(ref)
    except Exception:  # noqa: BLE001 - any parse failure means the file is not a usable font
        _fail(path, f"layer '{layer_id}': font {sha[:12]}… is not a TrueType/OpenType font.")
    return ref


def font_chain(layer: dict, inputs: Mapping[str, bytes] | None = None,
               path: str = "font") -> list[FontRef]:
    """The fonts a text layer draws with, in order: its brand font, then the fallbacks in its
    weight."""
    chain = list(_fallbacks(layer.get("weight", "bold"), tuple(fonts.fallback_fonts())))
    if layer.get("font"):
        data = (inputs or {}).get(layer["font"])
        if data is None:
            _fail(path, f"layer '{layer['id']}': font file {layer['font'][:12]}… is missing.")
        chain.insert(0, _brand_font(layer["font"], data, path, layer["id"]))
    if not chain:
        _fail(path, "No fonts are installed (ADSTUDIO_FALLBACK_FONTS).")
    return chain


def text_lines(layer: dict, inputs: Mapping[str, bytes] | None = None,
               path: str = "text") -> list[str]:
    """The lines a (validated) text layer sets, or a ValidationError at ``path`` saying why
    it cannot: a character no font has, a word wider than the box, more lines than
    ``max_lines``, a block taller than the box. Layout engines call this to choose sizes."""
    font_path = f"{path.rsplit('.', 1)[0]}.font" if "." in path else "font"
    chain = font_chain(layer, inputs, font_path)
    text, size, (_, _, width, height) = layer["text"], layer["size"], layer["box"]
    missing = fonts.undrawable(text, chain)
    if missing:
        names = ", ".join(f"U+{ord(c):04X}" for c in missing)
        _fail(path, f"layer '{layer['id']}': no installed font can draw {names}; remove "
                    f"{'it' if len(missing) == 1 else 'them'} or add a font that has "
                    f"{'it' if len(missing) == 1 else 'them'} (ADSTUDIO_FALLBACK_FONTS).")
    lines = wrap(text, lambda s: fonts.line_width(fonts.line_runs(s, chain), size) <= width)
    if lines is None:
        _fail(path, f"layer '{layer['id']}': a word of {text!r} is wider than the {width} px box"
                    f" at {size} px; lower the size or widen the box.")
    if len(lines) > layer["max_lines"]:
        _fail(path, f"layer '{layer['id']}': {text!r} needs {len(lines)} lines at {size} px in"
                    f" a {width} px wide box, more than max_lines {layer['max_lines']}; shorten"
                    " the text, lower the size or widen the box.")
    block = round(len(lines) * size * layer["line_height"])
    if block > height + 1:
        _fail(path, f"layer '{layer['id']}': {len(lines)} line(s) at {size} px with line_height"
                    f" {layer['line_height']} need {block} px, but the box is {height} px tall.")
    return lines


def placed_lines(layer: dict, inputs, path: str = "text", offset: int = 0) -> list[dict]:
    """Where each line of a (validated) text layer lands, as the text check records overlay
    lines (rendering/quality/overlay_check.py ``verify_line``): role, text, size, colour, the
    line box [x0, y0, x1, y1] in image pixels (``offset``: the bleed), its runs and primary
    font; so a composed design's copy can be verified against a reference rendering."""
    lines = text_lines(layer, inputs, path)
    chain = font_chain(layer, inputs, f"{path.rsplit('.', 1)[0]}.font")
    x, y, w, h = layer["box"]
    x, y = x + offset, y + offset
    size, pitch = layer["size"], layer["size"] * layer["line_height"]
    block = round(len(lines) * pitch)
    top = y + {"top": 0, "middle": (h - block) // 2, "bottom": h - block}[layer["valign"]]
    inset = (round(pitch) - fonts.line_height(size)) // 2  # centre fonts.py's line box
    placed = []
    for i, line in enumerate(lines):
        runs = fonts.line_runs(line, chain)
        line_w = max(1, fonts.line_width(runs, size))
        lx = x + {"left": 0, "center": (w - line_w) // 2, "right": w - line_w}[layer["align"]]
        ly = top + round(i * pitch) + inset
        placed.append({
            "role": layer.get("role", layer["id"]), "text": line, "size": size,
            "color": layer["color"], "box": [lx, ly, lx + line_w, ly + fonts.line_height(size)],
            "primary": chain[0].as_dict(), "drawn": (runs, chain[0]),
            "runs": [{"text": r.text, "font": r.font.as_dict(), "rtl": r.rtl} for r in runs]})
    return placed


def draw_text(canvas: Canvas, layer: dict, inputs, path: str) -> None:
    color = hex_rgb(layer["color"])
    for line in placed_lines(layer, inputs, f"{path}.text", canvas.offset):
        runs, primary = line["drawn"]
        glyphs, pad = fonts.render_line(runs, line["size"], color, primary)
        canvas.paint(glyphs, line["box"][0] - pad, line["box"][1] - pad, glyphs)
