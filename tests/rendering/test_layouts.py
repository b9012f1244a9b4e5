"""The layout engine (rendering/design/layouts.py): every channel preset gets a designed layout
whose boxes stay inside the canvas and the safe zones, whose text fits at the size chosen, and
whose priority rules decide what gives way on small formats."""

from __future__ import annotations

import hashlib
import io
import os

import pytest
from PIL import Image, ImageDraw

from rendering.compose.formats import PRESETS
from rendering.compose.line_breaking import wrap
from rendering.design.layout_classes import (
    GRIDS,
    STORY_SAFE_BOTTOM,
    STORY_SAFE_TOP,
    aspect_class,
    mm_px,
    print_bleed,
)
from rendering.design.layout_fit import measure, weighted
from rendering.design.layouts import LAYOUTS, design_layout

OUT = os.path.join("var", "test-output", "layouts")
COPY = {"headline": "Summer sale on every sneaker",
        "subline": "Light, breathable, made to run all day",
        "price": "$49.99", "cta": "Shop now",
        "disclaimer": "Offer ends 31 July. While stocks last."}
PALETTE = ["#1F3A93", "#F4EFE6", "#E94E1B"]
FILL = {"type": "fill", "fill": {"type": "linear", "colors": ["#F4EFE6", "#E2D6C2"],
                                 "angle": 180}}
