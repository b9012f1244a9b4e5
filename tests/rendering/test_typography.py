"""The typography layer sets exact copy that reads back, inside safe zones, at 4.5:1."""

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from rendering.compose.ad_copy import format_price
from rendering.compose.contrast import contrast_ratio, relative_luminance
from rendering.compose.fitting import font_for as _font_for
from rendering.compose.formats import PRESETS
from rendering.compose.line_breaking import NO_LINE_END, NO_LINE_START, wrap
from rendering.compose.typeset import typeset
from rendering.quality.text_check import read_overlay

STYLE = {"colors": {"primary": "#0A4F8C", "accent": "#FF6F61", "background": "#F5EFE6",
                    "text": "#1B1B1B"}, "logo_position": "top-left"}
COPY = {
    "en": {"headline": "Summer Sale", "subline": "Recycled steel, built to last",
           "price": "$19.99", "cta": "Shop now",
           "disclaimer": "Offer valid until 12/31/2026. T&Cs apply."},
    "zh": {"headline": "夏季新品上市", "subline": "再生钢材，经久耐用", "price": "¥199.00",
           "cta": "立即购买", "disclaimer": "活动截至2026年12月31日，详见条款。"},
    "mixed": {"headline": "Qwen Cafe 新品上市", "subline": "Cold brew 冷萃咖啡 ×2",
              "price": "¥39.90", "cta": "Order 立即下单",
              "disclaimer": "限时优惠 Offer ends 2026-12-31"},
}
PRESET = {p.key: p for p in PRESETS}


