"""Validate and re-encode uploaded logos, product photos and fonts (RELIABILITY.md B1-B8).

Nothing the user sent is stored as-is: images are decoded and written into a fresh PNG (or
JPEG for opaque photos), fonts are parsed and re-serialized, and files are stored under
generated keys. Every refusal is an ``UploadRejected`` with a sentence a marketer understands.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import re
import struct
import uuid
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.conf import settings
from fontTools.ttLib import TTFont, TTLibError
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

MIB = 1024 * 1024
# File-name extension -> Pillow format it must contain; Pillow names multi-picture JPEGs "MPO".
IMAGE_EXTENSIONS = {
    "png": {"PNG"},
    "jpg": {"JPEG", "MPO"},
    "jpeg": {"JPEG", "MPO"},
    "webp": {"WEBP"},
}
FORMAT_LABELS = {"PNG": "PNG", "JPEG": "JPEG", "MPO": "JPEG", "WEBP": "WebP"}
FONT_MAGICS = {b"\x00\x01\x00\x00": "ttf", b"true": "ttf", b"OTTO": "otf"}
PURPOSES = ("logo", "photo")
# Errors Pillow raises for malformed data (SyntaxError: broken PNG chunks; EOFError: short frames).
PILLOW_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error)
# fontTools reports malformed tables through asserts and the lookup/struct errors of its parsers.
FONTTOOLS_ERRORS = (
    TTLibError, struct.error, AssertionError, EOFError, IndexError, KeyError, TypeError,
    ValueError, OverflowError,
)  # fmt: skip

NOT_AN_IMAGE = "This file is not a PNG, JPEG or WebP image."
SVG_REFUSED = (
    "SVG and other XML/HTML files are not accepted. Please export the artwork as a PNG "
    "and upload that."
)
DAMAGED_IMAGE = "This image is damaged, so it could not be read: {reason}. Please export it again."
LOGO_NEEDS_ALPHA = "Logos need a transparent background (PNG or WebP with alpha)"
DAMAGED_FONT = "This font file is damaged or not a TrueType/OpenType font"
NOT_A_FONT = "Only TrueType (.ttf) and OpenType (.otf) font files are accepted."


class UploadRejected(Exception):
    """An upload we refuse; ``message`` is shown to the user as-is."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class CleanImage:
    content: bytes
    extension: str
    width: int
    height: int
    sha256: str
    has_alpha: bool


@dataclass(frozen=True)
class CleanFont:
    content: bytes
    extension: str
    family: str
    style: str
    sha256: str


