"""The layout engine: from a format, the copy, the palette, the logo and the product, a design
document ("adstudio.design/1", rendering/design/schema.py) that the compositor draws as is.

Each aspect class (rendering/design/layout_classes.py) has one or two designed layouts on a
grid, built by three engines:

- ``row`` (strip.row, leaderboard.row): logo | headline over disclaimer | product | price |
  button, left to right, vertically centred; the message and the offer each on a colour panel.
- ``split`` (wide.split / wide.mirror, rectangle.stack / rectangle.mirror, square.split): a
  full-height colour panel on one side carries the logo (top corner), the left-aligned stack
  headline, subline, price, button, and the disclaimer at its foot; the product fills the
  other side (half a margin from the panel) with a soft shadow.
- ``column`` (square.stack, portrait.stack, story.center, skyscraper.stack, print.poster): the
  logo on top (centred in a centred column), the message (headline, subline) on a card, the
  product under it in a box of at least the layout's ``product`` share of the height, the
  offer (price and button side by side when the card is wide enough, the disclaimer under
  them) on a card at the foot; all inside the safe zones (rendering/design/layout_column.py).

Sizes come from the class's type scale and are fitted with the real fonts
(rendering/design/layout_fit.py), which also holds the priority rules for what gives way when
space runs out; what gave way is listed in the document's "dropped".
"""

from __future__ import annotations

from rendering.design.layout_classes import GRIDS, aspect_class, safe_insets
from rendering.design.layout_column import column_layout
from rendering.design.layout_context import ROLES, LayoutContext, LayoutError
from rendering.design.layout_engines import row_layout, split_layout

SCHEMA = "adstudio.design/1"

LAYOUTS: dict[str, tuple[str, dict]] = {
    "strip.row": ("row", {"product": False}),
    "leaderboard.row": ("row", {"product": True}),
    "wide.split": ("split", {"side": "left", "panel": 0.54}),
    "wide.mirror": ("split", {"side": "right", "panel": 0.54}),
    "rectangle.stack": ("split", {"side": "left", "panel": 0.56}),
    "rectangle.mirror": ("split", {"side": "right", "panel": 0.56}),
    "square.split": ("split", {"side": "left", "panel": 0.56}),
    "square.stack": ("column", {"align": "center", "message": 0.36, "offer": 0.28,
                                 "product": 0.3}),
    "portrait.stack": ("column", {"align": "left", "message": 0.3, "offer": 0.26,
                                   "product": 0.4}),
    "story.center": ("column", {"align": "center", "message": 0.3, "offer": 0.28,
                                 "product": 0.4}),
    "skyscraper.stack": ("column", {"align": "center", "message": 0.42, "offer": 0.34,
                                     "product": 0.35}),
    "print.poster": ("column", {"align": "center", "message": 0.3, "offer": 0.26,
                                 "product": 0.42}),
}


def choose_layout(cls: str, preferred: list[str] | None, size: tuple[int, int] = (0, 0)) -> str:
    """The brand kit's preferred layout for this class, else the class's default (squares
    under 400 px default to the card stack: a half-width panel is too narrow for a headline)."""
    ids = GRIDS[cls].layouts
    default = "square.stack" if cls == "square" and min(size) < 400 else ids[0]
    return next((p for p in preferred or () if p in ids), default)


def design_layout(*, size: tuple[int, int], kind: str, copy: dict[str, str],
                  palette: list[str], font: dict | None = None, logo: dict | None = None,
                  product: dict | None = None, background: dict,
                  preferred: list[str] | None = None, bleed: int = 0, dpi: int | None = None,
                  safe_zone: dict | None = None) -> dict:
    """A design document for one format.

    ``font``: the brand font, {"sha256", and "path" or storage "file"} (None: the fallback
    chain alone); ``logo``/``product``: {"sha256", "size": (w, h)} of the logo file and the
    product cut-out; ``background``: a background source per the contract; ``preferred``: a
    brand kit's preferred layout ids (the first one of this format's class is used);
    ``safe_zone``: a preset's own safe zone ({"top": px, ...}), merged with the class's.
    """
    width, height = int(size[0]), int(size[1])
    if width < 16 or height < 16:
        raise LayoutError(f"A {width}x{height} format is too small to lay out.")
    cls = aspect_class(width, height, kind, dpi)
    layout_id = choose_layout(cls, preferred, (width, height))
    engine, params = LAYOUTS[layout_id]
    ctx = LayoutContext(width, height, cls, copy, palette, font, logo, product, background,
                        safe_insets(cls, width, height, dpi=dpi, zone=safe_zone))
    {"row": row_layout, "split": split_layout, "column": column_layout}[engine](ctx, **params)
    design = {
        "schema": SCHEMA,
        "size": [width, height],
        "bleed": int(bleed),
        "safe": ctx.safe,
        "layout": layout_id,
        "layers": [_background_layer(background)] + ctx.layers,
        # What the UI says about the layout: the class, the roles that gave way.
        "meta": {"class": cls, "dropped": [r for r in ROLES if r in ctx.dropped]},
    }
    if dpi:
        design["meta"]["dpi"] = int(dpi)
    return design


def _background_layer(source: dict) -> dict:
    layer = {"kind": "background", "id": "background", "source": source, "fit": "cover",
             "focus": [0.5, 0.5]}
    if isinstance(source, dict) and source.get("focus"):
        layer["focus"] = [float(v) for v in source["focus"]]
        layer["source"] = {k: v for k, v in source.items() if k != "focus"}
    return layer


__all__ = ["LAYOUTS", "LayoutError", "choose_layout", "design_layout"]
