"""Brand and catalog use cases. Each takes the acting user's inputs and owns its transaction."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import ProtectedError

from brands.audit import audit_record
from brands.models import (
    BrandFont,
    BrandKit,
    BrandLogo,
    Membership,
    Product,
    ProductPhoto,
    Role,
    Workspace,
)
from brands.palette import validate_palette
from brands.product_fields import ProductData
from brands.selectors import brand_logo_primary
from brands.signals import (
    brand_kit_changed,
    brand_kit_deleting,
    disclaimer_checked,
    layout_ids,
    product_deleting,
    products_changed,
)
from brands.uploads import clean_font_upload, clean_image_upload, storage_key
from core.broker import task_publish
from core.files import files_delete_on_commit
from core.versioning import values_apply

BRAND_FIELDS = (
    "name", "palette", "style_keywords", "tone", "logo_position", "contact_line", "disclaimer",
    "banned_terms", "negative_prompt", "languages", "preferred_layouts",
)


@transaction.atomic
def workspace_create(*, name: str, slug: str, owner, user) -> Workspace:
    """A new workspace with ``owner`` as its admin, created by ``user`` (None: the system)."""
    workspace = Workspace.objects.create(name=name, slug=slug)
    Membership.objects.create(workspace=workspace, user=owner, role=Role.ADMIN)
    audit_record(workspace_id=workspace.pk, actor=user, verb="workspace.created", obj=workspace,
                 data={"name": name, "slug": slug})
    return workspace


def _layouts_checked(layouts) -> list[str]:
    """The brand's preferred layout ids, each a known one, in order, once."""
    known = layout_ids()
    if not isinstance(layouts, list | tuple) or not all(isinstance(i, str) for i in layouts):
        raise ValidationError({"preferred_layouts": ["Give a list of layout ids."]})
    unknown = [i for i in layouts if i not in known]
    if unknown:
        raise ValidationError({"preferred_layouts": [
            f"Unknown layout {', '.join(map(repr, unknown))}; choose from "
            f"{', '.join(known)}."]})
    return list(dict.fromkeys(layouts))


def brand_kit_save(*, workspace: Workspace, user, brand: BrandKit | None = None,
                   **fields) -> BrandKit:
    """Create or update a brand kit; its version goes up when anything changed. ``user`` is
    the actor the audit row names (None: the system); a save that changes nothing writes
    none."""
    unknown = set(fields) - set(BRAND_FIELDS)
    if unknown:
        raise TypeError(f"unknown brand kit fields: {sorted(unknown)}")
    if "palette" in fields:
        fields["palette"] = validate_palette(fields["palette"])
    if "preferred_layouts" in fields:
        fields["preferred_layouts"] = _layouts_checked(fields["preferred_layouts"])
    if "disclaimer" in fields:  # set on every ad: refused now if an ad could not set it (B14)
        fields["disclaimer"] = disclaimer_checked(fields["disclaimer"], brand=brand)
    with transaction.atomic():
        if brand is None:
            brand = BrandKit.objects.create(workspace=workspace, **fields)
            audit_record(workspace_id=workspace.pk, actor=user, verb="brand.created", obj=brand,
                         data={"name": brand.name, "version": brand.version})
            return brand
        brand, changed, old_version = _update_versioned(brand, workspace, fields)
        if changed:
            brand_kit_changed.send(sender=BrandKit, brand=brand, changed=changed,
                                   old_version=old_version)
            audit_record(workspace_id=workspace.pk, actor=user, verb="brand.changed", obj=brand,
                         data={"changed": changed, "version": brand.version})
    return brand


def _update_versioned(obj, workspace: Workspace, values: dict):
    """Apply ``values`` under a row lock (call inside a transaction); bump ``version`` only
    when something changed, since recipes record versions. Returns the object, the names of
    the changed fields and the version before."""
    obj = type(obj).objects.select_for_update().get(pk=obj.pk, workspace=workspace)
    old_version = obj.version
    changed = values_apply(obj, values)
    if changed:
        obj.save()
    return obj, changed, old_version


def _store(content: bytes, *, workspace_id: int, folder: str, extension: str) -> str:
    key = storage_key(workspace_id=workspace_id, folder=folder, extension=extension)
    return default_storage.save(key, ContentFile(content))


def _store_then_create(model, *, content: bytes, workspace_id: int, folder: str,
                       extension: str, user, verb: str, data: dict, **fields):
    """Write the file, then the row and its audit row; remove the file if the rows cannot be
    written."""
    key = _store(content, workspace_id=workspace_id, folder=folder, extension=extension)
    try:
        with transaction.atomic():
            obj = model.objects.create(file=key, **fields)
            audit_record(workspace_id=workspace_id, actor=user, verb=verb, obj=obj, data=data)
            return obj
    except Exception:
        default_storage.delete(key)
        raise


def brand_font_add(*, brand: BrandKit, user, uploaded) -> BrandFont:
    """Check an uploaded TTF/OTF with fontTools and attach it to the brand kit."""
    font = clean_font_upload(uploaded)
    return _store_then_create(
        BrandFont, content=font.content, workspace_id=brand.workspace_id, folder="fonts",
        extension=font.extension, user=user, verb="brand_font.created",
        data={"brand": brand.pk, "family": font.family, "style": font.style},
        brand=brand, family=font.family, style=font.style, sha256=font.sha256,
    )


