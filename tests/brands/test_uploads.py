"""RELIABILITY.md B1, B2, B4-B8: what brands.uploads accepts, what it refuses, and why."""

import hashlib
import re
import struct
import zlib
from io import BytesIO
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.t2CharStringPen import T2CharStringPen
from fontTools.ttLib import TTFont
from PIL import ExifTags, Image, ImageCms, PngImagePlugin

from brands.uploads import (
    LOGO_NEEDS_ALPHA,
    UploadRejected,
    clean_font_upload,
    clean_image_upload,
    storage_key,
)

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"


# --- builders: real files made with Pillow, fontTools and the PNG chunk format ---


def encode(img: Image.Image, fmt: str, **params) -> bytes:
    buffer = BytesIO()
    img.save(buffer, fmt, **params)
    return buffer.getvalue()


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def transparent_logo(size=(40, 20)) -> Image.Image:
    img = Image.new("RGBA", size, (0, 0, 0, 0))
    img.paste((10, 79, 140, 255), (5, 5, size[0] - 5, size[1] - 5))
    return img


def photo(size=(64, 48)) -> Image.Image:
    return Image.effect_noise(size, 40).convert("RGB")


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_with_header_size(width: int, height: int, idat: bytes) -> bytes:
    """A PNG whose IHDR claims width x height but whose pixel data is only ``idat``."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def jpeg_with_header_size(width: int, height: int) -> bytes:
    """A real 8x8 JPEG whose SOF0 marker is rewritten to claim width x height."""
    data = bytearray(encode(photo((8, 8)), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def fits_file() -> bytes:
    cards = ["SIMPLE  = T", "BITPIX  = 8", "NAXIS   = 2", "NAXIS1  = 4", "NAXIS2  = 4", "END"]
    header = "".join(card.ljust(80) for card in cards).ljust(2880).encode("ascii")
    return header + bytes(range(16)).ljust(2880, b"\x00")


def otf_font(family: str = "Brand Sans", style: str = "Bold") -> bytes:
    """A minimal CFF-flavoured OpenType font ("OTTO") built with fontTools."""
    glyphs = [".notdef", "A"]
    charstrings = {}
    for name in glyphs:
        pen = T2CharStringPen(600, None)
        pen.moveTo((0, 0))
        pen.lineTo((0, 700))
        pen.lineTo((500, 700))
        pen.closePath()
        charstrings[name] = pen.getCharString()
    builder = FontBuilder(1000, isTTF=False)
    builder.setupGlyphOrder(glyphs)
    builder.setupCharacterMap({ord("A"): "A"})
    builder.setupCFF("BrandSans-Bold", {"FullName": f"{family} {style}"}, charstrings, {})
    builder.setupHorizontalMetrics({name: (600, 0) for name in glyphs})
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    builder.setupNameTable({"familyName": family, "styleName": style})
    builder.setupOS2()
    builder.setupPost()
    buffer = BytesIO()
    builder.save(buffer)
    return buffer.getvalue()


def dejavu_without(*, tables=(), name_ids=()) -> bytes:
    font = TTFont(DEJAVU)
    for tag in tables:
        del font[tag]
    font["name"].names = [n for n in font["name"].names if n.nameID not in name_ids]
    buffer = BytesIO()
    font.save(buffer)
    return buffer.getvalue()


def reject_message(call, *args, **kwargs) -> str:
    with pytest.raises(UploadRejected) as excinfo:
        call(*args, **kwargs)
    return excinfo.value.message


def reopen(content: bytes) -> Image.Image:
    img = Image.open(BytesIO(content))
    img.load()
    return img


# --- happy paths ---


def test_transparent_png_logo_is_accepted_with_size_and_sha256():
    clean = clean_image_upload(
        upload("logo.png", encode(transparent_logo(), "PNG")), purpose="logo"
    )

    assert (clean.width, clean.height, clean.extension) == (40, 20, "png")
    assert clean.has_alpha is True
    assert clean.sha256 == hashlib.sha256(clean.content).hexdigest()
    stored = reopen(clean.content)
    assert (stored.format, stored.mode, stored.size) == ("PNG", "RGBA", (40, 20))
    assert stored.getpixel((0, 0))[3] == 0 and stored.getpixel((20, 10)) == (10, 79, 140, 255)


def test_webp_logo_with_alpha_becomes_png():
    webp = encode(transparent_logo(), "WEBP", lossless=True)

    clean = clean_image_upload(upload("logo.webp", webp), purpose="logo")

    assert clean.extension == "png" and reopen(clean.content).format == "PNG"
    assert clean.has_alpha is True


def test_palette_png_with_transparent_index_is_a_valid_logo():
    palette_logo = Image.new("P", (40, 20), 0)
    palette_logo.putpalette([255, 255, 255, 10, 79, 140])
    palette_logo.paste(1, (5, 5, 35, 15))
    content = encode(palette_logo, "PNG", transparency=0)  # index 0 (white) is see-through
    assert Image.open(BytesIO(content)).mode == "P"

    clean = clean_image_upload(upload("logo.png", content), purpose="logo")

    stored = reopen(clean.content)
    assert stored.mode == "RGBA" and clean.has_alpha is True
    assert stored.getpixel((0, 0))[3] == 0 and stored.getpixel((20, 10)) == (10, 79, 140, 255)


@pytest.mark.parametrize(
    ("name", "fmt"), [("logo.png", "PNG"), ("logo.jpg", "JPEG"), ("logo.webp", "WEBP")]
)
def test_logo_without_transparency_is_rejected(name, fmt):
    opaque = transparent_logo().convert("RGB")

    assert reject_message(
        clean_image_upload, upload(name, encode(opaque, fmt)), purpose="logo"
    ) == (LOGO_NEEDS_ALPHA)


def test_logo_with_only_translucent_background_is_rejected():
    frosted = Image.new("RGBA", (20, 20), (255, 255, 255, 128))

    message = reject_message(
        clean_image_upload, upload("logo.png", encode(frosted, "PNG")), purpose="logo"
    )

    assert message == LOGO_NEEDS_ALPHA


def test_jpeg_photo_stays_jpeg_and_opaque_png_photo_loses_its_alpha_channel():
    jpeg = clean_image_upload(upload("shoe.JPEG", encode(photo(), "JPEG")), purpose="photo")
    opaque_rgba = encode(photo().convert("RGBA"), "PNG")
    png = clean_image_upload(upload("shoe.png", opaque_rgba), purpose="photo")

    assert (jpeg.extension, reopen(jpeg.content).format, jpeg.has_alpha) == ("jpg", "JPEG", False)
    assert (png.extension, reopen(png.content).mode, png.has_alpha) == ("png", "RGB", False)


def test_cmyk_jpeg_photo_is_converted_to_rgb():
    cmyk = Image.new("CMYK", (16, 16), (0, 255, 255, 0))  # pure red in print colours

    clean = clean_image_upload(upload("ad.jpg", encode(cmyk, "JPEG")), purpose="photo")

    red, green, blue = reopen(clean.content).getpixel((8, 8))
    assert reopen(clean.content).mode == "RGB" and red > 200 and green < 60 and blue < 60


def test_upload_over_the_size_limit_is_rejected(settings):
    settings.ADSTUDIO_MAX_UPLOAD_BYTES = 1024 * 1024
    big = encode(photo((900, 900)), "PNG")
    assert len(big) > 1024 * 1024

    message = reject_message(clean_image_upload, upload("big.png", big), purpose="photo")

    assert message == "This file is larger than the 1 MB upload limit."


def test_font_family_and_style_are_read_from_the_name_table():
    clean = clean_font_upload(upload("DejaVuSans.ttf", DEJAVU.read_bytes()))

    assert (clean.family, clean.style, clean.extension) == ("DejaVu Sans", "Book", "ttf")
    assert clean.sha256 == hashlib.sha256(clean.content).hexdigest()
    assert TTFont(BytesIO(clean.content))["name"].getDebugName(1) == "DejaVu Sans"


def test_cff_opentype_font_is_accepted_as_otf():
    clean = clean_font_upload(upload("brand.otf", otf_font("Brand Sans", "Bold")))

    assert (clean.family, clean.style, clean.extension) == ("Brand Sans", "Bold", "otf")
    assert clean.content[:4] == b"OTTO"


def test_font_reserialization_drops_trailing_junk_and_is_repeatable():
    clean = clean_font_upload(upload("brand.ttf", DEJAVU.read_bytes() + HTML))
    again = clean_font_upload(upload("brand.ttf", DEJAVU.read_bytes()))

    assert b"<script>" not in clean.content
    assert clean.sha256 == again.sha256  # no timestamp rewrite, so the same font hashes the same


def test_font_over_the_size_limit_is_rejected(settings):
    settings.ADSTUDIO_MAX_UPLOAD_BYTES = 100_000

    message = reject_message(clean_font_upload, upload("DejaVuSans.ttf", DEJAVU.read_bytes()))

    assert "upload limit" in message


# --- B1: PNG header followed by HTML ---


def test_B1_png_followed_by_html_is_reencoded():
    polyglot = encode(transparent_logo(), "PNG") + HTML

    clean = clean_image_upload(upload("logo.png", polyglot), purpose="logo")

    assert b"<html" not in clean.content and b"<script" not in clean.content
    assert clean.content.endswith(png_chunk(b"IEND", b""))  # nothing after the image's end
    assert reopen(clean.content).size == (40, 20)


def test_B1_png_signature_then_html_is_rejected():
    message = reject_message(
        clean_image_upload, upload("logo.png", b"\x89PNG\r\n\x1a\n" + HTML), purpose="logo"
    )

    assert message == "This file is not a PNG, JPEG or WebP image."


# --- B2: decompression bombs ---


@pytest.mark.parametrize(
    ("name", "content"),
    [
        # Garbage pixel data: had anything been decoded the answer would be "damaged", not size.
        ("bomb.png", png_with_header_size(9000, 9000, idat=b"not zlib data")),
        ("bomb.jpg", jpeg_with_header_size(9000, 9000)),
    ],
    ids=["png", "jpeg"],
)
def test_B2_decompression_bomb_rejected_before_decoding(settings, name, content):
    settings.ADSTUDIO_MAX_IMAGE_PIXELS = 50_000_000

    message = reject_message(clean_image_upload, upload(name, content), purpose="photo")

    assert message.startswith("This image is too large (9000 x 9000 pixels).")
    assert "50 megapixels" in message


def test_B2_giant_header_is_rejected_without_allocating_pixels():
    bomb = png_with_header_size(100_000, 100_000, idat=zlib.compress(b"\x00" * 64))
    assert len(bomb) < 200  # 10 gigapixels would need 30 GB if it were ever decoded

    message = reject_message(clean_image_upload, upload("bomb.png", bomb), purpose="photo")

    assert "too large" in message and "megapixels" in message


def test_B2_pixel_limit_comes_from_settings(settings):
    settings.ADSTUDIO_MAX_IMAGE_PIXELS = 100

    message = reject_message(
        clean_image_upload, upload("logo.png", encode(transparent_logo(), "PNG")), purpose="logo"
    )

    assert "(40 x 20 pixels)" in message and "0.0001 megapixels" in message


# --- B4: SVG, XML, HTML ---

SVG_SCRIPT = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
SVG_XXE = (
    b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b'<svg xmlns="http://www.w3.org/2000/svg"><text>&xxe;</text></svg>'
)
SVG_BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY lol0 "lol">'
    # Each entity expands to ten of the previous one: lol9 is a billion "lol"s if parsed.
    + b"".join(b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10) for i in range(1, 10))
    + b']><svg xmlns="http://www.w3.org/2000/svg"><text>&lol9;</text></svg>'
)


@pytest.mark.parametrize(
    "payload", [SVG_SCRIPT, SVG_XXE, SVG_BILLION_LAUGHS], ids=["script", "xxe", "billion-laughs"]
)
@pytest.mark.parametrize("name", ["logo.svg", "logo.png", "logo.SVGZ"])
def test_B4_svg_rejected(payload, name):
    message = reject_message(clean_image_upload, upload(name, payload), purpose="logo")

    assert "SVG" in message and "PNG" in message
    assert "root:" not in message  # the XXE entity was never resolved


@pytest.mark.parametrize(
    "prefix", [b"\xef\xbb\xbf", b"\n\t  ", b"\xff\xfe"], ids=["utf8-bom", "whitespace", "utf16"]
)
def test_B4_svg_behind_a_bom_or_whitespace_is_rejected(prefix):
    payload = prefix + (
        SVG_SCRIPT.decode().encode("utf-16-le") if prefix == b"\xff\xfe" else SVG_SCRIPT
    )

    message = reject_message(clean_image_upload, upload("logo.png", payload), purpose="logo")

    assert "SVG" in message


# --- B5: extension / content mismatch and formats we do not take ---


@pytest.mark.parametrize(
    ("name", "fmt", "says"),
    [("logo.jpg", "PNG", "a PNG image"), ("logo.png", "JPEG", "a JPEG image"),
     ("logo.png", "WEBP", "a WebP image"), ("logo.webp", "PNG", "a PNG image")],
)  # fmt: skip
def test_B5_extension_content_mismatch_rejected(name, fmt, says):
    content = encode(transparent_logo().convert("RGB"), fmt)

    message = reject_message(clean_image_upload, upload(name, content), purpose="photo")

    assert f"ends in .{name.rsplit('.', 1)[1]}" in message and says in message


@pytest.mark.parametrize("name", ["scan.tif", "scan.tiff", "scan.png"])
def test_B5_tiff_rejected(name):
    tiff = encode(photo(), "TIFF")
    assert Image.open(BytesIO(tiff)).format == "TIFF"  # a real TIFF Pillow could read

    message = reject_message(clean_image_upload, upload(name, tiff), purpose="photo")

    assert message.startswith("This file is not a PNG, JPEG or WebP image.")


@pytest.mark.parametrize("name", ["sky.fits", "sky.png", "sky.jpg"])
def test_B5_fits_rejected(name):
    fits = fits_file()
    assert Image.open(BytesIO(fits)).format == "FITS"  # a real FITS Pillow could read

    message = reject_message(clean_image_upload, upload(name, fits), purpose="photo")

    assert message.startswith("This file is not a PNG, JPEG or WebP image.")


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("anim.gif", "GIF"), ("anim.png", "GIF"), ("icon.bmp", "BMP"), ("icon.png", "BMP"),
     ("logo.ico", "ICO"), ("logo", "PNG"), ("logo.png.exe", "PNG")],
)  # fmt: skip
def test_B5_other_formats_and_extensions_rejected(name, fmt):
    content = encode(transparent_logo(), fmt)

    message = reject_message(clean_image_upload, upload(name, content), purpose="logo")

    assert message.startswith("This file is not a PNG, JPEG or WebP image.")


@pytest.mark.parametrize("name", ["font.woff", "font.ttc", "font.png", "font.ttf"])
def test_B5_font_with_wrong_extension_or_magic_rejected(name):
    content = DEJAVU.read_bytes() if name != "font.ttf" else b"wOFF" + DEJAVU.read_bytes()[4:]

    message = reject_message(clean_font_upload, upload(name, content))

    assert message == "Only TrueType (.ttf) and OpenType (.otf) font files are accepted."


# --- B6: truncated or corrupt files ---


@pytest.mark.parametrize(("name", "fmt"), [("shoe.png", "PNG"), ("shoe.jpg", "JPEG")])
def test_B6_truncated_image_rejected_with_reason(name, fmt):
    content = encode(photo((200, 200)), fmt)

    message = reject_message(
        clean_image_upload, upload(name, content[: len(content) // 2]), purpose="photo"
    )

    assert message.startswith("This image is damaged")
    assert "ends too early" in message


def test_B6_corrupt_image_data_rejected_with_reason():
    content = bytearray(encode(photo((200, 200)), "PNG"))
    content[300:340] = b"\xff" * 40  # inside the compressed pixel data

    message = reject_message(
        clean_image_upload, upload("shoe.png", bytes(content)), purpose="photo"
    )

    assert message.startswith("This image is damaged") and "corrupt" in message


def flipped_table_directory() -> bytes:
    data = bytearray(DEJAVU.read_bytes())
    data[12 + 8 : 12 + 16] = b"\xff" * 8  # first table's offset and length point past the end
    return bytes(data)


@pytest.mark.parametrize(
    "content",
    [
        DEJAVU.read_bytes()[: DEJAVU.stat().st_size // 2],
        DEJAVU.read_bytes()[:40],
        flipped_table_directory(),
        b"\x00\x01\x00\x00" + b"\x00" * 60,
    ],
    ids=["truncated-half", "truncated-directory", "flipped-directory", "empty-tables"],
)
def test_B6_corrupt_font_rejected_with_reason(content):
    message = reject_message(clean_font_upload, upload("brand.ttf", content))

    assert message.startswith("This font file is damaged or not a TrueType/OpenType font")


@pytest.mark.parametrize(
    ("content", "reason"),
    [(dejavu_without(tables=["cmap"]), "no character map"),
     (dejavu_without(name_ids=(1, 16)), "no family name")],
)  # fmt: skip
def test_B6_font_without_cmap_or_family_rejected_with_reason(content, reason):
    message = reject_message(clean_font_upload, upload("brand.ttf", content))

    assert message.startswith("This font file is damaged") and reason in message


# --- B7: metadata ---


def test_B7_exif_gps_stripped():
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # camera held sideways: rotate 90 degrees clockwise
    exif[ExifTags.Base.Make] = "SpyCam"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (52.0, 31.0, 12.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (13.0, 24.0, 36.0),
    }
    original = encode(photo((60, 30)), "JPEG", exif=exif)
    assert Image.open(BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # GPS went in

    clean = clean_image_upload(upload("shoe.jpg", original), purpose="photo")

    stored = reopen(clean.content)
    assert (clean.width, clean.height) == (30, 60) == stored.size  # orientation applied first
    assert len(stored.getexif()) == 0 and "exif" not in stored.info
    assert b"Exif" not in clean.content and b"SpyCam" not in clean.content


def test_B7_png_text_chunks_and_icc_profile_stripped():
    text = PngImagePlugin.PngInfo()
    text.add_text("Author", "Jane Doe, jane@example.com")
    text.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>secret</x:xmpmeta>")
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    original = encode(transparent_logo(), "PNG", pnginfo=text, icc_profile=srgb)

    clean = clean_image_upload(upload("logo.png", original), purpose="logo")

    stored = reopen(clean.content)
    assert stored.info == {}  # no tEXt/iTXt/iCCP chunk survived
    assert b"Jane Doe" not in clean.content and b"xmpmeta" not in clean.content


# --- B8: storage keys ---


def test_B8_storage_key_ignores_user_filename():
    uploaded = upload("../../etc/passwd.png", encode(transparent_logo(), "PNG"))
    clean = clean_image_upload(uploaded, purpose="logo")

    key = storage_key(workspace_id=7, folder="logos", extension=clean.extension)
    saved = default_storage.save(key, ContentFile(clean.content))

    assert re.fullmatch(r"ws/7/logos/[0-9a-f]{32}\.png", key)
    assert saved == key and "passwd" not in key and ".." not in key
    assert Path(default_storage.path(saved)).is_relative_to(Path(default_storage.location))
    assert key != storage_key(workspace_id=7, folder="logos", extension="png")


@pytest.mark.parametrize(
    "kwargs",
    [{"workspace_id": 0, "folder": "logos", "extension": "png"},
     {"workspace_id": "7", "folder": "logos", "extension": "png"},
     {"workspace_id": 7, "folder": "../logos", "extension": "png"},
     {"workspace_id": 7, "folder": "/logos", "extension": "png"},
     {"workspace_id": 7, "folder": "logos", "extension": "png/../../x"}],
)  # fmt: skip
def test_B8_storage_key_refuses_unsafe_parts(kwargs):
    with pytest.raises(ValueError):
        storage_key(**kwargs)
