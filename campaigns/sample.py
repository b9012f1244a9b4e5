"""The sample workspace the demo seeds: a brand kit, a product feed, prompt templates, and two
campaigns in a banner, a display ad, a story and an A4 poster each:

- "Spring launch": the products with no photo, drawn by the configured model (with the tiny
  random-weight model, noise);
- "Espresso cup launch": the product with a real photo, composed on the CPU from brand-fill
  templates (its cut-out, the exact copy and the logo in a designed layout; no GPU);
- "Espresso cup scenes": the same product in a scene the model paints around its cut-out,
  one master for every format (cut from it, or outpainted where it does not reach), with the
  same layers on top (with the tiny model, the scene is noise; the product and copy exact).

Each step reuses what already exists, so running the demo again renders nothing new.
"""

from __future__ import annotations

import io
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from brands.cutouts import photo_cutout_make
from brands.feed_import import feed_import_run
from brands.models import BrandKit, Membership, Product, Role, Workspace
from brands.services import (
    brand_font_add,
    brand_kit_save,
    brand_logo_add,
    product_photo_add,
    workspace_create,
)
from campaigns.models import Campaign
from campaigns.services import campaign_create, campaign_generate
from rendering.models import AssetKind, Background, Format, JobStatus, PromptTemplate
from rendering.templates import prompt_template_save

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "brands" / "sample"
PHOTOS_DIR = Path(__file__).resolve().parent / "sample_photos"
# The sample shop's real photos by SKU (licences in sample_photos/LICENSES.md): the espresso
# cup and saucer is the product the coffee photo shows.
SAMPLE_PHOTOS = {"NW-CUP-90": PHOTOS_DIR / "coffee.jpg"}
PROMPTS_DIR = Path(settings.BASE_DIR) / "templates" / "prompts"
WORKSPACE_SLUG = "demo"
REVIEWER = "reviewer"
CAMPAIGN_NAME = "Spring launch"
COMPOSED_CAMPAIGN_NAME = "Espresso cup launch"
SCENE_CAMPAIGN_NAME = "Espresso cup scenes"
FORMAT_KEYS = ("responsive-landscape", "gdn-medium-rectangle", "meta-story", "print-a4")
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
)
TEMPLATE_KINDS = {
    "banner": AssetKind.BANNER, "poster": AssetKind.POSTER,
    "story": AssetKind.STORY, "social": AssetKind.SOCIAL,
}
# Brand-fill templates, one per kind the sample formats have (and social, for square feeds):
# a layered design over the brand's fill, composed without a GPU.
FILL_TEMPLATE_KINDS = (AssetKind.BANNER, AssetKind.SOCIAL, AssetKind.STORY, AssetKind.POSTER)
FILL_TEMPLATE_COPY = {
    "body": "{{ product.name }}", "headline": "{{ product.name }}",
    "subline": "{{ product.slogan }}", "cta": "Shop now", "show_price": True,
    "text_mode": "overlay", "background": Background.FILL,
}
# Scene templates: the same words for every kind, so every format shares one painted scene.
SCENE_TEMPLATE_COPY = {
    **FILL_TEMPLATE_COPY, "background": Background.SCENE,
    "body": "a sunlit marble cafe table by a window, morning light, soft shadows, "
            "shallow depth of field",
}


