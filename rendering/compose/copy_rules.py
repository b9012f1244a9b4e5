"""Copy that can be set: checked before any render (B14), where a person can still fix it.

Run at template save (the copy lines' own text), at brand-kit save (the disclaimer), at generate
(each product's composed copy, before any job is created) and once more before a job's render
(an older recipe). A copy line may not hold a line break (the layer breaks lines per format; a
typed break would be right in one format and wrong in forty), control characters or bidi
overrides (they make the drawn text differ from the copy a reviewer reads), nothing visible, or
more characters than its role allows; every character the layer draws must be in some font of
the chain (rendering/compose/fonts.py), and right-to-left copy needs Pillow's raqm layout.
"""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError

from rendering.compose import fonts
from rendering.compose.ad_copy import NATIVE_ROLES, ROLES
from rendering.compose.style import brand_style

# The most characters a role may have: about what the smallest formats can still set legibly.
COPY_LIMITS = {"headline": 90, "subline": 180, "price": 40, "cta": 40, "disclaimer": 300}
ROLE_NAMES = {"headline": "The headline", "subline": "The subline", "price": "The price",
              "cta": "The call to action", "disclaimer": "The disclaimer"}
LINE_BREAKS = frozenset("\n\r\v\f\x85\u2028\u2029")
BIDI_CONTROLS = frozenset(map(chr, [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]))
# Letters that draw nothing (Hangul fillers, the blank braille pattern, Khmer inherent vowels).
INVISIBLE = frozenset(map(chr, [0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800, 0x180E, 0x17B4,
                                0x17B5]))
_TAGS = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)


def describe(ch: str) -> str:
    """A character as a marketer and a developer can both find it: “€” (U+20AC EURO SIGN)."""
    name = unicodedata.name(ch, "unassigned")
    shown = ch if unicodedata.category(ch)[0] not in "CZ" else ""
    return f"“{shown}” (U+{ord(ch):04X} {name})" if shown else f"U+{ord(ch):04X} {name}"


def visible(text: str) -> bool:
    return any(not (c.isspace() or unicodedata.category(c) in ("Cf", "Cc", "Zs")
                    or c in INVISIBLE or ord(c) in fonts.IGNORABLE) for c in text)


def line_problem(role: str, text: str, *, chain: list[fonts.FontRef] | None,
                 literal: bool = False) -> str | None:
    """Why ``text`` cannot be the ``role`` line of an ad, in one sentence, or None. ``chain``:
    the fonts the layer would draw it with (None: the model draws it). ``literal``: ``text``
    is a template's own text, so a missing visible character is not yet a problem."""
    label = ROLE_NAMES.get(role, f"The {role}")
    if any(c in LINE_BREAKS for c in text):
        return (f"{label} has a line break. An ad sets it as one line and wraps it to fit each "
                "format: remove the line break.")
    bad = [c for c in text if unicodedata.category(c) in ("Cc", "Cs") or c in BIDI_CONTROLS]
    if bad:
        return (f"{label} has a control character, {describe(bad[0])}, that would be set as "
                "something else than what reviewers read. Remove it.")
    if not literal and not visible(text):
        return f"{label} has no visible characters. Write the text, or leave the line empty."
    limit = COPY_LIMITS.get(role)
    if limit and len(text) > limit:
        return (f"{label} has {len(text):,} characters; an ad sets at most {limit}. "
                "Shorten it.")
    if chain is None:
        return None
    missing = fonts.undrawable(text, chain) if chain else list(dict.fromkeys(text))
    if missing:
        shown = ", ".join(describe(c) for c in missing[:3])
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        return (f"{label} has {'a character' if len(missing) == 1 else 'characters'} no "
                f"installed font can draw: {shown}{more}. Remove "
                f"{'it' if len(missing) == 1 else 'them'}, or upload a brand font that has "
                f"{'it' if len(missing) == 1 else 'them'} (operators: ADSTUDIO_FALLBACK_FONTS).")
    if fonts.has_rtl(text) and not fonts.rtl_supported():
        return (f"{label} is right-to-left (Arabic or Hebrew), and this server cannot shape "
                "it: Pillow has no raqm layout. Operators: install libraqm and libfribidi.")
    return None


def drawn_roles(mode: str) -> set[str]:
    """The roles the typography layer sets in ``mode`` (the model draws the others)."""
    return set() if mode == "native" else set(ROLES) - set(NATIVE_ROLES.get(mode, ()))


def copy_problems(copy: dict, *, mode: str, style: dict | None) -> dict[str, str]:
    """Every role of composed ``copy`` that cannot be set, with the reason."""
    drawn = drawn_roles(mode)
    chain = fonts.font_chain(style) if drawn else []
    problems = {}
    for role, text in copy.items():
        problem = line_problem(role, text, chain=chain if role in drawn else None)
        if problem:
            problems[role] = problem
    return problems


def template_copy_validate(*, text_mode: str, lines: dict[str, str], brand=None) -> None:
    """Check a template's copy lines at save: the text the template itself writes (product
    fields are checked at generate, when they are known). Raises {field: [message]}."""
    drawn = drawn_roles(text_mode or "native")
    style = None
    if brand is not None and drawn:
        style = brand_style(brand)
    errors = {}
    for role, source in lines.items():
        if not (source or "").strip():
            continue  # an empty line is left out of the ad
        literal = _TAGS.sub("", source)
        problem = line_problem(role, literal, literal=literal != source,
                               chain=fonts.font_chain(style) if role in drawn else None)
        if problem is None and literal != source:
            bad = [c for c in source if unicodedata.category(c) in ("Cc", "Cs")
                   and c not in LINE_BREAKS]
            problem = line_problem(role, bad[0], chain=None) if bad else None
        if problem:
            errors[role] = [problem]
    if errors:
        raise ValidationError(errors)


def disclaimer_validate(text: str, *, brand=None) -> str:
    """The brand's disclaimer as it is stored (stripped), or a ValidationError
    {"disclaimer": [message]} when an ad could not set it."""
    text = (text or "").strip()
    if not text:
        return ""
    style = None
    if brand is not None and brand.pk:
        style = brand_style(brand)
    problem = line_problem("disclaimer", text, chain=fonts.font_chain(style))
    if problem:
        raise ValidationError({"disclaimer": [problem]})
    return text


def recipe_copy_problem(recipe: dict) -> str | None:
    """Why a render job's copy cannot be set, checked before its render (a job queued before
    these rules, or a retry of one), or None."""
    copy = recipe.get("copy") or {}
    mode = recipe.get("text_mode", "native")
    if not copy:
        return None
    style = recipe.get("brand_style")
    if style is None and drawn_roles(mode) and (recipe.get("brand") or {}).get("id"):
        from brands.models import BrandKit
        brand = BrandKit.objects.filter(pk=recipe["brand"]["id"]).first()
        style = brand_style(brand) if brand else None
    problems = copy_problems(copy, mode=mode, style=style)
    return " ".join(problems.values()).rstrip(".") if problems else None
