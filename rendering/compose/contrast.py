"""Contrast for the typography layer: WCAG 2 luminance and ratios, and the text colour (or
scrim) that reaches 4.5:1 against the pixels behind a box."""

from __future__ import annotations

import numpy as np
from PIL import Image

WCAG_MIN = 4.5


def hex_rgb(value: str) -> tuple[int, int, int]:
    value = value.lstrip("#")
    return tuple(int(value[i:i + 2], 16) for i in (0, 2, 4))


def relative_luminance(rgb) -> np.ndarray:
    """WCAG 2 relative luminance of sRGB values (any shape ending in 3)."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return c @ np.array([0.2126, 0.7152, 0.0722])


def contrast_ratio(lum_a, lum_b):
    hi, lo = np.maximum(lum_a, lum_b), np.minimum(lum_a, lum_b)
    return (hi + 0.05) / (lo + 0.05)


def worst_contrast(image: Image.Image, box, color: tuple) -> float:
    """The contrast of ``color`` against the least favourable 2 % of the pixels in ``box``."""
    pixels = np.asarray(image.crop(tuple(box)).convert("RGB")).reshape(-1, 3)
    pixels = pixels[::max(1, len(pixels) // 20000)]  # a sample is enough on print sizes
    lum = relative_luminance(pixels)
    ratios = contrast_ratio(relative_luminance(color), lum)
    return float(np.percentile(ratios, 2))


def _candidates(style: dict) -> list[tuple[int, int, int]]:
    colors = style.get("colors", {})
    wanted = [colors.get("text"), colors.get("background"), "#FFFFFF", "#111111"]
    return list(dict.fromkeys(hex_rgb(c) for c in wanted if c))


def choose_color(image: Image.Image, box, style: dict):
    """The first brand color (text, then background, then white or near-black) reaching
    4.5:1 behind ``box``; else the best one and a scrim (color, alpha) that makes it."""
    best, best_ratio = None, 0.0
    for color in _candidates(style):
        ratio = worst_contrast(image, box, color)
        if ratio >= WCAG_MIN:
            return color, None, ratio
        if ratio > best_ratio:
            best, best_ratio = color, ratio
    dark_text = relative_luminance(best) < 0.18
    scrim = (255, 255, 255) if dark_text else (0, 0, 0)
    region = image.crop(tuple(box)).convert("RGB")
    for alpha in (0.45, 0.6, 0.75, 0.9, 1.0):
        veiled = Image.blend(region, Image.new("RGB", region.size, scrim), alpha)
        ratio = worst_contrast(veiled, (0, 0, *region.size), best)
        if ratio >= WCAG_MIN:
            return best, (scrim, alpha), ratio
    text = (17, 17, 17) if dark_text else (255, 255, 255)
    return text, (scrim, 1.0), float(contrast_ratio(relative_luminance(text),
                                                    relative_luminance(scrim)))
