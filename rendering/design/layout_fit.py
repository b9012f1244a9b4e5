"""Type fitting and colour for the layout engine: the largest size on the type scale at which a
role's copy fits its box in its most lines (measured with the real fonts and per-character
fallback of rendering/compose/fonts.py, broken by rendering/compose/line_breaking.py), groups
of roles fitted together with the priority rules, and text colours that reach WCAG 4.5:1
against the panel behind them.

Priority when space runs out (``DROP_ORDER``): a role that cannot be set even alone at the
smallest size (a word wider than its column) goes first; then the subline, then the disclaimer
(it is set at the smallest readable size before it is given up), then the headline (after it
has shrunk to one line on strips); the call to action and the price are given up last, only
when even they alone cannot fit. Every role given up is listed in the document's "dropped".
Copy is never truncated and never set with an ellipsis.
"""

from __future__ import annotations

import math
from functools import lru_cache

from django.conf import settings

from rendering.compose import fonts
from rendering.compose.contrast import contrast_ratio, hex_rgb, relative_luminance
from rendering.compose.fitting import Block
from rendering.compose.fonts import FontRef
from rendering.compose.line_breaking import wrap

DROP_ORDER = ("subline", "disclaimer", "headline", "cta", "price")
LINE_HEIGHT = {"headline": 1.15, "subline": 1.25, "price": 1.1, "cta": 1.2, "disclaimer": 1.25}
WEIGHT = {"headline": "bold", "subline": "regular", "price": "bold", "cta": "bold",
          "disclaimer": "regular"}
BUTTON_PAD_X = 0.9  # of the cta's font size, each side
BUTTON_PAD_Y = 0.45
SLACK = 2  # px added to measured widths, so rounding never decides a wrap
WCAG = 4.5
WHITE, INK = "#FFFFFF", "#111111"


def min_px() -> int:
    return int(getattr(settings, "ADSTUDIO_MIN_TEXT_PX", 13))


@lru_cache(maxsize=8192)
def measure(text: str, chain: tuple[FontRef, ...], size: int) -> int:
    """The width of one line of ``text`` at ``size`` px, as the compositor draws it."""
    return fonts.line_width(fonts.line_runs(text, list(chain)), size)


def weighted(chain: tuple[FontRef, ...], role: str) -> tuple[FontRef, ...]:
    """The chain a role is drawn with: the brand font first, the fallbacks in its weight."""
    if WEIGHT[role] == "bold":
        return chain
    return tuple(f if f.file or f.sha256 else fonts.regular_sibling(f) for f in chain)


def pitch(role: str, size: int) -> int:
    return math.ceil(size * LINE_HEIGHT[role])


def lines_at(text: str, chain, size: int, width: int) -> list[str] | None:
    if width <= 0:
        return None
    return wrap(text, lambda line: measure(line, chain, size) + SLACK <= width)


