"""Brand checks on a finished asset: palette, logo, safe zones, file weight, copy rules.

Each check answers pass, warn or fail with one sentence a marketer understands, and details
(scores, boxes, encoder settings) for the review screen and the API.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from rendering.compose.contrast import hex_rgb

PASS, WARN, FAIL = "pass", "warn", "fail"
UNVERIFIED = "unverified"  # the check could not verify something: a person has to look
# CIEDE2000 distance under which a color counts as the brand color (about "clearly the same
# hue family" for designers; 2.3 is a just-noticeable difference).
ON_BRAND_DELTA_E = 15.0
PALETTE_PASS_SHARE, PALETTE_WARN_SHARE = 0.4, 0.15
NEUTRAL_CHROMA = 10.0  # whites, greys and blacks never count for or against a palette
LOGO_VISIBLE_DELTA_E, LOGO_FAINT_DELTA_E = 12.0, 5.0
# Characters allowed per copy role on a channel (Meta: headline 27, primary text 125; the
# subline is the primary text).
CHANNEL_LIMITS = {"Meta": {"headline": 27, "subline": 125}}
JPEG_QUALITIES = (95, 30)  # the range the weight check searches


@dataclass
class CheckResult:
    kind: str
    status: str
    reason: str
    details: dict = field(default_factory=dict)


# --- color science -----------------------------------------------------------------------

def srgb_to_lab(rgb) -> np.ndarray:
    """CIELAB (D65) of sRGB values in 0-255, any shape ending in 3."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = c @ np.array([[0.4124564, 0.2126729, 0.0193339],
                        [0.3575761, 0.7151522, 0.1191920],
                        [0.1804375, 0.0721750, 0.9503041]])
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]),
                     200 * (f[..., 1] - f[..., 2])], axis=-1)


def ciede2000(lab1, lab2) -> np.ndarray:
    """The CIEDE2000 color difference (Sharma, Wu and Dalal 2005), broadcasting."""
    lab1, lab2 = np.asarray(lab1, dtype=np.float64), np.asarray(lab2, dtype=np.float64)
    L1, a1, b1 = lab1[..., 0], lab1[..., 1], lab1[..., 2]
    L2, a2, b2 = lab2[..., 0], lab2[..., 1], lab2[..., 2]
    c_bar = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_bar**7 / (c_bar**7 + 25.0**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    dL, dC = L2 - L1, c2p - c1p
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(c1p * c2p == 0, 0, dh)
    dH = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))
    L_bar, C_bar = (L1 + L2) / 2, (c1p + c2p) / 2
    h_sum = h1p + h2p
    h_bar = np.where(np.abs(h1p - h2p) > 180,
                     np.where(h_sum < 360, h_sum + 360, h_sum - 360), h_sum) / 2
    h_bar = np.where(c1p * c2p == 0, h_sum, h_bar)
    t = (1 - 0.17 * np.cos(np.radians(h_bar - 30)) + 0.24 * np.cos(np.radians(2 * h_bar))
         + 0.32 * np.cos(np.radians(3 * h_bar + 6)) - 0.20 * np.cos(np.radians(4 * h_bar - 63)))
    s_l = 1 + 0.015 * (L_bar - 50) ** 2 / np.sqrt(20 + (L_bar - 50) ** 2)
    s_c = 1 + 0.045 * C_bar
    s_h = 1 + 0.015 * C_bar * t
    r_t = (-2 * np.sqrt(C_bar**7 / (C_bar**7 + 25.0**7))
           * np.sin(np.radians(60 * np.exp(-(((h_bar - 275) / 25) ** 2)))))
    return np.sqrt((dL / s_l) ** 2 + (dC / s_c) ** 2 + (dH / s_h) ** 2
                   + r_t * (dC / s_c) * (dH / s_h))


def dominant_colors(image: Image.Image, count: int = 8) -> list[tuple[tuple, float]]:
    """The image's main colors (median cut on a thumbnail) with their share of the area."""
    small = image.convert("RGB")
    small.thumbnail((160, 160))
    quantized = small.quantize(colors=count, method=Image.Quantize.MEDIANCUT)
    palette = quantized.getpalette()
    total = small.width * small.height
    colors = [(tuple(palette[3 * index:3 * index + 3]), n / total)
              for n, index in quantized.getcolors(count)]
    return sorted(colors, key=lambda c: -c[1])


# --- checks ------------------------------------------------------------------------------