LONG = ("The lightest running shoe we have ever made, now in six bright new colours "
        "for summer 2025")


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _product_png() -> bytes:
    image = Image.new("RGBA", (400, 600), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((120, 20, 280, 90), 20, fill=(40, 40, 40, 255))
    draw.rounded_rectangle((60, 80, 340, 590), 60, fill=(230, 120, 40, 255))
    draw.rectangle((90, 260, 310, 420), fill=(250, 240, 220, 255))
    return _png(image)


def _logo_png() -> bytes:
    image = Image.new("RGBA", (300, 100), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((0, 0, 100, 100), fill=(20, 60, 200, 255))
    draw.rectangle((115, 30, 295, 70), fill=(20, 20, 20, 255))
    return _png(image)


PRODUCT, LOGO = _product_png(), _logo_png()
INPUTS = {hashlib.sha256(PRODUCT).hexdigest(): PRODUCT, hashlib.sha256(LOGO).hexdigest(): LOGO}
PRODUCT_REF = {"sha256": hashlib.sha256(PRODUCT).hexdigest(), "size": (400, 600)}
LOGO_REF = {"sha256": hashlib.sha256(LOGO).hexdigest(), "size": (300, 100)}


def _design(width, height, kind="banner", copy=COPY, **kwargs):
    kwargs.setdefault("logo", LOGO_REF)
    kwargs.setdefault("product", PRODUCT_REF)
    kwargs.setdefault("background", FILL)
    kwargs.setdefault("palette", PALETTE)
    return design_layout(size=(width, height), kind=kind, copy=copy, **kwargs)


def _preset_design(preset, copy=COPY):
    return _design(preset.width, preset.height, preset.kind, copy,
                   bleed=print_bleed(preset.dpi) if preset.dpi else 0, dpi=preset.dpi,
                   safe_zone=preset.safe_zone)


def _layers(design, *kinds):
    return [layer for layer in design["layers"] if layer["kind"] in kinds]


def _texts(design) -> dict:
    return {layer["role"]: layer for layer in _layers(design, "text")}


def _overlap(a, b) -> bool:
    return (a[0] < b[0] + b[2] and b[0] < a[0] + a[2]
            and a[1] < b[1] + b[3] and b[1] < a[1] + a[3])


def _inside(box, rect) -> bool:
    x0, y0, x1, y1 = rect
    return box[0] >= x0 and box[1] >= y0 and box[0] + box[2] <= x1 and box[1] + box[3] <= y1


def _fits(layer) -> bool:
    """The text sets in its box at its size: the compositor's own rule (wrap at the box width
    with the fonts of its weight, at most max_lines, the block no taller than the box)."""
    from rendering.compose import fonts

    chain = weighted(tuple(fonts.fallback_fonts()), layer["role"])
    width, height = layer["box"][2:]
    lines = wrap(layer["text"], lambda s: measure(s, chain, layer["size"]) <= width)
    return bool(lines) and len(lines) <= layer["max_lines"] and (
        round(len(lines) * layer["size"] * layer["line_height"]) <= height + 1)


def _check(design, copy=COPY) -> None:
    """Boxes inside the canvas and the safe area; text and logo never overlap each other nor
    the product; copy is exact; every role is either set or listed as dropped."""
    width, height = design["size"]
    left, top, right, bottom = design["safe"]
    safe = (left, top, width - right, height - bottom)
    for layer in design["layers"][1:]:
        assert _inside(layer["box"], (0, 0, width, height)), layer
        if layer["kind"] in ("text", "logo", "product"):
            assert _inside(layer["box"], safe), layer
    solid = _layers(design, "text", "logo", "product")
    for i, a in enumerate(solid):
        for b in solid[i + 1:]:
            assert not _overlap(a["box"], b["box"]), (a["id"], b["id"])
    texts = _texts(design)
    dropped = design["meta"]["dropped"]
    for role, text in copy.items():
        if text:
            assert (role in texts) != (role in dropped), role
    for role, layer in texts.items():
        assert layer["text"] == copy[role]  # exact, never truncated
        assert "…" not in layer["text"] or "…" in copy[role]
        assert _fits(layer), layer
        assert layer["meta"]["contrast"] >= 4.5, layer
    if "headline" in texts and "subline" in texts:
        assert texts["headline"]["size"] > texts["subline"]["size"]


@pytest.mark.parametrize("preset", PRESETS, ids=[p.key for p in PRESETS])
def test_every_preset_gets_a_designed_layout(preset):
    cls = aspect_class(preset.width, preset.height, preset.kind, preset.dpi)
    design = _preset_design(preset)
    assert design["schema"] == "adstudio.design/1"
    assert design["layout"] in GRIDS[cls].layouts
    assert design["layers"][0]["kind"] == "background"
    _check(design)
    # Each group sits on a panel (no box per line), the product keeps its shadow.
    assert _layers(design, "shape")
    products = _layers(design, "product")
    if products:
        assert products[0]["shadow"]["blur"] > 0


def test_presets_map_to_the_documented_classes():
    expected = {(320, 50): "strip", (320, 100): "strip", (468, 60): "strip",
                (728, 90): "leaderboard", (970, 90): "leaderboard", (970, 250): "wide",
                (1200, 628): "wide", (1920, 1080): "wide", (300, 250): "rectangle",
                (336, 280): "rectangle", (1080, 1080): "square", (250, 250): "square",
                (1080, 1350): "portrait", (160, 600): "skyscraper", (300, 600): "skyscraper",
                (120, 600): "skyscraper", (300, 1050): "skyscraper"}
    for (w, h), cls in expected.items():
        assert aspect_class(w, h, "banner") == cls, (w, h)
    assert aspect_class(1080, 1920, "story") == "story"
    assert aspect_class(2480, 3508, "poster", 300) == "print"
    for layout in (lid for grid in GRIDS.values() for lid in grid.layouts):
        assert layout in LAYOUTS


def test_schema_accepts_every_design():
    schema = pytest.importorskip("rendering.design.schema")
    for preset in PRESETS:
        schema.design_validate(_preset_design(preset))


def test_mobile_banner_keeps_the_offer_and_drops_the_subline():
    design = _design(320, 50)
    texts = _texts(design)
    assert "price" in texts and "cta" in texts
    assert "subline" in design["meta"]["dropped"]
    assert "subline" not in texts
    assert texts["headline"]["max_lines"] == 1 or texts["headline"]["box"][3] <= 50
    button = next(s for s in _layers(design, "shape") if s["shape"] == "button")
    assert _inside(texts["cta"]["box"], (button["box"][0], button["box"][1],
                                         button["box"][0] + button["box"][2],
                                         button["box"][1] + button["box"][3]))
    _check(design)
    # Even a long headline never pushes the price or the button out.
    design = _design(320, 50, copy={**COPY, "headline": LONG})
    assert {"price", "cta"} <= set(_texts(design))
    _check(design, {**COPY, "headline": LONG})


def test_skyscraper_stacks_everything_short_copy_drops_nothing():
    copy = {"headline": "Run lighter", "subline": "New colours", "price": "$49",
            "cta": "Shop", "disclaimer": "Until 31 July"}
    design = _design(160, 600, copy=copy)
    assert design["layout"] == "skyscraper.stack"
    assert design["meta"]["dropped"] == []
    texts = _texts(design)
    order = [texts[r]["box"][1] for r in ("headline", "subline", "price", "cta", "disclaimer")]
    assert order == sorted(order)
    product = _layers(design, "product")[0]["box"]
    assert texts["subline"]["box"][1] < product[1] < texts["price"]["box"][1]
    assert {texts[r]["align"] for r in texts} == {"center"}
    _check(design, copy)


@pytest.mark.parametrize("size", [(1200, 628), (300, 250), (1080, 1080), (160, 600),
                                  (728, 90), (1080, 1920), (250, 250)])
def test_long_headline_fits_smaller_or_gives_way(size):
    copy = {**COPY, "headline": LONG}
    assert len(LONG) >= 90
    design = _design(*size, copy=copy)
    _check(design, copy)
    texts = _texts(design)
    normal = _texts(_design(*size))
    if "headline" in texts and "headline" in normal:
        assert texts["headline"]["size"] <= normal["headline"]["size"]
    # What gives way does so in priority order: never the price or button before the subline.
    dropped = design["meta"]["dropped"]
    if {"price", "cta"} & set(dropped):
        assert "subline" in dropped and "headline" in dropped


@pytest.mark.parametrize("size", [(1200, 628), (300, 250), (320, 50), (1080, 1920),
                                  (160, 600)])
def test_cjk_and_emoji_copy_fit(size):
    copy = {"headline": "夏季大促销，全场运动鞋限时特惠 🔥", "subline": "轻盈透气，全天舒适",
            "price": "¥199.00", "cta": "立即购买 👟", "disclaimer": "活动截至7月31日"}
    design = _design(*size, copy=copy)
    _check(design, copy)
    assert "price" in _texts(design) and "cta" in _texts(design)


def test_story_keeps_text_and_logo_out_of_the_safe_zones():
    preset = next(p for p in PRESETS if p.key == "meta-story")
    design = _preset_design(preset)
    assert design["layout"] == "story.center"
    top, bottom = design["safe"][1], design["safe"][3]
    assert top >= STORY_SAFE_TOP * 1920 and bottom >= STORY_SAFE_BOTTOM * 1920
    for layer in _layers(design, "text", "logo", "product"):
        assert layer["box"][1] >= top
        assert layer["box"][1] + layer["box"][3] <= 1920 - bottom
    _check(design)


def test_print_has_bleed_and_margins():
    preset = next(p for p in PRESETS if p.key == "print-a4")
    design = _preset_design(preset)
    assert design["layout"] == "print.poster"
    assert design["bleed"] == 35 == print_bleed(300)
    assert design["meta"]["dpi"] == 300
    trim = mm_px(5, 300)
    for layer in _layers(design, "text", "logo"):
        x, y, w, h = layer["box"]
        assert min(x, y, 2480 - x - w, 3508 - y - h) >= trim
    _check(design)


def test_preferred_layout_and_contrast_on_dark_backgrounds():
    dark = {"type": "fill", "fill": {"type": "solid", "color": "#15181C"}}
    design = _design(1200, 628, preferred=["square.stack", "wide.mirror"], background=dark)
    assert design["layout"] == "wide.mirror"
    panel = next(s for s in _layers(design, "shape") if s["shape"] == "panel")
    assert panel["box"][0] > 0  # the panel is on the right
    product = _layers(design, "product")[0]["box"]
    assert product[0] + product[2] <= panel["box"][0]
    _check(design)
    image = {"type": "image", "sha256": "ab" * 32}
    design = _design(1080, 1350, background=image, palette=["#FFD400"])
    _check(design)


def test_no_logo_no_product_and_empty_roles():
    design = _design(300, 250, copy={"headline": "Hello", "cta": "Go"}, logo=None,
                     product=None)
    assert {layer["role"] for layer in _layers(design, "text")} == {"headline", "cta"}
    assert not _layers(design, "logo", "product")
    assert design["meta"]["dropped"] == []


def test_compose_every_preset_to_png():
    compositor = pytest.importorskip("rendering.design.compositor")
    os.makedirs(OUT, exist_ok=True)
    for preset in PRESETS:
        if preset.dpi:
            continue  # print sizes are composed once below (they take seconds)
        image = compositor.compose(_preset_design(preset), INPUTS)
        assert image.size == (preset.width, preset.height)
        image.save(os.path.join(OUT, f"{preset.key}.png"))
    design = _design(1200, 628, copy={**COPY, "headline": LONG})
    compositor.compose(design, INPUTS).save(os.path.join(OUT, "long-headline-1200x628.png"))
    preset = next(p for p in PRESETS if p.key == "print-a4")
    image = compositor.compose(_preset_design(preset), INPUTS)
    assert image.size == (2480 + 70, 3508 + 70)
    image.resize((image.width // 4, image.height // 4)).save(os.path.join(OUT, "print-a4.png"))

