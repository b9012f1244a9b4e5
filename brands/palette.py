"""Brand palettes: named hex colors with roles."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

ROLES = ("primary", "secondary", "accent", "background", "text")
_HEX = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
MAX_COLORS = 16


def normalize_hex(value: str) -> str:
    """'#0a4' -> '#00AA44'; raises ValidationError for anything that is not a hex color."""
    match = _HEX.match(value.strip())
    if not match:
        raise ValidationError(f"'{value}' is not a hex color like #0A4F8C.")
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return f"#{digits.upper()}"


def parse_palette(text: str) -> list[dict]:
    """Parse lines of 'role name #hex' (name may have spaces) into a validated palette."""
    colors, errors = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) < 3:
            errors.append(f"Line {number}: write 'role name #hex', e.g. 'primary Ocean #0A4F8C'.")
            continue
        colors.append({"role": parts[0], "name": " ".join(parts[1:-1]), "hex": parts[-1]})
    if errors:
        raise ValidationError(errors)
    return validate_palette(colors)


def validate_palette(colors: list[dict]) -> list[dict]:
    errors, clean = [], []
    if len(colors) > MAX_COLORS:
        raise ValidationError(f"A palette has at most {MAX_COLORS} colors.")
    for color in colors:
        role, name = str(color.get("role", "")).lower(), str(color.get("name", "")).strip()
        if role not in ROLES:
            errors.append(f"'{role}' is not a color role; use one of {', '.join(ROLES)}.")
            continue
        if not name or len(name) > 40:
            errors.append("Each color needs a name of at most 40 characters.")
            continue
        try:
            clean.append({"role": role, "name": name, "hex": normalize_hex(str(color.get("hex")))})
        except ValidationError as exc:
            errors.extend(exc.messages)
    if errors:
        raise ValidationError(errors)
    return clean


def format_palette(colors: list[dict]) -> str:
    return "\n".join(f"{c['role']} {c['name']} {c['hex']}" for c in colors)