def clean_image_upload(uploaded, *, purpose: str) -> CleanImage:
    """Return the upload as a freshly encoded, metadata-free image, or raise UploadRejected.

    ``purpose`` is "logo" (must have a transparent background) or "photo".
    """
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {PURPOSES}, not {purpose!r}")
    data = _read_capped(uploaded)
    extension = PurePosixPath(uploaded.name or "").suffix.lower().lstrip(".")
    if extension in ("svg", "svgz") or _looks_like_markup(data):
        raise UploadRejected(SVG_REFUSED)  # B4: sniffed only, never handed to an XML parser
    if extension not in IMAGE_EXTENSIONS:
        raise UploadRejected(f"{NOT_AN_IMAGE} The file name must end in .png, .jpg or .webp.")
    try:
        # formats= keeps every other Pillow parser (TIFF, FITS, GIF, ...) away from the bytes (B5).
        img = Image.open(io.BytesIO(data), formats=["PNG", "JPEG", "WEBP"])
    except UnidentifiedImageError as exc:
        raise UploadRejected(NOT_AN_IMAGE) from exc
    except Image.DecompressionBombError as exc:
        raise UploadRejected(_too_many_pixels_message()) from exc
    except PILLOW_ERRORS as exc:
        raise UploadRejected(_damaged_image_message(exc)) from exc
    with img:
        if img.format not in IMAGE_EXTENSIONS[extension]:
            actual = FORMAT_LABELS.get(img.format, img.format)
            raise UploadRejected(
                f"The file name ends in .{extension} but the file is a {actual} image. "
                f"Please rename it to match its content or export it again."
            )
        # B2: the header's size is checked before a single pixel is decoded.
        if img.width * img.height > settings.ADSTUDIO_MAX_IMAGE_PIXELS:
            raise UploadRejected(_too_many_pixels_message(img.width, img.height))
        try:
            img.load()  # B6: decode everything now, so truncated data fails here, not later
            pixels = _pixels_without_metadata(img)
        except Image.DecompressionBombError as exc:
            raise UploadRejected(_too_many_pixels_message()) from exc
        except PILLOW_ERRORS as exc:
            raise UploadRejected(_damaged_image_message(exc)) from exc
        source_format = img.format

    alpha_min = pixels.getchannel("A").getextrema()[0] if pixels.mode == "RGBA" else 255
    # Logos need fully see-through pixels; a merely translucent background still hides the ad.
    if purpose == "logo" and alpha_min > 0:
        raise UploadRejected(LOGO_NEEDS_ALPHA)
    if alpha_min == 255:
        pixels = pixels.convert("RGB")  # a fully opaque alpha channel carries nothing
    out = io.BytesIO()
    if source_format in ("JPEG", "MPO") and pixels.mode == "RGB":
        # Opaque photos stay JPEG: a 20 MB JPEG would become a far larger PNG.
        pixels.save(out, format="JPEG", quality=95, subsampling=0, optimize=True)
        out_extension = "jpg"
    else:
        pixels.save(out, format="PNG", optimize=False)
        out_extension = "png"
    content = out.getvalue()
    return CleanImage(
        content=content,
        extension=out_extension,
        width=pixels.width,
        height=pixels.height,
        sha256=hashlib.sha256(content).hexdigest(),
        has_alpha=alpha_min < 255,
    )


def clean_font_upload(uploaded) -> CleanFont:
    """Return the font re-serialized by fontTools, with its family and style names.

    Raises UploadRejected for anything but an intact TrueType/OpenType font.
    """
    data = _read_capped(uploaded)
    extension = PurePosixPath(uploaded.name or "").suffix.lower().lstrip(".")
    if extension not in ("ttf", "otf") or data[:4] not in FONT_MAGICS:
        raise UploadRejected(NOT_A_FONT)
    try:
        font = TTFont(io.BytesIO(data), lazy=False, recalcTimestamp=False)
        with font:
            font.ensureDecompiled(recurse=True)  # parse every table now so corruption shows here
            if "cmap" not in font or not font["cmap"].tables:
                raise UploadRejected(f"{DAMAGED_FONT}: it has no character map.")
            names = font.get("name")
            family = _clean_name(names.getFirstDebugName((16, 1)) if names else None, 120)
            style = _clean_name(names.getFirstDebugName((17, 2)) if names else None, 60)
            if not family:
                raise UploadRejected(f"{DAMAGED_FONT}: it has no family name.")
            out = io.BytesIO()
            font.save(out)  # only the parsed tables are written, so trailing bytes are dropped
    except FONTTOOLS_ERRORS as exc:
        raise UploadRejected(f"{DAMAGED_FONT}.") from exc
    content = out.getvalue()
    return CleanFont(
        content=content,
        # The sfnt version decides: TrueType outlines in a .otf file are still valid OpenType.
        extension=FONT_MAGICS[content[:4]],
        family=family,
        style=style or "Regular",
        sha256=hashlib.sha256(content).hexdigest(),
    )


