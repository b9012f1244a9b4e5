import pytest

from tests.factories import BrandKitFactory


@pytest.mark.django_db
def test_factories_make_a_brand_kit_with_its_primary_color():
    brand = BrandKitFactory()
    assert brand.color("primary") == "#0A4F8C"
