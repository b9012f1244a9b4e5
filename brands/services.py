"""Brand and catalog use cases. Each takes the acting user's inputs and owns its transaction."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import ProtectedError

from adstudio.files import files_delete_on_commit

from .audit import audit_record
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
from .signals import disclaimer_checked, products_changed
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
    if "disclaimer" in fields:  # set on every ad: refused now if an ad could not set it (B14)
        fields["disclaimer"] = disclaimer_checked(fields["disclaimer"], brand=brand)
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
            products_changed.send(sender=Product, product_ids=[product.pk])
    return product


def product_photo_add(*, product: Product, uploaded) -> ProductPhoto:
    image = clean_image_upload(uploaded, purpose="photo")
    return _store_then_create(
        ProductPhoto, content=image.content, workspace_id=product.workspace_id,
        folder="photos", extension=image.extension, product=product, width=image.width,
        height=image.height, sha256=image.sha256,
    )


def _names(values, limit: int = 3) -> str:
    """'A', 'A and B', or 'A, B, C and 2 more', quoted, for a message."""
    values = [f"“{v}”" for v in dict.fromkeys(values)]
    if len(values) > limit:
        return f"{', '.join(values[:limit])} and {len(values) - limit} more"
    return " and ".join([", ".join(values[:-1]), values[-1]]) if len(values) > 1 else values[0]


def brand_kit_delete(*, brand: BrandKit, user) -> None:
    """Delete a brand kit with its fonts, logos and brand-only templates (their files go once
    the deletion commits). Refused while a campaign uses the kit or one of its templates."""
    from campaigns.models import Campaign

    with transaction.atomic():
        brand = BrandKit.objects.select_for_update().get(pk=brand.pk)
        users = list(Campaign.objects.filter(brand=brand).values_list("name", flat=True))
        if users:
            raise ValidationError(
                f"{brand.name} is the brand kit of the campaign{'s' if len(users) > 1 else ''} "
                f"{_names(users)}. Delete those campaigns first, or keep the brand kit.",
                code="brand_in_use")
        template_users = list(Campaign.objects.filter(templates__brand=brand)
                              .values_list("name", flat=True))
        if template_users:
            raise ValidationError(
                f"A template of {brand.name} is chosen in the campaign"
                f"{'s' if len(set(template_users)) > 1 else ''} {_names(template_users)}. "
                "Remove it from those campaigns first.", code="brand_template_in_use")
        files = [*brand.fonts.values_list("file", flat=True),
                 *brand.logos.values_list("file", flat=True)]
        audit_record(workspace_id=brand.workspace_id, actor=user, verb="brand.deleted",
                     obj=brand, data={"name": brand.name, "version": brand.version})
        try:
            brand.delete()
        except ProtectedError as exc:  # a campaign was created with it meanwhile
            raise ValidationError(f"{brand.name} is used by a campaign; delete that campaign "
                                  "first.", code="brand_in_use") from exc
        files_delete_on_commit(files)


def product_delete(*, product: Product, user) -> None:
    """Delete a product with its photos (their files go once the deletion commits) and its
    slots in campaigns. Refused while any campaign has assets of it: those are the record of
    what was made. Its queued or running renders are cancelled."""
    from rendering.models import Asset, JobStatus, RenderJob

    with transaction.atomic():
        product = Product.objects.select_for_update().get(pk=product.pk)
        # Cancel first: a render finishing now can no longer store an asset for these slots.
        RenderJob.objects.filter(
            slot__product=product, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]
        ).update(cancel_requested=True)
        RenderJob.objects.filter(slot__product=product, status=JobStatus.QUEUED).update(
            status=JobStatus.CANCELLED)
        campaigns = list(Asset.objects.filter(slot__product=product)
                         .order_by("slot__campaign__name")
                         .values_list("slot__campaign__name", flat=True).distinct())
        if campaigns:
            raise ValidationError(
                f"{product.name} ({product.sku}) has assets in the campaign"
                f"{'s' if len(campaigns) > 1 else ''} {_names(campaigns)}. Delete "
                f"{'those campaigns' if len(campaigns) > 1 else 'that campaign'} first, "
                "or keep the product.", code="product_has_assets")
        files = list(product.photos.values_list("file", flat=True))
        audit_record(workspace_id=product.workspace_id, actor=user, verb="product.deleted",
                     obj=product, data={"sku": product.sku, "name": product.name})
        product.delete()
        files_delete_on_commit(files)
