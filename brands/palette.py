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


def _luminance(hex_color: str) -> float:
    """WCAG 2 relative luminance of '#RRGGBB'."""
    channels = [int(hex_color[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: str, second: str) -> float:
    """The WCAG 2 contrast ratio of two hex colors, from 1.0 (none) to 21.0 (black on white)."""
    light, dark = sorted((_luminance(normalize_hex(first)), _luminance(normalize_hex(second))),
                         reverse=True)
    return round((light + 0.05) / (dark + 0.05), 2)


def palette_contrasts(colors: list[dict]) -> list[dict]:
    """Each color with its contrast on white and on the palette's background color, and
    ``warning`` when text in it would be hard to read on either (below 4.5:1, WCAG AA)."""
    background = next((c["hex"] for c in colors if c.get("role") == "background"), None)
    rows = []
    for color in colors:
        on_white = contrast_ratio(color["hex"], "#FFFFFF")
        on_background = (contrast_ratio(color["hex"], background)
                         if background and color.get("role") != "background" else None)
        low = [ratio for ratio in (on_white, on_background) if ratio is not None and ratio < 4.5]
        rows.append({**color, "on_white": on_white, "on_background": on_background,
                     "warning": bool(low) and color.get("role") != "background"})
    return rows
