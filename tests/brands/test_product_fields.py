"""B9: product field rules shared by the dashboard, the API and the feed import."""

import re
from decimal import Decimal

import pytest

from brands.currencies import CURRENCY_CHOICES, ISO_4217
from brands.product_fields import (
    ProductData,
    ProductFieldErrors,
    clean_product_data,
    parse_price,
)


def valid_raw(**overrides):
    raw = {
        "sku": "MUG-001",
        "name": "Ocean mug",
        "slogan": "Coffee, calmer",
        "description": "A stoneware mug.",
        "price": "12.99",
        "currency": "usd",
        "features": "dishwasher safe; 350 ml\nhandmade",
        "landing_url": "https://shop.example.com/mug",
        "image_url": "",
    }
    raw.update(overrides)
    return raw


def field_errors(**overrides) -> dict[str, list[str]]:
    with pytest.raises(ProductFieldErrors) as caught:
        clean_product_data(valid_raw(**overrides))
    return caught.value.errors


def test_valid_product_is_normalized():
    data = clean_product_data(valid_raw(name="  Ocean mug  ", price="12.9"))

    assert data == ProductData(
        sku="MUG-001",
        name="Ocean mug",
        slogan="Coffee, calmer",
        description="A stoneware mug.",
        price=Decimal("12.90"),
        currency="USD",
        features=["dishwasher safe", "350 ml", "handmade"],
        landing_url="https://shop.example.com/mug",
        image_url="",
    )


def test_missing_optional_fields_are_empty():
    data = clean_product_data({"sku": "A1", "name": "Mug", "price": 3, "currency": "EUR"})

    assert (data.slogan, data.description, data.features, data.landing_url) == ("", "", [], "")


def test_B9_invalid_negative_price():
    assert field_errors(price="-1.00") == {"price": ["The price cannot be negative."]}


def test_B9_invalid_price_with_3_decimals():
    assert field_errors(price="12.999") == {"price": ["Use at most 2 decimal places, e.g. 12.99."]}


def test_B9_invalid_price_too_large_or_not_a_number():
    assert field_errors(price=Decimal("10000000000")) == {
        "price": ["The price must be below 10,000,000,000."]
    }
    for bad in ("twelve", "NaN", "1e3", True, float("inf"), "1" * 1000):
        assert "price" in field_errors(price=bad), bad


def test_trailing_zero_decimals_are_not_extra_precision():
    assert clean_product_data(valid_raw(price="12.990")).price == Decimal("12.99")
    assert clean_product_data(valid_raw(price=7)).price == Decimal("7.00")


def test_B9_invalid_unknown_currency():
    assert field_errors(currency="XYZ") == {
        "currency": ["Unknown currency 'XYZ' (use an ISO 4217 code such as USD, EUR, CNY)"]
    }


def test_B9_invalid_missing_currency():
    assert list(field_errors(currency="")) == ["currency"]


def test_B9_invalid_10_mb_slogan_is_a_field_error_not_a_truncation():
    errors = field_errors(slogan="x" * (10 * 1024 * 1024))

    assert errors == {
        "slogan": ["Keep the slogan to 200 characters or fewer (it has 10,485,760)."]
    }


def test_B9_invalid_bad_url():
    errors = field_errors(landing_url="javascript:alert(1)", image_url="shop.example.com/a.png")

    assert errors == {
        "landing_url": [
            "Enter the landing page URL as a full web address starting with https:// or http://."
        ],
        "image_url": [
            "Enter the image URL as a full web address starting with https:// or http://."
        ],
    }


def test_B9_invalid_url_longer_than_2000_characters():
    errors = field_errors(landing_url="https://example.com/" + "a" * 2000)

    assert errors["landing_url"][0].startswith("Keep the landing page URL to 2,000 characters")


def test_B9_invalid_sku_rules():
    assert field_errors(sku="") == {"sku": ["Enter the SKU."]}
    assert "sku" in field_errors(sku="A" * 65)
    for bad in ("MUG 001", "MUG\t001", "MUG\x07", "MUG\u200b001"):
        assert field_errors(sku=bad) == {
            "sku": ["The SKU cannot contain spaces, tabs or invisible characters."]
        }, repr(bad)


def test_B9_invalid_name_required_and_limited():
    assert field_errors(name="   ") == {"name": ["Enter the product name."]}
    assert "name" in field_errors(name="n" * 151)
    assert "description" in field_errors(description="d" * 5001)


def test_B9_invalid_features():
    assert field_errors(features=[f"f{i}" for i in range(21)]) == {
        "features": ["Add at most 20 features (there are 21)."]
    }
    assert field_errors(features=["ok", "x" * 201]) == {
        "features": ["Feature 2 has 201 characters; keep each feature to 200 or fewer."]
    }
    assert field_errors(features=["ok", 3]) == {"features": ["Each feature must be text."]}


def test_all_invalid_fields_are_reported_at_once():
    errors = field_errors(sku="", price="-1", currency="ABC", slogan="s" * 201)

    assert set(errors) == {"sku", "price", "currency", "slogan"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12.99 USD", (Decimal("12.99"), "USD")),
        ("USD 12.99", (Decimal("12.99"), "USD")),
        ("  15 eur ", (Decimal("15"), "EUR")),
        ("0.5CNY", (Decimal("0.5"), "CNY")),
        ("-3.00 USD", (Decimal("-3.00"), "USD")),  # parsed; clean_product_data rejects it
        ("12.999 XYZ", (Decimal("12.999"), "XYZ")),  # parsed; clean_product_data rejects it
    ],
)
def test_parse_price_reads_merchant_center_prices(text, expected):
    assert parse_price(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Enter a price with its currency, e.g. '12.99 USD'."),
        ("12.99", "Add the currency code to the price, e.g. '12.99 USD'."),
        ("12,99 EUR", "use a decimal point and no thousands separators"),
        ("1,299.00 USD", "use a decimal point and no thousands separators"),
        ("$12.99", "write it as '12.99 USD' or 'USD 12.99'"),
        ("12.99 dollars", "write it as '12.99 USD' or 'USD 12.99'"),
        ("9" * 100 + " USD", "write it as '12.99 USD' or 'USD 12.99'"),
    ],
)
def test_parse_price_rejects_unreadable_prices(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_price(text)


def test_currency_list_is_the_current_iso_4217_list():
    assert {"USD", "EUR", "CNY", "JPY", "GBP", "XCG", "ZWG"} <= ISO_4217
    assert not {"HRK", "ZWL", "XYZ"} & ISO_4217
    assert len(ISO_4217) > 150
    assert all(len(code) == 3 and code.isupper() for code in ISO_4217)
    assert sorted(CURRENCY_CHOICES) == CURRENCY_CHOICES
    assert ("USD", "USD") in CURRENCY_CHOICES
