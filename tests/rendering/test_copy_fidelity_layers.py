"""bench/copy_fidelity.py's core on a few presets: every role a layout keeps at 300x250 and
larger is set exactly (the text layer is the copy and its drawn pixels match a reference
rendering), and the price and the button are kept on the 320x50 strip, for the bench's whole
English, Chinese and mixed corpus on the strip and a third of it elsewhere."""

from __future__ import annotations

import pytest

from bench import copy_fidelity
from bench.copy_corpus import LANGUAGES, ads
from rendering.compose.formats import PRESETS
from rendering.design.compositor import compose
from rendering.design.text_draw import placed_lines

PER_LANGUAGE = {"gdn-mobile-banner": 14, "gdn-medium-rectangle": 5, "gdn-wide-skyscraper": 5,
                "responsive-vertical": 5}


def _preset(key):
    return next(p for p in PRESETS if p.key == key)


@pytest.mark.parametrize("key", list(PER_LANGUAGE))
def test_kept_copy_is_exact_and_the_offer_stays_on_strips(key):
    copies = [c for lang in LANGUAGES for c in ads(lang, PER_LANGUAGE[key])]
    result = copy_fidelity.fidelity_preset(_preset(key), copies, ocr=False)

    assert copy_fidelity.targets_missed(result) == []
    roles = result["roles"]
    assert result["misses"] == []
    for role, counts in roles.items():
        assert counts["total"] == len(copies), role
        assert counts["exact"] == counts["kept"], role
    # What every layout keeps: the headline, the price and the button.
    for role in ("headline", "price", "cta"):
        assert roles[role]["kept"] == len(copies), role
    if key != "gdn-mobile-banner":
        assert roles["subline"]["kept"] > 0 and roles["disclaimer"]["kept"] > 0


def test_the_reference_check_catches_a_changed_glyph():
    """The exact count is no formality: one changed letter's pixels fail it."""
    preset = _preset("gdn-medium-rectangle")
    copy = ads("en", 1)[0]
    inputs, _ = copy_fidelity.brand_inputs()
    design = copy_fidelity.design_for(preset, copy)
    image = compose(design, inputs)
    price = next(la for la in design["layers"] if la["kind"] == "text" and la["role"] == "price")
    line = placed_lines(price, inputs)[0]
    assert copy_fidelity._verified(image, line)
    x0, y0, x1, y1 = line["box"]
    image.paste(tuple(int(c) for c in image.getpixel((x0 - 1, y0))),
                (x0, y0, (x0 + x1) // 2, y1))  # half the price wiped to its panel
    assert not copy_fidelity._verified(image, line)


def test_targets_report_a_dropped_offer_and_an_inexact_role():
    roles = {r: {"total": 3, "kept": 3, "exact": 3, "ocr": 0} for r in
             ("headline", "subline", "price", "cta", "disclaimer")}
    strip = {"preset": "gdn-mobile-banner", "area": 320 * 50,
             "roles": {**roles, "cta": {"total": 3, "kept": 2, "exact": 2, "ocr": 0}}}
    assert copy_fidelity.targets_missed(strip) == ["gdn-mobile-banner: cta kept 2/3"]
    story = {"preset": "meta-story", "area": 1080 * 1920,
             "roles": {**roles, "headline": {"total": 3, "kept": 3, "exact": 2, "ocr": 3}}}
    assert copy_fidelity.targets_missed(story) == ["meta-story: headline exact 2/3 kept"]
