"""Checks that cannot be fooled (B14): the layer's copy is verified against a reference rendering,
OCR judges only what the model drew, and what cannot be verified is shown as not verified."""

import copy as copying
import io

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image, ImageDraw, ImageFont

from brands.models import Role
from rendering.compose.fitting import font_for as _font_for
from rendering.compose.typeset import typeset
from rendering.models import Asset
from rendering.quality.checks import asset_checks_run, text_check
from rendering.quality.overlay_check import verify_line, verify_overlay
from rendering.quality.text_check import RoleReading, detect_text, read_native
from tests.factories import MembershipFactory, SlotFactory, asset_make

STYLE = {"colors": {"text": "#1B1B1B", "background": "#F5EFE6"}}
DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


def background(width=1080, height=1080, seed=0) -> Image.Image:
    rng = np.random.default_rng(seed)
    blotches = Image.fromarray(rng.integers(0, 255, (height // 60 + 2, width // 60 + 2, 3),
                                            dtype=np.uint8)).resize((width, height))
    return blotches


def set_copy(copy: dict, base=None):
    base = base or background()
    return typeset(base, copy=copy, mode="overlay", style=STYLE)


def test_B14_overlay_copy_as_set_matches_its_reference_rendering():
    image, layout = set_copy({"headline": "夏季新品 Summer 🔥", "subline": "تخفيضات الصيف 50%",
                              "price": "€19.99", "cta": "Shop now",
                              "disclaimer": "Offer valid until 12/31/2026. T&Cs apply."})
    readings = verify_overlay(image, layout)
    assert {r.role: r.status for r in readings} == dict.fromkeys(
        ["headline", "subline", "price", "cta", "disclaimer"], "exact")
    for line in layout["lines"]:
        verdict = verify_line(image, line)
        assert verdict["ink_match"] == 1.0 and verdict["extra_ink"] <= 0.25, verdict


def test_B14_overlay_copy_drawn_as_empty_boxes_fails():
    copy = {"headline": "夏季新品上市"}
    base = background()
    good, layout = set_copy(copy, base.copy())
    # The same line drawn by a font that lacks the glyphs: .notdef boxes in the same place.
    boxed = base.copy()
    line = layout["lines"][0]
    font = ImageFont.truetype(DEJAVU, line["size"])
    ImageDraw.Draw(boxed).text((line["box"][0], (line["box"][1] + line["box"][3]) / 2),
                               line["text"], font=font, fill=line["color"], anchor="lm")
    [reading] = verify_overlay(boxed, layout)
    assert reading.status == "wrong" and "reference rendering" in reading.note
    # A layout claiming a font without the glyphs fails however the pixels look.
    lying = copying.deepcopy(layout)
    lying["lines"][0]["runs"] = [{"text": line["text"], "font": {"path": DEJAVU, "index": 0},
                                  "rtl": False}]
    [reading] = verify_overlay(good, lying)
    assert reading.status == "wrong" and "empty box" in reading.note and "U+590F" in reading.note
    # Set by another Pillow or FreeType: a pixel difference is for a person to judge, a font
    # without the glyph is still wrong.
    elsewhere = {**layout, "engine": {**layout["engine"], "freetype": "0.0"}}
    assert verify_overlay(boxed, elsewhere)[0].status == "not_verified"
    assert verify_overlay(good, elsewhere)[0].status == "exact"
    assert verify_overlay(good, {**lying, "engine": elsewhere["engine"]})[0].status == "wrong"


def test_B14_a_euro_price_set_by_the_layer_verifies_and_a_swapped_currency_fails():
    base = background(seed=2)
    euro, layout = set_copy({"price": "€19.99"}, base.copy())
    result = text_check(euro, copy={"price": "€19.99"}, mode="overlay", layout=layout,
                        detections=[])
    assert result.status == "pass", result.reason
    assert result.details["readings"][0]["method"] == "reference"
    dollar, dollar_layout = set_copy({"price": "$19.99"}, base.copy())
    result = text_check(dollar, copy={"price": "€19.99"}, mode="overlay", layout=layout,
                        detections=[])
    assert result.status == "fail" and "€19.99" in result.reason
    # A layout that matches its own pixels but not the copy fails too.
    result = text_check(dollar, copy={"price": "€19.99"}, mode="overlay",
                        layout=dollar_layout, detections=[])
    assert result.status == "fail" and "not the copy “€19.99”" in result.reason


def draw_native(size, lines) -> Image.Image:
    image = Image.new("RGB", size, (236, 228, 210))
    draw = ImageDraw.Draw(image)
    for row, text in enumerate(lines):
        draw.text((40, 60 + row * 140), text, font=_font_for(text, {}, 56), fill=(20, 20, 20))
    return image


def test_B14_ocr_compares_case_and_currency_and_never_passes_what_it_cannot_read():
    copy = {"headline": "iPhone 15 case", "price": "$4.50", "cta": "€4.50"}
    image = draw_native((1200, 520), ["iphone 15 case", "¥4.50", "€4.50"])
    readings = {r.role: r for r in read_native(detect_text(image), copy, list(copy))}
    assert readings["headline"].status == "wrong"  # iphone is not iPhone
    assert readings["price"].status == "wrong"  # a yen sign where the dollar should be
    assert readings["cta"].status == "not_verified"  # PP-OCR has no €: never a pass
    assert readings["cta"].unverified == "€"
    # A € price where the model drew a $ is wrong, not "matches anything".
    assert RoleReading("price", "€4.50", "$4.50", 0.0, source="native").status == "wrong"
    # Look-alike letters whose case alone differs cannot be told apart: flagged, not exact.
    assert RoleReading("headline", "Cold Brew", "coldBrew", 0.0).status == "not_verified"
    assert RoleReading("headline", "   ", "", 0.0).status == "not_verified"


@pytest.mark.django_db
def test_B14_a_line_that_cannot_be_verified_is_shown_not_verified_on_the_asset_page(client):
    member = MembershipFactory(role=Role.APPROVER)
    ws = member.workspace
    slot = SlotFactory(campaign__workspace=ws, format_key="responsive-landscape")
    asset = asset_make(slot=slot, author=MembershipFactory(workspace=ws).user, size=(1200, 628))
    buffer = io.BytesIO()
    draw_native((1200, 628), ["Summer Sale", "€4.50"]).save(buffer, format="PNG")
    name = default_storage.save(f"ws/{ws.pk}/painted.png", ContentFile(buffer.getvalue()))
    recipe = {**asset.recipe, "text_mode": "native",
              "copy": {"headline": "Summer Sale", "price": "€4.50"}}
    Asset.objects.filter(pk=asset.pk).update(file=name, recipe=recipe)

    text = next(c for c in asset_checks_run(asset_id=asset.pk) if c.kind == "text")
    assert text.status == "unverified", text.reason
    assert "cannot read €" in text.reason
    client.force_login(member.user)
    page = client.get(reverse("asset-detail", kwargs={"ws": ws.slug, "asset_id": asset.pk}))
    html = page.content.decode()
    assert 'class="check check-unverified" data-kind="text"' in html
    assert '<span class="badge unverified">not verified</span>' in html
    queue = client.get(reverse("review-queue", kwargs={"ws": ws.slug})).content.decode()
    assert "Copy reads exactly: not verified" in queue
    from tests.api.conftest import api_for

    api = api_for(member)
    checks = {c["kind"]: c for c in api.get(f"assets/{asset.pk}/").json()["quality_checks"]}
    assert checks["text"]["status"] == "unverified"
    assert checks["text"]["status_label"] == "Not verified"
    price = next(r for r in checks["text"]["readings"] if r["role"] == "price")
    assert price["status"] == "not_verified" and price["unverified"] == "€"


def test_B14_copy_set_in_a_brand_font_verifies_and_is_not_verified_once_the_font_is_gone():
    from rendering.compose import fonts

    with open("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "rb") as fh:
        name = default_storage.save("fonts/brand.ttf", ContentFile(fh.read()))
    style = {**STYLE, "font": {"file": name, "sha256": "brand-b14"}}
    image, layout = typeset(background(), copy={"headline": "Summer 夏季 Sale"}, mode="overlay",
                            style=style)
    runs = [r for line in layout["lines"] for r in line["runs"]]
    assert {"file": name, "sha256": "brand-b14"} in [r["font"] for r in runs]
    assert [r.status for r in verify_overlay(image, layout)] == ["exact"]
    default_storage.delete(name)
    fonts._stored_bytes.cache_clear()
    fonts._facts.cache_clear()
    fonts.load.cache_clear()
    [reading] = verify_overlay(image, layout)
    assert reading.status == "not_verified" and "cannot be opened" in reading.note
