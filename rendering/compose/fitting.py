"""Fitting copy into boxes for the typography layer: per role, the font size and lines that fit
a width and height (shrink to fit on one line, then wrap, then shrink further), and a column
of roles fitted together, where roles give way when even the smallest readable size does not
fit. Measuring uses the style's font chain with per-character fallback
(rendering/compose/fonts.py); breaking lines, rendering/compose/line_breaking.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from django.conf import settings
from PIL import ImageFont

from rendering.compose import fonts
from rendering.compose.fonts import FontRef
from rendering.compose.line_breaking import wrap

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


@lru_cache(maxsize=4096)
def _measure(text: str, chain: tuple[FontRef, ...], size: int) -> int:
    return fonts.line_width(fonts.line_runs(text, list(chain)), size)


def _chain(style: dict) -> tuple[FontRef, ...]:
    return tuple(fonts.font_chain(style))


def font_for(text: str, style: dict, size: int) -> ImageFont.FreeTypeFont:
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
        line_h = fonts.line_height(size)
        if size >= floor and _measure(text, chain, size) <= width and line_h <= height:
            return size, [text]
        if size < floor or max_lines > 1:
            lines = wrap(text, lambda line, s=size: _measure(line, chain, s) <= width)
            if lines and len(lines) <= max_lines and len(lines) * line_h <= height:
                return size, lines
        size = size - max(1, size // 12)
    return None


@dataclass
class Block:
    """One role's text, fitted: its size and lines, and where it goes."""

    role: str
    text: str
    size: int
    lines: list[str]
    width: int = 0
    height: int = 0
    extra: dict = field(default_factory=dict)  # what a layout records beside (a button's pad)


def _block_size(block: Block, style: dict) -> Block:
    widths = [_measure(line, _chain(style), block.size) for line in block.lines]
    block.width = round(max(widths))
    block.height = fonts.line_height(block.size) * len(block.lines)
    if block.role == "cta":
        block.width += round(2 * BUTTON_PAD * block.size)
        block.height += round(BUTTON_PAD * block.size)
    return block


def fit_column(roles: list[str], copy: dict, style: dict, *, width: int, height: int,
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
