import math

import pytest
from django.core.exceptions import ValidationError
from PIL import Image, ImageDraw

from rendering.compose.formats import (
    BUCKETS,
    PRESETS,
    crop_box,
    fit_to_format,
    model_request_size,
    nearest_bucket,
)
from rendering.models import Format
from rendering.templates import format_create
from tests.factories import WorkspaceFactory


def _aspect_distance(bucket, width, height):
    return abs(math.log(bucket[0] / bucket[1]) - math.log(width / height))


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.key)
def test_every_preset_renders_at_the_bucket_nearest_its_aspect_ratio(preset):
    bucket = nearest_bucket(preset.width, preset.height)
    best = min(_aspect_distance(b, preset.width, preset.height) for b in BUCKETS)
    assert bucket in BUCKETS
    assert _aspect_distance(bucket, preset.width, preset.height) == pytest.approx(best)


@pytest.mark.parametrize(("size", "bucket"), [
    ((1200, 628), (1664, 928)),
    ((1080, 1920), (928, 1664)),
    ((1200, 1200), (1328, 1328)),
    ((300, 250), (1472, 1104)),
    ((2480, 3508), (1056, 1584)),
    ((728, 90), (1664, 928)),
])
def test_known_sizes_get_the_expected_bucket(size, bucket):
    assert nearest_bucket(*size) == bucket


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.key)
def test_every_preset_is_cropped_and_resized_to_its_exact_pixels(preset):
    bucket = nearest_bucket(preset.width, preset.height)
    # A render at 1/16 of the bucket, as the tiny model makes; real renders only differ in size.
    render = Image.new("RGB", model_request_size(bucket, scale=0.0625, multiple=8), "white")
    out = fit_to_format(render, preset.width, preset.height)
    assert out.size == (preset.width, preset.height)


def test_print_sizes_are_upscaled_from_the_bucket_not_requested_from_the_model():
    a2 = next(p for p in PRESETS if p.key == "print-a2")
    request = model_request_size(nearest_bucket(a2.width, a2.height), scale=1.0, multiple=16)
    assert request in BUCKETS
    assert max(request) < max(a2.width, a2.height)


def test_model_request_size_rounds_to_the_pipeline_multiple():
    assert model_request_size((1328, 1328), scale=0.0625, multiple=8) == (80, 80)
    assert model_request_size((1664, 928), scale=1.0, multiple=16) == (1664, 928)
    with pytest.raises(ValueError, match="ADSTUDIO_RENDER_SCALE"):
        model_request_size((1328, 1328), scale=0, multiple=16)


def test_crop_keeps_the_busy_region_of_a_wide_render():
    image = Image.new("RGB", (400, 100), "white")
    ImageDraw.Draw(image).rectangle((320, 30, 380, 70), fill="black")  # the "subject"
    left, top, right, bottom = crop_box(image, 100, 100)
    assert (right - left, bottom - top) == (100, 100)
    assert left <= 320 and right >= 380


def test_crop_of_a_flat_image_is_centred():
    image = Image.new("RGB", (300, 100), "gray")
    assert crop_box(image, 100, 100) == (100, 0, 200, 100)


@pytest.mark.django_db
def test_B12_zero_size_format_rejected():
    workspace = WorkspaceFactory()
    with pytest.raises(ValidationError, match="between 16 and 10000"):
        format_create(user=None, workspace=workspace, name="Nothing", width=0, height=0,
                      kind="banner")
    assert not Format.objects.filter(workspace=workspace).exists()


@pytest.mark.django_db
def test_B12_huge_format_rejected_with_the_allowed_range():
    workspace = WorkspaceFactory()
    with pytest.raises(ValidationError) as excinfo:
        format_create(user=None, workspace=workspace, name="Huge", width=100000, height=100000,
                      kind="poster")
    assert "between 16 and 10000 pixels (got 100000)" in excinfo.value.messages[0]
    assert not Format.objects.filter(workspace=workspace).exists()


@pytest.mark.django_db
def test_custom_format_within_range_is_created():
    workspace = WorkspaceFactory()
    fmt = format_create(user=None, workspace=workspace, name="Bus shelter", width=1800, height=2700,
                        kind="poster")
    assert (fmt.width, fmt.height, fmt.workspace) == (1800, 2700, workspace)


@pytest.mark.django_db
def test_channel_presets_are_seeded_as_data():
    keys = set(Format.objects.filter(workspace=None).values_list("key", flat=True))
    assert keys == {p.key for p in PRESETS}
    story = Format.objects.get(key="meta-story")
    assert story.safe_zone == {"top": 250, "bottom": 250}
    assert Format.objects.get(key="print-a4").dpi == 300