def brand_logo_add(*, brand: BrandKit, user, uploaded, name: str = "") -> BrandLogo:
    """Re-encode an uploaded transparent logo and attach it to the brand kit."""
    image = clean_image_upload(uploaded, purpose="logo")
    name = name or "Logo"
    return _store_then_create(
        BrandLogo, content=image.content, workspace_id=brand.workspace_id, folder="logos",
        extension=image.extension, user=user, verb="brand_logo.created",
        data={"brand": brand.pk, "name": name}, brand=brand, name=name, width=image.width,
        height=image.height, sha256=image.sha256,
    )


def brand_logo_make_primary(*, logo: BrandLogo, user) -> BrandLogo:
    """Make this the logo that composed ads show; when that changes what ads show, the brand
    kit's version goes up and ads made with the old logo are flagged stale."""
    with transaction.atomic():
        brand = BrandKit.objects.select_for_update().get(pk=logo.brand_id)
        before = brand_logo_primary(brand)
        brand.logos.filter(is_primary=True).exclude(pk=logo.pk).update(is_primary=False)
        BrandLogo.objects.filter(pk=logo.pk).update(is_primary=True)
        audit_record(workspace_id=brand.workspace_id, actor=user, verb="brand_logo.made_primary",
                     obj=logo, data={"brand": brand.pk, "name": logo.name})
        _logo_in_ads_changed(brand, before)
    logo.refresh_from_db()
    return logo


def brand_logo_delete(*, logo: BrandLogo, user) -> None:
    """Delete a logo (its file goes once the deletion commits); when it was the one ads show,
    the next one takes its place and the brand kit's version goes up."""
    with transaction.atomic():
        brand = BrandKit.objects.select_for_update().get(pk=logo.brand_id)
        before = brand_logo_primary(brand)
        audit_record(workspace_id=brand.workspace_id, actor=user, verb="brand_logo.deleted",
                     obj=logo, data={"brand": brand.pk, "name": logo.name})
        name = logo.file.name
        logo.delete()
        _logo_in_ads_changed(brand, before)
        files_delete_on_commit([name])


def _logo_in_ads_changed(brand: BrandKit, before: BrandLogo | None) -> None:
    """Bump the kit's version (and flag its ads stale) if the logo ads show is not ``before``
    any more. Call inside the transaction that changed the logos, with the kit locked."""
    after = brand_logo_primary(brand)
    if (after and after.pk) == (before and before.pk):
        return
    old_version = brand.version
    brand.version += 1
    brand.save(update_fields=["version", "updated_at"])
    brand_kit_changed.send(sender=BrandKit, brand=brand, changed=["logo"],
                           old_version=old_version)


def product_save(*, workspace: Workspace, user, data: ProductData,
                 product: Product | None = None) -> Product:
    """Create a product or update one; its version goes up when anything changed (and only
    then is an audit row naming ``user`` written)."""
    values = {
        "sku": data.sku, "name": data.name, "slogan": data.slogan,
        "description": data.description, "price": data.price, "currency": data.currency,
        "features": data.features, "landing_url": data.landing_url, "image_url": data.image_url,
    }
    with transaction.atomic():
        if product is None:
            product = Product.objects.create(workspace=workspace, **values)
            audit_record(workspace_id=workspace.pk, actor=user, verb="product.created",
                         obj=product, data={"sku": product.sku, "version": product.version})
            return product
        product, changed, _ = _update_versioned(product, workspace, values)
        if changed:
            products_changed.send(sender=Product, product_ids=[product.pk])
            audit_record(workspace_id=workspace.pk, actor=user, verb="product.changed",
                         obj=product, data={"changed": changed, "version": product.version})
    return product


def product_photo_add(*, product: Product, user, uploaded) -> ProductPhoto:
    """Check and store a photo of the product (an upload, or a feed's image through
    brands.photo_fetch); its cut-out is made by a cpu task once the row commits
    (brands.cutouts)."""
    image = clean_image_upload(uploaded, purpose="photo")
    photo = _store_then_create(
        ProductPhoto, content=image.content, workspace_id=product.workspace_id,
        folder="photos", extension=image.extension, user=user, verb="product_photo.created",
        data={"product": product.pk, "sku": product.sku}, product=product, width=image.width,
        height=image.height, sha256=image.sha256,
    )
    transaction.on_commit(lambda: task_publish("brands.make_cutout", args=[photo.pk]))
    return photo


def brand_kit_delete(*, brand: BrandKit, user) -> None:
    """Delete a brand kit with its fonts, logos and brand-only templates (their files go once
    the deletion commits). Refused while a campaign uses the kit or one of its templates (the
    campaigns app says so through brand_kit_deleting)."""
    with transaction.atomic():
        brand = BrandKit.objects.select_for_update().get(pk=brand.pk)
        brand_kit_deleting.send(sender=BrandKit, brand=brand)
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
    what was made. Its queued or running renders are cancelled (both through
    product_deleting, which the campaigns app answers)."""
    with transaction.atomic():
        product = Product.objects.select_for_update().get(pk=product.pk)
        product_deleting.send(sender=Product, product=product)
        files = [name for pair in product.photos.values_list("file", "cutout")
                 for name in pair]
        audit_record(workspace_id=product.workspace_id, actor=user, verb="product.deleted",
                     obj=product, data={"sku": product.sku, "name": product.name})
        product.delete()
        files_delete_on_commit(files)
