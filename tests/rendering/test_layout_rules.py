"""Layout rules beside tests/rendering/test_layouts.py: the product's share of the frame in
stacked layouts, story safe zones left to the background, emoji and closing marks kept with
the word before them, roles that cannot be set at all, balanced headlines, the panel colour."""

from __future__ import annotations

import hashlib

import pytest

from rendering.compose.formats import PRESETS
from rendering.compose.line_breaking import wrap
from rendering.design.layout_classes import print_bleed
from tests.rendering.test_layouts import (
    COPY,
    INPUTS,
    PRODUCT,
    PRODUCT_REF,
    _check,
    _design,
    _layers,
    _texts,
)

CUP = {"sha256": PRODUCT_REF["sha256"], "size": (425, 392)}  # the coffee cut-out's aspect


@pytest.mark.parametrize("key", ["meta-story", "responsive-vertical", "responsive-portrait",
                                 "meta-feed-portrait", "linkedin-portrait", "print-a4",
                                 "gdn-half-page", "gdn-portrait"])
@pytest.mark.parametrize("product", [PRODUCT_REF, CUP], ids=["tall", "wide"])
def test_stacked_layouts_give_the_product_a_substantial_box(key, product):
    """In column layouts the product's box is at least 35% of the height inside the safe
    zones, or spans nearly the whole width (a wide product in a narrow column)."""
    preset = next(p for p in PRESETS if p.key == key)
    design = _design(preset.width, preset.height, preset.kind, product=product,
                     bleed=print_bleed(preset.dpi) if preset.dpi else 0, dpi=preset.dpi,
                     safe_zone=preset.safe_zone)
    left, top, right, bottom = design["safe"]
    box = _layers(design, "product")[0]["box"]
    usable_w = preset.width - left - right
    usable_h = preset.height - top - bottom
    assert box[3] >= 0.35 * usable_h or box[2] >= 0.8 * usable_w, (box, usable_w, usable_h)
    assert design["meta"]["dropped"] == []
    _check(design)


@pytest.mark.parametrize("key", ["meta-story", "responsive-vertical"])
def test_story_safe_zones_are_left_to_the_background(key):
    """No layer but the background paints a pixel in the story's top and bottom safe
    zones: no text, logo, product (nor its shadow), panel or button there."""
    from rendering.design.compositor import compose

    preset = next(p for p in PRESETS if p.key == key)
    image = {"type": "image", "sha256": hashlib.sha256(PRODUCT).hexdigest()}
    design = _design(preset.width, preset.height, preset.kind, background=image,
                     safe_zone=preset.safe_zone)
    composed = compose(design, INPUTS)
    bare = compose({**design, "layers": design["layers"][:1]}, INPUTS)
    top, bottom = design["safe"][1], design["safe"][3]
    for rows in ((0, top), (preset.height - bottom, preset.height)):
        box = (0, rows[0], preset.width, rows[1])
        assert composed.crop(box).tobytes() == bare.crop(box).tobytes(), rows
    # ... and the layers do reach the zones' edges: the check is not vacuous.
    assert composed.crop((0, top, preset.width, preset.height - bottom)).tobytes() != \
        bare.crop((0, top, preset.width, preset.height - bottom)).tobytes()


def test_an_emoji_or_closing_mark_never_starts_a_line():
    def fits(width):
        return lambda line: len(line) <= width

    assert wrap("夏季大促销，全场运动鞋限时特惠 🔥", fits(14)) == [
        "夏季大促销，全场运动鞋限时特", "惠 🔥"]
    assert wrap("Summer Sale 🔥", fits(11)) == ["Summer", "Sale 🔥"]
    assert wrap("全场运动鞋限时特惠。", fits(9)) == ["全场运动鞋限时特", "惠。"]
    assert wrap("Sale 🔥", fits(4)) is None  # the pair is wider than the box: never split
    assert wrap("Sale 🔥 now", fits(6)) == ["Sale 🔥", "now"]


def test_cjk_headline_on_300x250_keeps_its_emoji_with_the_last_character():
    from rendering.design.text_draw import text_lines

    copy = {"headline": "夏季大促销，全场运动鞋限时特惠 🔥", "subline": "轻盈透气，全天舒适",
            "price": "¥199.00", "cta": "立即购买 👟", "disclaimer": "活动截至7月31日"}
    design = _design(300, 250, copy=copy)
    _check(design, copy)
    headline = _texts(design)["headline"]
    lines = text_lines(headline)
    assert len(lines) >= 2 and "".join(lines).replace(" ", "") == copy["headline"].replace(
        " ", "")
    assert lines[-1] != "🔥" and lines[-1].endswith("🔥") and len(lines[-1]) >= 3


def test_a_role_that_cannot_be_set_at_all_does_not_take_the_subline_with_it():
    copy = {**COPY, "disclaimer": "Valid 06/01/2026-06/30/2026."}  # one 22-character word
    design = _design(300, 250, copy=copy)
    assert design["meta"]["dropped"] == ["disclaimer"]
    assert "subline" in _texts(design)
    _check(design, copy)


def test_multi_line_headlines_are_balanced():
    from rendering.design.text_draw import text_lines

    copy = {**COPY, "headline": "Trailhead Espresso Cup"}
    for size in ((1080, 1920), (1200, 628), (300, 250)):
        layer = _texts(_design(*size, copy=copy))["headline"]
        assert text_lines(layer) == ["Trailhead", "Espresso Cup"], size


def test_the_panel_is_the_brands_quiet_colour_and_a_centred_column_centres_its_logo():
    from rendering.design.layout_fit import palette_roles

    # The sample brand's kit in the recipe's order: primary, accent, background, text.
    roles = palette_roles(["#0A4F8C", "#FF6F61", "#F5EFE6", "#1B1B1B"])
    assert (roles["panel"], roles["accent"]) == ("#F5EFE6", "#FF6F61")
    assert palette_roles(["#0A4F8C", "#FFD400"])["panel"] == "#FFD400"  # the only choice
    design = _design(1080, 1920, "story")
    logo = _layers(design, "logo")[0]["box"]
    assert abs((logo[0] + logo[2] / 2) - 540) <= 1
