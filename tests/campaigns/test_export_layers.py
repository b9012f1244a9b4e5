"""The export fits each channel's weight limit (PNG as approved, else JPEG, listed in the
manifest) and, asked for, carries each composed ad's layered package for a designer; a design's
layers are rendered alone, deterministically, and restack to the composed image."""

import csv
import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from PIL import Image, ImageDraw

from brands.models import Role
from campaigns import export, review
from campaigns.export_files import NO_LAYERS
from campaigns.models import Slot
from rendering.design.compositor import compose
from rendering.design.layer_images import layer_entries, layer_name, layer_pngs
from rendering.design.recipe import recipe_inputs
from rendering.design.schema import design_validate
from rendering.models import Format
from rendering.quality.brand_checks import weight_check
from tests.campaigns.layered import composed_campaign, flat_asset, grainy_photo
from tests.factories import CampaignFactory, MembershipFactory, ProductFactory, asset_make
from tests.rendering.test_compositor import INPUTS, banner

OUT = Path(__file__).resolve().parents[2] / "var" / "test-output" / "layers"
# Restacking tolerance: the compositor blends each paint onto the canvas, a layer image
# blends its paints onto transparency and is kept in 8 bits, so a see-through pixel may round
# differently: at most 1 level per channel, on under 1% of the pixels.
MAX_LEVELS, MAX_SHARE = 1, 0.01


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def studio(catalog, commit):
    return composed_campaign(catalog, commit)


def _restack(layers) -> Image.Image:
    stack = None
    for _, data in layers:
        image = Image.open(io.BytesIO(data))
        assert image.mode == "RGBA"
        stack = image if stack is None else Image.alpha_composite(stack, image)
    return stack.convert("RGB")


def _difference(a: Image.Image, b: Image.Image) -> tuple[int, float]:
    diff = np.abs(np.asarray(a, dtype=np.int16) - np.asarray(b, dtype=np.int16)).max(axis=2)
    return int(diff.max()), float((diff > 0).mean())


