"""The ``column`` layout engine (square.stack, portrait.stack, story.center, skyscraper.stack,
print.poster): the logo on top (its corner, or centred in a centred column), the message
(headline, subline) on a card, the product under it, the offer on a card at the foot (price
and button side by side when the card is OFFER_ROW_MIN px wide inside and both fit, else
stacked; the disclaimer under them); all inside the safe zones, with half the grid's
vertical margin on a side whose safe zone already keeps the edge clear (a story's).

The product is a substantial part of the frame, not what the type leaves over: before the
copy is fitted, the product's box is given at least ``product`` (a share, per layout) of the
area's height, or the height at which it fills the area's width when that is less (a wide
product in a narrow column needs no more). The message and the offer shrink on the type
scale to fit around it. When the headline still cannot stay, the disclaimer gives way, then
the product's floor halves.
"""

from __future__ import annotations

from rendering.compose.fitting import Block
from rendering.design.layout_context import LayoutContext, blocks_height, fit_size, stack_blocks
from rendering.design.layout_fit import fit_stack

# A vertical margin this share of the grid's inside a safe zone (the zone is clearance).
SAFE_MARGIN = 0.5
OFFER_ROW_MIN = 180


def _area(ctx: LayoutContext) -> tuple[int, int, int, int]:
    """The area inside the margins and safe zones, with a thinner vertical margin on a side
    whose safe zone already keeps the edge clear."""
    x0, y0, aw, ah = ctx.area()
    m = ctx.margin
    cut_top = m - round(SAFE_MARGIN * m) if ctx.safe[1] >= m else 0
    cut_bottom = m - round(SAFE_MARGIN * m) if ctx.safe[3] >= m else 0
    return x0, y0 - cut_top, aw, ah + cut_top + cut_bottom


def _offer_rows(blocks: list[Block], inner: int, gap: int) -> list[list[Block]]:
    """The price and the button on one row when the card is wide enough and both fit the
    width side by side."""
    head = [b for b in blocks if b.role in ("price", "cta")]
    rest = [[b] for b in blocks if b.role not in ("price", "cta")]
    if (inner >= OFFER_ROW_MIN and len(head) == 2
            and sum(b.width for b in head) + 2 * gap <= inner):
        return [head] + rest
    return [[b] for b in head] + rest


def _rows_height(rows: list[list[Block]], gap: int) -> int:
    return sum(max(b.height for b in row) for row in rows) + gap * max(0, len(rows) - 1)


def column_layout(ctx: LayoutContext, *, align: str, message: float, offer: float,
                  product: float) -> None:
    x0, y0, aw, ah = _area(ctx)
    pad = max(6, round(0.035 * ctx.short))
    radius = max(4, round(0.03 * ctx.short))
    gap = max(3, round(0.022 * ctx.short))
    inner = aw - 2 * pad
    nominal = ctx.nominal(ctx.short)
    lines = ctx.grid.max_lines
    top = y0
    logo_h = round((0.14 if ctx.cls == "skyscraper" else 0.065) * ctx.short)
    logo_w = round(0.4 * aw)
    if align == "center" and ctx.logo:  # a centred column centres its logo too
        logo_w = fit_size(ctx.logo["size"], logo_w, logo_h)[0]
    logo_x = x0 + (aw - logo_w) // 2 if align == "center" else x0
    logo = ctx.place_logo(logo_x, top, logo_w, logo_h)
    if logo:
        top += logo[3] + gap * 2
    need = fit_size(ctx.product["size"], aw, 10 * ah)[1] if ctx.product else 0
    # The offer first (the price and the button beat the message): its share grows until it
    # fits; the message gets what is left above the product's floor.
    copy = dict(ctx.copy)
    for without, share in ((None, product), ("disclaimer", product),
                           ("disclaimer", product / 2)):
        if without:
            copy[without] = ""
        floor = min(round(share * ah), need)
        for grow in (1.0, 1.3, 1.6, 2.0):
            off, lost = fit_stack(["price", "cta", "disclaimer"], copy, ctx.chain,
                                  width=inner, height=round(offer * grow * ah) - 2 * pad,
                                  nominal=nominal, max_lines=lines, gap=gap)
            if not lost:
                break
        rows = _offer_rows(off, inner, gap)
        used = top - y0 + (_rows_height(rows, gap) + 2 * pad if off else 0)
        room = ah - used - floor - (2 * gap if ctx.product else 0)
        msg, dropped = fit_stack(["headline", "subline"], copy, ctx.chain, width=inner,
                                 height=min(round(message * ah), room) - 2 * pad,
                                 nominal=nominal, max_lines=lines, gap=gap)
        if "headline" not in dropped:
            break
    ctx.dropped += dropped + lost + [r for r in ("disclaimer",)
                                     if ctx.copy[r] and not copy[r]]
    bottom = y0 + ah
    if msg:
        card_h = blocks_height(msg, gap) + 2 * pad
        behinds = ctx.panel("message-panel", (x0, top, aw, card_h), radius=radius)
        stack_blocks(ctx, msg, x0 + pad, top + pad, inner, gap, align=align,
                     behinds=behinds)
        top += card_h
    if off:
        card_h = _rows_height(rows, gap) + 2 * pad
        behinds = ctx.panel("offer-panel", (x0, bottom - card_h, aw, card_h), radius=radius)
        _set_rows(ctx, rows, x0 + pad, bottom - card_h + pad, inner, gap, align=align,
                  behinds=behinds)
        bottom -= card_h
    ctx.place_product((x0, top + gap, aw, bottom - top - 2 * gap), max_fill=0.94)


def _set_rows(ctx: LayoutContext, rows: list[list[Block]], x: int, y: int, width: int,
              gap: int, *, align: str, behinds: list[str]) -> None:
    """Set the offer's rows top-down; a row of two (price, button) is centred as a group (or
    left-aligned), each block centred on the row's height."""
    for row in rows:
        if len(row) == 1:
            stack_blocks(ctx, row, x, y, width, gap, align=align, behinds=behinds)
        else:
            total = sum(b.width for b in row) + 2 * gap
            bx = x + ((width - total) // 2 if align == "center" else 0)
            row_h = max(b.height for b in row)
            for block in row:
                by = y + (row_h - block.height) // 2
                if block.role == "cta":
                    ctx.button(block, bx, by)
                else:
                    ctx.text(block, (bx, by, block.width, block.height), align="left",
                             behinds=behinds)
                bx += block.width + 2 * gap
        y += max(b.height for b in row) + gap