def palette_check(image: Image.Image, palette: list[dict]) -> CheckResult:
    """How much of the image's colored area is within reach of a brand color (CIEDE2000)."""
    if not palette:
        return CheckResult("palette", WARN, "The brand kit has no palette to compare with.")
    brand = srgb_to_lab([hex_rgb(c["hex"]) for c in palette])
    colors = []
    for rgb, share in dominant_colors(image):
        lab = srgb_to_lab(rgb)
        distances = ciede2000(lab[None, :], brand)
        nearest = int(np.argmin(distances))
        colors.append({"hex": "#{:02X}{:02X}{:02X}".format(*rgb), "share": round(share, 3),
                       "nearest": palette[nearest]["name"],
                       "delta_e": round(float(distances[nearest]), 1),
                       "neutral": bool(np.hypot(lab[1], lab[2]) < NEUTRAL_CHROMA)})
    chromatic = [c for c in colors if not c["neutral"]]
    colored = sum(c["share"] for c in chromatic)
    details = {"colors": colors, "threshold_delta_e": ON_BRAND_DELTA_E}
    if colored < 0.05:
        return CheckResult("palette", PASS, "The image is mostly neutral (white, grey, black).",
                           details)
    on_brand = sum(c["share"] for c in chromatic if c["delta_e"] <= ON_BRAND_DELTA_E) / colored
    details["on_brand_share"] = round(on_brand, 3)
    percent = f"{on_brand:.0%}"
    if on_brand >= PALETTE_PASS_SHARE:
        return CheckResult("palette", PASS, f"{percent} of the colored area is in the brand "
                           "palette.", details)
    off = max(chromatic, key=lambda c: c["share"] * (c["delta_e"] > ON_BRAND_DELTA_E))
    status = WARN if on_brand >= PALETTE_WARN_SHARE else FAIL
    return CheckResult("palette", status, f"Only {percent} of the colored area is in the brand "
                       f"palette; the main off-brand color is {off['hex']} (ΔE {off['delta_e']} "
                       f"from {off['nearest']}).", details)


def logo_check(image: Image.Image, logo: Image.Image | None, box) -> CheckResult:
    """The logo is where the layer put it, intact, and stands out from what surrounds it."""
    if logo is None or not box:
        return CheckResult("logo", FAIL, "The logo was not placed on this asset.")
    x0, y0, x1, y1 = box
    mark = logo.convert("RGBA").resize((x1 - x0, y1 - y0), Image.Resampling.LANCZOS)
    alpha = np.asarray(mark)[..., 3] > 128
    if not alpha.any():
        return CheckResult("logo", FAIL, "The logo file is fully transparent.")
    placed = np.asarray(image.convert("RGB").crop(tuple(box)), dtype=np.float64)[alpha]
    expected = np.asarray(mark, dtype=np.float64)[..., :3][alpha]
    intact = float(np.mean(np.abs(placed - expected)))
    ring = max(2, round(0.15 * max(x1 - x0, y1 - y0)))
    outer = image.convert("RGB").crop((max(0, x0 - ring), max(0, y0 - ring),
                                       min(image.width, x1 + ring), min(image.height, y1 + ring)))
    around = np.asarray(outer, dtype=np.float64).reshape(-1, 3)
    delta = float(ciede2000(srgb_to_lab(placed.mean(axis=0)), srgb_to_lab(around.mean(axis=0))))
    details = {"box": list(box), "mean_pixel_error": round(intact, 1),
               "delta_e_to_surroundings": round(delta, 1)}
    if intact > 25:
        return CheckResult("logo", FAIL, "The logo is covered or altered where it was placed.",
                           details)
    if delta < LOGO_FAINT_DELTA_E:
        return CheckResult("logo", FAIL, "The logo blends into the background behind it.",
                           details)
    if delta < LOGO_VISIBLE_DELTA_E:
        return CheckResult("logo", WARN, "The logo is faint against the background behind it.",
                           details)
    return CheckResult("logo", PASS, "The logo is visible where the layout placed it.", details)


def forbidden_zones(size: tuple[int, int], safe_zone: dict) -> list[tuple[int, int, int, int]]:
    width, height = size
    zones = {"top": (0, 0, width, safe_zone.get("top", 0)),
             "bottom": (0, height - safe_zone.get("bottom", 0), width, height),
             "left": (0, 0, safe_zone.get("left", 0), height),
             "right": (width - safe_zone.get("right", 0), 0, width, height)}
    return [zone for edge, zone in zones.items() if safe_zone.get(edge)]


