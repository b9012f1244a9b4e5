"""Product cut-outs: the product's own pixels on a transparent background (CREATIVE.md).

``cutout_make(image_bytes)`` decides how, in this order:

1. "alpha": the photo has an alpha channel with real transparency (pixels below 255 over at
   least ``ALPHA_MIN_SHARE`` of the area): that channel is used exactly, every pixel as it is.
2. "model:<name>": otherwise the matting model of brands/matting.py predicts the matte.
3. "classical": when no model can be loaded (or ADSTUDIO_MATTING_MODEL="classical"): the
   background colour is estimated from the photo's border, flood-filled from the border with a
   tolerance, and the edge feathered. Good for plain studio backgrounds only, and the note says so.

Everything here is a pure function of the bytes (no database, nothing loaded except through the
``matting`` argument): the same bytes and the same model give the same PNG bytes. EXIF
orientation is applied first, so boxes are in the upright photo's pixels.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

from brands.uploads import MIB, NOT_AN_IMAGE, PILLOW_ERRORS

ALPHA = "alpha"
CLASSICAL = "classical"
MODEL_PREFIX = "model:"
# A photo's alpha channel counts when at least this share of its pixels is not fully opaque.
ALPHA_MIN_SHARE = 0.01
# Matte values at or below NOISE are cleared and at or above SOLID made opaque, so that the
# product's interior keeps its exact pixels and faint noise does not stretch the box.
MATTE_NOISE = 8
MATTE_SOLID = 247
# Below EMPTY or above FULL (share of the photo that is product), the cut-out is doubtful.
COVERAGE_EMPTY = 0.005
COVERAGE_FULL = 0.92
MARGIN_SHARE = 0.02  # margin around the opaque box, share of its longer side (at least 2 px)
CLASSICAL_WORK_SIDE = 1024  # the classical mask is found at most this large, then scaled up

CHECK_IT = "The cut-out may be wrong: check it"
NOTE_EMPTY = (
    f"{CHECK_IT}. Nothing stood out from the background, so the whole photo is used as it is."
)
NOTE_FULL = f"{CHECK_IT}. Almost the whole photo was kept, background included."
NOTE_EDGES = f"{CHECK_IT}. The product touches three or more edges of the photo."
NOTE_CLASSICAL = (
    "Cut out by colour against a plain background ({why}): edges may be rough, and parts of the "
    "product in the background's colour may be missing. Check it."
)
NOTE_BUSY_BACKGROUND = (
    f"{CHECK_IT}. The background is not plain, and without a matting model ({{why}}) only "
    f"plain backgrounds can be removed."
)


class CutoutError(Exception):
    """A photo we cannot cut out; ``message`` is shown to the user as-is."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Cutout:
    png: bytes  # RGBA PNG, cropped to ``crop_box``
    method: str  # "alpha" | "model:<name>" | "classical"
    box: tuple[int, int, int, int]  # opaque bounding box (left, top, right, bottom) in the photo
    crop_box: tuple[int, int, int, int]  # what ``png`` covers: ``box`` plus a margin
    photo_size: tuple[int, int]  # the upright photo's (width, height)
    coverage: float  # share of the photo's area that is product (mean alpha / 255)
    note: str  # "" when nothing looks wrong; otherwise one or two sentences for the UI
    sha256: str  # of ``png``


_DEFAULT = object()


