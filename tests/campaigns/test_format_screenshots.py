"""Screenshots of one product's composed campaign at five sizes: the demo's "Espresso cup
launch" (campaigns/sample.py: the sample brand kit, the cup from the product feed with its real
coffee photo, the brand-fill templates) at 300x250, 1200x628, 1080x1920, 320x50 and A4, the
composed PNGs saved under var/test-output/formats/ (A4 also as a 620 px wide preview) for an
art director to look at; and what each layout must hold asserted on the stored designs."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from brands.models import Product
from campaigns.sample import (
    seed_brand,
    seed_fill_templates,
    seed_photos,
    seed_products,
    seed_user,
    seed_workspace,
)
from campaigns.services import campaign_create, campaign_generate
from rendering.design.fidelity import product_fidelity
from rendering.design.recipe import recipe_inputs
from rendering.models import Asset, Format

pytestmark = pytest.mark.django_db

OUT = Path(__file__).resolve().parents[2] / "var" / "test-output" / "formats"
FORMATS = ("gdn-medium-rectangle", "responsive-landscape", "meta-story", "gdn-mobile-banner",
           "print-a4")
# What each size must show: every role of the copy, except where the layout's priority
# rules give the subline and the disclaimer up for the offer (a 320x50 strip); the product
# wherever there is room for it.
STRIP = "gdn-mobile-banner"
OFFER = {"headline", "price", "cta"}


def _overlap(a, b) -> bool:
    return (a[0] < b[0] + b[2] and b[0] < a[0] + a[2]
            and a[1] < b[1] + b[3] and b[1] < a[1] + a[3])


@pytest.fixture
def assets(django_capture_on_commit_callbacks) -> dict[str, Asset]:
    user = seed_user("art-director", "x")
    workspace = seed_workspace(user)
    brand = seed_brand(workspace)
    seed_products(workspace, user)
    with django_capture_on_commit_callbacks(execute=True):  # the cut-out, once committed
        assert seed_photos(workspace) == 1
    cup = Product.objects.get(workspace=workspace, sku="NW-CUP-90")
    campaign = campaign_create(
        user=user, workspace=workspace, name="Espresso cup launch", brand=brand,
        products=[cup], formats=Format.objects.filter(workspace=None, key__in=FORMATS),
        templates=seed_fill_templates(workspace))
    with django_capture_on_commit_callbacks(execute=True):
        campaign_generate(campaign=campaign, user=user)
    return {a.slot.format.key: a for a in Asset.objects.filter(
        slot__campaign=campaign).select_related("slot__format", "slot__product")}


def test_one_product_composed_at_five_sizes_is_saved_and_holds_its_layout(assets):
    assert set(assets) == set(FORMATS)
    OUT.mkdir(parents=True, exist_ok=True)
    cup = next(iter(assets.values())).slot.product
    photo = cup.photos.get()
    for key, asset in assets.items():
        with default_storage.open(asset.file.name, "rb") as handle:
            data = handle.read()
        image = Image.open(BytesIO(data))
        image.load()
        (OUT / f"{key}-{asset.width}x{asset.height}.png").write_bytes(data)
        if asset.recipe["format"]["dpi"]:
            preview = image.resize((620, round(620 * image.height / image.width)),
                                   Image.Resampling.LANCZOS)
            preview.save(OUT / f"{key}-preview.png")
        design, copy = asset.design, asset.recipe["copy"]
        assert set(copy) == OFFER | {"subline", "disclaimer"}
        layers = design["layers"]
        texts = {la["role"]: la for la in layers if la["kind"] == "text"}
        # Every role is set with the exact copy, or given up by the priority rules (strip).
        assert {r: t["text"] for r, t in texts.items()} == {r: copy[r] for r in texts}
        expected = OFFER if key == STRIP else set(copy)
        assert set(texts) >= expected, (key, design["meta"]["dropped"])
        products = [la for la in layers if la["kind"] == "product"]
        if key == STRIP:
            assert not products
            continue
        # The product region is the catalog cut-out, pixel for pixel, and a real part of
        # the frame; no copy or logo sits on it.
        assert products[0]["sha256"] == photo.cutout_sha256
        fidelity = product_fidelity(image, design, recipe_inputs(asset.recipe))
        assert fidelity["ok"] and fidelity["covered"] == 0, (key, fidelity)
        box = products[0]["box"]
        width, height = design["size"]
        left, top, right, bottom = design["safe"]
        share = box[2] * box[3] / ((width - left - right) * (height - top - bottom))
        assert share >= 0.12, (key, share)
        for layer in layers:
            if layer["kind"] in ("text", "logo"):
                assert not _overlap(layer["box"], box), (key, layer["id"])
        if key == "meta-story":  # nothing but the background in the safe zones
            for layer in layers[1:]:
                assert top <= layer["box"][1] and layer["box"][1] + layer["box"][3] <= (
                    height - bottom), layer["id"]