def _logo_png() -> bytes:
    image = Image.new("RGBA", (256, 256), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((16, 16, 240, 240), fill=(10, 79, 140, 255))
    draw.polygon([(64, 184), (128, 72), (192, 184)], fill=(255, 111, 97, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def seed_user(username: str, password: str):
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(username=username)
    if created:
        user.set_password(password)
        user.save()
    return user


def seed_workspace(user) -> Workspace:
    workspace = Workspace.objects.filter(slug=WORKSPACE_SLUG).first()
    if workspace is None:
        return workspace_create(name="Northwind Demo", slug=WORKSPACE_SLUG, owner=user,
                                user=None)
    Membership.objects.get_or_create(workspace=workspace, user=user,
                                     defaults={"role": Role.ADMIN})
    return workspace


def seed_reviewer(workspace: Workspace, password: str):
    """A second member who approves: nobody approves their own renders."""
    user = seed_user(REVIEWER, password)
    Membership.objects.get_or_create(workspace=workspace, user=user,
                                     defaults={"role": Role.APPROVER})
    return user


def seed_brand(workspace: Workspace) -> BrandKit:
    brand = BrandKit.objects.filter(workspace=workspace, name="Northwind Outfitters").first()
    if brand is not None:
        return brand
    brand = brand_kit_save(
        workspace=workspace, user=None, name="Northwind Outfitters",
        palette=[
            {"role": "primary", "name": "Fjord Blue", "hex": "#0A4F8C"},
            {"role": "accent", "name": "Coral", "hex": "#FF6F61"},
            {"role": "background", "name": "Birch", "hex": "#F5EFE6"},
            {"role": "text", "name": "Granite", "hex": "#1B1B1B"},
        ],
        style_keywords=["sunlit", "outdoor", "natural textures", "minimal"],
        tone="Warm, confident, a little playful",
        contact_line="northwind.example", disclaimer="Prices in USD. While stocks last.",
        banned_terms=["cheap", "guaranteed"],
        negative_prompt="blurry, low quality, watermark, distorted text, extra logos",
        languages=["en"],
    )
    brand_logo_add(brand=brand, user=None, name="Northwind mark", uploaded=SimpleUploadedFile(
        "northwind-logo.png", _logo_png(), content_type="image/png"))
    font = next((Path(p) for p in FONT_CANDIDATES if Path(p).exists()), None)
    if font is not None:
        brand_font_add(brand=brand, user=None, uploaded=SimpleUploadedFile(
            font.name, font.read_bytes(), content_type="font/ttf"))
    return brand


def seed_products(workspace: Workspace, user):
    with (SAMPLE_DIR / "products.csv").open("rb") as feed:
        return feed_import_run(workspace=workspace, user=user, fileobj=feed,
                               filename="products.csv")


def seed_photos(workspace: Workspace) -> int:
    """Real product photos (campaigns/sample_photos, licences in LICENSES.md), each added like
    an upload, so its cut-out is made; returns how many were added (0 when they exist)."""
    added = 0
    for sku, path in SAMPLE_PHOTOS.items():
        product = Product.objects.filter(workspace=workspace, sku=sku).first()
        if product is None or product.photos.exists():
            continue
        product_photo_add(product=product, user=None, uploaded=SimpleUploadedFile(
            path.name, path.read_bytes(), content_type="image/jpeg"))
        added += 1
    return added


def seed_templates(workspace: Workspace) -> list[PromptTemplate]:
    templates = []
    for path in sorted(PROMPTS_DIR.glob("*.txt")):
        name = f"Default {path.stem}"
        existing = PromptTemplate.objects.filter(workspace=workspace, name=name).first()
        templates.append(existing or prompt_template_save(
            workspace=workspace, user=None, name=name, kind=TEMPLATE_KINDS[path.stem],
            body=path.read_text(encoding="utf-8").strip(),
        ))
    return templates


def seed_fill_templates(workspace: Workspace, *, scene: bool = False) -> list[PromptTemplate]:
    """The layered templates, one per kind: brand fill for the composed campaign ("Composed
    banner", ...), or with ``scene`` a painted scene for the scene campaign ("Scene banner")."""
    prefix, copy = ("Scene", SCENE_TEMPLATE_COPY) if scene else ("Composed", FILL_TEMPLATE_COPY)
    templates = []
    for kind in FILL_TEMPLATE_KINDS:
        name = f"{prefix} {kind}"
        existing = PromptTemplate.objects.filter(workspace=workspace, name=name).first()
        templates.append(existing or prompt_template_save(
            workspace=workspace, user=None, name=name, kind=kind, **copy))
    return templates


def seed_campaign(workspace: Workspace, brand: BrandKit, user) -> tuple[Campaign, int]:
    """The model-drawn sample campaign (the products with no sample photo, the default
    templates), and how many renders this call queued (0 when all exist)."""
    campaign = Campaign.objects.filter(workspace=workspace, name=CAMPAIGN_NAME).first()
    if campaign is None:
        campaign = campaign_create(
            workspace=workspace, user=user, name=CAMPAIGN_NAME, brand=brand,
            products=Product.objects.filter(workspace=workspace).exclude(
                sku__in=SAMPLE_PHOTOS),
            formats=Format.objects.filter(workspace=None, key__in=FORMAT_KEYS),
            templates=PromptTemplate.objects.filter(workspace=workspace,
                                                    name__startswith="Default "),
        )
    return campaign, _generate_waiting(campaign, user)


def seed_composed_campaign(workspace: Workspace, brand: BrandKit, user, *,
                           scene: bool = False) -> tuple[Campaign, int]:
    """The composed sample campaign: the products with a sample photo, in the same formats,
    from the brand-fill templates (``scene``: the scene templates, a painted scene under the
    layers); and how many jobs this call queued."""
    products = list(Product.objects.filter(workspace=workspace, sku__in=SAMPLE_PHOTOS))
    # A composition takes the cut-out the photo has when it is queued: make any that is
    # missing now (a no-op once made), not after the commit.
    for product in products:
        for photo in product.photos.filter(cutout_made_at__isnull=True):
            photo_cutout_make(photo=photo)
    name = SCENE_CAMPAIGN_NAME if scene else COMPOSED_CAMPAIGN_NAME
    campaign = Campaign.objects.filter(workspace=workspace, name=name).first()
    if campaign is None:
        campaign = campaign_create(
            workspace=workspace, user=user, name=name, brand=brand, products=products,
            formats=Format.objects.filter(workspace=None, key__in=FORMAT_KEYS),
            templates=seed_fill_templates(workspace, scene=scene),
        )
    return campaign, _generate_waiting(campaign, user)


def _generate_waiting(campaign: Campaign, user) -> int:
    """Render only slots with no finished or pending render yet; how many jobs were queued."""
    waiting = campaign.slots.select_related("product", "format").exclude(
        jobs__status__in=[JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SUCCEEDED]
    ).order_by("id")
    if not waiting:
        return 0
    return len(campaign_generate(campaign=campaign, user=user, slots=list(waiting)).jobs)