def storage_key(*, workspace_id: int, folder: str, extension: str) -> str:
    """Return a fresh key ``ws/<id>/<folder>/<uuid4 hex>.<ext>``; user file names never enter it."""
    if isinstance(workspace_id, bool) or not isinstance(workspace_id, int) or workspace_id < 1:
        raise ValueError(f"workspace_id must be a positive int, not {workspace_id!r}")
    if not re.fullmatch(r"[a-z0-9_-]+(/[a-z0-9_-]+)*", folder):
        raise ValueError(f"folder must be lowercase path segments, not {folder!r}")
    if not re.fullmatch(r"[a-z0-9]{1,8}", extension):
        raise ValueError(f"extension must be short lowercase alphanumerics, not {extension!r}")
    return f"ws/{workspace_id}/{folder}/{uuid.uuid4().hex}.{extension}"


def _read_capped(uploaded) -> bytes:
    """Read the whole upload, refusing it as soon as it passes ADSTUDIO_MAX_UPLOAD_BYTES."""
    limit = settings.ADSTUDIO_MAX_UPLOAD_BYTES
    too_big = UploadRejected(f"This file is larger than the {_megabytes(limit)} MB upload limit.")
    if uploaded.size is not None and uploaded.size > limit:
        raise too_big
    buffer = bytearray()
    for chunk in uploaded.chunks():
        buffer += chunk
        if len(buffer) > limit:  # .size comes from the client; the bytes are what count
            raise too_big
    if not buffer:
        raise UploadRejected("This file is empty.")
    return bytes(buffer)


def _looks_like_markup(data: bytes) -> bool:
    """True for SVG, XML or HTML, whatever the byte-order mark or leading whitespace."""
    head = data[:512]
    for bom in (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        head = head.removeprefix(bom)
    return head.replace(b"\x00", b"").lstrip().startswith(b"<")


def _pixels_without_metadata(img: Image.Image) -> Image.Image:
    """Upright RGB/RGBA pixels in sRGB, with no EXIF, GPS, text chunks or ICC profile (B7)."""
    upright = ImageOps.exif_transpose(img)
    has_alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
    target = "RGBA" if has_alpha else "RGB"
    if upright.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        upright = upright.point(lambda v: v / 256).convert("L")  # 16-bit grey: keep the top byte
    icc = img.info.get("icc_profile")
    clean = _to_srgb(upright, icc, target) if icc else None
    if clean is None:
        clean = upright.convert(target)
    # Savers copy EXIF, ICC, comments and text from .info; a clean image starts with none.
    clean.info = {}
    return clean


def _to_srgb(img: Image.Image, icc: bytes, mode: str) -> Image.Image | None:
    """Convert from the embedded profile (CMYK too) to sRGB; None if the profile is unusable."""
    if img.mode not in ("RGB", "RGBA", "CMYK", "L"):
        return None
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        srgb = ImageCms.createProfile("sRGB")
        return ImageCms.profileToProfile(img, source, srgb, outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None


def _clean_name(value: str | None, max_length: int) -> str:
    # Font names are user data too: printable only, and short enough for BrandFont's columns.
    return "".join(ch for ch in value or "" if ch.isprintable()).strip()[:max_length]


def _too_many_pixels_message(width: int | None = None, height: int | None = None) -> str:
    limit = settings.ADSTUDIO_MAX_IMAGE_PIXELS
    size = f" ({width} x {height} pixels)" if width and height else ""
    return (
        f"This image is too large{size}. The limit is {limit / 1_000_000:g} megapixels; "
        f"please resize it and upload again."
    )


def _damaged_image_message(exc: Exception) -> str:
    # Pillow says "truncated" or "end of file" when the bytes stop early; the rest is corruption.
    text = str(exc).lower()
    cut_off = "truncated" in text or "end of file" in text or isinstance(exc, EOFError)
    reason = (
        "the file ends too early (it may have been cut off)" if cut_off else "its data is corrupt"
    )
    return DAMAGED_IMAGE.format(reason=reason)


def _megabytes(size: int) -> str:
    return f"{size / MIB:.1f}".removesuffix(".0")
