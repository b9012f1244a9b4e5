"""Aspect classes for the layout engine: which family of designed layouts a format gets, its
grid (margins), its safe zones and its type scale.

Classification, in this order (ratio = width / height):

| class       | rule                                         | e.g.                        |
|-------------|----------------------------------------------|-----------------------------|
| print       | kind "poster"/"print", or dpi >= 150         | A4/A3/A2 at 300 dpi         |
| strip       | height <= 120 and ratio >= 2.5 and width < 600 | 320x50, 320x100, 468x60     |
| leaderboard | height <= 120 and ratio >= 2.5 (width >= 600) | 728x90, 970x90              |
| wide        | ratio >= 1.5                                 | 1200x628, 1920x1080, 970x250 |
| rectangle   | 1.1 <= ratio < 1.5                           | 300x250, 336x280            |
| square      | 0.9 <= ratio < 1.1                           | 1080x1080, 250x250, 200x200 |
| portrait    | 0.7 <= ratio < 0.9                           | 1080x1350, 960x1200, 720x900 |
| story       | kind "story", or ratio < 0.7 with width > 400 | 1080x1920                   |
| skyscraper  | ratio < 0.7 with width <= 400                | 120x600, 160x600, 300x600   |

Safe zones: a story keeps the top 14 % and the bottom 20 % of its height free of text, logo and
product (Meta and TikTok put the profile row and the reply / caption bar there; a preset's own
safe_zone wins where it asks for more). Print keeps text 5 mm inside the trim (59 px at 300
dpi) on top of the grid margin; bleed is 3 mm (35 px at 300 dpi, ``print_bleed``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

PRINT_DPI_MIN = 150
STORY_SAFE_TOP = 0.14
STORY_SAFE_BOTTOM = 0.20
PRINT_SAFE_MM = 5.0
BLEED_MM = 3.0


@dataclass(frozen=True)
class Grid:
    """One class's grid: the margin (fraction of the short side), the headline's nominal size
    (fraction of the layout unit: the short side, or the height for strips), the most lines
    per role, and the designed layouts (the first is the default)."""

    margin: float
    headline: float
    layouts: tuple[str, ...]
    max_lines: dict


_LINES = {"headline": 3, "subline": 2, "price": 1, "cta": 1, "disclaimer": 3}

GRIDS: dict[str, Grid] = {
    "strip": Grid(0.10, 0.36, ("strip.row",),
                  {"headline": 2, "subline": 1, "price": 1, "cta": 1, "disclaimer": 2}),
    "leaderboard": Grid(0.11, 0.30, ("leaderboard.row",),
                        {"headline": 2, "subline": 1, "price": 1, "cta": 1, "disclaimer": 1}),
    "wide": Grid(0.07, 0.10, ("wide.split", "wide.mirror"), _LINES),
    "rectangle": Grid(0.05, 0.115, ("rectangle.stack", "rectangle.mirror"), _LINES),
    "square": Grid(0.06, 0.085, ("square.split", "square.stack"), _LINES),
    "portrait": Grid(0.06, 0.075, ("portrait.stack",), _LINES),
    "story": Grid(0.07, 0.08, ("story.center",), _LINES),
    "skyscraper": Grid(0.06, 0.15, ("skyscraper.stack",),
                       {"headline": 4, "subline": 3, "price": 1, "cta": 2, "disclaimer": 3}),
    "print": Grid(0.06, 0.085, ("print.poster",),
                  {"headline": 3, "subline": 3, "price": 1, "cta": 1, "disclaimer": 3}),
}


def layout_ids() -> list[str]:
    """Every layout id, class by class ("wide.split", "wide.mirror", ...)."""
    return [layout for grid in GRIDS.values() for layout in grid.layouts]

# The type scale: each role's nominal size relative to the headline's.
TYPE_SCALE = {"headline": 1.0, "subline": 0.48, "price": 0.78, "cta": 0.42, "disclaimer": 0.26}


def aspect_class(width: int, height: int, kind: str = "", dpi: int | None = None) -> str:
    """The aspect class of a width x height format (see the table above)."""
    ratio = width / height
    if kind in ("poster", "print") or (dpi or 0) >= PRINT_DPI_MIN:
        return "print"
    if height <= 120 and ratio >= 2.5:
        return "strip" if width < 600 else "leaderboard"
    if ratio >= 1.5:
        return "wide"
    if ratio >= 1.1:
        return "rectangle"
    if ratio >= 0.9:
        return "square"
    if ratio >= 0.7:
        return "portrait"
    if kind == "story" or width > 400:
        return "story"
    return "skyscraper"


def mm_px(mm: float, dpi: int) -> int:
    return round(mm / 25.4 * dpi)


def print_bleed(dpi: int = 300) -> int:
    """3 mm of bleed in pixels (35 px at 300 dpi)."""
    return mm_px(BLEED_MM, dpi)


def safe_insets(cls: str, width: int, height: int, *, dpi: int | None = None,
                zone: dict | None = None) -> list[int]:
    """[left, top, right, bottom] px that no text, logo or product may enter."""
    zone = zone or {}
    insets = [zone.get("left", 0), zone.get("top", 0), zone.get("right", 0),
              zone.get("bottom", 0)]
    if cls == "story":
        insets[1] = max(insets[1], math.ceil(STORY_SAFE_TOP * height))
        insets[3] = max(insets[3], math.ceil(STORY_SAFE_BOTTOM * height))
    elif cls == "print":
        pad = mm_px(PRINT_SAFE_MM, dpi or 300)
        insets = [max(v, pad) for v in insets]
    return [int(v) for v in insets]
