"""The text check reads copy back with the real PP-OCR models and sends wrong renders back."""

import io
import random

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from PIL import Image, ImageDraw

from campaigns.services import campaign_create, campaign_generate
from rendering.compose.fitting import font_for as _font_for
from rendering.jobs.run import render_next
from rendering.models import Asset, Format, QualityCheck, RenderJob
from rendering.quality.checks import asset_checks_run
from rendering.quality.text_check import best_substring, cer, detect_text, normalize, read_native
from rendering.selectors import asset_checks
from rendering.tasks import check_asset
from rendering.templates import prompt_template_save


def test_normalization_makes_full_and_half_width_and_spacing_agree_but_keeps_case():
    # B14: case is compared (iphone is not iPhone); it was folded away before.
    assert normalize("ＳＡＬＥ　￥１９９") == normalize("SALE ¥199") == "SALE¥199"
    assert normalize("Sale ¥199") == "Sale¥199"
    assert normalize("“Qwen” – Café") == normalize('"Qwen"-Café')


def test_character_error_rate_counts_each_wrong_character():
    assert cer("$19.99", "$19.99") == 0
    assert cer("$19.99", "$29.99") == pytest.approx(1 / 6)
    assert cer("新品上市", "新品") == 0.5


def test_best_substring_finds_copy_inside_a_longer_line():
    assert best_substring("$19.99", "onlyfor$19.99today") == (0, "$19.99")
    assert best_substring("$19.99", "onlyfor$29.99today") == (1, "$29.99")


def test_characters_the_recognizer_cannot_read_are_reported_not_counted():
    from rendering.quality.text_check import UNREADABLE, edit_distance, verifiable

    assert verifiable("€4.50") == (UNREADABLE + "4.50", "€")  # PP-OCRv4 has no €
    assert edit_distance(UNREADABLE + "4.50", "e4.50") == 0  # it reads € as E
    assert edit_distance(UNREADABLE + "4.50", "4.50") == 0
    assert edit_distance(UNREADABLE + "4.50", "e4.80") == 1  # the digits still count
    assert best_substring(UNREADABLE + "4.50", "only€4.50") == (0, "€4.50")