def _contact_sheet(layers, composed: Image.Image) -> Image.Image:
    """Each layer over a checkerboard (so its transparency shows), then the composed image."""
    tiles = [Image.open(io.BytesIO(data)) for _, data in layers]
    w, h = composed.size
    scale = 240 / w
    tw, th = 240, round(h * scale)
    sheet = Image.new("RGB", ((tw + 10) * (len(tiles) + 1) + 10, th + 40), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    checker = Image.new("RGB", (tw, th), (150, 150, 158))  # mid greys: white text shows too
    for y in range(0, th, 8):
        for x in range(0, tw, 8):
            if (x // 8 + y // 8) % 2:
                checker.paste((188, 188, 196), (x, y, x + 8, y + 8))
    for i, ((name, _), tile) in enumerate([*zip(layers, tiles, strict=True),
                                            (("composed.png", b""), composed.convert("RGBA"))]):
        cell = checker.copy().convert("RGBA")
        cell.alpha_composite(tile.resize((tw, th), Image.Resampling.LANCZOS))
        sheet.paste(cell.convert("RGB"), (10 + i * (tw + 10), 10))
        draw.text((10 + i * (tw + 10), th + 18), name, fill=(20, 20, 20))
    return sheet


def test_each_layer_renders_alone_deterministically_and_restacks_to_the_composition():
    doc = banner(bleed=12)  # gradient, product over a soft shadow, scrim, texts, button, logo
    layers = layer_pngs(doc, INPUTS)
    assert layers == layer_pngs(doc, INPUTS)  # the same bytes every time
    assert [name for name, _ in layers] == [
        "01-background.png", "02-product.png", "03-shape-scrim.png", "04-text-headline.png",
        "05-text-subline.png", "06-text-price.png", "07-shape-button.png", "08-text-cta.png",
        "09-logo.png"]
    images = [Image.open(io.BytesIO(data)) for _, data in layers]
    assert {im.size for im in images} == {(1200 + 24, 628 + 24)}  # the canvas, bleed included
    assert images[0].getextrema()[3] == (255, 255)  # the background is opaque everywhere
    for image in images[1:]:  # every other layer is clear where it paints nothing
        assert image.getextrema()[3][0] == 0 and image.getextrema()[3][1] > 0
    composed = compose(doc, INPUTS)
    worst, share = _difference(_restack(layers), composed)
    assert worst <= MAX_LEVELS and share < MAX_SHARE, (worst, share)
    OUT.mkdir(parents=True, exist_ok=True)
    _contact_sheet(layers, composed).save(OUT / "banner-layers.png")
    for name, data in layers:
        (OUT / f"banner-{name}").write_bytes(data)


def test_a_composed_ads_layers_restack_to_its_approved_file(studio):
    asset = studio["assets"]["responsive-landscape"]
    design, inputs = asset.design, recipe_inputs(asset.recipe)
    layers = layer_pngs(design, inputs)
    kinds = [entry["kind"] for entry in layer_entries(design_validate(design))]
    assert [name for name, _ in layers] == [layer_name(la, i)
                                            for i, la in enumerate(design["layers"])]
    assert {"background", "product", "text", "logo"} <= set(kinds)
    with default_storage.open(asset.file.name, "rb") as handle:
        approved = Image.open(handle).convert("RGB")
    worst, share = _difference(_restack(layers), approved)
    assert worst <= MAX_LEVELS and share < MAX_SHARE, (worst, share)
    OUT.mkdir(parents=True, exist_ok=True)
    _contact_sheet(layers, approved).save(OUT / "composed-ad-layers.png")


def _zip(client, link) -> zipfile.ZipFile:
    response = client.get(link)
    assert response.status_code == 200, response.content[:200]
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def _manifest(archive) -> dict[str, dict]:
    rows = csv.DictReader(io.StringIO(archive.read("manifest.csv").decode()))
    assert rows.fieldnames == list(export.MANIFEST_COLUMNS)
    return {row["asset_id"]: row for row in rows}


@pytest.fixture
def display(db):
    """A Google Display 300x250 slot with a grainy photo render (PNG over 150 KB) and a light
    one in another slot, both approved."""
    marketer = MembershipFactory(role=Role.MARKETER)
    ws = marketer.workspace
    approver = MembershipFactory(workspace=ws, role=Role.APPROVER).user
    campaign = CampaignFactory(workspace=ws, name="Coffee Week")
    heavy_slot, light_slot = (
        Slot.objects.create(campaign=campaign, product=ProductFactory(workspace=ws, sku=sku),
                            format=Format.objects.get(key="gdn-medium-rectangle"))
        for sku in ("CUP-01", "CUP-02"))
    heavy = flat_asset(slot=heavy_slot, author=marketer.user, image=grainy_photo())
    light = asset_make(slot=light_slot, author=marketer.user, size=(300, 250))
    for asset in (heavy, light):
        review.asset_approve(asset=asset, user=approver)
    return {"campaign": campaign, "marketer": marketer.user, "approver": approver,
            "heavy": heavy, "light": light}


def test_a_heavy_google_display_png_is_exported_as_a_jpeg_under_150_kb(client, display):
    heavy, light = display["heavy"], display["light"]
    assert default_storage.size(heavy.file.name) > 150_000
    archive = _zip(client, export.campaign_export_link(campaign=display["campaign"],
                                                       user=display["marketer"]))
    rows = _manifest(archive)
    row = rows[str(heavy.pk)]
    assert row["file"] == "coffee-week_cup-01_gdn-medium-rectangle_300x250_v1.jpg"
    data = archive.read(row["file"])
    assert len(data) < 150_000 and data[:3] == b"\xff\xd8\xff"
    with Image.open(io.BytesIO(data)) as image:
        assert (image.format, image.size) == ("JPEG", (300, 250))
    assert row["export_format"] == "JPEG" and row["weight_limit_kb"] == "150"
    assert row["export_bytes"] == str(len(data))
    assert row["export_sha256"] == hashlib.sha256(data).hexdigest()
    assert row["sha256"] == heavy.sha256 != row["export_sha256"]  # the approved file's hash
    with default_storage.open(heavy.file.name, "rb") as handle:
        check = weight_check(Image.open(handle), stored_bytes=heavy.file.size,
                             max_kilobytes=150, channel="Google Display")
    assert row["jpeg_quality"] == str(check.details["quality"])  # what the review screen said
    assert f"JPEG quality {row['jpeg_quality']}" in row["export_note"]
    assert "150 KB" in row["export_note"]
    light_row = rows[str(light.pk)]  # a light PNG goes out exactly as approved
    assert light_row["file"].endswith(".png") and light_row["export_format"] == "PNG"
    with default_storage.open(light.file.name, "rb") as handle:
        assert archive.read(light_row["file"]) == handle.read()
    assert light_row["export_sha256"] == light.sha256
    assert (light_row["jpeg_quality"], light_row["export_note"], light_row["layers"]) == (
        "", "", "")
    assert not [n for n in archive.namelist() if n.endswith("/")]  # no packages unless asked


def test_an_image_that_cannot_fit_its_limit_goes_out_as_its_png_with_a_note(client, display):
    campaign = display["campaign"]
    tight = Format.objects.create(workspace=campaign.workspace, key="tight-300x250",
                                  name="Tight", channel="Tiny Network", kind="banner",
                                  width=300, height=250, max_kilobytes=5)
    slot = Slot.objects.create(campaign=campaign, format=tight,
                               product=ProductFactory(workspace=campaign.workspace, sku="CUP-03"))
    asset = flat_asset(slot=slot, author=display["marketer"], image=grainy_photo())
    review.asset_approve(asset=asset, user=display["approver"])
    archive = _zip(client, export.campaign_export_link(campaign=campaign,
                                                       user=display["marketer"]))
    row = _manifest(archive)[str(asset.pk)]
    assert row["file"].endswith("_tight-300x250_300x250_v1.png")
    assert row["export_format"] == "PNG" and row["export_sha256"] == asset.sha256
    assert row["export_note"].startswith("OVER THE LIMIT")
    assert "Tiny Network's 5 KB limit" in row["export_note"]
    assert "JPEG quality 30" in row["export_note"]
    assert int(row["export_bytes"]) > 5000


def test_the_layers_option_adds_each_composed_ads_package(client, studio):
    campaign = studio["campaign"]
    flat_slot = Slot.objects.create(campaign=campaign, product=studio["product"],
                                    format=Format.objects.get(key="meta-feed"))
    flat = flat_asset(slot=flat_slot, author=studio["marketer"], image=grainy_photo((108, 108)))
    review.asset_approve(asset=flat, user=studio["approver"])
    archive = _zip(client, export.campaign_export_link(campaign=campaign,
                                                       user=studio["marketer"], layers=True))
    rows, names = _manifest(archive), set(archive.namelist())
    assert rows[str(flat.pk)]["layers"] == NO_LAYERS
    assert not [n for n in names if n.startswith(rows[str(flat.pk)]["file"][:-4] + "/")]
    for asset in studio["assets"].values():
        row = rows[str(asset.pk)]
        folder = row["file"].rsplit(".", 1)[0] + "/"
        assert row["layers"] == folder
        design_text = archive.read(folder + "design.json").decode()
        assert json.loads(design_text) == asset.design
        assert design_text == json.dumps(asset.design, indent=2, sort_keys=True,
                                         ensure_ascii=False) + "\n"
        inputs = recipe_inputs(asset.recipe)
        expected = layer_pngs(asset.design, inputs)
        for name, data in expected:
            assert archive.read(f"{folder}layers/{name}") == data
        packed = {n[len(folder) + 7:]: archive.read(n) for n in names
                  if n.startswith(folder + "inputs/")}
        roles = {asset.recipe["cutout"]["sha256"]: "cutout", asset.recipe["logo"]["sha256"]:
                 "logo", asset.recipe["font"]["sha256"]: "font"}
        assert set(packed) == {f"{role}-{sha[:12]}{'.ttf' if role == 'font' else '.png'}"
                               for sha, role in roles.items()}
        for name, data in packed.items():  # each is the very input file, by its hash
            assert hashlib.sha256(data).hexdigest().startswith(name.split("-")[1][:12])
        readme = archive.read(folder + "README.txt").decode()
        headline = next(la["text"] for la in asset.design["layers"]
                        if la.get("role") == "headline")
        assert f'"{headline}"' in readme and asset.design_sha256 in readme
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / f"README-{asset.slot.format.key}.txt").write_text(readme)
        for name in [*(n for n, _ in expected), *packed]:
            assert name in readme
        assert set(n for n in names if n.startswith(folder)) == {
            folder + "design.json", folder + "README.txt",
            *(f"{folder}layers/{n}" for n, _ in expected),
            *(f"{folder}inputs/{n}" for n in packed)}


def test_the_dashboard_and_the_api_offer_the_layers_option(client, studio):
    from tests.api.conftest import api_for

    campaign, ws = studio["campaign"], studio["workspace"]
    client.force_login(studio["marketer"])
    page = client.get(reverse("campaign-detail", kwargs={"ws": ws.slug,
                                                         "campaign_id": campaign.pk}))
    assert 'name="layers" value="yes"' in page.content.decode()
    url = reverse("campaign-export", kwargs={"ws": ws.slug, "campaign_id": campaign.pk})
    plain = _zip(Client(), client.post(url)["Location"])
    assert not [n for n in plain.namelist() if n.endswith("design.json")]
    layered = _zip(Client(), client.post(url, {"layers": "yes"})["Location"])
    assert len([n for n in layered.namelist() if n.endswith("design.json")]) == 2
    api = api_for(studio["workspace"].memberships.get(user=studio["marketer"]))
    body = api.post(f"campaigns/{campaign.pk}/export/", {"layers": True}).json()
    assert body["layers"] is True
    assert [n for n in _zip(Client(), body["url"]).namelist() if n.endswith("design.json")]
    assert api.post(f"campaigns/{campaign.pk}/export/", {}).json()["layers"] is False
