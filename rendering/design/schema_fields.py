"""Field checks of the design document (rendering/design/schema.py holds the contract): the
error collector that gathers every problem by field path, and the checks of one value each -
integers and numbers, colours, sha256 hashes, fractions, choices and boxes on the canvas."""

from __future__ import annotations

import math
import re

from django.core.exceptions import ValidationError

MIN_SIDE, MAX_SIDE = 16, 10000

_HASH = re.compile(r"[0-9a-f]{64}")
_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")


class Errors:
    """Collects problems by field path, so one ValidationError lists them all."""

    def __init__(self):
        self.found: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        self.found.setdefault(path, []).append(message)

    def raise_any(self) -> None:
        if self.found:
            raise ValidationError(self.found)


def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


def quoted(values) -> str:
    return ", ".join(f'"{v}"' for v in values)


def check_color(value, path, errors) -> str | None:
    if isinstance(value, str) and _COLOR.fullmatch(value):
        return value.upper()
    errors.add(path, f'color must be "#RRGGBB" (6 hex digits), not {value!r}.')
    return None


def check_sha(value, path, errors) -> str | None:
    if isinstance(value, str) and _HASH.fullmatch(value):
        return value
    errors.add(path, "sha256 must be 64 lowercase hex digits (the sha256 of the file).")
    return None


def check_fraction(value, path, errors, name="opacity") -> float | None:
    if is_number(value) and 0 <= value <= 1:
        return value
    errors.add(path, f"{name} must be a number from 0 to 1.")
    return None


def check_choice(value, choices, path, errors, name):
    if value in choices:
        return value
    errors.add(path, f"Unknown {name} {value!r}; use one of {quoted(choices)}.")
    return None


def check_box(value, path, ctx, errors, *, safe: bool = False):
    w, h, b = ctx["width"], ctx["height"], ctx["bleed"]
    if not (isinstance(value, list | tuple) and len(value) == 4 and all(map(is_int, value))):
        errors.add(path, f"box must be 4 integers [x, y, width, height] inside the {w}x{h} "
                         "canvas.")
        return None
    x, y, bw, bh = value
    if bw <= 0 or bh <= 0:
        errors.add(path, f"box width and height must be positive (got {bw}x{bh}).")
    elif x < -b or y < -b or x + bw > w + b or y + bh > h + b:
        where = f"the {w}x{h} canvas" + (f" plus {b} px bleed" if b else "")
        errors.add(path, f"box [{x}, {y}, {bw}, {bh}] must lie inside {where}.")
    elif safe:
        left, top, right, bottom = ctx["safe"]
        if x < left or y < top or x + bw > w - right or y + bh > h - bottom:
            errors.add(path, f"box [{x}, {y}, {bw}, {bh}] enters the safe zone; keep it inside "
                             f"[{left}, {top}, {w - right}, {h - bottom}] (left, top, right, "
                             "bottom).")
    return [x, y, bw, bh]
