from io import StringIO
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command

from brands.models import Product
from campaigns.models import Campaign
from campaigns.sample import COMPOSED_CAMPAIGN_NAME, FORMAT_KEYS, SCENE_CAMPAIGN_NAME
from rendering.compose.ad_copy import format_price
from rendering.models import Asset, BackgroundLayer, JobKind, JobQueue, PromptTemplate, RenderJob

pytestmark = pytest.mark.django_db

OUT = Path(__file__).resolve().parents[1] / "var" / "test-output" / "demo"
# Formats whose layout has no room for the product (their offer and button come first).
NO_PRODUCT_ROOM = {"gdn-mobile-banner"}


def test_demo_renders_the_sample_campaign_and_reuses_it_the_second_time(
        tiny_model, django_capture_on_commit_callbacks):
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("demo", stdout=out)
    assert Product.objects.count() == 4
    # A real photo (campaigns/sample_photos) on the product it shows, cut out once added.
    cup = Product.objects.get(sku="NW-CUP-90")
    photo = cup.photos.get()
    assert photo.cutout and photo.cutout_source_sha256 == photo.sha256
    assert not Product.objects.get(sku="NW-BOTTLE-750").photos.exists()
    model_assets = Asset.objects.filter(slot__campaign__name="Spring launch")
    sizes = set(model_assets.values_list("width", "height"))
    assert sizes == {(1200, 628), (300, 250), (1080, 1920), (2480, 3508)}
    assert model_assets.count() == 12
    assert "12 renders queued" in out.getvalue()
    assert f"{len(FORMAT_KEYS)} compositions queued" in out.getvalue()
    assert "http://127.0.0.1:8000/" in out.getvalue()

    # The composed campaign: the cup's own cut-out and exact copy in every format, no GPU.
    composed = Campaign.objects.get(name=COMPOSED_CAMPAIGN_NAME)
    assert not RenderJob.objects.filter(slot__campaign=composed, queue=JobQueue.GPU).exists()
    assets = {a.slot.format.key: a for a in Asset.objects.filter(
        slot__campaign=composed).select_related("slot__format", "slot__product")}
    assert set(assets) == set(FORMAT_KEYS)
    price = format_price(cup.price, cup.currency, composed.language)
    OUT.mkdir(parents=True, exist_ok=True)
    for key, asset in assets.items():
        assert asset.slot.product == cup and asset.recipe["engine"] == "compose"
        layers = asset.design["layers"]
        products = [layer for layer in layers if layer["kind"] == "product"]
        if key in NO_PRODUCT_ROOM:
            assert not products
        else:
            assert products and {la["sha256"] for la in products} == {photo.cutout_sha256}
        texts = {la["role"]: la["text"] for la in layers if la["kind"] == "text"}
        assert texts["price"] == price == "$18.00"
        with default_storage.open(asset.file.name, "rb") as handle:
            (OUT / f"{key}-{asset.width}x{asset.height}.png").write_bytes(handle.read())

    # The scene campaign: one scene painted around the cup for every format, layers on top.
    scenes = Campaign.objects.get(name=SCENE_CAMPAIGN_NAME)
    gpu = RenderJob.objects.filter(slot__campaign=scenes, queue=JobQueue.GPU)
    assert set(gpu.values_list("kind", flat=True)) == {JobKind.BACKGROUND}
    assert gpu.filter(recipe__derive="scene").count() == 1  # one master for four formats
    assert gpu.count() < len(FORMAT_KEYS)  # fewer paintings than formats
    scene_assets = {a.slot.format.key: a for a in Asset.objects.filter(
        slot__campaign=scenes).select_related("slot__format")}
    assert set(scene_assets) == set(FORMAT_KEYS)
    master = {a.recipe["scene"]["master"] for a in scene_assets.values()}
    assert len(master) == 1 and BackgroundLayer.objects.filter(recipe_sha256__in=master).exists()
    for key, asset in scene_assets.items():
        layers = asset.design["layers"]
        assert {la["sha256"] for la in layers if la["kind"] == "product"} == {photo.cutout_sha256}
        assert asset.recipe["scene"]["aligned"]
        with default_storage.open(asset.file.name, "rb") as handle:
            (OUT / f"scene-{key}-{asset.width}x{asset.height}.png").write_bytes(handle.read())

    # A second member approves the demo's renders: nobody approves their own.
    from django.contrib.auth import get_user_model

    from campaigns.review import asset_approve
    from campaigns.sample import REVIEWER

    reviewer = get_user_model().objects.get(username=REVIEWER)
    asset_approve(asset=model_assets.first(), user=reviewer)
    assert Asset.objects.filter(is_live=True).count() == 1

    counts = (Product.objects.count(), PromptTemplate.objects.count(),
              Campaign.objects.count(), Asset.objects.count(), RenderJob.objects.count())
    again = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("demo", stdout=again)
    assert "0 renders queued" in again.getvalue()
    assert "0 compositions queued" in again.getvalue()
    assert "4 unchanged" in again.getvalue() and "0 photos added" in again.getvalue()
    assert cup.photos.count() == 1
    assert (Product.objects.count(), PromptTemplate.objects.count(), Campaign.objects.count(),
            Asset.objects.count(), RenderJob.objects.count()) == counts
    assert "0 jobs queued" in again.getvalue()
    assert Asset.objects.count() == 12 + 2 * len(FORMAT_KEYS)
    # The summary lists every composed ad's file under the media root.
    for asset in assets.values():
        assert asset.file.name in again.getvalue()
