"""The three layout engines (rendering/design/layouts.py describes the layouts they build):
``row`` for strips and leaderboards and ``split`` (a panel on one side, the product on the
other); ``column`` (message card, product, offer card) is rendering/design/layout_column.py."""

from __future__ import annotations

from rendering.design.layout_context import LayoutContext, blocks_height, fit_size, stack_blocks
from rendering.design.layout_fit import fit_role, fit_stack, min_px

# Row layouts measure sizes against the height.
ROW_SCALE = {"headline": 0.36, "subline": 0.24, "price": 0.42, "cta": 0.28, "disclaimer": 0.2}


# --- row: strips and leaderboards ---------------------------------------------------------

def row_layout(ctx: LayoutContext, *, product: bool) -> None:
    x0, y0, aw, ah = ctx.area()
    nominal = ctx.nominal(ctx.height, ROW_SCALE)
    # The gap between the row's groups: by the height, but never more than 3% of the width
    # (a 320x100 needs its width for the copy).
    gap = max(4, min(round(0.18 * ctx.height), round(0.03 * ctx.width)))
    lines = ctx.grid.max_lines
    # The offer first: price and button fit before anything else gets the width; they shrink
    # together until the message column keeps 40 % of the width (or they reach the floor).
    # At the smallest size they may take the whole row (the headline gives way first); only
    # when even then they do not fit side by side does the button go, then the price.
    scale = 1.0
    while True:
        side, lost = _offer_blocks(ctx, nominal, scale, aw, ah)
        side_w = sum(b.width for b in side) + gap * len(side)
        if (aw - side_w >= 0.4 * aw or all(b.size <= min_px() for b in side)
                or scale < 0.3):
            break
        scale *= 0.9
    for role in ("cta", "price"):
        if side_w - gap > aw and any(b.role == role for b in side):
            side = [b for b in side if b.role != role]
            lost.append(role)
            side_w = sum(b.width for b in side) + gap * len(side)
    ctx.dropped += lost
    column = ["headline", "subline", "disclaimer"]
    # Try with the logo and the product, then without them, before the headline gives way.
    attempts = [(True, product), (True, False), (False, False)]
    for with_logo, with_product in attempts:
        logo_w = 0
        if with_logo and ctx.logo:
            logo_w = min(round(0.16 * aw), fit_size(ctx.logo["size"], aw, round(0.72 * ah))[0])
        product_w = 0
        if with_product and ctx.product and ah >= 60:
            product_w = min(round(0.14 * aw), fit_size(ctx.product["size"], aw, ah)[0])
        col_w = aw - side_w - (logo_w + gap if logo_w else 0) - (product_w + gap
                                                                  if product_w else 0)
        blocks, dropped = fit_stack(column, ctx.copy, ctx.chain, width=col_w, height=ah,
                                    nominal=nominal, max_lines=lines,
                                    gap=max(1, round(0.04 * ctx.height)), squeeze=True)
        if "headline" not in dropped or (with_logo, with_product) == attempts[-1]:
            break
    ctx.dropped += dropped
    text_end = x0 + (logo_w + gap if logo_w else 0) + col_w
    offer_x = x0 + aw - side_w + gap
    split = product_w > 0 and side
    message_right = (text_end + ctx.margin) if split else ctx.width
    behinds = ctx.panel("panel", (0, 0, message_right, ctx.height))
    offer_behind = behinds
    if split:
        offer_behind = ctx.panel("offer-panel", (offer_x - ctx.margin, 0,
                                                 ctx.width - offer_x + ctx.margin, ctx.height))
    x = x0
    if logo_w:
        ctx.place_logo(x, y0 + (ah - round(0.72 * ah)) // 2, logo_w, round(0.72 * ah))
        x += logo_w + gap
    col_gap = max(1, round(0.04 * ctx.height))
    stack_blocks(ctx, blocks, x, y0 + (ah - blocks_height(blocks, col_gap)) // 2, col_w, col_gap,
                 align="left", behinds=behinds)
    if product_w:
        ctx.place_product((text_end + gap, y0, product_w, ah), max_fill=1.0)
    x = offer_x
    for block in sorted(side, key=lambda b: b.role != "price"):
        y = y0 + (ah - block.height) // 2
        if block.role == "cta":
            ctx.button(block, x, y)
        else:
            ctx.text(block, (x, y, block.width, block.height), align="left",
                     behinds=offer_behind)
        x += block.width + gap


def _offer_blocks(ctx: LayoutContext, nominal: dict, scale: float, aw: int, ah: int):
    """The button and the price of a row at ``scale``, each in one line no taller than the
    row (shrinking to the smallest readable size when it must); what cannot fit in one line
    across the whole row even at that size is lost. The caller shares the width out."""
    side, lost = [], []
    for role in ("cta", "price"):
        if not ctx.copy[role]:
            continue
        block = None
        size = max(min_px(), round(nominal[role] * scale))
        while block is None:
            fitted = fit_role(role, ctx.copy[role], ctx.chain, width=aw, nominal=size,
                              max_lines=1, floor=1.0)
            if fitted is not None and fitted.height <= ah:
                block = fitted
            elif size <= min_px():
                break
            size -= 1
        if block is None:
            lost.append(role)
        else:
            side.append(block)
    return side, lost


# --- split: a panel on one side, the product on the other ---------------------------------

def split_layout(ctx: LayoutContext, *, side: str, panel: float) -> None:
    W, H, m = ctx.width, ctx.height, ctx.margin
    sl, st, sr, sb = ctx.safe
    pw = round(panel * W)
    px = 0 if side == "left" else W - pw
    behinds = ctx.panel("panel", (px, 0, pw, H))
    x = max(px + m, sl + m)
    col_w = min(px + pw - m, W - sr - m) - x
    top, bottom = st + m, H - sb - m
    gap = max(3, round(0.03 * ctx.short))
    logo_h = round(0.11 * ctx.short)
    logo = ctx.place_logo(x, top, round(0.45 * col_w), logo_h)
    if logo:
        top += logo[3] + 2 * gap
    nominal = ctx.nominal(ctx.short)
    roles = ["headline", "subline", "price", "cta", "disclaimer"]
    blocks, dropped = fit_stack(roles, ctx.copy, ctx.chain, width=col_w,
                                height=bottom - top - gap, nominal=nominal,
                                max_lines=ctx.grid.max_lines, gap=gap)
    if dropped:  # the gaps tighten to half before a role gives way
        tight = max(2, gap // 2)
        retry = fit_stack(roles, ctx.copy, ctx.chain, width=col_w, height=bottom - top - tight,
                          nominal=nominal, max_lines=ctx.grid.max_lines, gap=tight)
        if len(retry[1]) < len(dropped):
            (blocks, dropped), gap = retry, tight
    ctx.dropped += dropped
    main = [b for b in blocks if b.role != "disclaimer"]
    foot = [b for b in blocks if b.role == "disclaimer"]
    limit = bottom - (blocks_height(foot, 0) + gap if foot else 0)
    y = top + max(0, (limit - top - blocks_height(main, gap)) // 2)
    stack_blocks(ctx, main, x, y, col_w, gap, align="left", behinds=behinds)
    if foot:
        stack_blocks(ctx, foot, x, bottom - foot[0].height, col_w, gap, align="left",
                     behinds=behinds)
    # The product takes the whole other side: half a margin from the panel, a margin from
    # the edges (the panel's edge already frames it).
    region_x = pw + m // 2 if side == "left" else max(sl + m, m)
    region_w = (W - sr - m - region_x) if side == "left" else (px - m // 2 - region_x)
    ctx.place_product((region_x, st + m, region_w, H - st - sb - 2 * m), max_fill=0.96)
