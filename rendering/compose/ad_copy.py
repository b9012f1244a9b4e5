"""What an ad says, and who draws it: the copy lines a template composes for one product, and
the part of them the model is asked to draw.

Per template, ``text_mode`` says who draws the words: ``native`` (the model draws the quoted
copy), ``overlay`` (the model draws an image without text; the typography layer sets every
line, rendering/compose/typeset.py) or ``both`` (the model draws the headline; the layer sets
subline, price, call to action, disclaimer and logo exactly).
"""

from __future__ import annotations

import re
from decimal import Decimal

from babel.numbers import format_currency

from rendering.compose.prompts import template_context
from rendering.compose.template_sandbox import template_render

TEXT_MODES = ("native", "overlay", "both")
ROLES = ("headline", "subline", "price", "cta", "disclaimer")
# What the model is asked to draw itself, per mode (the layer sets the other roles).
NATIVE_ROLES = {"native": ("headline", "price", "cta"), "overlay": (), "both": ("headline",)}
LOCALES = {"en": "en_US", "zh": "zh_CN"}
# Added to the negative prompt in overlay mode: the layer sets every word on a text-free image.
NO_TEXT_NEGATIVE = "text, letters, words, captions, watermark"


def format_price(amount, currency: str, language: str = "en") -> str:
    """The price as a shopper in ``language`` reads it: '$19.99', '¥199.00'."""
    return format_currency(Decimal(str(amount)), currency, locale=LOCALES.get(language, "en_US"))


def compose_copy(*, template, brand, product, format=None, language: str = "en") -> dict:
    """The copy lines a template sets for one product (template strings rendered in the same
    sandbox as prompts), with the price formatted for the language and the brand's
    disclaimer. Empty lines are left out."""
    values = template_context(brand=brand, product=product, format=format)
    copy = {}
    for role, what in (("headline", "The headline"), ("subline", "The subline"),
                       ("cta", "The call to action")):
        body = getattr(template, role, "") or ""
        # Checked and bounded like a prompt (B13): a bad line is a ValidationError, not a 500.
        text = re.sub(r"\s+", " ", template_render(body, values, what=what)).strip()
        if text:
            copy[role] = text
    if getattr(template, "show_price", False):
        copy["price"] = format_price(product.price, product.currency, language)
    disclaimer = re.sub(r"\s+", " ", brand.disclaimer).strip()  # saved before B14's checks
    if disclaimer:
        copy["disclaimer"] = disclaimer
    return copy


def copy_prompt(copy: dict, mode: str) -> str:
    """The sentence that asks the model to draw its roles' copy, quoted."""
    quoted = [f'"{copy[role]}"' for role in NATIVE_ROLES[mode] if copy.get(role)]
    return f" The image shows the text {' and '.join(quoted)}." if quoted else ""
