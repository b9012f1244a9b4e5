"""Overlay copy verified by drawing it again: the layer set it, so OCR is not the judge.

Every line the typography layer placed is recorded with its string, runs (text, font,
direction), size, colour and box. The check first asks whether each run's font really has each
character (a font without it draws the empty .notdef box, and a reference drawn with the same
font would agree with the box), then draws the line alone on a transparent layer with the same
code the layer uses (rendering/fonts.render_line) and compares it with the finished asset's
pixels in that box:

* ink match: of the reference's ink pixels (alpha >= INK_ALPHA), the share whose colour in the
  asset lies within (1 - alpha) * 255 + INK_TOLERANCE of the reference colour on every
  channel (an antialiased edge may lean towards the background by its uncovered share). A line
  as set is 1.0; a missing, misplaced, swapped or boxed glyph leaves its ink on background.
* extra ink: pixels in the line box, more than EXTRA_MARGIN px from any reference ink, within
  EXTRA_TOLERANCE of the text colour, as a share of the ink pixels (something drawn that the
  copy does not have). The layer picks colours at 4.5:1 against 98 % of the box, so on a
  correct line it stays small.

A line is exact when ink match >= INK_MATCH_MIN and extra ink <= EXTRA_INK_MAX; a line that
cannot be redrawn (set before fonts were recorded, or its brand font is gone) is "not
verified", never a pass, and so is a pixel difference when the asset was set by another
Pillow, FreeType or raqm than the checker's (antialiasing may differ; a font lacking a glyph
is wrong anywhere).
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
from fontTools.ttLib import TTLibError
from PIL import Image

from rendering.compose import fonts
from rendering.compose.contrast import hex_rgb
from rendering.compose.fonts import FontRef, Run

INK_ALPHA = 0.75
INK_TOLERANCE = 8
INK_MATCH_MIN = 0.98
EXTRA_TOLERANCE = 24
EXTRA_MARGIN = 1
EXTRA_INK_MAX = 0.25

EXACT, WRONG, NOT_VERIFIED = "exact", "wrong", "not_verified"


def _dilate(mask: np.ndarray, steps: int) -> np.ndarray:
    out = mask.copy()
    for _ in range(steps):
        grown = out.copy()
        grown[1:, :] |= out[:-1, :]
        grown[:-1, :] |= out[1:, :]
        grown[:, 1:] |= out[:, :-1]
        grown[:, :-1] |= out[:, 1:]
        out = grown
    return out


def _runs(line: dict) -> tuple[list[Run], FontRef] | str:
    """The recorded runs as drawable runs and the primary font, or why they are not."""
    if not line.get("runs") or not line.get("primary"):
        return "it was set before the layer recorded its fonts"
    try:
        runs = [Run(r["text"], FontRef.from_dict(r["font"]), bool(r.get("rtl")))
                for r in line["runs"]]
        primary = FontRef.from_dict(line["primary"])
        for ref in {r.font for r in runs} | {primary}:
            fonts.cmap(ref)
    except (KeyError, OSError, ValueError, TTLibError) as exc:
        return f"a font it was set in cannot be opened ({exc.__class__.__name__})"
    return runs, primary


def verify_line(image: Image.Image, line: dict, *, same_engine: bool = True) -> dict:
    """One placed line against its reference rendering: status, reason and the two scores."""
    verdict = {"role": line["role"], "text": line["text"], "box": line["box"],
               "ink_match": None, "extra_ink": None}
    found = _runs(line)
    if isinstance(found, str):
        return verdict | {"status": NOT_VERIFIED, "reason": f"cannot be redrawn: {found}"}
    runs, primary = found
    if Counter("".join(r.text for r in runs)) != Counter(line["text"]):
        return verdict | {"status": WRONG, "reason": "the recorded runs do not spell the line"}
    for run in runs:
        lacking = [c for c in run.text if ord(c) not in fonts.IGNORABLE
                   and ord(c) not in fonts.cmap(run.font)]
        if lacking:
            from rendering.compose.copy_rules import describe

            return verdict | {"status": WRONG, "reason": f"{describe(lacking[0])} was drawn "
                              "with a font that lacks it (an empty box)"}
    color = hex_rgb(line["color"])
    layer, pad = fonts.render_line(runs, line["size"], color, primary)
    x0, y0 = line["box"][0] - pad, line["box"][1] - pad
    crop = np.asarray(image.convert("RGB").crop((x0, y0, x0 + layer.width, y0 + layer.height)),
                      dtype=np.int16)
    ref = np.asarray(layer, dtype=np.int16)
    inside = np.zeros(ref.shape[:2], dtype=bool)  # the part of the layer on the image
    inside[max(0, -y0):image.height - y0, max(0, -x0):image.width - x0] = True
    alpha = ref[..., 3] / 255.0
    ink = (alpha >= INK_ALPHA) & inside
    if not ink.any():
        return verdict | {"status": NOT_VERIFIED, "reason": "it has nothing visible to compare"}
    distance = np.abs(crop - ref[..., :3]).max(axis=2)
    ink_match = float((distance[ink] <= (1 - alpha[ink]) * 255 + INK_TOLERANCE).mean())
    box = np.zeros_like(ink)
    box[pad:pad + line["box"][3] - line["box"][1], pad:pad + line["box"][2] - line["box"][0]] = 1
    near_text = np.abs(crop - np.array(color, dtype=np.int16)).max(axis=2) <= EXTRA_TOLERANCE
    extra = box & inside & near_text & ~_dilate(alpha > 0, EXTRA_MARGIN)
    extra_ink = float(extra.sum() / ink.sum())
    verdict |= {"ink_match": round(ink_match, 4), "extra_ink": round(extra_ink, 4)}
    if ink_match >= INK_MATCH_MIN and extra_ink <= EXTRA_INK_MAX:
        return verdict | {"status": EXACT, "reason": "matches its reference rendering"}
    if not same_engine:
        return verdict | {"status": NOT_VERIFIED, "reason": (
            f"differs from its reference rendering ({ink_match:.0%} of the letters' pixels "
            "match), but it was set by another version of Pillow or FreeType than the checker's")}
    return verdict | {"status": WRONG, "reason": (
        f"differs from its reference rendering ({ink_match:.0%} of the letters' pixels match, "
        f"{extra_ink:.0%} extra text-coloured pixels)")}


def _spelled(text: str) -> str:
    return re.sub(r"\s+", "", text)


def verify_overlay(image: Image.Image, layout: dict, copy: dict | None = None) -> list:
    """Every role the layer set, each line verified against its reference rendering, and,
    given the ``copy``, its lines together spelling that role's copy."""
    from rendering.quality.text_check import RoleReading

    same = layout.get("engine") == fonts.engine()
    by_role: dict[str, list[dict]] = {}
    for line in layout.get("lines", []):
        by_role.setdefault(line["role"], []).append(verify_line(image, line, same_engine=same))
    readings = []
    for role, verdicts in by_role.items():
        statuses = {v["status"] for v in verdicts}
        status = WRONG if WRONG in statuses else NOT_VERIFIED if NOT_VERIFIED in statuses \
            else EXACT
        expected = " ".join(v["text"] for v in verdicts)
        if copy is not None and _spelled(expected) != _spelled(copy.get(role, "")):
            status = WRONG
            verdicts[0] = verdicts[0] | {"status": WRONG, "reason": (
                f"was set as “{expected}”, which is not the copy “{copy.get(role, '')}”")}
        readings.append(RoleReading(
            role, expected, expected if status == EXACT else "", 0.0 if status == EXACT else 1.0,
            [v["box"] for v in verdicts], "overlay", method="reference", status=status,
            note="; ".join(v["reason"] for v in verdicts if v["status"] != EXACT),
            lines=verdicts))
    return readings
