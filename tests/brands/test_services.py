from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from brands.product_fields import clean_product_data
from brands.services import brand_kit_save, product_save
from tests.factories import BrandKitFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_brand_kit_version_goes_up_only_when_something_changed():
    brand = BrandKitFactory()
    same = brand_kit_save(workspace=brand.workspace, brand=brand, name=brand.name,
                          palette=brand.palette)
    assert same.version == 1
    changed = brand_kit_save(workspace=brand.workspace, brand=brand, tone="Bold")
    assert (changed.version, changed.tone) == (2, "Bold")


def test_B9_invalid_palette_changes_nothing():
    brand = BrandKitFactory()
    with pytest.raises(ValidationError, match="not a hex color"):
        brand_kit_save(workspace=brand.workspace, brand=brand,
                       palette=[{"role": "primary", "name": "X", "hex": "#GGGGGG"}])
    brand.refresh_from_db()
    assert brand.version == 1 and brand.palette[0]["hex"] == "#0A4F8C"


def test_brand_kit_of_another_workspace_cannot_be_updated():
    brand = BrandKitFactory()
    other = BrandKitFactory()
    with pytest.raises(type(brand).DoesNotExist):
        brand_kit_save(workspace=other.workspace, brand=brand, tone="Hijacked")


def test_product_version_goes_up_on_a_price_change():
    product = ProductFactory(price=Decimal("12.99"))
    data = clean_product_data({"sku": product.sku, "name": product.name,
                               "slogan": product.slogan, "price": "9.99", "currency": "USD",
                               "features": product.features})
    updated = product_save(workspace=product.workspace, product=product, data=data)
    assert (updated.version, updated.price) == (2, Decimal("9.99"))
