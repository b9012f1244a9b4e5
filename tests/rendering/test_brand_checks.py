"""Brand checks: each rule has a case that passes and a case that fails."""

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from rendering.compose.fitting import font_for as _font_for
from rendering.quality.brand_checks import (
    ciede2000,
    copy_rules_check,
    encode_within,
    logo_check,
    palette_check,
    safe_zone_check,
    weight_check,
)
from rendering.quality.text_check import detect_text

PALETTE = [{"name": "Ocean", "hex": "#0A4F8C", "role": "primary"},
           {"name": "Coral", "hex": "#FF6F61", "role": "accent"},
           {"name": "Sand", "hex": "#F5EFE6", "role": "background"}]
STORY_ZONE = {"top": 250, "bottom": 250}


@pytest.mark.parametrize(("lab1", "lab2", "expected"), [  # Sharma, Wu and Dalal's test data
    ((50, 2.6772, -79.7751), (50, 0, -82.7485), 2.0425),
    ((50, 2.5, 0), (73, 25, -18), 27.1492),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
])
def test_ciede2000_matches_the_reference_data(lab1, lab2, expected):
    assert float(ciede2000(lab1, lab2)) == pytest.approx(expected, abs=1e-4)


def test_an_image_in_brand_colors_passes_the_palette_check():
    image = Image.new("RGB", (400, 300), "#0A4F8C")
    ImageDraw.Draw(image).rectangle((0, 200, 400, 300), fill="#FF6F61")
    result = palette_check(image, PALETTE)
    assert result.status == "pass"
    assert result.details["on_brand_share"] == pytest.approx(1.0)


def test_an_image_in_foreign_colors_fails_the_palette_check():
    image = Image.new("RGB", (400, 300), "#2DBE3C")  # a green the palette does not have
    ImageDraw.Draw(image).rectangle((0, 200, 400, 300), fill="#9B30D9")
    result = palette_check(image, PALETTE)
    assert result.status == "fail"
    assert "#2DBE3C" in result.reason


def story(text_y: int) -> Image.Image:
    image = Image.new("RGB", (1080, 1920), (240, 236, 228))
    ImageDraw.Draw(image).text((140, text_y), "Swipe up 立即购买", font=_font_for(
        "Swipe up 立即购买", {}, 72), fill=(20, 20, 20))
    return image


def test_text_inside_a_story_safe_zone_fails():
    image = story(text_y=80)
    result = safe_zone_check(image.size, STORY_ZONE, detect_text(image))
    assert result.status == "fail"
    assert "Swipe" in result.reason and "250 px top" in result.reason


def test_text_between_the_safe_zones_passes():
    image = story(text_y=900)
    detections = detect_text(image)
    assert detections  # the check saw the text, and it is where it may be
    assert safe_zone_check(image.size, STORY_ZONE, detections).status == "pass"


def png_size(image: Image.Image) -> int:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.tell()


def photo_like(width, height) -> Image.Image:
    rng = np.random.default_rng(1)
    small = rng.integers(0, 255, (height // 4, width // 4, 3), dtype=np.uint8)
    return Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC)


def test_a_light_image_passes_the_weight_limit_as_it_is():
    image = Image.new("RGB", (300, 250), "#0A4F8C")
    result = weight_check(image, stored_bytes=png_size(image), max_kilobytes=150,
                          channel="Google Display")
    assert result.status == "pass" and result.details["format"] == "PNG"


def test_a_heavy_png_passes_by_searching_the_jpeg_quality():
    image = photo_like(300, 250)
    assert png_size(image) > 150_000
    result = weight_check(image, stored_bytes=png_size(image), max_kilobytes=150,
                          channel="Google Display")
    assert result.status == "pass"
    assert result.details["format"] == "JPEG" and 30 <= result.details["quality"] <= 95
    assert result.details["export_kb"] <= 150
    fmt, quality, data = encode_within(image, max_bytes=150_000)
    assert len(data) <= 150_000 and quality == result.details["quality"]


def test_an_image_that_cannot_get_under_the_limit_fails():
    noise = Image.fromarray(np.random.default_rng(2).integers(0, 255, (1200, 1200, 3),
                                                              dtype=np.uint8))
    result = weight_check(noise, stored_bytes=png_size(noise), max_kilobytes=150,
                          channel="Google Display")
    assert result.status == "fail"
    assert "cannot get under 150 KB" in result.reason


def test_copy_within_the_rules_passes():
    copy = {"headline": "Summer Sale on steel", "subline": "Built to last."}
    result = copy_rules_check(copy, banned_terms=["cheap", "最便宜"], channel="Meta")
    assert result.status == "pass"
    assert result.details["lengths"]["headline"] == {"length": 20, "limit": 27}


def test_a_banned_term_or_a_headline_over_metas_limit_fails():
    copy = {"headline": "The cheapest steel bottle in town", "subline": "全网最便宜"}
    result = copy_rules_check(copy, banned_terms=["cheapest", "最便宜"], channel="Meta")
    assert result.status == "fail"
    assert "banned term “cheapest”" in result.reason and "“最便宜”" in result.reason
    assert "33 characters; Meta allows 27" in result.reason


def test_a_logo_that_stands_out_passes_and_one_that_blends_in_fails():
    logo = Image.new("RGBA", (120, 60), (0, 0, 0, 0))
    ImageDraw.Draw(logo).rectangle((10, 10, 110, 50), fill=(10, 79, 140, 255))
    box = (40, 40, 160, 100)
    light = Image.new("RGB", (400, 300), "#F5EFE6")
    light.paste(logo, box[:2], logo)
    assert logo_check(light, logo, box).status == "pass"
    dark = Image.new("RGB", (400, 300), (12, 80, 138))
    dark.paste(logo, box[:2], logo)
    assert logo_check(dark, logo, box).status == "fail"
    covered = light.copy()
    ImageDraw.Draw(covered).rectangle(box, fill="#FF6F61")
    assert "covered" in logo_check(covered, logo, box).reason