def background(width: int, height: int, seed: int = 0) -> Image.Image:
    """A busy render stand-in: a color gradient with blotchy noise."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 1, width)[None, :, None]
    y = np.linspace(0, 1, height)[:, None, None]
    base = 255 * np.concatenate([x + 0 * y, y + 0 * x, (1 - x) * (1 - y)], axis=2)
    blotches = Image.fromarray(rng.integers(0, 255, (height // 40 + 2, width // 40 + 2, 3),
                                            dtype=np.uint8)).resize((width, height))
    return Image.fromarray((0.6 * base + 0.4 * np.asarray(blotches)).astype(np.uint8))


@pytest.mark.parametrize("language", ["en", "zh", "mixed"])
@pytest.mark.parametrize("preset", ["responsive-landscape", "gdn-medium-rectangle",
                                    "meta-story", "print-a4"])
def test_overlay_copy_reads_back_exactly(preset, language):
    fmt = PRESET[preset]
    image, layout = typeset(background(fmt.width, fmt.height), copy=COPY[language],
                            mode="overlay", style=STYLE, safe_zone=fmt.safe_zone)
    assert layout["missing"] == []
    readings = read_overlay(image, layout)
    assert {r.role for r in readings} == set(COPY[language])
    assert [(r.role, r.read) for r in readings if not r.exact] == []


def test_story_copy_stays_out_of_the_safe_zones():
    fmt = PRESET["meta-story"]
    _, layout = typeset(background(fmt.width, fmt.height), copy=COPY["en"], mode="overlay",
                        style=STYLE, safe_zone=fmt.safe_zone)
    boxes = [line["box"] for line in layout["lines"]] + [layout["logo_box"] or [0, 300, 0, 300]]
    assert all(box[1] >= 250 and box[3] <= 1920 - 250 for box in boxes)


def test_every_preset_from_mobile_banner_to_a2_gets_a_layout_inside_the_image():
    for fmt in PRESETS:
        image, layout = typeset(background(fmt.width, fmt.height), copy=COPY["mixed"],
                                mode="overlay", style=STYLE, safe_zone=fmt.safe_zone)
        assert image.size == (fmt.width, fmt.height)
        assert layout["lines"], fmt.key
        for line in layout["lines"]:
            x0, y0, x1, y1 = line["box"]
            assert 0 <= x0 < x1 <= fmt.width and 0 <= y0 < y1 <= fmt.height, fmt.key
        # What gives way on tiny banners is reported, never silently dropped.
        placed = {line["role"] for line in layout["lines"]}
        assert placed | set(layout["missing"]) == set(COPY["mixed"])


def test_text_reaches_wcag_contrast_by_switching_color_or_adding_a_scrim():
    white_style = {"colors": {"text": "#FFFFFF"}}
    plain, layout = typeset(Image.new("RGB", (600, 600), "#FAFAFA"), copy={"headline": "Hi"},
                            mode="overlay", style=white_style)
    assert layout["lines"][0]["color"] != "#FFFFFF"  # white on white: switched to dark
    assert layout["scrims"] == []
    busy, layout = typeset(background(600, 600), copy=COPY["en"], mode="overlay", style=STYLE)
    assert layout["scrims"]
    for line in layout["lines"]:
        assert line["contrast"] >= 4.5
        x0, y0, x1, y1 = line["box"]
        behind = np.asarray(busy.crop((x0, y0, x1, y1))).reshape(-1, 3)
        text_lum = relative_luminance(Image.new("RGB", (1, 1), line["color"]).getpixel((0, 0)))
        ratios = contrast_ratio(text_lum, relative_luminance(behind))
        assert np.percentile(ratios, 90) >= 4.5  # the bulk of the box is the scrim, not noise


def test_cjk_wraps_without_spaces_and_keeps_punctuation_off_line_edges():
    text = "新品上市，限时优惠。全场包邮（满99元）！"
    for width in range(3, 12):
        lines = wrap(text, lambda line, w=width: len(line) <= w)
        assert "".join(lines) == text
        assert all(line[0] not in NO_LINE_START for line in lines[1:])
        assert all(line[-1] not in NO_LINE_END for line in lines)


def test_latin_words_are_never_split():
    lines = wrap("Recycled steel, built to last", lambda line: len(line) <= 12)
    assert lines == ["Recycled", "steel, built", "to last"]


def test_cjk_falls_back_to_noto_when_the_brand_font_lacks_the_glyphs():
    with open("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "rb") as fh:
        name = default_storage.save("fonts/dejavu.ttf", ContentFile(fh.read()))
    style = {**STYLE, "font": {"file": name, "sha256": "dejavu"}}
    assert "DejaVu" in _font_for("Summer Sale", style, 20).getname()[0]
    assert "Noto Sans CJK" in _font_for("夏季新品", style, 20).getname()[0]
    image, layout = typeset(background(1200, 628), copy=COPY["mixed"], mode="overlay",
                            style=style)
    assert [r.read for r in read_overlay(image, layout) if not r.exact] == []


def test_both_mode_leaves_the_headline_to_the_model():
    _, layout = typeset(background(1080, 1080), copy=COPY["en"], mode="both", style=STYLE)
    assert "headline" not in {line["role"] for line in layout["lines"]}
    assert {"price", "cta", "disclaimer"} <= {line["role"] for line in layout["lines"]}


def test_logo_is_placed_in_the_brand_corner():
    logo = Image.new("RGBA", (80, 40), (10, 79, 140, 255))
    name = default_storage.save("logos/logo.png", ContentFile(_png(logo)))
    style = {**STYLE, "logo": {"file": name, "sha256": "x"}, "logo_position": "bottom-right"}
    image, layout = typeset(background(1200, 1200), copy=COPY["en"], mode="overlay",
                            style=style)
    x0, y0, x1, y1 = layout["logo_box"]
    assert x1 > 1000 and y1 > 1000
    assert image.getpixel(((x0 + x1) // 2, (y0 + y1) // 2)) == (10, 79, 140)


def test_prices_are_formatted_for_the_language():
    assert format_price("19.99", "USD", "en") == "$19.99"
    assert format_price("199", "CNY", "zh") == "¥199.00"


def _png(image: Image.Image) -> bytes:
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.django_db
def test_copy_lines_are_sandboxed_template_text_and_a_new_version(catalog):
    from django.core.exceptions import ValidationError

    from rendering.compose.ad_copy import compose_copy
    from rendering.templates import prompt_template_save

    workspace, brand, products, _ = catalog
    brand.disclaimer = "T&Cs apply."
    template = prompt_template_save(user=None, workspace=workspace, name="t", kind="banner",
                                    body="A bottle",
                                    text_mode="overlay", headline="{{ product.name|upper }}",
                                    cta="Shop now", show_price=True)
    assert compose_copy(template=template, brand=brand, product=products[0], language="zh") == {
        "headline": products[0].name.upper(), "cta": "Shop now", "price": "US$19.99",
        "disclaimer": "T&Cs apply."}
    again = prompt_template_save(user=None, workspace=workspace, name="t", kind="banner",
                                 body="A bottle",
                                 text_mode="overlay", headline="Sale", template=template)
    assert again.version == template.version + 1
    with pytest.raises(ValidationError, match="product.cost"):
        prompt_template_save(user=None, workspace=workspace, name="u", kind="banner",
                             body="A bottle",
                             headline="{{ product.cost }}")
