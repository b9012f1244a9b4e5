"""Brand and catalog use cases. Each takes the acting user's inputs and owns its transaction."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from .models import (
    BrandFont,
    BrandKit,
    BrandLogo,
    Membership,
    Product,
    ProductPhoto,
    Role,
    Workspace,
)
from .palette import validate_palette
from .product_fields import ProductData
from .uploads import clean_font_upload, clean_image_upload, storage_key

BRAND_FIELDS = (
    "name", "palette", "style_keywords", "tone", "logo_position", "contact_line", "disclaimer",
    "banned_terms", "negative_prompt", "languages",
)


@transaction.atomic
def workspace_create(*, name: str, slug: str, owner) -> Workspace:
    """A new workspace with ``owner`` as its admin."""
    workspace = Workspace.objects.create(name=name, slug=slug)
    Membership.objects.create(workspace=workspace, user=owner, role=Role.ADMIN)
    return workspace


def brand_kit_save(*, workspace: Workspace, brand: BrandKit | None = None, **fields) -> BrandKit:
    """Create or update a brand kit; its version goes up when anything changed."""
    unknown = set(fields) - set(BRAND_FIELDS)
    if unknown:
        raise TypeError(f"unknown brand kit fields: {sorted(unknown)}")
    if "palette" in fields:
        fields["palette"] = validate_palette(fields["palette"])
    if brand is None:
        return BrandKit.objects.create(workspace=workspace, **fields)
    with transaction.atomic():
        brand, changed, old_version = _update_versioned(brand, workspace, fields)
        if changed:
            from campaigns.staleness import assets_flag_stale_for_brand

            assets_flag_stale_for_brand(brand, changed=changed, old_version=old_version)
    return brand


def _update_versioned(obj, workspace: Workspace, values: dict):
    """Apply ``values`` under a row lock (call inside a transaction); bump ``version`` only
    when something changed, since recipes record versions. Returns the object, the names of
    the changed fields and the version before."""
    obj = type(obj).objects.select_for_update().get(pk=obj.pk, workspace=workspace)
    old_version = obj.version
    changed = [key for key, value in values.items() if getattr(obj, key) != value]
    if changed:
        for key in changed:
            setattr(obj, key, values[key])
        obj.version += 1
        obj.save()
    return obj, changed, old_version


def _store(content: bytes, *, workspace_id: int, folder: str, extension: str) -> str:
    key = storage_key(workspace_id=workspace_id, folder=folder, extension=extension)
    return default_storage.save(key, ContentFile(content))


def _store_then_create(model, *, content: bytes, workspace_id: int, folder: str,
                       extension: str, **fields):
    """Write the file, then the row; remove the file if the row cannot be written."""
    key = _store(content, workspace_id=workspace_id, folder=folder, extension=extension)
    try:
        with transaction.atomic():
            return model.objects.create(file=key, **fields)
    except Exception:
        default_storage.delete(key)
        raise


def brand_font_add(*, brand: BrandKit, uploaded) -> BrandFont:
    """Check an uploaded TTF/OTF with fontTools and attach it to the brand kit."""
    font = clean_font_upload(uploaded)
    return _store_then_create(
        BrandFont, content=font.content, workspace_id=brand.workspace_id, folder="fonts",
        extension=font.extension, brand=brand, family=font.family, style=font.style,
        sha256=font.sha256,
    )


def brand_logo_add(*, brand: BrandKit, uploaded, name: str = "") -> BrandLogo:
    """Re-encode an uploaded transparent logo and attach it to the brand kit."""
    image = clean_image_upload(uploaded, purpose="logo")
    return _store_then_create(
        BrandLogo, content=image.content, workspace_id=brand.workspace_id, folder="logos",
        extension=image.extension, brand=brand, name=name or "Logo", width=image.width,
        height=image.height, sha256=image.sha256,
    )


def product_save(*, workspace: Workspace, data: ProductData,
                 product: Product | None = None) -> Product:
    """Create a product or update one; its version goes up when anything changed."""
    values = {
        "sku": data.sku, "name": data.name, "slogan": data.slogan,
        "description": data.description, "price": data.price, "currency": data.currency,
        "features": data.features, "landing_url": data.landing_url, "image_url": data.image_url,
    }
    if product is None:
        return Product.objects.create(workspace=workspace, **values)
    with transaction.atomic():
        product, changed, _ = _update_versioned(product, workspace, values)
        if changed:
            from campaigns.staleness import assets_flag_stale_for_products

            assets_flag_stale_for_products([product.pk])
    return product


def product_photo_add(*, product: Product, uploaded) -> ProductPhoto:
    image = clean_image_upload(uploaded, purpose="photo")
    return _store_then_create(
        ProductPhoto, content=image.content, workspace_id=product.workspace_id,
        folder="photos", extension=image.extension, product=product, width=image.width,
        height=image.height, sha256=image.sha256,
    )
