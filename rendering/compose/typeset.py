"""The typography layer: sets an ad's exact copy and logo on top of a render.

In ``overlay`` and ``both`` text modes (rendering/compose/ad_copy.py) this layer sets the roles
the model does not draw, and the logo. Text stays inside the format's safe zones, shrinks to
fit and then wraps (rendering/compose/fitting.py; Chinese and Japanese break between
characters, with line-start and line-end punctuation rules), reaches WCAG 4.5:1 against the
pixels behind it (another palette color, else a scrim: rendering/compose/contrast.py), and
falls back per character to the fonts that have each glyph (rendering/compose/fonts.py: Noto
Sans CJK, Arabic and Hebrew, DejaVu, colour emoji), shaping right-to-left runs. Copy no font
can draw is left out and reported, never set as empty boxes (rendering/compose/copy_rules.py
refuses it before the render). Every placed line is recorded with its box, size, colour and
runs, so the overlay check can draw it again and compare (rendering/quality/overlay_check.py).
"""

from __future__ import annotations

from PIL import Image, ImageDraw

from rendering.compose import fonts
from rendering.compose.ad_copy import NATIVE_ROLES, ROLES, TEXT_MODES
from rendering.compose.contrast import choose_color, hex_rgb
from rendering.compose.copy_rules import copy_problems
from rendering.compose.fitting import BUTTON_PAD, STACKED, WIDE, Block, fit_column
from rendering.compose.style import brand_style


def typeset(image: Image.Image, *, copy: dict, mode: str, style: dict,
            safe_zone: dict | None = None) -> tuple[Image.Image, dict]:
    """Set the layer's copy and the logo on ``image``; returns the new image and the layout
    (every line with its box, size, color and contrast; the logo box; roles that did not fit).
    """
    if mode not in TEXT_MODES:
        raise ValueError(f"Unknown text mode '{mode}'; use one of {', '.join(TEXT_MODES)}.")
    image = image.convert("RGB").copy()
    width, height = image.size
    zone = safe_zone or {}
    margin = max(3, round(0.04 * min(width, height)))
    area = [margin + zone.get("left", 0), margin + zone.get("top", 0),
            width - margin - zone.get("right", 0), height - margin - zone.get("bottom", 0)]
    roles = [r for r in ROLES if copy.get(r) and r not in NATIVE_ROLES[mode]]
    # Copy no font can draw (or too long to fit) is left out and reported, never set as boxes;
    # generate refuses it before rendering, so this only meets recipes from before that check.
    refused = copy_problems({r: copy[r] for r in roles}, mode=mode, style=style)
    roles = [r for r in roles if r not in refused]
    layout = {"mode": mode, "size": [width, height], "lines": [], "logo_box": None,
              "missing": [], "buttons": [], "scrims": [], "refused": refused,
              "engine": fonts.engine()}
    logo = _logo(style) if mode != "native" else None
    aw, ah = area[2] - area[0], area[3] - area[1]
    if aw / ah > 2.5:
        _wide(image, area, roles, copy, style, logo, layout)
    else:
        _stacked(image, area, roles, copy, style, logo, layout)
    return image, layout


def _logo(style: dict) -> Image.Image | None:
    logo = style.get("logo")
    if not logo:
        return None
    return Image.open(fonts.stored_file(logo["file"], logo["sha256"])).convert("RGBA")


def _place_logo(image, logo, box, layout) -> None:
    x0, y0, x1, y1 = box
    fitted = logo.resize((x1 - x0, y1 - y0), Image.Resampling.LANCZOS)
    image.paste(fitted, (x0, y0), fitted)
    layout["logo_box"] = [x0, y0, x1, y1]


def _logo_size(logo, max_w: int, max_h: int) -> tuple[int, int]:
    scale = min(max_w / logo.width, max_h / logo.height)
    return max(1, round(logo.width * scale)), max(1, round(logo.height * scale))


def _stacked(image, area, roles, copy, style, logo, layout) -> None:
    left, top, right, bottom = area
    unit = min(right - left, bottom - top)
    gap = max(2, round(0.025 * unit))
    if logo is not None:
        lw, lh = _logo_size(logo, round(0.4 * (right - left)), round(0.12 * unit))
        position = style.get("logo_position", "top-left")
        x0 = left if position.endswith("left") else right - lw
        y0 = top if position.startswith("top") else bottom - lh
        _place_logo(image, logo, (x0, y0, x0 + lw, y0 + lh), layout)
        if position.startswith("top"):
            top += lh + gap
        else:
            bottom -= lh + gap
    blocks, layout["missing"] = fit_column(roles, copy, style, width=right - left,
                                           height=bottom - top, unit=unit, table=STACKED,
                                           gap=gap)
    upper = [b for b in blocks if b.role in ("headline", "subline")]
    lower = [b for b in blocks if b not in upper]
    y = top
    for block in upper:
        _draw_block(image, block, (left, y, right), style, layout, align="center")
        y += block.height + gap
    y = bottom - sum(b.height for b in lower) - gap * max(0, len(lower) - 1)
    for block in lower:
        _draw_block(image, block, (left, y, right), style, layout, align="center")
        y += block.height + gap