def draw_lines(size, lines, *, seed=0) -> Image.Image:
    """A stand-in for a native render: each line drawn at a shuffled position."""
    image = Image.new("RGB", size, (236, 228, 210))
    draw = ImageDraw.Draw(image)
    rows = list(range(len(lines)))
    random.Random(seed).shuffle(rows)
    for row, text in zip(rows, lines, strict=True):
        font = _font_for(text, {}, 44)
        y = 60 + row * (size[1] - 120) // max(1, len(lines))
        x = 40 + (row % 2) * (size[0] // 3)
        draw.text((x, y), text, font=font, fill=(20, 20, 20))
    return image


def test_native_copy_is_found_whatever_order_the_boxes_come_in():
    copy = {"headline": "Qwen Cafe 新品上市", "price": "¥39.90", "cta": "Order now"}
    image = draw_lines((1200, 628), list(copy.values()), seed=3)
    readings = read_native(detect_text(image), copy, ["headline", "price", "cta"])
    assert [(r.role, r.exact) for r in readings] == [("headline", True), ("price", True),
                                                      ("cta", True)]


def test_native_copy_with_a_wrong_price_is_caught_with_its_difference():
    copy = {"headline": "Summer Sale", "price": "$19.99"}
    image = draw_lines((1200, 628), ["Summer Sale", "$29.99"])
    readings = {r.role: r for r in read_native(detect_text(image), copy, ["headline", "price"])}
    assert readings["headline"].exact
    assert not readings["price"].exact
    assert readings["price"].as_dict()["diff"] == [{"op": "replace", "expected": "1",
                                                    "read": "2"}]


# --- the service: checks stored on the asset, wrong native copy rendered again ---------------

@pytest.fixture
def native_job(catalog, tiny_model):
    workspace, brand, products, _ = catalog
    template = prompt_template_save(
        user=None, workspace=workspace, name="native copy", kind="banner", text_mode="native",
        body="A banner for {{ product.name }}", headline="{{ product.name }}", show_price=True)
    fmt = Format.objects.get(workspace=None, key="responsive-landscape")
    campaign = campaign_create(workspace=workspace, user=None, name="c", brand=brand,
                               products=products[:1], formats=[fmt], templates=[template])
    return campaign_generate(campaign=campaign, user=None, seed=11).jobs[0]


def paint(asset: Asset, lines: list[str]) -> None:
    """Replace the asset's pixels with ``lines`` drawn on them: what a model that drew that
    text would have stored."""
    buffer = io.BytesIO()
    draw_lines((asset.width, asset.height), lines).save(buffer, format="PNG")
    name = default_storage.save(f"ws/test/painted-{asset.pk}.png", ContentFile(buffer.getvalue()))
    Asset.objects.filter(pk=asset.pk).update(file=name)


def rendered(job_id: int) -> Asset:
    render_next()
    return Asset.objects.get(job_id=job_id)


@pytest.mark.django_db
def test_a_native_render_with_the_wrong_price_fails_and_is_rendered_again(native_job, settings):
    name = native_job.recipe["copy"]["headline"]
    assert native_job.recipe["copy"]["price"] == "$19.99"
    assert '"$19.99"' in native_job.recipe["prompt"]  # the model is asked for the copy
    asset = rendered(native_job.pk)
    paint(asset, [name, "$29.99"])

    checks = {c.kind: c for c in asset_checks_run(asset_id=asset.pk)}

    text = checks["text"]
    assert text.status == "fail"
    assert "“$29.99” instead of “$19.99”" in text.reason
    html = render_to_string("rendering/_checks.html", {"checks": asset_checks(asset)})
    assert 'class="check check-fail" data-kind="text"' in html
    assert "<del>1</del><ins>2</ins>" in html  # the review screen shows what differs
    retry = RenderJob.objects.get(pk=text.details["rerender"]["job_id"])
    assert retry.recipe["copy_attempt"] == 2 and retry.recipe["copy_retry_of"] == asset.pk
    assert retry.recipe["text_mode"] == "native"
    assert retry.recipe["seed"] != native_job.recipe["seed"]
    asset_checks_run(asset_id=asset.pk)  # run twice (a redelivery): still one retry
    assert RenderJob.objects.filter(recipe__copy_retry_of=asset.pk).count() == 1

    # Still wrong at the limit: the next attempt sets the copy itself (overlay mode).
    settings.ADSTUDIO_COPY_RERENDER_LIMIT = 1
    second = rendered(retry.pk)
    paint(second, [name, "$19.90"])
    fallback_id = asset_checks_run(asset_id=second.pk)[0].details["rerender"]["job_id"]
    fallback = RenderJob.objects.get(pk=fallback_id)
    assert fallback.recipe["text_mode"] == "overlay" and fallback.recipe["copy_attempt"] == 3
    assert '"$19.99"' not in fallback.recipe["prompt"]
    assert "text" in fallback.recipe["negative_prompt"]

    third = rendered(fallback.pk)
    assert {line["role"] for line in third.recipe["typography"]["lines"]} >= {"headline",
                                                                              "price"}
    text = QualityCheck.objects.get(pk=next(c.pk for c in asset_checks_run(asset_id=third.pk)
                                            if c.kind == "text"))
    assert text.status == "pass", text.reason
    assert "rerender" not in text.details
    assert not RenderJob.objects.filter(recipe__copy_retry_of=third.pk).exists()


@pytest.mark.django_db
def test_a_native_render_with_the_right_copy_passes_and_is_kept(native_job):
    asset = rendered(native_job.pk)
    paint(asset, [native_job.recipe["copy"]["headline"], "$19.99"])
    text = next(c for c in asset_checks_run(asset_id=asset.pk) if c.kind == "text")
    assert text.status == "pass"
    assert [r["exact"] for r in text.details["readings"]] == [True, True]
    assert not RenderJob.objects.filter(recipe__copy_retry_of=asset.pk).exists()


@pytest.mark.django_db
def test_every_stored_asset_gets_its_checks_after_commit(native_job,
                                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        [asset] = render_next()
    kinds = set(QualityCheck.objects.filter(asset=asset).values_list("kind", flat=True))
    assert {"text", "palette", "copy_rules"} <= kinds


def test_the_check_task_has_a_stable_name_on_the_cpu_queue(settings):
    assert check_asset.name == "rendering.check_asset"
    assert settings.CELERY_TASK_ROUTES["rendering.check_asset"] == {"queue": "cpu"}
