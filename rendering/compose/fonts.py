"""Fonts for the typography layer: the fallback chain, glyph coverage and drawing a line.

A line is split into runs by which font has each character: the brand font first, then the
fonts in ADSTUDIO_FALLBACK_FONTS (Noto Sans CJK, Noto Sans Arabic and Hebrew, DejaVu Sans,
Noto Color Emoji, Symbola by default; missing files are skipped). A character keeps the previous
run's font when it is neutral (spaces, digits, punctuation) or combining, so an Arabic word and
its marks stay in one font and join. Runs are put in visual order with a one-level bidi
resolution (each right-to-left run is shaped by raqm), and colour emoji, which FreeType loads
only at their bitmap size, are drawn at that size and scaled. The layer and the overlay check
both draw with ``render_line``, so the check compares against exactly what the layer meant to
set.
"""

from __future__ import annotations

import io
import os
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from PIL import Image, ImageDraw, ImageFont, features

# Code points that need no glyph of their own: joiners, variation selectors, direction marks.
IGNORABLE = frozenset([0x200C, 0x200D, 0x200E, 0x200F, 0x061C, 0x2060, 0xFEFF, 0x00AD,
                       *range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)])
_ATTACH = frozenset([0x200D, 0x20E3, *range(0xFE00, 0xFE10), *range(0x1F3FB, 0x1F400),
                     *range(0xE0020, 0xE0080)])  # continue the previous cluster
_REGIONAL = range(0x1F1E6, 0x1F200)


@dataclass(frozen=True)
class FontRef:
    """One font of the chain: a file on disk (``path``, ``index``) or a brand font in storage
    (``file``, ``sha256``)."""

    path: str = ""
    index: int = 0
    file: str = ""
    sha256: str = ""

    def as_dict(self) -> dict:
        return ({"file": self.file, "sha256": self.sha256} if self.file
                else {"path": self.path, "index": self.index})

    @classmethod
    def from_dict(cls, data: dict) -> FontRef:
        if data.get("file"):
            return cls(file=data["file"], sha256=data.get("sha256", ""))
        return cls(path=data["path"], index=int(data.get("index", 0)))


@lru_cache(maxsize=16)
def _stored_bytes(name: str, sha256: str) -> bytes:
    from django.core.files.storage import default_storage

    with default_storage.open(name) as fh:
        return fh.read()


def stored_file(name: str, sha256: str) -> io.BytesIO:
    """A stored upload (a brand font or logo) as a file, read once per name and checksum."""
    return io.BytesIO(_stored_bytes(name, sha256))


def _source(ref: FontRef):
    return stored_file(ref.file, ref.sha256) if ref.file else ref.path


@lru_cache(maxsize=32)
def _facts(ref: FontRef) -> tuple[frozenset[int], int | None]:
    """The code points a font maps, and its bitmap size when it is a colour bitmap font."""
    from fontTools.ttLib import TTFont

    font = TTFont(_source(ref), fontNumber=ref.index, lazy=True)
    strike = None
    if "CBLC" in font and "glyf" not in font and "CFF " not in font:
        strike = font["CBLC"].strikes[0].bitmapSizeTable.ppemY
    return frozenset(font.getBestCmap()), strike


def cmap(ref: FontRef) -> frozenset[int]:
    return _facts(ref)[0]


def bitmap_size(ref: FontRef) -> int | None:
    return _facts(ref)[1]