def _overlap(a, b) -> float:
    """The share of box ``a`` inside box ``b``."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    area = max(1, (a[2] - a[0]) * (a[3] - a[1]))
    return max(0, w) * max(0, h) / area


def safe_zone_check(size: tuple[int, int], safe_zone: dict, detections: list[dict]) -> CheckResult:
    """No text (as OCR detects it on the finished asset) inside the format's safe zones."""
    zones = forbidden_zones(size, safe_zone)
    inside = [d for d in detections if any(_overlap(d["box"], z) > 0.2 for z in zones)]
    details = {"safe_zone": safe_zone, "text_in_zone": inside}
    if inside:
        words = ", ".join(f"“{d['text']}”" for d in inside[:3])
        return CheckResult("safe_zone", FAIL, f"Text sits where the channel covers it "
                           f"(keep {_zone_words(safe_zone)} free): {words}.", details)
    return CheckResult("safe_zone", PASS, f"No text in the safe zones ({_zone_words(safe_zone)}).",
                       details)


def _zone_words(safe_zone: dict) -> str:
    return ", ".join(f"{px} px {edge}" for edge, px in safe_zone.items() if px)


def encode_within(image: Image.Image, *, max_bytes: int) -> tuple[str, int | None, bytes] | None:
    """The best encoding under ``max_bytes``: lossless PNG when it fits, else the highest JPEG
    quality that does (binary search); None when even the lowest quality is too heavy."""
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG", optimize=True)
    if buffer.tell() <= max_bytes:
        return "PNG", None, buffer.getvalue()

    def jpeg(quality: int) -> bytes:
        out = io.BytesIO()
        image.convert("RGB").save(out, format="JPEG", quality=quality, optimize=True)
        return out.getvalue()

    high, low = JPEG_QUALITIES
    best = None
    while low <= high:
        quality = (low + high) // 2
        data = jpeg(quality)
        if len(data) <= max_bytes:
            best, low = ("JPEG", quality, data), quality + 1
        else:
            high = quality - 1
    return best


def weight_check(image: Image.Image, *, stored_bytes: int, max_kilobytes: int,
                 channel: str) -> CheckResult:
    """The channel's file weight limit (Google Display: 150 KB), searching JPEG quality when
    the stored PNG is heavier."""
    limit = max_kilobytes * 1000
    details = {"limit_kb": max_kilobytes, "stored_kb": round(stored_bytes / 1000, 1)}
    if stored_bytes <= limit:
        return CheckResult("file_weight", PASS, f"{details['stored_kb']} KB of the "
                           f"{max_kilobytes} KB {channel} allows.", details | {"format": "PNG"})
    found = encode_within(image, max_bytes=limit)
    if found is None:
        lowest = JPEG_QUALITIES[1]
        return CheckResult("file_weight", FAIL, f"This image cannot get under {max_kilobytes} KB "
                           f"for {channel}, even as a JPEG at quality {lowest}. Use a simpler "
                           "image or a smaller format.", details)
    fmt, quality, data = found
    details |= {"format": fmt, "quality": quality, "export_kb": round(len(data) / 1000, 1)}
    how = f"JPEG quality {quality}" if quality else "optimized PNG"
    return CheckResult("file_weight", PASS, f"Exports for {channel} as {how} "
                       f"({details['export_kb']} KB of {max_kilobytes} KB).", details)


def _contains(text: str, term: str) -> bool:
    if re.search(r"[\u3040-\u30ff\u3400-\u9fff]", term):  # no word boundaries in CJK
        return term in text
    return re.search(rf"(?<!\w){re.escape(term.lower())}(?!\w)", text.lower()) is not None


def copy_rules_check(copy: dict, *, banned_terms: list[str], channel: str) -> CheckResult:
    """Banned terms anywhere in the copy, and the channel's character limits per role."""
    problems, details = [], {"lengths": {}, "banned": []}
    for role, text in copy.items():
        for term in banned_terms:
            if term and _contains(text, term):
                details["banned"].append({"role": role, "term": term})
                problems.append(f"the {role} uses the banned term “{term}”")
    for role, limit in CHANNEL_LIMITS.get(channel, {}).items():
        length = len(copy.get(role, ""))
        details["lengths"][role] = {"length": length, "limit": limit}
        if length > limit:
            problems.append(f"the {role} has {length} characters; {channel} allows {limit}")
    if problems:
        text = "; ".join(problems)
        return CheckResult("copy_rules", FAIL, text[0].upper() + text[1:] + ".", details)
    return CheckResult("copy_rules", PASS, "No banned terms, and within the channel's character "
                       "limits.", details)
