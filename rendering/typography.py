"""The typography layer: sets an ad's exact copy and logo on top of a render.

Per template, ``text_mode`` says who draws the words: ``native`` (the model draws the quoted
copy), ``overlay`` (the model draws an image without text; this layer sets every line) or
``both`` (the model draws the headline; this layer sets subline, price, call to action,
disclaimer and logo exactly). Text stays inside the format's safe zones, shrinks to fit and then
wraps (Chinese and Japanese break between characters, with line-start and line-end punctuation
rules), reaches WCAG 4.5:1 against the pixels behind it (another palette color, else a scrim),
and falls back per character to the fonts that have each glyph (rendering/fonts.py: Noto Sans
CJK, Arabic and Hebrew, DejaVu, colour emoji), shaping right-to-left runs. Copy no font can draw
is left out and reported, never set as empty boxes (rendering/copy_rules.py refuses it before
the render). Every placed line is recorded with its box, size, colour and runs, so the overlay
check can draw it again and compare (rendering/overlay_check.py).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from babel.numbers import format_currency
from django.conf import settings
from PIL import Image, ImageDraw, ImageFont

from . import fonts
from .contrast import WCAG_MIN as WCAG_MIN  # re-exported, as are the names below
from .contrast import _hex_rgb, choose_color
from .contrast import contrast_ratio as contrast_ratio
from .contrast import relative_luminance as relative_luminance
from .copy_rules import copy_problems
from .fonts import FontRef
from .line_breaking import NO_LINE_END as NO_LINE_END
from .line_breaking import NO_LINE_START as NO_LINE_START
from .line_breaking import wrap

TEXT_MODES = ("native", "overlay", "both")
ROLES = ("headline", "subline", "price", "cta", "disclaimer")
# What the model is asked to draw itself, per mode (the layer sets the other roles).
NATIVE_ROLES = {"native": ("headline", "price", "cta"), "overlay": (), "both": ("headline",)}
LOCALES = {"en": "en_US", "zh": "zh_CN"}

def format_price(amount, currency: str, language: str = "en") -> str:
    """The price as a shopper in ``language`` reads it: '$19.99', '¥199.00'."""
    return format_currency(Decimal(str(amount)), currency, locale=LOCALES.get(language, "en_US"))


def compose_copy(*, template, brand, product, format=None, language: str = "en") -> dict:
    """The copy lines a template sets for one product (template strings rendered in the same
    sandbox as prompts), with the price formatted for the language and the brand's
    disclaimer. Empty lines are left out."""
    from .prompts import template_context
    from .template_sandbox import template_render

    values = template_context(brand=brand, product=product, format=format)
    copy = {}
    for role, what in (("headline", "The headline"), ("subline", "The subline"),
                       ("cta", "The call to action")):
        body = getattr(template, role, "") or ""
        # Checked and bounded like a prompt (B13): a bad line is a ValidationError, not a 500.
        text = re.sub(r"\s+", " ", template_render(body, values, what=what)).strip()
        if text:
            copy[role] = text
    if getattr(template, "show_price", False):
        copy["price"] = format_price(product.price, product.currency, language)
    disclaimer = re.sub(r"\s+", " ", brand.disclaimer).strip()  # saved before B14's checks
    if disclaimer:
        copy["disclaimer"] = disclaimer
    return copy


def copy_prompt(copy: dict, mode: str) -> str:
    """The sentence that asks the model to draw its roles' copy, quoted."""
    quoted = [f'"{copy[role]}"' for role in NATIVE_ROLES[mode] if copy.get(role)]
    return f" The image shows the text {' and '.join(quoted)}." if quoted else ""


def brand_style(brand) -> dict:
    """What the layer needs from a brand kit, as plain values for the recipe."""
    font = brand.fonts.order_by("id").first()
    logo = brand.logos.order_by("id").first()
    return {
        "colors": {role: brand.color(role) for role in ("primary", "accent", "background",
                                                          "text") if brand.color(role)},
        "font": {"file": font.file.name, "sha256": font.sha256} if font else None,
        "logo": {"file": logo.file.name, "sha256": logo.sha256} if logo else None,
        "logo_position": brand.logo_position,
    }


# --- fonts (rendering/fonts.py: the chain, per-character fallback, drawing a line) ----------

@lru_cache(maxsize=4096)
def _measure(text: str, chain: tuple[FontRef, ...], size: int) -> int:
    return fonts.line_width(fonts.line_runs(text, list(chain)), size)


def _chain(style: dict) -> tuple[FontRef, ...]:
    return tuple(fonts.font_chain(style))


def _font_for(text: str, style: dict, size: int) -> ImageFont.FreeTypeFont:
    """The first font of the style's chain that has every glyph of ``text`` (the brand font,
    else Noto Sans CJK, ...); the layer itself falls back per character."""
    chain = fonts.font_chain(style)
    needed = {ord(ch) for ch in text if not ch.isspace()}
    ref = next((f for f in chain if needed <= fonts.cmap(f)), chain[0])
    return fonts.load(ref, size)