@lru_cache(maxsize=512)
def load(ref: FontRef, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(_source(ref), bitmap_size(ref) or size, index=ref.index)


def fallback_fonts() -> list[FontRef]:
    """The fonts of ADSTUDIO_FALLBACK_FONTS that exist on this machine, in order."""
    return list(_fallbacks(tuple(settings.ADSTUDIO_FALLBACK_FONTS)))


@lru_cache(maxsize=4)
def _fallbacks(entries: tuple[str, ...]) -> tuple[FontRef, ...]:
    refs = []
    for entry in entries:
        path, _, index = entry.partition("#")
        if os.path.exists(path):
            refs.append(FontRef(path=path, index=int(index or 0)))
    return tuple(refs)


def font_chain(style: dict | None) -> list[FontRef]:
    """The brand font (when the style has one), then the fallbacks."""
    font = (style or {}).get("font")
    brand = [FontRef(file=font["file"], sha256=font["sha256"])] if font else []
    return brand + fallback_fonts()


def engine() -> dict:
    """What draws the glyphs here: a reference rendering is pixel-exact only on the same."""
    import PIL

    return {"pillow": PIL.__version__, "freetype": features.version("freetype2"),
            "raqm": features.version("raqm")}


def rtl_supported() -> bool:
    """Right-to-left copy needs Pillow's raqm layout (libraqm with FriBiDi)."""
    return bool(features.check("raqm"))


# --- runs --------------------------------------------------------------------------------

def _direction(ch: str) -> str:
    kind = unicodedata.bidirectional(ch)
    return "L" if kind == "L" else "R" if kind in ("R", "AL") else "N"


def clusters(text: str) -> list[str]:
    """Characters with what attaches to them: combining marks, joiners and what follows a
    zero-width joiner, variation selectors, skin tones, keycaps, flag pairs."""
    out: list[str] = []
    for ch in text:
        cp = ord(ch)
        glue = out and (cp in _ATTACH or unicodedata.combining(ch)
                        or unicodedata.category(ch) in ("Mn", "Me", "Mc")
                        or out[-1].endswith("\u200d")
                        or (cp in _REGIONAL and len(out[-1]) == 1 and ord(out[-1]) in _REGIONAL))
        if glue:
            out[-1] += ch
        else:
            out.append(ch)
    return out


def _needs(cluster: str) -> set[int]:
    return {ord(c) for c in cluster if ord(c) not in IGNORABLE}


def _is_emoji(cluster: str) -> bool:
    cps = [ord(c) for c in cluster]
    return (0xFE0F in cps or 0x200D in cps or any(0x1F3FB <= c < 0x1F400 for c in cps)
            or 0x1F000 <= cps[0] < 0x1FB00)


def _first(chain, needs: set[int], *, emoji: bool = False):
    order = ([f for f in chain if bitmap_size(f)] + chain) if emoji else chain
    return next((f for f in order if needs <= cmap(f)), None)


@dataclass
class Run:
    text: str
    font: FontRef
    rtl: bool


def assign_fonts(text: str, chain: list[FontRef]) -> list[tuple[str, FontRef | None]]:
    """Each cluster of ``text`` with the font that draws it (None: no font has it)."""
    parts = clusters(text)
    neutral = [_direction(p[0]) == "N" and not _is_emoji(p) for p in parts]
    fonts: list[FontRef | None] = [None if n else _first(chain, _needs(p), emoji=_is_emoji(p))
                                   for p, n in zip(parts, neutral, strict=True)]
    # Spaces, digits and punctuation between two letters take one font, the neighbours' when
    # it has them all (a number and its % sign stay one run, so bidi keeps them together).
    i = 0
    while i < len(parts):
        if not neutral[i]:
            i += 1
            continue
        j = i
        while j < len(parts) and neutral[j]:
            j += 1
        needs = set().union(*(_needs(p) for p in parts[i:j]))
        around = [f for f in (fonts[i - 1] if i else None, fonts[j] if j < len(parts) else None)
                  if f is not None and needs <= cmap(f)]
        choice = around[0] if around else _first(chain, needs)
        for k in range(i, j):
            previous = fonts[k - 1] if k else None
            fonts[k] = choice or (previous if previous and _needs(parts[k]) <= cmap(previous)
                                  else _first(chain, _needs(parts[k])))
        i = j
    # Joining scripts: a word in Arabic letters takes one font that has all of it.
    i = 0
    while i < len(parts):
        if unicodedata.bidirectional(parts[i][0]) != "AL":
            i += 1
            continue
        j = i
        while j < len(parts) and unicodedata.bidirectional(parts[j][0]) in ("AL", "NSM"):
            j += 1
        whole = _first(chain, set().union(*(_needs(p) for p in parts[i:j])))
        if whole is not None:
            fonts[i:j] = [whole] * (j - i)
        i = j
    return list(zip(parts, fonts, strict=True))


def undrawable(text: str, chain: list[FontRef]) -> list[str]:
    """The characters of ``text`` that no font of the chain has, once each."""
    missing = []
    for cluster, font in assign_fonts(text, chain):
        if font is None:
            missing += [c for c in cluster if ord(c) not in IGNORABLE
                        and not any(ord(c) in cmap(f) for f in chain)]
    return list(dict.fromkeys(missing))


def has_rtl(text: str) -> bool:
    return any(_direction(c) == "R" for c in text)


def line_runs(text: str, chain: list[FontRef]) -> list[Run]:
    """The runs of one line in visual order, left to right. Neutral characters take the
    direction of the strong characters around them (the paragraph's when those differ), and
    right-to-left runs are reversed as groups (a one-level bidi resolution; raqm shapes each
    run and orders the numbers inside it)."""
    assigned = [(c, f or chain[0]) for c, f in assign_fonts(text, chain)]
    dirs = [_direction(c[0]) for c, _ in assigned]
    base = next((d for d in dirs if d != "N"), "L")
    resolved = list(dirs)
    i = 0
    while i < len(dirs):
        if dirs[i] != "N":
            i += 1
            continue
        j = i
        while j < len(dirs) and dirs[j] == "N":
            j += 1
        before = next((d for d in reversed(dirs[:i]) if d != "N"), base)
        after = next((d for d in dirs[j:] if d != "N"), base)
        resolved[i:j] = [before if before == after else base] * (j - i)
        i = j
    runs: list[Run] = []
    for (cluster, font), direction in zip(assigned, resolved, strict=True):
        rtl = direction == "R"
        if runs and runs[-1].font == font and runs[-1].rtl == rtl:
            runs[-1].text += cluster
        else:
            runs.append(Run(cluster, font, rtl))
    levels = [(1 if r.rtl else 0) if base == "L" else (1 if r.rtl else 2) for r in runs]
    for level in range(max(levels, default=0), 0, -1):  # UAX #9 rule L2
        i = 0
        while i < len(runs):
            if levels[i] < level:
                i += 1
                continue
            j = i
            while j < len(runs) and levels[j] >= level:
                j += 1
            runs[i:j], levels[i:j] = runs[i:j][::-1], levels[i:j][::-1]
            i = j
    return runs


# --- measuring and drawing ---------------------------------------------------------------

def _layout_args(run: Run) -> dict:
    return {"direction": "rtl" if run.rtl else "ltr"} if rtl_supported() else {}


def _scale(run: Run, size: int) -> float:
    strike = bitmap_size(run.font)
    return size / strike if strike else 1.0


def run_width(run: Run, size: int) -> float:
    return load(run.font, size).getlength(run.text, **_layout_args(run)) * _scale(run, size)


def line_width(runs: list[Run], size: int) -> int:
    return round(sum(run_width(r, size) for r in runs))


def line_height(size: int) -> int:
    return round(size * 1.3)


def _baseline(chain: list[FontRef], size: int) -> float:
    """Where the baseline sits in a line box: the primary font's text centred, as before."""
    ascent, descent = load(chain[0], size).getmetrics()
    return line_height(size) / 2 + (ascent - descent) / 2


def render_line(runs: list[Run], size: int, color: tuple, primary: FontRef
                ) -> tuple[Image.Image, int]:
    """The line alone on a transparent layer: the line box (line height tall) with half the
    font size of room above and below for accents and marks; returns the layer and that room
    (the line box starts ``pad`` pixels down the layer)."""
    pad = size // 2
    width = max(1, line_width(runs, size))
    layer = Image.new("RGBA", (width + 2 * pad, line_height(size) + 2 * pad), (0, 0, 0, 0))
    baseline = pad + _baseline([primary], size)
    x = float(pad)
    for run in runs:
        font, scale = load(run.font, size), _scale(run, size)
        if not bitmap_size(run.font):
            ImageDraw.Draw(layer).text((x, baseline), run.text, font=font, anchor="ls",
                                       fill=(*color, 255), **_layout_args(run))
        else:  # a colour bitmap font: draw at its one size, then scale
            ascent, descent = font.getmetrics()
            big = Image.new("RGBA", (max(1, round(font.getlength(run.text))), ascent + descent))
            ImageDraw.Draw(big).text((0, ascent), run.text, font=font, anchor="ls",
                                     embedded_color=True)
            small = big.resize((max(1, round(big.width * scale)),
                                max(1, round(big.height * scale))), Image.Resampling.LANCZOS)
            layer.alpha_composite(small, (round(x), round(baseline - ascent * scale)))
        x += run_width(run, size)
    return layer, pad


def regular_sibling(ref: FontRef) -> FontRef:
    """The regular sibling of a bold fallback file, as "regular" text is drawn
    (NotoSansCJK-Bold.ttc -> -Regular.ttc, DejaVuSans-Bold.ttf -> DejaVuSans.ttf); the file
    itself when there is none."""
    if "-Bold" not in ref.path:
        return ref
    for candidate in (ref.path.replace("-Bold", "-Regular"), ref.path.replace("-Bold", "")):
        if os.path.exists(candidate):
            return FontRef(path=candidate, index=ref.index)
    return ref
