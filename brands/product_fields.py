"""Product field rules (B9), shared by the dashboard form, the API and the CSV feed import.

``clean_product_data`` turns loosely typed input into a ``ProductData`` or raises
``ProductFieldErrors`` with one list of marketer-readable messages per field.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from brands.currencies import ISO_4217

SKU_MAX = 64
NAME_MAX = 150
SLOGAN_MAX = 200
DESCRIPTION_MAX = 5000
URL_MAX = 2000
FEATURE_MAX = 200
FEATURES_MAX = 20
PRICE_LIMIT = Decimal(10) ** 10  # Product.price is DecimalField(max_digits=12, decimal_places=2)
CENT = Decimal("0.01")

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_PRICE_WITH_CODE = re.compile(
    rf"(?P<code_first>[A-Za-z]{{3}})\s*(?P<amount_last>{_NUMBER.pattern})"
    rf"|(?P<amount_first>{_NUMBER.pattern})\s*(?P<code_last>[A-Za-z]{{3}})"
)
_FEATURE_SEPARATORS = re.compile(r"[;\r\n]+")
_URL_VALIDATOR = URLValidator(schemes=["http", "https"])
_CURRENCY_HINT = "use an ISO 4217 code such as USD, EUR, CNY"


class ProductFieldErrors(Exception):
    """Invalid product input: ``errors`` maps a field name to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in errors.items()))
        self.errors = errors


@dataclass
class ProductData:
    sku: str
    name: str
    slogan: str
    description: str
    price: Decimal
    currency: str
    features: list[str]
    landing_url: str
    image_url: str


class _Invalid(Exception):
    """One field's messages; private so that a bug elsewhere is never mistaken for bad input."""

    def __init__(self, *messages: str):
        super().__init__(*messages)
        self.messages = list(messages)


def _shown(value: str, limit: int = 20) -> str:
    # Echo user input in messages, but never a 10 MB value.
    return value if len(value) <= limit else value[:limit] + "…"


def parse_price(text: str) -> tuple[Decimal, str]:
    """Split a Merchant Center price ("12.99 USD" or "USD 12.99") into amount and currency code.

    Raises ValueError with a message a marketer understands. The amount and the code are only
    parsed here; ``clean_product_data`` checks the range, decimals and that the code exists.
    """
    text = (text or "").strip()
    if not text:
        raise ValueError("Enter a price with its currency, e.g. '12.99 USD'.")
    match = _PRICE_WITH_CODE.fullmatch(text) if len(text) <= 40 else None
    if match is None:
        if "," in text:
            raise ValueError(
                f"Could not read the price '{_shown(text)}': use a decimal point and no "
                "thousands separators, e.g. '1299.99 USD'."
            )
        if _NUMBER.fullmatch(text):
            raise ValueError(f"Add the currency code to the price, e.g. '{text} USD'.")
        raise ValueError(
            f"Could not read the price '{_shown(text)}'; write it as '12.99 USD' or 'USD 12.99'."
        )
    amount = match["amount_first"] or match["amount_last"]
    code = match["code_first"] or match["code_last"]
    return Decimal(amount), code.upper()


def clean_product_data(raw: dict[str, object]) -> ProductData:
    """Validate and normalize product input; missing keys count as empty.

    Text is stripped, the price rounded to cents, the currency upper-cased and features turned
    into a list. Raises ProductFieldErrors listing every invalid field at once.
    """
    cleaners = {
        "sku": _clean_sku,
        "name": lambda v: _clean_text(v, label="product name", max_length=NAME_MAX, required=True),
        "slogan": lambda v: _clean_text(v, label="slogan", max_length=SLOGAN_MAX),
        "description": lambda v: _clean_text(v, label="description", max_length=DESCRIPTION_MAX),
        "price": _clean_price,
        "currency": _clean_currency,
        "features": _clean_features,
        "landing_url": lambda v: _clean_url(v, label="landing page URL"),
        "image_url": lambda v: _clean_url(v, label="image URL"),
    }
    values: dict[str, object] = {}
    errors: dict[str, list[str]] = {}
    for field, clean in cleaners.items():
        try:
            values[field] = clean(raw.get(field))
        except _Invalid as exc:
            errors[field] = exc.messages
    if errors:
        raise ProductFieldErrors(errors)
    return ProductData(**values)


