"""What a layout engine builds a design with: the format's context (its grid, safe zones,
copy, palette roles and font chain), the layers it appends (panels, text, buttons, the logo,
the product with its shadow), and stacking fitted text blocks in a column."""

from __future__ import annotations

from rendering.compose import fonts
from rendering.compose.fonts import FontRef
from rendering.design.layout_classes import GRIDS, TYPE_SCALE
from rendering.design.layout_fit import (
    LINE_HEIGHT,
    WEIGHT,
    Block,
    behind,
    palette_roles,
    text_color,
    worst,
)

ROLES = ("headline", "subline", "price", "cta", "disclaimer")


class LayoutError(ValueError):
    """A layout that cannot be made (an unknown preferred id is not one: it is ignored)."""

def _known_colors(source: dict) -> list[str] | None:
    """The background's colours when it is a fill (the text colour can then be exact)."""
    if not isinstance(source, dict) or source.get("type") != "fill":
        return None
    fill = source.get("fill") or {}
    colors = [fill["color"]] if fill.get("type") == "solid" else list(fill.get("colors") or [])
    return [c.upper() for c in colors] or None


class LayoutContext:
    def __init__(self, width, height, cls, copy, palette, font, logo, product, background,
                 safe):
        self.width, self.height, self.cls, self.safe = width, height, cls, safe
        self.grid = GRIDS[cls]
        self.short = min(width, height)
        self.copy = {r: " ".join(str(copy.get(r) or "").split()) for r in ROLES}
        self.colors = palette_roles(palette)
        self.font_sha = (font or {}).get("sha256")
        brand = []
        if font and (font.get("path") or font.get("file")):
            brand = [FontRef(path=font.get("path", ""), file=font.get("file", ""),
                             sha256=font.get("sha256", ""))]
        self.chain = tuple(brand + fonts.fallback_fonts())
        if not self.chain:
            raise LayoutError("No font to measure copy with (ADSTUDIO_FALLBACK_FONTS).")
        self.logo, self.product = logo, product
        self.under = _known_colors(background)
        self.opacity = 1.0 if self.under else 0.94
        self.layers: list[dict] = []
        self.dropped: list[str] = []
        self.margin = max(3, round(self.grid.margin * self.short))

    # --- the area inside the margins and the safe zones ---
    def area(self) -> tuple[int, int, int, int]:
        sl, st, sr, sb = self.safe
        m = self.margin
        return (sl + m, st + m, self.width - sl - sr - 2 * m, self.height - st - sb - 2 * m)

    def nominal(self, unit: float, scale: dict | None = None) -> dict:
        if scale:
            return {r: max(1, round(scale[r] * unit)) for r in ROLES}
        head = self.grid.headline * unit
        return {r: max(1, round(TYPE_SCALE[r] * head)) for r in ROLES}

    # --- layers ---
    def shape(self, sid: str, shape: str, box, color: str, *, opacity: float = 1.0,
              radius: int = 0, gradient: str | None = None) -> None:
        self.layers.append({"kind": "shape", "id": sid, "shape": shape,
                            "box": [int(v) for v in box], "color": color,
                            "opacity": round(float(opacity), 3), "radius": int(radius),
                            "gradient": gradient})

    def panel(self, sid: str, box, *, radius: int = 0) -> list[str]:
        """A colour panel; returns the colours a text on it sees."""
        self.shape(sid, "panel", box, self.colors["panel"], opacity=self.opacity,
                   radius=radius)
        return behind(self.colors["panel"], self.opacity, self.under)

    def text(self, block: Block, box, *, align: str, behinds: list[str],
             valign: str = "top") -> None:
        prefer = {"headline": [self.colors["primary"]],
                  "price": [self.colors["accent"], self.colors["primary"]]}.get(block.role, [])
        if block.role == "cta":
            prefer = [self.colors["panel"]]
        color = text_color(behinds, prefer)
        wrap = block.extra.get("wrap")
        if wrap and wrap < box[2]:  # a balanced block: its own narrower box, aligned
            x, y, w, h = box
            box = (x + {"left": 0, "center": (w - wrap) // 2, "right": w - wrap}[align], y,
                   wrap, h)
        self.layers.append({
            "kind": "text", "id": block.role, "role": block.role, "text": block.text,
            "box": [int(v) for v in box], "size": block.size, "color": color,
            "align": align, "valign": valign, "weight": WEIGHT[block.role],
            "line_height": LINE_HEIGHT[block.role],
            "max_lines": len(block.lines), "font": self.font_sha,
            "meta": {"contrast": round(worst(color, behinds), 2)},
        })

    def button(self, block: Block, x: int, y: int) -> None:
        box = [x, y, block.width, block.height]
        primary = self.colors["primary"]
        self.shape("button", "button", box, primary, radius=round(block.height * 0.22))
        self.text(block, box, align="center", valign="middle", behinds=[primary])

    def place_logo(self, x: int, y: int, max_w: int, max_h: int, *, right: bool = False,
                   bottom: bool = False) -> list[int] | None:
        if not self.logo or max_w < 8 or max_h < 8:
            return None
        lw, lh = fit_size(self.logo["size"], max_w, max_h)
        box = [x + (max_w - lw if right else 0), y + (max_h - lh if bottom else 0), lw, lh]
        self.layers.append({"kind": "logo", "id": "logo", "sha256": self.logo["sha256"],
                            "box": box, "align": "right" if right else "left",
                            "valign": "bottom" if bottom else "top"})
        return box

    def place_product(self, region, *, max_fill: float = 0.9, anchor: str = "middle") -> bool:
        x, y, w, h = region
        if not self.product or w < 24 or h < 24:
            return False
        pw, ph = fit_size(self.product["size"], round(w * max_fill), round(h * max_fill))
        px = x + (w - pw) // 2
        py = {"middle": y + (h - ph) // 2, "bottom": y + h - ph, "top": y}[anchor]
        blur = max(2, round(0.025 * self.short))
        self.layers.append({
            "kind": "product", "id": "product", "sha256": self.product["sha256"],
            "box": [px, py, pw, ph],
            "shadow": {"opacity": 0.35, "blur": blur, "offset": [0, max(1, blur // 2)]},
        })
        return True


def fit_size(size, max_w: int, max_h: int) -> tuple[int, int]:
    w, h = max(1, int(size[0])), max(1, int(size[1]))
    scale = min(max_w / w, max_h / h)
    return max(1, int(w * scale)), max(1, int(h * scale))


def stack_blocks(ctx: LayoutContext, blocks: list[Block], x: int, y: int, width: int, gap: int,
                 *, align: str, behinds: list[str]) -> int:
    """Set blocks top-down from y in the column [x, x + width); returns the y below them."""
    for block in blocks:
        if block.role == "cta":
            bx = x + ((width - block.width) // 2 if align == "center" else 0)
            ctx.button(block, bx, y)
        else:
            ctx.text(block, (x, y, width, block.height), align=align, behinds=behinds)
        y += block.height + gap
    return y - gap


def blocks_height(blocks: list[Block], gap: int) -> int:
    return sum(b.height for b in blocks) + gap * max(0, len(blocks) - 1)
