"""Shared set-ups for the layered-export and asset-layer tests: a campaign of real composed ads
(the catalog's coffee photo cut out, a brand logo and font, a brand-fill template) made by
the compose jobs and approved; and a flat, photo-like render stored as a render stores it."""

from __future__ import annotations

import hashlib
import io
import uuid
from pathlib import Path

import numpy as np
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw, ImageOps

from brands.models import Membership, Role
from brands.services import brand_font_add, brand_logo_add, product_photo_add
from campaigns import review
from campaigns.services import campaign_create, campaign_generate
from rendering.models import Asset, Format, JobKind, JobStatus
from rendering.templates import prompt_template_save
from tests.factories import RenderJobFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]
PHOTO = ROOT / "campaigns" / "sample_photos" / "coffee.jpg"
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
FORMATS = ("gdn-medium-rectangle", "responsive-landscape")


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _logo() -> bytes:
    image = Image.new("RGBA", (160, 80), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, 159, 79), radius=20, fill=(10, 79, 140, 255))
    draw.ellipse((14, 14, 66, 66), fill=(255, 200, 0, 255))
    return png(image)


def composed_campaign(catalog, commit) -> dict:
    """One product with the coffee photo in two Google/responsive formats, composed on the cpu
    queue and approved by an approver; the marketer and approver are members."""
    workspace, brand, products, _ = catalog
    product = products[0]
    with commit():  # the cut-out is made once the photo's row commits
        product_photo_add(product=product, user=None,
                          uploaded=SimpleUploadedFile("coffee.jpg", PHOTO.read_bytes()))
    brand_logo_add(brand=brand, user=None, name="Mark",
                   uploaded=SimpleUploadedFile("mark.png", _logo()))
    brand_font_add(brand=brand, user=None,
                   uploaded=SimpleUploadedFile("brand.ttf", FONT.read_bytes()))
    template = prompt_template_save(
        user=None, workspace=workspace, name="Brand fill", kind="banner",
        body="{{ product.name }}", headline="{{ product.name }}", cta="Shop now",
        show_price=True, text_mode="overlay", background="fill")
    formats = list(Format.objects.filter(workspace=None, key__in=FORMATS))
    campaign = campaign_create(user=None, workspace=workspace, name="Coffee Week", brand=brand,
                               products=[product], formats=formats, templates=[template])
    with commit():
        campaign_generate(campaign=campaign, user=None)
    marketer = Membership.objects.create(user=UserFactory(), workspace=workspace,
                                         role=Role.MARKETER)
    approver = Membership.objects.create(user=UserFactory(), workspace=workspace,
                                         role=Role.APPROVER)
    assets = {}
    for asset in Asset.objects.filter(slot__campaign=campaign).select_related("slot__format"):
        review.asset_approve(asset=asset, user=approver.user)
        assets[asset.slot.format.key] = asset
    assert set(assets) == set(FORMATS) and all(a.design for a in assets.values())
    return {"workspace": workspace, "campaign": campaign, "product": product,
            "marketer": marketer.user, "approver": approver.user, "assets": assets}


def grainy_photo(size=(300, 250), *, grain: float = 14.0) -> Image.Image:
    """The coffee photo cropped to ``size`` with film grain (seeded): a photographic render
    whose lossless PNG is heavy (about 190 KB at 300x250)."""
    image = ImageOps.fit(Image.open(PHOTO).convert("RGB"), size)
    noise = np.random.default_rng(3).normal(0, grain, (size[1], size[0], 3))
    pixels = np.clip(np.asarray(image, dtype=np.float64) + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")


def flat_asset(*, slot, author, image: Image.Image) -> Asset:
    """A flat model render of ``image`` (no design), stored as a render stores one."""
    content = png(image)
    key = f"ws/{slot.campaign.workspace_id}/assets/test/{uuid.uuid4().hex}"
    file = default_storage.save(f"{key}.png", ContentFile(content))
    job = RenderJobFactory(slot=slot, created_by=author, status=JobStatus.SUCCEEDED,
                           kind=JobKind.GENERATE,
                           recipe={"seed": 11, "model": "qwen-image", "prompt": "coffee",
                                   "output_size": list(image.size)})
    return Asset.objects.create(
        workspace_id=slot.campaign.workspace_id, slot=slot, job=job, file=file, thumbnail=file,
        width=image.width, height=image.height, sha256=hashlib.sha256(content).hexdigest(),
        recipe=job.recipe)