def _wide(image, area, roles, copy, style, logo, layout) -> None:
    """Leaderboards and mobile banners: logo | headline, subline, disclaimer | price | CTA."""
    left, top, right, bottom = area
    unit = bottom - top
    gap = max(3, round(0.2 * unit))
    if logo is not None:
        lw, lh = _logo_size(logo, round(0.2 * (right - left)), round(0.8 * unit))
        on_left = style.get("logo_position", "top-left").endswith("left")
        x0 = left if on_left else right - lw
        y0 = top + (unit - lh) // 2
        _place_logo(image, logo, (x0, y0, x0 + lw, y0 + lh), layout)
        left, right = (left + lw + gap, right) if on_left else (left, right - lw - gap)
    side = [r for r in ("price", "cta") if r in roles]
    column = [r for r in roles if r not in side]
    span = right - left
    scale = 1.0
    while True:  # price and button shrink together until the copy column has 45 % of the width
        side_blocks, missing = [], []
        for role in side:
            fitted, lost = fit_column([role], copy, style, width=round(0.45 * span),
                                      height=unit, unit=unit * scale, table=WIDE, gap=0)
            side_blocks, missing = side_blocks + fitted, missing + lost
        used = sum(b.width + gap for b in side_blocks)
        if not column or span - used >= 0.45 * span or scale < 0.3:
            break
        scale *= 0.85
    x = right
    for block in reversed(side_blocks):  # right to left: CTA at the edge, price before it
        x -= block.width
        y = top + (unit - block.height) // 2
        _draw_block(image, block, (x, y, x + block.width), style, layout, align="left")
        x -= gap
    blocks, more = fit_column(column, copy, style, width=x - left, height=unit, unit=unit,
                              table=WIDE, gap=max(1, round(0.05 * unit)))
    layout["missing"] = missing + more
    y = top + (unit - sum(b.height for b in blocks)) // 2
    for block in blocks:
        _draw_block(image, block, (left, y, x), style, layout, align="left")
        y += block.height + max(1, round(0.05 * unit))


def _hex(color) -> str:
    return "#{:02X}{:02X}{:02X}".format(*color)


def _draw_block(image, block: Block, span, style, layout, *, align: str) -> None:
    """Draw one role's lines from the top of ``span`` (x0, y, x1); a call to action as a
    button in the brand's accent color, other text in a color (or over a scrim) reaching
    WCAG 4.5:1."""
    x0, y, x1 = span
    line_h = fonts.line_height(block.size)
    bx = x0 + ((x1 - x0 - block.width) // 2 if align == "center" else 0)
    box = [bx, y, bx + block.width, y + block.height]
    draw = ImageDraw.Draw(image)
    if block.role == "cta":
        colors = style.get("colors", {})
        fill = hex_rgb(colors.get("accent") or colors.get("primary") or "#111111")
        draw.rounded_rectangle(box, radius=round(0.35 * block.height), fill=fill)
        layout["buttons"].append({"box": box, "color": _hex(fill)})
        on_button = {"colors": {"text": colors.get("background") or "#FFFFFF",
                                "background": colors.get("text") or "#111111"}}
        color, _scrim, ratio = choose_color(image, box, on_button)
        y += round(BUTTON_PAD * block.size / 2)
    else:
        pad = round(0.25 * block.size)
        color, scrim, ratio = choose_color(image, box, style)
        if scrim is not None:
            scrim_box = [max(0, box[0] - pad), max(0, box[1] - pad // 2),
                         min(image.width, box[2] + pad), min(image.height, box[3] + pad // 2)]
            region = image.crop(scrim_box)
            veil = Image.blend(region, Image.new("RGB", region.size, scrim[0]), scrim[1])
            image.paste(veil, scrim_box[:2])
            layout["scrims"].append({"box": scrim_box, "color": _hex(scrim[0]),
                                     "alpha": scrim[1]})
    chain = fonts.font_chain(style)
    for text in block.lines:
        runs = fonts.line_runs(text, chain)
        layer, pad = fonts.render_line(runs, block.size, color, chain[0])
        width = layer.width - 2 * pad
        lx = x0 + ((x1 - x0 - width) // 2 if align == "center" else 0)
        if block.role == "cta":
            lx = box[0] + (block.width - width) // 2
        _paste(image, layer, lx - pad, y - pad)
        layout["lines"].append({
            "role": block.role, "text": text, "box": [lx, y, lx + width, y + line_h],
            "size": block.size, "color": _hex(color), "contrast": round(ratio, 2),
            # What the overlay check needs to draw the same line again
            # (rendering/quality/overlay_check.py).
            "primary": chain[0].as_dict(),
            "runs": [{"text": r.text, "font": r.font.as_dict(), "rtl": r.rtl} for r in runs],
        })
        y += line_h


def _paste(image: Image.Image, layer: Image.Image, x: int, y: int) -> None:
    """Composite ``layer`` at (x, y), clipped to the image."""
    left, top = max(0, -x), max(0, -y)
    right, bottom = min(layer.width, image.width - x), min(layer.height, image.height - y)
    if right <= left or bottom <= top:
        return
    part = layer.crop((left, top, right, bottom))
    image.paste(part, (x + left, y + top), part)


def typeset_recipe(image: Image.Image, recipe: dict) -> tuple[Image.Image, dict]:
    """Apply the layer a recipe asks for (overlay or both) to a render at its exact size;
    returns the image and what to record in the completed recipe (the brand style used and
    the layout). A recipe in native mode, or without copy, comes back untouched."""
    mode = recipe.get("text_mode", "native")
    copy = recipe.get("copy") or {}
    if mode == "native" or not any(r not in NATIVE_ROLES[mode] for r in copy):
        return image, {}
    style = recipe.get("brand_style")
    if style is None:  # composed before the worker knew the brand's files: take them now
        from brands.models import BrandKit

        style = brand_style(BrandKit.objects.get(pk=recipe["brand"]["id"]))
    image, layout = typeset(image, copy=copy, mode=mode, style=style,
                            safe_zone=(recipe.get("format") or {}).get("safe_zone"))
    return image, {"brand_style": style, "typography": layout}