def cutout_make(image_bytes: bytes, *, matting=_DEFAULT) -> Cutout:
    """Cut the product out of a PNG, JPEG or WebP photo. Raises CutoutError for bad input.

    ``matting``: a loaded ``brands.matting.Matting`` (anything with ``name`` and
    ``alpha_matte(rgb) -> "L" image``), None for the classical method, or left out to use the
    model of the settings (``brands.matting.load_matting()``).
    """
    photo = _decode(image_bytes)
    if photo.mode == "RGBA":
        alpha = np.asarray(photo.getchannel("A"))
        if np.count_nonzero(alpha < 255) >= ALPHA_MIN_SHARE * alpha.size:
            return _finish(np.asarray(photo), ALPHA, note="", exact=True)
        photo = photo.convert("RGB")  # an all but opaque alpha channel carries nothing
    rgb = np.asarray(photo)

    why = ""
    if matting is _DEFAULT:
        from brands.matting import MattingUnavailable, load_matting

        try:
            matting = load_matting()
        except MattingUnavailable as exc:
            matting, why = None, str(exc)
        else:
            why = "" if matting is not None else "ADSTUDIO_MATTING_MODEL is classical"
    if matting is not None:
        try:
            matte = np.asarray(matting.alpha_matte(photo), dtype=np.uint8)
        except Exception as exc:  # a broken model must not stop the catalog: fall back
            why = f"the matting model {matting.name} failed: {exc}"
        else:
            if matte.shape != rgb.shape[:2]:
                raise ValueError(f"matte {matte.shape} does not match the photo {rgb.shape[:2]}")
            matte = np.where(matte <= MATTE_NOISE, 0, np.where(matte >= MATTE_SOLID, 255, matte))
            rgba = np.dstack([rgb, matte.astype(np.uint8)])
            return _finish(rgba, f"{MODEL_PREFIX}{matting.name}", note="")
    why = why or "no matting model was given"
    matte, plain = classical_matte(photo)
    note = NOTE_CLASSICAL.format(why=why) if plain else NOTE_BUSY_BACKGROUND.format(why=why)
    return _finish(np.dstack([rgb, matte]), CLASSICAL, note=note)


