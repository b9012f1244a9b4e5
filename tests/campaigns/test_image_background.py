"""Templates whose ads are laid over an uploaded picture: the picture is checked like every
upload, cut to each format on the CPU (no GPU job), and a new picture is a new template
version whose ads are recomposed."""

import io
from pathlib import Path

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from brands.services import product_photo_add
from campaigns.services import campaign_create, campaign_generate
from rendering.design.compositor import compose
from rendering.design.recipe import recipe_inputs
from rendering.models import Asset, CheckKind, Format, JobQueue, QualityCheck, RenderJob
from rendering.templates import prompt_template_background_set, prompt_template_save

ROOT = Path(__file__).resolve().parents[2]
FORMATS = ["gdn-medium-rectangle", "responsive-landscape"]


def _jpeg(color=(40, 120, 90), size=(1600, 1000)) -> bytes:
    image = Image.new("RGB", size, color)
    image.paste((230, 200, 150), (0, size[1] * 2 // 3, size[0], size[1]))  # a table edge
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def picture_shop(catalog, commit):
    workspace, brand, products, _ = catalog
    with commit():
        product_photo_add(product=products[0], user=None, uploaded=SimpleUploadedFile(
            "coffee.jpg", (ROOT / "campaigns" / "sample_photos" / "coffee.jpg").read_bytes()))
    template = prompt_template_save(
        user=None, workspace=workspace, name="Picture", kind="banner", body="unused",
        headline="{{ product.name }}", cta="Shop now", show_price=True, text_mode="overlay",
        background="image")
    formats = list(Format.objects.filter(workspace=None, key__in=FORMATS))
    campaign = campaign_create(user=None, workspace=workspace, name="Pictures", brand=brand,
                               products=[products[0]], formats=formats, templates=[template])
    return campaign, template


def test_an_image_template_without_its_picture_is_refused_before_any_job(picture_shop):
    campaign, _ = picture_shop
    with pytest.raises(ValidationError) as excinfo:
        campaign_generate(campaign=campaign, user=None)
    assert "has no background image yet" in " ".join(excinfo.value.messages)
    assert not RenderJob.objects.filter(slot__campaign=campaign).exists()


def test_the_uploaded_picture_goes_under_the_layers_with_no_gpu(picture_shop, commit):
    campaign, template = picture_shop
    template = prompt_template_background_set(
        template=template, user=None, upload=SimpleUploadedFile("table.jpg", _jpeg()))
    assert template.version == 2 and template.background_image_sha256
    with commit():
        jobs = campaign_generate(campaign=campaign, user=None).jobs
    assert {j.queue for j in jobs} == {JobQueue.CPU}
    assets = list(Asset.objects.filter(slot__campaign=campaign))
    assert len(assets) == len(FORMATS)
    for asset in assets:
        source = asset.design["layers"][0]["source"]
        assert source == {"type": "image", "sha256": template.background_image_sha256}
        check = QualityCheck.objects.get(asset=asset, kind=CheckKind.PRODUCT)
        assert check.status == "pass", check.reason
        # The background layer alone is the upload, covering the format: table below, wall
        # above (JPEG: a few levels off).
        alone = np.asarray(compose({**asset.design, "layers": asset.design["layers"][:1]},
                                   recipe_inputs(asset.recipe))).astype(int)
        assert (np.abs(alone[-2, 2] - (230, 200, 150)) < 12).all()
        assert (np.abs(alone[2, 2] - (40, 120, 90)) < 12).all()


def test_a_new_picture_makes_the_ads_stale_and_a_bad_upload_changes_nothing(picture_shop,
                                                                            commit):
    campaign, template = picture_shop
    template = prompt_template_background_set(
        template=template, user=None, upload=SimpleUploadedFile("a.jpg", _jpeg()))
    with commit():
        campaign_generate(campaign=campaign, user=None)
    with pytest.raises(ValidationError) as excinfo:
        prompt_template_background_set(template=template, user=None, upload=SimpleUploadedFile(
            "x.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>"))
    assert "background_image" in excinfo.value.message_dict
    template.refresh_from_db()
    assert template.version == 2
    assert not Asset.objects.filter(slot__campaign=campaign, stale_at__isnull=False).exists()
    prompt_template_background_set(template=template, user=None, upload=SimpleUploadedFile(
        "b.jpg", _jpeg(color=(150, 40, 40))))
    stale = Asset.objects.filter(slot__campaign=campaign)
    assert all(a.stale_reason.endswith("(recompose: no GPU)") for a in stale)