def fit_role(role: str, text: str, chain, *, width: int, nominal: int, max_lines: int,
             floor: float = 0.6) -> Block | None:
    """The largest size from ``nominal`` down to ``floor`` x nominal (never below the
    smallest readable size) at which ``text`` fits ``width`` in ``max_lines``."""
    low = max(min_px(), round(nominal * floor))
    chain = weighted(tuple(chain), role)
    size = max(nominal, min_px())
    while size >= low:
        inner = width - (2 * round(BUTTON_PAD_X * size) if role == "cta" else 0)
        lines = lines_at(text, chain, size, inner)
        if lines and len(lines) <= max_lines:
            block = Block(role, text, size, lines)
            block.width = max(measure(line, chain, size) for line in lines) + SLACK
            block.height = pitch(role, size) * len(lines)
            if role == "cta":
                block.width += 2 * round(BUTTON_PAD_X * size)
                block.height += 2 * round(BUTTON_PAD_Y * size)
            elif role in BALANCED and len(lines) > 1:
                _balance(block, chain, inner)
            return block
        size -= max(1, size // 16)
    return None


# Headlines and sublines of several lines are balanced: set at the narrowest width that
# keeps their number of lines, so no line is left with a lone short word ("Trailhead
# Espresso / Cup" becomes "Trailhead / Espresso Cup"). The text layer's box is that width.
BALANCED = ("headline", "subline")


def _balance(block: Block, chain, width: int) -> None:
    low, high = 1, width
    while low < high:
        mid = (low + high) // 2
        lines = lines_at(block.text, chain, block.size, mid)
        if lines and len(lines) <= len(block.lines):
            high = mid
        else:
            low = mid + 1
    lines = lines_at(block.text, chain, block.size, high)
    if lines and len(lines) == len(block.lines):
        block.lines = lines
        block.width = max(measure(line, chain, block.size) for line in lines) + SLACK
        # The compositor wraps at its box width without SLACK: this box breaks the same.
        block.extra["wrap"] = high - SLACK


# The headline reads first: at least this many times the size of a subline or disclaimer
# beside it. When shrinking to fit would flatten that, the subline gives way instead.
HIERARCHY = 1.2


def _hierarchy_kept(blocks: list[Block]) -> bool:
    sizes = {b.role: b.size for b in blocks}
    if "headline" not in sizes:
        return True
    return all(sizes["headline"] >= HIERARCHY * sizes[role]
               for role in ("subline", "disclaimer") if role in sizes)


def fit_stack(roles: list[str], copy: dict, chain, *, width: int, height: int,
              nominal: dict, max_lines: dict, gap: int,
              squeeze: bool = False) -> tuple[list[Block], list[str]]:
    """Fit ``roles`` stacked in a width x height box, all shrinking together on the type
    scale; when even the smallest sizes do not fit, roles give way in ``DROP_ORDER`` (with
    ``squeeze``, strips, the headline first shrinks to one line so that the disclaimer can
    stay). Returns the blocks (in ``roles`` order) and the roles given up."""
    roles = [r for r in roles if copy.get(r)]
    # A role that cannot be set even alone at the smallest size (a date wider than the
    # column) gives way first: it never takes a role of higher priority down with it.
    dropped = [r for r in roles if fit_role(r, copy[r], chain, width=width, nominal=min_px(),
                                             max_lines=max_lines[r]) is None]
    roles = [r for r in roles if r not in dropped]
    original, max_lines = max_lines, dict(max_lines)
    squeezed = False
    while roles:
        scale = 1.0
        while True:
            blocks = []
            for role in roles:
                size = max(min_px(), round(nominal[role] * scale))
                block = fit_role(role, copy[role], chain, width=width, nominal=size,
                                 max_lines=max_lines[role])
                if block is None:
                    break
                blocks.append(block)
            else:
                total = sum(b.height for b in blocks) + gap * (len(blocks) - 1)
                if total <= height and _hierarchy_kept(blocks):
                    return blocks, dropped
            if all(round(nominal[r] * scale) <= min_px() for r in roles):
                break
            scale *= 0.9
        victim = next(r for r in DROP_ORDER if r in roles)
        if (squeeze and not squeezed and victim != "subline" and "headline" in roles
                and max_lines["headline"] > 1):
            squeezed, max_lines["headline"] = True, 1  # try one headline line first
            continue
        max_lines["headline"] = original["headline"]
        roles.remove(victim)
        dropped.append(victim)
    return [], dropped


# --- colour ---------------------------------------------------------------------------------

def _lum(color: str) -> float:
    return float(relative_luminance(hex_rgb(color)))


def contrast(a: str, b: str) -> float:
    return float(contrast_ratio(_lum(a), _lum(b)))


def to_hex(rgb) -> str:
    return "#{:02X}{:02X}{:02X}".format(*(max(0, min(255, round(c))) for c in rgb))


def blend(top: str, under: str, alpha: float) -> str:
    t, u = hex_rgb(top), hex_rgb(under)
    return to_hex(alpha * a + (1 - alpha) * b for a, b in zip(t, u, strict=True))


def behind(panel: str, opacity: float, background: list[str] | None) -> list[str]:
    """What a text sees through a panel of ``opacity`` over the background: the background's
    colours when they are known (a fill), else the worst cases, black and white."""
    under = background or ["#000000", "#FFFFFF"]
    return [panel] if opacity >= 1 else [blend(panel, c, opacity) for c in under]


def worst(color: str, behinds: list[str]) -> float:
    return min(contrast(color, b) for b in behinds)


def text_color(behinds: list[str], prefer: list[str] = ()) -> str:
    """The first preferred colour reaching 4.5:1 against everything behind, else white or
    near-black, whichever contrasts more."""
    for color in prefer:
        if color and worst(color, behinds) >= WCAG:
            return color.upper()
    return max((WHITE, INK), key=lambda c: worst(c, behinds))


def _chroma(color: str) -> int:
    """How colourful: the spread of the channels (0 for greys, whites and blacks)."""
    rgb = hex_rgb(color)
    return max(rgb) - min(rgb)


def palette_roles(palette: list[str]) -> dict:
    """The primary (button), the panel colour and the accent from a brand palette."""
    colors = [c.upper() for c in palette if isinstance(c, str) and len(c) == 7] or ["#1F4FFF"]
    primary = colors[0]
    others = colors[1:]
    strong = [c for c in others if contrast(c, primary) >= 3.0]
    # The panel is the brand's quietest colour that sets the button off (a neutral such as
    # its background beats a loud accent: whole panels of coral shout over the product).
    strong.sort(key=_chroma)
    panel = strong[0] if strong else max((WHITE, INK), key=lambda c: contrast(c, primary))
    accent = next((c for c in others if c != panel), primary)
    return {"primary": primary, "panel": panel, "accent": accent, "all": colors}
