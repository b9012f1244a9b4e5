"""Output formats: the channel presets, Qwen-Image's native buckets, and fitting a render to a
format's exact pixels.

A format is rendered at the bucket nearest its aspect ratio, then cropped (toward the busiest
region, a cheap stand-in for the subject) and resized to its exact size. Print sizes are upscaled
from the bucket, never requested from the model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from PIL import Image, ImageFilter, ImageOps

# Qwen-Image's native resolutions (width, height).
BUCKETS: tuple[tuple[int, int], ...] = (
    (1328, 1328),  # 1:1
    (1664, 928),  # 16:9
    (928, 1664),  # 9:16
    (1472, 1104),  # 4:3
    (1104, 1472),  # 3:4
    (1584, 1056),  # 3:2
    (1056, 1584),  # 2:3
)

MIN_SIDE = 16
MAX_SIDE = 10000
# 3 mm at 300 dpi, for print formats that ask for bleed.
PRINT_DPI = 300


@dataclass(frozen=True)
class Preset:
    key: str
    name: str
    channel: str
    kind: str
    width: int
    height: int
    dpi: int | None = None
    max_kilobytes: int | None = None
    safe_zone: dict | None = None


def _google(key: str, name: str, w: int, h: int) -> Preset:
    return Preset(key, name, "Google Display", "banner", w, h, max_kilobytes=150)


_STORY_SAFE_ZONE = {"top": 250, "bottom": 250}

PRESETS: tuple[Preset, ...] = (
    _google("gdn-medium-rectangle", "Medium rectangle", 300, 250),
    _google("gdn-large-rectangle", "Large rectangle", 336, 280),
    _google("gdn-leaderboard", "Leaderboard", 728, 90),
    _google("gdn-large-leaderboard", "Large leaderboard", 970, 90),
    _google("gdn-billboard", "Billboard", 970, 250),
    _google("gdn-wide-skyscraper", "Wide skyscraper", 160, 600),
    _google("gdn-half-page", "Half page", 300, 600),
    _google("gdn-portrait", "Portrait", 300, 1050),
    _google("gdn-mobile-banner", "Mobile banner", 320, 50),
    _google("gdn-large-mobile-banner", "Large mobile banner", 320, 100),
    _google("gdn-square", "Square", 250, 250),
    _google("gdn-small-square", "Small square", 200, 200),
    Preset("responsive-square", "Square 1:1", "Responsive", "social", 1200, 1200),
    Preset("responsive-landscape", "Landscape 1.91:1", "Responsive", "banner", 1200, 628),
    Preset("responsive-portrait", "Portrait 4:5", "Responsive", "social", 960, 1200),
    Preset("responsive-vertical", "Vertical 9:16", "Responsive", "story", 1080, 1920),
    Preset("meta-feed", "Feed", "Meta", "social", 1080, 1080),
    Preset("meta-feed-portrait", "Feed portrait", "Meta", "social", 1080, 1350),
    Preset("meta-story", "Stories / Reels", "Meta", "story", 1080, 1920,
           safe_zone=_STORY_SAFE_ZONE),
    Preset("meta-link", "Link", "Meta", "banner", 1200, 628),
    Preset("linkedin-landscape", "Landscape", "LinkedIn", "banner", 1200, 628),
    Preset("linkedin-square", "Square", "LinkedIn", "social", 1200, 1200),
    Preset("linkedin-portrait", "Portrait", "LinkedIn", "social", 720, 900),
    Preset("print-a4", "A4 poster", "Print", "poster", 2480, 3508, dpi=PRINT_DPI),
    Preset("print-a3", "A3 poster", "Print", "poster", 3508, 4961, dpi=PRINT_DPI),
    Preset("print-a2", "A2 poster", "Print", "poster", 4961, 7016, dpi=PRINT_DPI),
)


def validate_format_size(width: int, height: int) -> None:
    """Refuse sizes outside the range we can render and store (B12)."""
    for label, value in (("Width", width), ("Height", height)):
        if not MIN_SIDE <= value <= MAX_SIDE:
            raise ValidationError(
                f"{label} must be between {MIN_SIDE} and {MAX_SIDE} pixels (got {value}).",
                code="format_size",
            )


def nearest_bucket(width: int, height: int) -> tuple[int, int]:
    """The Qwen-Image bucket whose aspect ratio is closest (in log space) to width:height."""
    target = math.log(width / height)
    return min(BUCKETS, key=lambda b: abs(math.log(b[0] / b[1]) - target))


def model_request_size(bucket: tuple[int, int], *, scale: float, multiple: int) -> tuple[int, int]:
    """The size to ask the model for: the bucket times ``scale``, rounded to ``multiple``."""
    if not 0 < scale <= 1:
        raise ValueError(f"ADSTUDIO_RENDER_SCALE must be in (0, 1], got {scale}")
    return tuple(max(multiple, round(side * scale / multiple) * multiple) for side in bucket)


def _busiest_offset(strip: Image.Image, window: int, axis: int) -> int:
    """Offset along ``axis`` of the window with the most edge energy (where the subject is)."""
    small = ImageOps.grayscale(strip)
    scale = 64 / max(small.size)
    small = small.resize(
        (max(1, round(small.width * scale)), max(1, round(small.height * scale))),
        Image.Resampling.BILINEAR,
    )
    edges = small.filter(ImageFilter.FIND_EDGES)
    width, height = edges.size
    pixels = edges.load()
    length, across = (width, height) if axis == 0 else (height, width)

    def at(i: int, j: int) -> int:
        # The filter sees false edges on the image's own border: skip that 1 px frame.
        if i in (0, length - 1) or j in (0, across - 1):
            return 0
        return pixels[i, j] if axis == 0 else pixels[j, i]

    profile = [sum(at(i, j) for j in range(across)) for i in range(length)]
    full = strip.width if axis == 0 else strip.height
    if max(profile) == min(profile):  # nothing stands out: centre exactly
        return (full - window) // 2
    win = max(1, min(length, round(window * scale)))
    best, best_sum = 0, -1
    running = sum(profile[:win])
    for start in range(0, length - win + 1):
        if start:
            running += profile[start + win - 1] - profile[start - 1]
        # Prefer the centre on ties so flat images crop symmetrically.
        centred = -abs(start - (length - win) / 2)
        if (running, centred) > (best_sum, -abs(best - (length - win) / 2)):
            best, best_sum = start, running
    return min(full - window, max(0, round(best / scale)))


def crop_box(image: Image.Image, width: int, height: int) -> tuple[int, int, int, int]:
    """The largest box of the target aspect ratio, placed over the busiest region."""
    src_w, src_h = image.size
    target = width / height
    if src_w / src_h > target:  # too wide: crop the sides
        crop_w = max(1, round(src_h * target))
        left = _busiest_offset(image, crop_w, axis=0)
        return (left, 0, left + crop_w, src_h)
    crop_h = max(1, round(src_w / target))
    top = _busiest_offset(image, crop_h, axis=1)
    return (0, top, src_w, top + crop_h)


def fit_to_format(image: Image.Image, width: int, height: int) -> Image.Image:
    """Crop ``image`` to the format's aspect ratio and resize it to exactly width x height."""
    cropped = image.crop(crop_box(image, width, height))
    if cropped.size == (width, height):
        return cropped
    return cropped.resize((width, height), Image.Resampling.LANCZOS)


def sync_presets(using: str = "default", **kwargs) -> None:
    """Create or update the built-in channel presets (run after every migrate)."""
    from rendering.models import Format

    for preset in PRESETS:
        Format.objects.using(using).update_or_create(
            workspace=None, key=preset.key,
            defaults={
                "name": preset.name, "channel": preset.channel, "kind": preset.kind,
                "width": preset.width, "height": preset.height, "dpi": preset.dpi,
                "max_kilobytes": preset.max_kilobytes, "safe_zone": preset.safe_zone or {},
            },
        )
