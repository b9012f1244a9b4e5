"""Prompt templates and prompt composition.

A prompt template is Django template language over a fixed set of fields, checked when it is
saved and bounded when it renders (B11, B13: rendering/compose/template_sandbox.py). It
renders against plain dicts built here, so even a check we missed reaches no model instance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from rendering.compose.template_sandbox import EXTRA_KEY, template_render, validate_template_body
from rendering.compose.template_sandbox import (
    FIELDS as FIELDS,  # re-exported: the editor lists them
)

# Qwen-Image's recommended positive suffix per language (from its model card).
POSITIVE_MAGIC = {
    "en": ", Ultra HD, 4K, cinematic composition.",
    "zh": ", 超清，4K，电影级构图.",
}
LANGUAGES = {"en": "English", "zh": "Chinese"}


def _orientation(width: int, height: int) -> str:
    if width == height:
        return "square"
    return "landscape" if width > height else "portrait"


def extra_attributes(extra: dict | None) -> dict[str, str]:
    """A feed's other attributes as text a template can show (``product.extra.color``)."""
    return {key: (", ".join(map(str, value)) if isinstance(value, list) else str(value))[:500]
            for key, value in (extra or {}).items() if EXTRA_KEY.fullmatch(key)}


def template_context(*, brand, product, campaign=None, format=None) -> dict:
    """The plain values a template sees (never model instances)."""
    return {
        "brand": {
            "name": brand.name,
            "tone": brand.tone,
            "style_keywords": list(brand.style_keywords),
            "disclaimer": brand.disclaimer,
            "contact_line": brand.contact_line,
            "colors": [c["name"] for c in brand.palette],
            **{f"{role}_color": brand.color(role) or ""
               for role in ("primary", "accent", "background", "text")},
        },
        "product": {
            "name": product.name,
            "sku": product.sku,
            "slogan": product.slogan,
            "description": product.description,
            "price": str(product.price),
            "currency": product.currency,
            "price_text": f"{product.price} {product.currency}",
            "features": list(product.features),
            # From a product feed (brands.feed_apply); empty for products made by hand.
            "brand_name": product.brand_name,
            "sale_price": "" if product.sale_price is None else str(product.sale_price),
            "product_type": product.product_type,
            "extra": extra_attributes(product.extra),
        },
        "campaign": {
            "name": campaign.name if campaign else "",
            "language": campaign.language if campaign else "en",
        },
        "format": {
            "name": format.name if format else "",
            "channel": format.channel if format else "",
            "kind": format.kind if format else "",
            "width": format.width if format else 0,
            "height": format.height if format else 0,
            "orientation": _orientation(format.width, format.height) if format else "",
        },
    }


def prompt_preview(*, workspace, body: str, negative_prompt: str, brand, product,
                   language: str) -> ComposedPrompt:
    """The prompt an unsaved template body gives for one product: checked, composed, and
    nothing saved (the template editor's preview)."""
    from rendering.models import PromptTemplate

    validate_template_body(body)
    unsaved = PromptTemplate(workspace=workspace, body=body, negative_prompt=negative_prompt)
    return compose_prompt(template=unsaved, brand=brand, product=product, language=language)


@dataclass(frozen=True)
class ComposedPrompt:
    prompt: str
    negative_prompt: str
    language: str


def compose_prompt(*, template, brand, product, campaign=None, format=None,
                   language: str = "en") -> ComposedPrompt:
    """Render a template for one product and add the language suffix and brand negatives.

    Raises ValidationError when the template fails its check or its bounds (B11, B13:
    rendering/compose/template_sandbox.py) or the result contains one of the brand's banned terms.
    """
    if language not in POSITIVE_MAGIC:
        raise ValidationError(f"Unsupported language '{language}'. Use one of: "
                              f"{', '.join(sorted(POSITIVE_MAGIC))}.")
    context = template_context(brand=brand, product=product, campaign=campaign, format=format)
    what = f"The template {template.name}" if template.name else "The template"
    text = template_render(template.body, context, what=what)
    text = re.sub(r"\s+", " ", text).strip().rstrip(".,;")
    lowered = text.lower()
    for term in brand.banned_terms:
        if term and re.search(rf"(?<!\w){re.escape(term.lower())}(?!\w)", lowered):
            raise ValidationError(
                f"The prompt for {product.name} contains the banned term '{term}'. "
                "Edit the template or the product text."
            )
    negatives = [n.strip() for n in (brand.negative_prompt, template.negative_prompt) if n.strip()]
    return ComposedPrompt(
        prompt=text + POSITIVE_MAGIC[language],
        negative_prompt=", ".join(negatives),
        language=language,
    )
