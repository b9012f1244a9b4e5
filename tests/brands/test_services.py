from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from brands.product_fields import clean_product_data
from brands.services import brand_kit_save, product_save
from tests.factories import BrandKitFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_brand_kit_version_goes_up_only_when_something_changed():
    brand = BrandKitFactory()
    same = brand_kit_save(user=None, workspace=brand.workspace, brand=brand, name=brand.name,
                          palette=brand.palette)
    assert same.version == 1
    changed = brand_kit_save(user=None, workspace=brand.workspace, brand=brand, tone="Bold")
    assert (changed.version, changed.tone) == (2, "Bold")


def test_B9_invalid_palette_changes_nothing():
    brand = BrandKitFactory()
    with pytest.raises(ValidationError, match="not a hex color"):
        brand_kit_save(user=None, workspace=brand.workspace, brand=brand,
                       palette=[{"role": "primary", "name": "X", "hex": "#GGGGGG"}])
    brand.refresh_from_db()
    assert brand.version == 1 and brand.palette[0]["hex"] == "#0A4F8C"


def test_brand_kit_of_another_workspace_cannot_be_updated():
    brand = BrandKitFactory()
    other = BrandKitFactory()
    with pytest.raises(type(brand).DoesNotExist):
        brand_kit_save(user=None, workspace=other.workspace, brand=brand, tone="Hijacked")


def test_product_version_goes_up_on_a_price_change():
    product = ProductFactory(price=Decimal("12.99"))
    data = clean_product_data({"sku": product.sku, "name": product.name,
                               "slogan": product.slogan, "price": "9.99", "currency": "USD",
                               "features": product.features})
    updated = product_save(user=None, workspace=product.workspace, product=product, data=data)
    assert (updated.version, updated.price) == (2, Decimal("9.99"))


# --- deleting -------------------------------------------------------------------------------

def _stored(name: str) -> bool:
    from django.core.files.storage import default_storage

    return default_storage.exists(name)


def _slot(campaign, product):
    from campaigns.models import Slot
    from rendering.models import Format

    campaign.products.add(product)
    return Slot.objects.create(campaign=campaign, product=product,
                               format=Format.objects.get(key="gdn-medium-rectangle"))


def test_brand_kit_in_use_by_a_campaign_cannot_be_deleted():
    from brands.models import AuditEvent, BrandKit
    from brands.services import brand_kit_delete
    from tests.factories import CampaignFactory

    campaign = CampaignFactory(name="Spring")
    with pytest.raises(ValidationError, match="brand kit of the campaign “Spring”"):
        brand_kit_delete(brand=campaign.brand, user=None)
    assert BrandKit.objects.filter(pk=campaign.brand_id).exists()
    assert not AuditEvent.objects.exists()


def test_brand_kit_whose_template_a_campaign_chose_cannot_be_deleted():
    from brands.services import brand_kit_delete
    from tests.factories import CampaignFactory, PromptTemplateFactory

    brand = BrandKitFactory()
    campaign = CampaignFactory(workspace=brand.workspace, name="Autumn")
    campaign.templates.add(PromptTemplateFactory(workspace=brand.workspace, brand=brand))
    with pytest.raises(ValidationError, match="Remove it from those campaigns"):
        brand_kit_delete(brand=brand, user=None)


def test_deleting_a_brand_kit_removes_its_logo_files_after_commit(
        django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from brands.models import AuditEvent, BrandKit
    from brands.services import brand_kit_delete, brand_logo_add
    from tests.api.test_catalog_api import png
    from tests.brands.test_uploads import transparent_logo
    from tests.factories import UserFactory

    brand = BrandKitFactory()
    logo = brand_logo_add(user=None, brand=brand, uploaded=SimpleUploadedFile(
        "logo.png", png(transparent_logo())))
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        brand_kit_delete(brand=brand, user=user)
    assert not BrandKit.objects.exists() and not _stored(logo.file.name)
    assert list(AuditEvent.objects.order_by("id").values_list("verb", flat=True)) == [
        "brand_logo.created", "brand.deleted"]
    event = AuditEvent.objects.get(verb="brand.deleted")
    assert (event.verb, event.object_id, event.actor) == ("brand.deleted", brand.pk, user)
    assert event.data["name"] == brand.name


def test_product_with_assets_in_a_campaign_cannot_be_deleted():
    from brands.models import Product
    from brands.services import product_delete
    from tests.factories import CampaignFactory, asset_make

    product = ProductFactory(name="Trail Shoe")
    campaign = CampaignFactory(workspace=product.workspace, name="Spring")
    asset_make(slot=_slot(campaign, product))
    with pytest.raises(ValidationError, match="has assets in the campaign “Spring”"):
        product_delete(product=product, user=None)
    assert Product.objects.filter(pk=product.pk).exists() and _stored(
        product.slots.get().assets.get().file.name)


def test_deleting_a_product_removes_its_slots_and_photo_files_after_commit(
        django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from brands.models import AuditEvent, Product, ProductPhoto
    from brands.services import product_delete, product_photo_add
    from campaigns.models import Slot
    from rendering.models import RenderJob
    from tests.api.test_catalog_api import png
    from tests.brands.test_uploads import transparent_logo
    from tests.factories import CampaignFactory

    product = ProductFactory()
    photo = product_photo_add(user=None, product=product, uploaded=SimpleUploadedFile(
        "photo.png", png(transparent_logo())))
    campaign = CampaignFactory(workspace=product.workspace)
    slot = _slot(campaign, product)
    RenderJob.objects.create(workspace=product.workspace, slot=slot, recipe={})  # queued
    with django_capture_on_commit_callbacks(execute=True):
        product_delete(product=product, user=None)
    assert not Product.objects.exists() and not ProductPhoto.objects.exists()
    assert not Slot.objects.exists() and not RenderJob.objects.exists()
    assert not campaign.products.exists() and not _stored(photo.file.name)
    assert list(AuditEvent.objects.order_by("id").values_list("verb", flat=True)) == [
        "product_photo.created", "product.deleted"]


def test_a_failed_deletion_keeps_the_files(django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from brands.services import product_delete, product_photo_add
    from tests.api.test_catalog_api import png
    from tests.brands.test_uploads import transparent_logo
    from tests.factories import CampaignFactory, asset_make

    product = ProductFactory()
    photo = product_photo_add(user=None, product=product, uploaded=SimpleUploadedFile(
        "photo.png", png(transparent_logo())))
    asset_make(slot=_slot(CampaignFactory(workspace=product.workspace), product))
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        product_delete(product=product, user=None)
    assert _stored(photo.file.name)