def _clean_text(value: object, *, label: str, max_length: int, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _Invalid(f"Enter the {label} as text.")
    value = value.strip()
    if required and not value:
        raise _Invalid(f"Enter the {label}.")
    if len(value) > max_length:
        raise _Invalid(
            f"Keep the {label} to {max_length:,} characters or fewer (it has {len(value):,})."
        )
    if "\x00" in value:  # PostgreSQL cannot store NUL characters in text
        raise _Invalid(f"The {label} contains an invisible NUL character; remove it.")
    return value


def _clean_sku(value: object) -> str:
    sku = _clean_text(value, label="SKU", max_length=SKU_MAX, required=True)
    # Category C covers control and invisible format characters such as zero-width spaces.
    if any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in sku):
        raise _Invalid("The SKU cannot contain spaces, tabs or invisible characters.")
    return sku


def _clean_price(value: object) -> Decimal:
    if value is None or value == "":
        raise _Invalid("Enter a price, e.g. 12.99.")
    if isinstance(value, Decimal):
        price = value
    elif isinstance(value, int) and not isinstance(value, bool):
        price = Decimal(value)
    elif isinstance(value, float):
        price = Decimal(str(value))  # str() keeps 12.99 as typed, not its binary expansion
    elif isinstance(value, str) and len(value.strip()) <= 40 and _NUMBER.fullmatch(value.strip()):
        price = Decimal(value.strip())
    else:
        raise _Invalid("Enter the price as a number with a decimal point, e.g. 12.99.")
    if not price.is_finite():
        raise _Invalid("Enter the price as a number with a decimal point, e.g. 12.99.")
    if price < 0:
        raise _Invalid("The price cannot be negative.")
    if price >= PRICE_LIMIT:
        raise _Invalid("The price must be below 10,000,000,000.")
    try:
        cents = price.quantize(CENT)
    except InvalidOperation:  # too many digits for the decimal context
        raise _Invalid("Use at most 2 decimal places, e.g. 12.99.") from None
    if cents != price:
        raise _Invalid("Use at most 2 decimal places, e.g. 12.99.")
    return cents


def _clean_currency(value: object) -> str:
    if value is None or value == "":
        raise _Invalid("Enter a currency code such as USD, EUR or CNY.")
    if not isinstance(value, str):
        raise _Invalid(f"Enter the currency as a 3-letter code ({_CURRENCY_HINT}).")
    code = value.strip()
    if code.upper() not in ISO_4217:
        raise _Invalid(f"Unknown currency '{_shown(code, 10)}' ({_CURRENCY_HINT})")
    return code.upper()


def _clean_features(value: object) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        items: list[object] = _FEATURE_SEPARATORS.split(value)
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise _Invalid("Enter the features as a list, or as text separated by ';'.")
    if not all(isinstance(item, str) for item in items):
        raise _Invalid("Each feature must be text.")
    features = [item.strip() for item in items if item.strip()]
    if len(features) > FEATURES_MAX:
        raise _Invalid(f"Add at most {FEATURES_MAX} features (there are {len(features):,}).")
    messages = [
        f"Feature {n} has {len(text):,} characters; keep each feature to {FEATURE_MAX} or fewer."
        for n, text in enumerate(features, start=1)
        if len(text) > FEATURE_MAX
    ]
    if any("\x00" in text for text in features):
        messages.append("A feature contains an invisible NUL character; remove it.")
    if messages:
        raise _Invalid(*messages)
    return features


def _clean_url(value: object, *, label: str) -> str:
    url = _clean_text(value, label=label, max_length=URL_MAX)
    if url:
        try:
            _URL_VALIDATOR(url)
        except ValidationError:
            raise _Invalid(
                f"Enter the {label} as a full web address starting with https:// or http://."
            ) from None
    return url