def classical_matte(photo: Image.Image) -> tuple[np.ndarray, bool]:
    """(matte as uint8 HxW, whether the border looked like a plain background).

    The background colour is the border's median; pixels within a tolerance of it that are
    connected to the border are background; the rest is the product, holes included. The
    edge is pulled in by a pixel and feathered, so no background fringe remains.
    """
    rgb = photo.convert("RGB")
    width, height = rgb.size
    scale = min(1.0, CLASSICAL_WORK_SIDE / max(width, height))
    work = (
        rgb
        if scale == 1.0
        else rgb.resize(
            (max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.BOX
        )
    )
    pixels = np.asarray(work, dtype=np.int16)
    h, w = pixels.shape[:2]
    ring = max(1, round(min(h, w) * 0.01))
    border = np.concatenate([
        pixels[:ring].reshape(-1, 3), pixels[-ring:].reshape(-1, 3),
        pixels[:, :ring].reshape(-1, 3), pixels[:, -ring:].reshape(-1, 3),
    ])  # fmt: skip
    background = np.median(border, axis=0)
    border_distance = np.abs(border - background).max(axis=1)
    spread = float(np.percentile(border_distance, 95))
    plain = spread <= 24
    tolerance = min(64.0, max(20.0, 2.0 * spread + 10.0))
    near = (np.abs(pixels - background).max(axis=2) <= tolerance).astype(np.uint8)

    import cv2  # opencv-python, a dependency of rapidocr-onnxruntime

    count, labels = cv2.connectedComponents(near, connectivity=4)
    edge_labels = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    is_background = np.isin(labels, edge_labels[edge_labels > 0]) if count > 1 else near > 0
    mask = np.where(is_background, 0, 255).astype(np.uint8)
    matte = Image.fromarray(mask, mode="L")
    if scale != 1.0:
        matte = matte.resize((width, height), Image.Resampling.BILINEAR)
    radius = max(1.0, max(width, height) / 1000)
    matte = matte.filter(ImageFilter.MinFilter(3)).filter(ImageFilter.GaussianBlur(radius))
    values = np.asarray(matte)
    values = np.where(values <= MATTE_NOISE, 0, np.where(values >= MATTE_SOLID, 255, values))
    return values.astype(np.uint8), plain


def checkerboard_preview(png: bytes, *, square: int = 12) -> Image.Image:
    """The cut-out over a grey checkerboard (RGB), to look at transparency in the UI or tests."""
    with Image.open(io.BytesIO(png)) as img:
        cut = img.convert("RGBA")
    ys, xs = np.mgrid[0 : cut.height, 0 : cut.width]
    board = np.where(((ys // square + xs // square) % 2)[..., None] == 0, 204, 255)
    background = Image.fromarray(np.repeat(board, 3, axis=2).astype(np.uint8), mode="RGB")
    background.paste(cut, (0, 0), cut)
    return background


def _finish(rgba: np.ndarray, method: str, *, note: str, exact: bool = False) -> Cutout:
    height, width = rgba.shape[:2]
    alpha = rgba[..., 3]
    coverage = float(alpha.sum(dtype=np.int64)) / (255.0 * alpha.size)
    rows = np.flatnonzero(alpha.any(axis=1))
    cols = np.flatnonzero(alpha.any(axis=0))
    notes = [note] if note else []
    if coverage < COVERAGE_EMPTY or rows.size == 0:
        notes.insert(0, NOTE_EMPTY)
        rgba = rgba.copy()
        rgba[..., 3] = 255  # nothing to cut out: the photo as it is, rather than an empty layer
        rows, cols, coverage = np.array([0, height - 1]), np.array([0, width - 1]), 1.0
    elif coverage > COVERAGE_FULL:
        notes.insert(0, NOTE_FULL)
    box = (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)
    touching = (box[0] == 0) + (box[1] == 0) + (box[2] == width) + (box[3] == height)
    if touching >= 3 and not notes and method != ALPHA:
        notes.insert(0, NOTE_EDGES)
    margin = max(2, round(MARGIN_SHARE * max(box[2] - box[0], box[3] - box[1])))
    crop = (
        max(0, box[0] - margin), max(0, box[1] - margin),
        min(width, box[2] + margin), min(height, box[3] + margin),
    )  # fmt: skip
    part = rgba[crop[1] : crop[3], crop[0] : crop[2]]
    if not exact:
        part = np.where(part[..., 3:] == 0, 0, part).astype(np.uint8)  # no hidden colour
    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(part), mode="RGBA").save(out, format="PNG")
    png = out.getvalue()
    return Cutout(
        png=png, method=method, box=box, crop_box=crop, photo_size=(width, height),
        coverage=round(coverage, 4), note=" ".join(notes),
        sha256=hashlib.sha256(png).hexdigest(),
    )  # fmt: skip


def _decode(data: bytes) -> Image.Image:
    """The upright photo as RGB, or RGBA when it has an alpha channel; CutoutError otherwise."""
    if not data:
        raise CutoutError("This photo is empty.")
    limit = settings.ADSTUDIO_MAX_UPLOAD_BYTES
    if len(data) > limit:
        raise CutoutError(f"This photo is larger than the {limit / MIB:g} MB upload limit.")
    try:
        img = Image.open(io.BytesIO(data), formats=["PNG", "JPEG", "WEBP"])
    except UnidentifiedImageError as exc:
        raise CutoutError(NOT_AN_IMAGE) from exc
    except Image.DecompressionBombError as exc:
        raise CutoutError(_too_large()) from exc
    except PILLOW_ERRORS as exc:
        raise CutoutError(f"This photo is damaged, so it could not be read ({exc}).") from exc
    with img:
        if img.width * img.height > settings.ADSTUDIO_MAX_IMAGE_PIXELS:
            raise CutoutError(_too_large(img.width, img.height))
        try:
            img.load()
            upright = ImageOps.exif_transpose(img)
        except Image.DecompressionBombError as exc:
            raise CutoutError(_too_large()) from exc
        except PILLOW_ERRORS as exc:
            raise CutoutError(f"This photo is damaged, so it could not be read ({exc}).") from exc
        if upright.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
            upright = upright.point(lambda v: v / 256).convert("L")  # 16-bit grey: top byte
        has_alpha = upright.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
            "transparency" in upright.info
        )
        return upright.convert("RGBA" if has_alpha else "RGB")


def _too_large(width: int | None = None, height: int | None = None) -> str:
    size = f" ({width} x {height} pixels)" if width and height else ""
    limit = settings.ADSTUDIO_MAX_IMAGE_PIXELS / 1_000_000
    return f"This photo is too large{size}. The limit is {limit:g} megapixels."
