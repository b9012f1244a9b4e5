"""B14: copy is set correctly (per-character font fallback) or refused with the reason before
any render; never an empty box, never a crash after the render."""

import time
from pathlib import Path

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from PIL import Image, ImageDraw, ImageFont

from brands.services import brand_kit_save
from campaigns.services import campaign_create, campaign_generate
from rendering.compose import fonts
from rendering.compose.ad_copy import compose_copy
from rendering.compose.copy_rules import COPY_LIMITS, line_problem
from rendering.compose.typeset import typeset
from rendering.jobs.run import render_next
from rendering.models import Asset, Format, JobStatus, RenderJob
from rendering.templates import prompt_template_save

OUT = Path("var/test-output")
STYLE = {"colors": {"text": "#1B1B1B", "background": "#F5EFE6", "accent": "#FF6F61"}}
NOTO_CJK = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"


def save(image: Image.Image, name: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    image.save(OUT / name)


def set_on_plain(copy: dict, size=(1080, 1080)):
    return typeset(Image.new("RGB", size, "#F5EFE6"), copy=copy, mode="overlay", style=STYLE)


def run_ink(image: Image.Image, line: dict, index: int) -> np.ndarray:
    """The asset's pixels under one run of a placed line (runs are left to right)."""
    x0, y0, _, y1 = line["box"]
    size = line["size"]
    runs = [fonts.Run(r["text"], fonts.FontRef.from_dict(r["font"]), r["rtl"])
            for r in line["runs"]]
    left = x0 + sum(fonts.run_width(r, size) for r in runs[:index])
    right = left + fonts.run_width(runs[index], size)
    return np.asarray(image.crop((round(left), y0, round(right), y1)), dtype=np.int16)


def notdef(text: str, size: int) -> np.ndarray:
    """What a font without the glyphs draws: the .notdef box."""
    font = ImageFont.truetype(NOTO_CJK, size, index=2)
    image = Image.new("RGB", (round(font.getlength(text)) + 4, round(size * 1.3)), "#F5EFE6")
    ImageDraw.Draw(image).text((0, image.height / 2), text, font=font, fill="#1B1B1B",
                               anchor="lm")
    return np.asarray(image, dtype=np.int16)


def test_B14_emoji_are_drawn_in_colour_from_the_emoji_font_not_as_boxes():
    image, layout = set_on_plain({"headline": "Summer Sale 🔥👍🏽"})
    save(image, "b14-emoji.png")
    [line] = [x for x in layout["lines"] if x["role"] == "headline" and "🔥" in x["text"]]
    index, run = next((i, r) for i, r in enumerate(line["runs"]) if "🔥" in r["text"])
    assert run["font"]["path"].endswith("NotoColorEmoji.ttf")
    assert 0x1F525 not in fonts.cmap(fonts.FontRef(path=NOTO_CJK, index=2))
    pixels = run_ink(image, line, index)
    saturation = pixels.max(axis=2) - pixels.min(axis=2)
    assert (saturation > 120).mean() > 0.1  # orange flame and a skin tone: colour glyphs
    box = notdef("🔥", line["size"])
    assert (box.max(axis=2) - box.min(axis=2)).max() < 40  # the box is plain ink, no colour


def test_B14_arabic_is_shaped_right_to_left_in_an_arabic_font():
    text = "تخفيضات الصيف"
    image, layout = set_on_plain({"subline": text})
    save(image, "b14-arabic.png")
    [line] = layout["lines"]
    [run] = line["runs"]
    assert run["rtl"] and run["font"]["path"].endswith("NotoSansArabic-Bold.ttf")
    assert {ord(c) for c in text if c != " "} <= fonts.cmap(fonts.FontRef.from_dict(run["font"]))
    # The same pixels as raqm shaping the whole string in that font: joined letters, right to
    # left; an unshaped left-to-right drawing differs.
    font = ImageFont.truetype(run["font"]["path"], line["size"])

    def alone(direction: str, features=None) -> np.ndarray:
        canvas = Image.new("L", (line["box"][2] - line["box"][0] + 40, line["size"] * 2), 0)
        ImageDraw.Draw(canvas).text((20, line["size"]), text, font=font, fill=255, anchor="ls",
                                    direction=direction, features=features)
        return np.asarray(canvas.crop(canvas.getbbox()))

    layer, _ = fonts.render_line([fonts.Run(text, fonts.FontRef.from_dict(run["font"]), True)],
                                 line["size"], (255, 255, 255), fonts.FontRef(path=NOTO_CJK,
                                                                             index=2))
    ours = np.asarray(layer.getchannel("A").crop(layer.getchannel("A").getbbox()))
    assert np.array_equal(ours, alone("rtl"))
    unshaped = alone("ltr", ["-init", "-medi", "-fina", "-isol", "-rlig", "-calt"])
    assert ours.shape != unshaped.shape or not np.array_equal(ours, unshaped)


def test_B14_mixed_latin_cjk_and_hebrew_fall_back_per_character():
    image, layout = set_on_plain({"headline": "Qwen 夏季 מבצע"})
    save(image, "b14-mixed.png")
    runs = [(r["text"].strip(), Path(r["font"]["path"]).name, r["rtl"])
            for line in layout["lines"] for r in line["runs"]]
    assert ("מבצע", "NotoSansHebrew-Bold.ttf", True) in runs
    assert any("夏季" in text and font.startswith("NotoSansCJK") for text, font, _ in runs)


def test_B14_a_character_no_font_has_is_refused_with_its_code_point():
    chain = fonts.font_chain({})
    for ch in ("\ue000", "\U0010fffd", "\u0378"):  # private use, plane 16 private, unassigned
        problem = line_problem("headline", f"Sale {ch}", chain=chain)
        assert problem and f"U+{ord(ch):04X}" in problem and "no installed font" in problem
    assert line_problem("headline", "Sale 🔥 تخفيضات 夏季 €5", chain=chain) is None


def test_B14_the_layer_leaves_out_copy_no_font_can_draw_and_says_why():
    image, layout = set_on_plain({"headline": "Sale \ue000", "cta": "Shop now"})
    assert "U+E000" in layout["refused"]["headline"]
    assert {line["role"] for line in layout["lines"]} == {"cta"}
    started = time.perf_counter()  # 2,000 characters took 7 s to be dropped
    _, layout = set_on_plain({"subline": "Recycled steel " * 134})
    assert time.perf_counter() - started < 1
    assert "2,010 characters" in layout["refused"]["subline"] and layout["lines"] == []


def test_B14_length_whitespace_and_control_rules():
    chain = fonts.font_chain({})
    assert "2,000 characters" in line_problem("headline", "x" * 2000, chain=chain)
    assert line_problem("headline", "x" * COPY_LIMITS["headline"], chain=chain) is None
    assert "no visible characters" in line_problem("headline", "\u3164\u200b", chain=chain)
    assert "line break" in line_problem("disclaimer", "T&Cs\r\napply", chain=chain)
    assert "U+202E" in line_problem("cta", "Buy \u202enow", chain=chain)
    assert "U+0007" in line_problem("cta", "Buy\x07", chain=chain)


# --- refused before any job: template save, brand-kit save, generate, the render loop -------

@pytest.mark.django_db
def test_B14_template_copy_with_a_newline_or_an_undrawable_character_is_refused_at_save(catalog):
    workspace, brand, _, _ = catalog
    cases = {"headline": "Summer\nSale", "subline": "Icons \ue000 here", "cta": "\u200b\u200b"}
    for field, value in cases.items():
        with pytest.raises(ValidationError) as caught:
            prompt_template_save(user=None, workspace=workspace, name=f"t {field}", kind="banner",
                                 body="A bottle", text_mode="overlay", **{field: value})
        assert list(caught.value.message_dict) == [field]
    message = caught.value.message_dict["cta"][0]
    assert "no visible characters" in message
    # Spaces alone leave the line out (it is optional), never "exact".
    template = prompt_template_save(user=None, workspace=workspace, name="spaces", kind="banner",
                                    body="A bottle", text_mode="overlay", headline="   ",
                                    cta="Shop now")
    assert "headline" not in compose_copy(template=template, brand=brand,
                                          product=catalog[2][0])


@pytest.mark.django_db
def test_B14_a_disclaimer_with_a_line_break_is_refused_and_an_old_one_is_set_on_one_line(
        catalog):
    workspace, brand, products, _ = catalog
    with pytest.raises(ValidationError) as caught:
        brand_kit_save(user=None, workspace=workspace, brand=brand,
                       disclaimer="Prices in USD.\nT&Cs apply.")
    assert "line break" in caught.value.message_dict["disclaimer"][0]
    with pytest.raises(ValidationError, match="300"):
        brand_kit_save(user=None, workspace=workspace, brand=brand, disclaimer="x" * 301)
    brand.disclaimer = "Prices in USD.\r\nT&Cs apply."  # saved before the rule
    brand.save()
    template = prompt_template_save(user=None, workspace=workspace, name="o", kind="banner",
                                    body="A",
                                    text_mode="overlay", headline="Sale")
    copy = compose_copy(template=template, brand=brand, product=products[0])
    assert copy["disclaimer"] == "Prices in USD. T&Cs apply."
    _, layout = set_on_plain(copy)  # no raqm_layout() failure
    assert "disclaimer" in {line["role"] for line in layout["lines"]}


@pytest.fixture
def overlay_campaign(catalog):
    workspace, brand, products, _ = catalog
    template = prompt_template_save(
        user=None, workspace=workspace, name="overlay copy", kind="banner", text_mode="overlay",
        body="A banner for {{ product.name }}", headline="{{ product.description }}")
    fmt = Format.objects.get(workspace=None, key="responsive-landscape")
    campaign = campaign_create(workspace=workspace, user=None, name="c", brand=brand,
                               products=products[:1], formats=[fmt], templates=[template])
    return campaign, products[0]


@pytest.mark.django_db
@pytest.mark.parametrize("description, expected", [
    ("Bottle \ue000", "U+E000"),
    ("x" * 2000, "2,000 characters"),
    ("\u2800\u2800", "no visible characters"),
])
def test_B14_generate_refuses_unsettable_product_copy_before_any_job(overlay_campaign,
                                                                     description, expected):
    campaign, product = overlay_campaign
    product.description = description
    product.save()
    before = RenderJob.objects.count()
    started = time.perf_counter()
    with pytest.raises(ValidationError) as caught:
        campaign_generate(campaign=campaign, user=None)
    assert time.perf_counter() - started < 2
    assert RenderJob.objects.count() == before
    [message] = caught.value.messages
    assert product.name in message and expected in message


@pytest.mark.django_db
def test_B14_a_queued_job_whose_copy_cannot_be_set_fails_before_its_render(overlay_campaign):
    campaign, product = overlay_campaign
    [job] = campaign_generate(campaign=campaign, user=None).jobs
    recipe = {**job.recipe, "copy": {**job.recipe["copy"], "headline": "Sale \ue000"}}
    RenderJob.objects.filter(pk=job.pk).update(recipe=recipe)  # queued before the rule
    assert render_next() == []
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "U+E000" in job.error
    assert not Asset.objects.filter(job=job).exists()