def fit_text(text: str, style: dict, *, width: int, height: int, max_size: int,
             max_lines: int, min_size: int) -> tuple[int, list[str]] | None:
    """Shrink to fit on one line (down to 75 % of ``max_size``), then wrap, then shrink
    further; returns the font size and lines, or None when even ``min_size`` does not fit."""
    floor = max(min_size, round(max_size * 0.75))
    size = max_size
    chain = _chain(style)
    while size >= min_size:
        line_h = _line_height(size)
        if size >= floor and _measure(text, chain, size) <= width and line_h <= height:
            return size, [text]
        if size < floor or max_lines > 1:
            lines = wrap(text, lambda line, s=size: _measure(line, chain, s) <= width)
            if lines and len(lines) <= max_lines and len(lines) * line_h <= height:
                return size, lines
        size = size - max(1, size // 12)
    return None


_line_height = fonts.line_height


@dataclass
class Block:
    """One role's text, fitted: its size and lines, and where it goes."""

    role: str
    text: str
    size: int
    lines: list[str]
    width: int = 0
    height: int = 0


# Font size as a fraction of the layout unit, and most lines, per role. Stacked layouts (up
# to 2.5:1) measure against the shorter side; wide banners against the usable height.
STACKED = {"headline": (0.11, 2), "subline": (0.055, 2), "price": (0.09, 1),
           "cta": (0.05, 1), "disclaimer": (0.03, 3)}
WIDE = {"headline": (0.40, 2), "subline": (0.22, 1), "disclaimer": (0.16, 2),
        "price": (0.45, 1), "cta": (0.26, 1)}
# When the copy cannot fit at the smallest readable size, roles give way in this order (and
# are reported missing, so the check fails with the reason).
GIVE_WAY = ("subline", "disclaimer", "cta", "headline", "price")
BUTTON_PAD = 0.6  # of the font size, around a call to action's text


def _block_size(block: Block, style: dict) -> Block:
    widths = [_measure(line, _chain(style), block.size) for line in block.lines]
    block.width = round(max(widths))
    block.height = _line_height(block.size) * len(block.lines)
    if block.role == "cta":
        block.width += round(2 * BUTTON_PAD * block.size)
        block.height += round(BUTTON_PAD * block.size)
    return block


def _fit_column(roles: list[str], copy: dict, style: dict, *, width: int, height: int,
                unit: float, table: dict, gap: int) -> tuple[list[Block], list[str]]:
    """Fit ``roles`` stacked in a width x height box: shrink all together, and when even the
    smallest readable size does not fit, let roles give way."""
    min_size = settings.ADSTUDIO_MIN_TEXT_PX
    roles, missing = list(roles), []
    while roles:
        scale = 1.0
        while True:
            blocks, too_big = [], []
            for role in roles:
                fraction, max_lines = table[role]
                size = max(min_size, round(fraction * unit * scale))
                pad = round(2 * BUTTON_PAD * size) if role == "cta" else 0
                fitted = fit_text(copy[role], style, width=width - pad, height=height,
                                  max_size=size, max_lines=max_lines, min_size=min_size)
                if fitted is None:
                    too_big.append(role)
                else:
                    blocks.append(_block_size(Block(role, copy[role], *fitted), style))
            total = sum(b.height for b in blocks) + gap * (len(blocks) - 1)
            if not too_big and total <= height:
                return blocks, missing
            if too_big or all(b.size <= min_size for b in blocks):
                break
            scale *= 0.85
        drop = too_big[0] if too_big else next(r for r in GIVE_WAY if r in roles)
        roles.remove(drop)
        missing.append(drop)
    return [], missing


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
    return Image.open(io.BytesIO(fonts._stored_bytes(logo["file"], logo["sha256"]))).convert("RGBA")


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
    blocks, layout["missing"] = _fit_column(roles, copy, style, width=right - left,
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
            fitted, lost = _fit_column([role], copy, style, width=round(0.45 * span),
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
    blocks, more = _fit_column(column, copy, style, width=x - left, height=unit, unit=unit,
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
    line_h = _line_height(block.size)
    bx = x0 + ((x1 - x0 - block.width) // 2 if align == "center" else 0)
    box = [bx, y, bx + block.width, y + block.height]
    draw = ImageDraw.Draw(image)
    if block.role == "cta":
        colors = style.get("colors", {})
        fill = _hex_rgb(colors.get("accent") or colors.get("primary") or "#111111")
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
    chain = list(_chain(style))
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
            # What the overlay check needs to draw the same line again (rendering/overlay_check).
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


NO_TEXT_NEGATIVE = "text, letters, words, captions, watermark"


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
