"""Prompt templates and prompt composition.

A prompt template is Django template language over a fixed set of fields. It is checked when it
is saved (B11): only the whitelisted fields, tags and filters; no ``load``, ``include`` or
attribute walks into Python objects. It renders against plain dicts built here, so even a check
we missed reaches no model instance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.template import Context, Engine, TemplateSyntaxError
from django.template.base import FilterExpression, Lexer, Parser, TokenType

# Every field a template may use, by root object.
FIELDS: dict[str, frozenset[str]] = {
    "brand": frozenset({
        "name", "tone", "style_keywords", "disclaimer", "contact_line", "colors",
        "primary_color", "accent_color", "background_color", "text_color",
    }),
    "product": frozenset({
        "name", "sku", "slogan", "description", "price", "currency", "price_text", "features",
    }),
    "campaign": frozenset({"name", "language"}),
    "format": frozenset({"name", "channel", "kind", "width", "height", "orientation"}),
}
ALLOWED_TAGS = frozenset({
    "if", "elif", "else", "endif", "for", "empty", "endfor", "comment", "endcomment",
    "spaceless", "endspaceless", "firstof",
})
ALLOWED_FILTERS = frozenset({
    "upper", "lower", "title", "capfirst", "join", "default", "first", "last", "length",
    "truncatewords", "truncatechars", "floatformat", "cut", "slice", "yesno", "wordcount",
})
_IF_WORDS = frozenset({"and", "or", "not", "in", "is", "==", "!=", "<", ">", "<=", ">="})

# Qwen-Image's recommended positive suffix per language (from its model card).
POSITIVE_MAGIC = {
    "en": ", Ultra HD, 4K, cinematic composition.",
    "zh": ", 超清，4K，电影级构图.",
}
LANGUAGES = {"en": "English", "zh": "Chinese"}

_ENGINE = Engine(
    libraries={},
    builtins=["django.template.defaulttags", "django.template.defaultfilters"],
    autoescape=False,
    string_if_invalid="",
)


def _check_expression(text: str, parser: Parser, loop_names: set[str], errors: list[str]) -> None:
    expression = FilterExpression(text, parser)
    for func, _args in expression.filters:
        if func.__name__ not in ALLOWED_FILTERS:
            errors.append(f"Filter '{func.__name__}' is not allowed.")
    var = expression.var
    lookups = getattr(var, "lookups", None)
    if not lookups:  # a literal: "text", 3
        return
    root, rest = lookups[0], lookups[1:]
    if root in loop_names and not rest:
        return
    if root not in FIELDS:
        errors.append(f"Unknown field '{'.'.join(lookups)}'.")
    elif len(rest) != 1 or rest[0] not in FIELDS[root]:
        errors.append(
            f"Unknown field '{'.'.join(lookups)}'. {root} has: {', '.join(sorted(FIELDS[root]))}."
        )


def validate_template_body(body: str) -> None:
    """Raise ValidationError listing every disallowed field, tag or filter in ``body``."""
    errors: list[str] = []
    tokens = Lexer(body).tokenize()
    parser = Parser(tokens, libraries={}, builtins=_ENGINE.template_builtins)
    loop_names: set[str] = set()
    try:
        for token in tokens:
            if token.token_type == TokenType.VAR:
                _check_expression(token.contents, parser, loop_names, errors)
            elif token.token_type == TokenType.BLOCK:
                bits = token.split_contents()
                tag = bits[0]
                if tag not in ALLOWED_TAGS:
                    errors.append(f"Tag '{{% {tag} %}}' is not allowed in prompt templates.")
                elif tag == "for":
                    # {% for name in expr %}
                    if "in" not in bits:
                        errors.append(
                            "A for tag needs the form {% for item in product.features %}."
                        )
                        continue
                    at = bits.index("in")
                    loop_names.update(n.strip(",") for n in bits[1:at])
                    _check_expression(" ".join(bits[at + 1:]), parser, loop_names, errors)
                elif tag in {"if", "elif", "firstof"}:
                    for bit in bits[1:]:
                        if bit not in _IF_WORDS:
                            _check_expression(bit, parser, loop_names, errors)
        _ENGINE.from_string(body)  # the full grammar: unclosed tags, bad syntax
    except TemplateSyntaxError as exc:
        errors.append(f"Template syntax error: {exc}")
    if errors:
        raise ValidationError(list(dict.fromkeys(errors)), code="template_body")


def _orientation(width: int, height: int) -> str:
    if width == height:
        return "square"
    return "landscape" if width > height else "portrait"


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
    from .models import PromptTemplate

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

    Raises ValidationError when the result contains one of the brand's banned terms.
    """
    if language not in POSITIVE_MAGIC:
        raise ValidationError(f"Unsupported language '{language}'. Use one of: "
                              f"{', '.join(sorted(POSITIVE_MAGIC))}.")
    context = template_context(brand=brand, product=product, campaign=campaign, format=format)
    text = _ENGINE.from_string(template.body).render(Context(context, autoescape=False))
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
