"""The compositor draws a design deterministically, keeps the product's own pixels, and
refuses what it cannot draw (naming the layer)."""

import hashlib
import io
import os
import struct
import unicodedata
import zlib
from pathlib import Path

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from PIL import Image, ImageDraw, features

from rendering.compose import fonts
from rendering.design import compositor, pixel_cache
from rendering.design.compositor import compose, compose_png
from rendering.design.fidelity import product_fidelity, product_region
from rendering.design.schema import DESIGN_SCHEMA, design_validate
from rendering.design.text_draw import font_chain, text_lines

OUT = Path(__file__).resolve().parents[2] / "var" / "test-output" / "design"


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_cutout(width: int = 480, height: int = 640) -> Image.Image:
    """A product cut-out: a bottle with a cap, textured, its alpha antialiased (drawn at 4x and
    downsampled), so there are fully opaque, partial and clear pixels."""
    big = Image.new("L", (width * 4, height * 4), 0)
    draw = ImageDraw.Draw(big)
    draw.rounded_rectangle((width * 0.8, height * 1.0, width * 3.2, height * 3.95),
                           radius=width * 0.45, fill=255)
    draw.rectangle((width * 1.5, height * 0.35, width * 2.5, height * 1.1), fill=255)
    draw.rounded_rectangle((width * 1.35, height * 0.1, width * 2.65, height * 0.45),
                           radius=width * 0.1, fill=255)
    alpha = big.resize((width, height), Image.Resampling.LANCZOS)
    yy, xx = np.mgrid[0:height, 0:width]
    rng = np.random.default_rng(7)
    base = np.stack([40 + xx * 150 // width, 90 + yy * 120 // height,
                     200 - xx * 120 // width], axis=-1)
    noise = rng.integers(-25, 25, (height, width, 1))
    label = (yy > height * 0.5) & (yy < height * 0.72)
    base = np.where(label[..., None], [245, 240, 225], base) + noise
    image = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB").convert("RGBA")
    image.putalpha(alpha)
    return image


def make_logo() -> Image.Image:
    image = Image.new("RGBA", (400, 120), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, 399, 119), radius=30, fill=(15, 60, 140, 255))
    draw.ellipse((22, 22, 98, 98), fill=(255, 200, 0, 255))
    draw.rectangle((130, 48, 370, 72), fill=(255, 255, 255, 255))
    return image


CUTOUT = png_bytes(make_cutout())
LOGO = png_bytes(make_logo())
INPUTS = {sha(CUTOUT): CUTOUT, sha(LOGO): LOGO}


def banner(**changes) -> dict:
    """A 1200x628 design: gradient fill, product with shadow, scrim, 4 texts, button, logo."""
    layers = [
        {"kind": "background", "id": "background",
         "source": {"type": "fill", "fill": {"type": "linear",
                                             "colors": ["#F5EFE6", "#D9BF98"], "angle": 135}}},
        {"kind": "product", "id": "product", "sha256": sha(CUTOUT), "box": [720, 50, 420, 548],
         "shadow": {"opacity": 0.45, "blur": 16, "offset": [14, 12]}},
        {"kind": "shape", "id": "scrim", "shape": "scrim", "box": [0, 0, 720, 628],
         "color": "#0B1F33", "opacity": 0.85, "gradient": "to-right"},
        {"kind": "text", "id": "headline", "role": "headline", "text": "Summer Sale",
         "box": [60, 120, 600, 150], "size": 72, "color": "#FFFFFF", "line_height": 1.1,
         "max_lines": 2},
        {"kind": "text", "id": "subline", "role": "subline",
         "text": "Recycled steel bottles, built to last", "box": [60, 280, 600, 50],
         "size": 32, "color": "#FFFFFF", "weight": "regular", "max_lines": 1},
        {"kind": "text", "id": "price", "role": "price", "text": "$19.99",
         "box": [60, 350, 300, 70], "size": 56, "color": "#FFD166", "max_lines": 1},
        {"kind": "shape", "id": "button", "shape": "button", "box": [60, 450, 260, 72],
         "color": "#FF6F61", "radius": 18},
        {"kind": "text", "id": "cta", "role": "cta", "text": "Shop now",
         "box": [60, 450, 260, 72], "size": 32, "color": "#FFFFFF", "align": "center",
         "valign": "middle", "max_lines": 1},
        {"kind": "logo", "id": "logo", "sha256": sha(LOGO), "box": [60, 30, 220, 60],
         "align": "left"},
    ]
    doc = {"schema": DESIGN_SCHEMA, "size": [1200, 628], "layout": "wide.split",
           "layers": layers}
    doc.update(changes)
    return doc


def layer(doc: dict, layer_id: str) -> dict:
    return next(item for item in doc["layers"] if item["id"] == layer_id)


def text_design(text: str, *, size: int = 64, width: int = 900, max_lines: int = 2,
                color: str = "#111111", **extra) -> dict:
    return {"schema": DESIGN_SCHEMA, "size": [1000, 300], "layers": [
        {"kind": "background", "id": "background",
         "source": {"type": "fill", "fill": {"type": "solid", "color": "#FFFFFF"}}},
        {"kind": "text", "id": "headline", "role": "headline", "text": text,
         "box": [50, 50, width, 200], "size": size, "color": color, "max_lines": max_lines,
         **extra}]}


def ink(image: Image.Image, box=None, *, threshold: int = 128) -> np.ndarray:
    pixels = np.asarray(image.crop(box) if box else image, dtype=np.int16)
    return pixels.min(axis=2) < threshold


def save(name: str, data: bytes) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / name).write_bytes(data)


def png_chunks(data: bytes) -> list[str]:
    names, pos = [], 8
    while pos < len(data):
        length, name = struct.unpack(">I4s", data[pos:pos + 8])
        names.append(name.decode())
        pos += 12 + length
    return names


# --- determinism -------------------------------------------------------------------------

def test_same_design_same_bytes_and_one_text_changes_them():
    first = compose_png(banner(), INPUTS)
    pixel_cache.cache_clear()  # a cold cache draws the same bytes
    assert compose_png(banner(), INPUTS) == first
    assert compose_png(banner(), dict(INPUTS)) == first
    changed = banner()
    layer(changed, "price")["text"] = "$17.99"
    assert compose_png(changed, INPUTS) != first
    assert set(png_chunks(first)) == {"IHDR", "IDAT", "IEND"}  # no time, no text metadata
    printed = compose_png(banner(), INPUTS, dpi=300)
    assert set(png_chunks(printed)) == {"IHDR", "pHYs", "IDAT", "IEND"}
    assert printed == compose_png(banner(), INPUTS, dpi=300)
    save("banner-1200x628.png", first)


def test_canvas_includes_the_bleed():
    doc = banner(bleed=20)
    image = compose(doc, INPUTS)
    assert image.size == (1240, 668) and image.mode == "RGB"
    box, _ = product_region(doc, INPUTS)
    plain_box, _ = product_region(banner(), INPUTS)
    assert box == [plain_box[0] + 20, plain_box[1] + 20, *plain_box[2:]]
    assert product_fidelity(image, doc, INPUTS)["ok"]


# --- fills and backgrounds ---------------------------------------------------------------

def fill_design(fill: dict, size=(200, 100)) -> dict:
    return {"schema": DESIGN_SCHEMA, "size": list(size), "layers": [
        {"kind": "background", "id": "bg", "source": {"type": "fill", "fill": fill}}]}


def test_solid_and_linear_fills_are_exact():
    solid = np.asarray(compose(fill_design({"type": "solid", "color": "#123456"}), {}))
    assert (solid == [0x12, 0x34, 0x56]).all()
    ramp = np.asarray(compose(fill_design({"type": "linear", "angle": 90,
                                           "colors": ["#000000", "#640000"]}), {}), dtype=int)
    # 90 deg: left to right; pixel centres at (i + 0.5) / 200 of the way
    expected = np.rint((np.arange(200) + 0.5) / 200 * 100).astype(int)
    assert (ramp[:, :, 0] == expected[None, :]).all() and (ramp[:, :, 1:] == 0).all()
    down = np.asarray(compose(fill_design({"type": "linear", "angle": 180,
                                           "colors": ["#FFFFFF", "#000000", "#FFFFFF"]}), {}))
    assert down[0, 0, 0] > 240 and down[-1, 0, 0] > 240 and down[50, 0, 0] < 10
    assert (down == down[:, :1]).all()  # rows are uniform
    diagonal = np.asarray(compose(fill_design({"type": "linear", "angle": 45,
                                               "colors": ["#000000", "#FFFFFF"]}), {}))
    assert diagonal[-1, 0, 0] < 5 and diagonal[0, -1, 0] > 250  # corners get the end colours


def test_image_background_covers_and_crops_around_the_focus():
    photo = np.zeros((100, 400, 3), dtype=np.uint8)
    photo[:, :200] = [220, 30, 30]
    photo[:, 200:] = [30, 30, 220]
    data = png_bytes(Image.fromarray(photo))
    for focus, channel in (([0.0, 0.5], 0), ([1.0, 0.5], 2)):
        doc = {"schema": DESIGN_SCHEMA, "size": [100, 100], "layers": [
            {"kind": "background", "id": "bg", "focus": focus,
             "source": {"type": "image", "sha256": sha(data)}}]}
        image = np.asarray(compose(doc, {sha(data): data}))
        assert image.shape == (100, 100, 3)
        assert (image[..., channel] > 200).all()
    same = {"schema": DESIGN_SCHEMA, "size": [400, 100], "layers": [
        {"kind": "background", "id": "bg", "source": {"type": "image", "sha256": sha(data)}}]}
    assert (np.asarray(compose(same, {sha(data): data})) == photo).all()  # untouched at 1:1


# --- inputs ------------------------------------------------------------------------------

def test_missing_or_changed_inputs_name_the_layer():
    with pytest.raises(ValidationError) as caught:
        compose(banner(), {sha(LOGO): LOGO})
    assert "layers[1].sha256" in caught.value.message_dict
    assert "'product'" in caught.value.message_dict["layers[1].sha256"][0]
    assert "missing" in caught.value.message_dict["layers[1].sha256"][0]
    with pytest.raises(ValidationError) as caught:
        compose(banner(), {sha(CUTOUT): CUTOUT, sha(LOGO): LOGO + b"x"})
    assert "does not match its sha256" in caught.value.message_dict["layers[8].sha256"][0]
    junk = b"not an image at all"
    doc = banner()
    layer(doc, "logo")["sha256"] = sha(junk)
    with pytest.raises(ValidationError) as caught:
        compose(doc, {**INPUTS, sha(junk): junk})
    assert "not a readable PNG" in caught.value.message_dict["layers[8].sha256"][0]


def test_invalid_designs_do_not_compose():
    doc = banner()
    layer(doc, "cta")["color"] = "orange"
    with pytest.raises(ValidationError) as caught:
        compose(doc, INPUTS)
    assert "layers[7].color" in caught.value.message_dict


# --- product -----------------------------------------------------------------------------

def test_product_is_scaled_to_fit_bottom_centred_and_exact():
    doc = banner()
    image = compose(doc, INPUTS)
    box, mask = product_region(doc, INPUTS)
    # 480x640 into 420x548: the height binds, 411x548, centred in x, on the box's bottom
    assert box == [720 + (420 - 411) // 2, 50, 411, 548]
    assert mask.mode == "L" and mask.size == (411, 548)
    scaled = make_cutout().resize((411, 548), Image.Resampling.LANCZOS)
    assert np.array_equal(np.asarray(mask), np.asarray(scaled.getchannel("A")))
    result = product_fidelity(image, doc, INPUTS)
    assert result["ok"] and result["max_diff"] == 0 and result["differing"] == 0
    assert result["compared"] > 100_000 and result["covered"] == 0
    # Where the cut-out is opaque, the final pixels are the scaled cut-out's, bit for bit.
    opaque = np.asarray(mask) == 255
    shown = np.asarray(image.crop((box[0], box[1], box[0] + box[2], box[1] + box[3])))
    assert np.array_equal(shown[opaque], np.asarray(scaled)[..., :3][opaque])


def test_one_changed_product_pixel_fails_the_check():
    doc = banner()
    image = compose(doc, INPUTS)
    box, mask = product_region(doc, INPUTS)
    ys, xs = np.nonzero(np.asarray(mask) == 255)
    x, y = box[0] + int(xs[len(xs) // 2]), box[1] + int(ys[len(ys) // 2])
    r, g, b = image.getpixel((x, y))
    image.putpixel((x, y), (r ^ 1, g, b))
    result = product_fidelity(image, doc, INPUTS)
    assert not result["ok"] and result["max_diff"] == 1 and result["differing"] == 1
    assert result["share"] == pytest.approx(1 / result["compared"])
    assert "differ" in result["reason"]
    smaller = image.crop((0, 0, 1199, 628))
    assert not product_fidelity(smaller, doc, INPUTS)["ok"]


def test_text_over_the_product_is_left_out_of_the_check():
    doc = banner()
    doc["layers"].append({
        "kind": "text", "id": "badge-text", "role": "price", "text": "-30%",
        "box": [800, 300, 260, 100], "size": 80, "color": "#E00000", "max_lines": 1,
        "align": "center"})
    image = compose(doc, INPUTS)
    result = product_fidelity(image, doc, INPUTS)
    assert result["ok"] and result["covered"] > 500
    # Those pixels really changed: compared naively, the product region differs there.
    without = compose(banner(), INPUTS)
    assert not np.array_equal(np.asarray(image), np.asarray(without))
    assert product_fidelity(image, banner(), INPUTS)["ok"] is False
    save("product-under-text.png", compositor.encode_png(image))


def test_the_shadow_lies_under_the_product():
    doc = banner()
    with_shadow = np.asarray(compose(doc, INPUTS), dtype=int)
    layer(doc, "product")["shadow"] = None
    plain = np.asarray(compose(doc, INPUTS), dtype=int)
    box, mask = product_region(doc, INPUTS)
    x0, y0, w, h = box
    opaque = np.asarray(mask) == 255
    region = (slice(y0, y0 + h), slice(x0, x0 + w))
    assert np.array_equal(with_shadow[region][opaque], plain[region][opaque])
    darker = (with_shadow.sum(axis=2) < plain.sum(axis=2) - 20)
    assert darker.any()
    ys, xs = np.nonzero(darker)
    solid_ys, solid_xs = np.nonzero(np.asarray(mask) > 0)
    assert xs.max() > x0 + solid_xs.max()  # offset right and down, beyond the silhouette
    assert ys.max() > y0 + solid_ys.max() - 1 or ys.max() == 627
    assert 0 < darker.sum() < w * h


# --- shapes ------------------------------------------------------------------------------

def test_scrim_fades_softly_and_button_corners_are_antialiased():
    image = np.asarray(compose(banner(), INPUTS), dtype=int)
    row = image[600, :720].sum(axis=1)  # under the scrim, below the text
    assert row[0] < row[360] < row[719]  # dark at the left, gone by the right
    assert (np.diff(row) >= -3).all()  # no bands: monotone (bar the gradient underneath)
    assert abs(int(row[715]) - int(image[600, 725].sum())) < 12  # soft edge, no seam
    corner = image[450:462, 60:72]  # the button's top-left corner: mixed pixels
    values = {tuple(p) for p in corner.reshape(-1, 3)}
    assert len(values) > 6
    assert tuple(image[480, 100]) == (0xFF, 0x6F, 0x61)


# --- text --------------------------------------------------------------------------------

def test_alignment_and_vertical_alignment():
    boxes = {}
    for align in ("left", "center", "right"):
        image = compose(text_design("Align me", align=align), {})
        cols = np.nonzero(ink(image).any(axis=0))[0]
        boxes[align] = (cols.min(), cols.max())
    assert boxes["left"][0] < 60 and boxes["right"][1] > 940
    centre = sum(boxes["center"]) / 2
    assert abs(centre - 500) < 8
    tops = {}
    for valign in ("top", "middle", "bottom"):
        image = compose(text_design("Valign", valign=valign, max_lines=1), {})
        rows = np.nonzero(ink(image).any(axis=1))[0]
        tops[valign] = (rows.min(), rows.max())
    assert tops["top"][0] < tops["middle"][0] < tops["bottom"][0]
    assert tops["bottom"][1] <= 250 + 64 * 0.2 and tops["top"][0] >= 50


def test_text_wraps_and_refuses_what_does_not_fit():
    doc = design_validate(text_design("Big summer sale on every bottle", width=620))
    lines = text_lines(doc["layers"][1], {}, "layers[1].text")
    assert len(lines) == 2 and " ".join(lines) == "Big summer sale on every bottle"
    too_long = text_design("Big summer sale on every bottle in the whole store", width=620)
    with pytest.raises(ValidationError) as caught:
        compose(too_long, {})
    message = caught.value.message_dict["layers[1].text"][0]
    assert "'headline'" in message and "max_lines 2" in message
    too_wide = text_design("Supercalifragilistic", width=300)
    with pytest.raises(ValidationError) as caught:
        compose(too_wide, {})
    assert "wider than the 300 px box" in caught.value.message_dict["layers[1].text"][0]
    too_tall = text_design("Big summer sale on every bottle", width=620, line_height=2.0)
    with pytest.raises(ValidationError) as caught:
        compose(too_tall, {})
    assert "box is 200 px tall" in caught.value.message_dict["layers[1].text"][0]


def test_emoji_render_in_colour():
    image = compose(text_design("Hot deal 🔥🎉"), {})
    pixels = np.asarray(image, dtype=int)
    saturation = pixels.max(axis=2) - pixels.min(axis=2)
    assert (saturation > 120).sum() > 200  # the emoji's colour, not black tofu
    save("emoji.png", compositor.encode_png(image))


def test_cjk_falls_back_to_noto_cjk():
    chain = font_chain({"id": "t", "weight": "bold"})
    assigned = fonts.assign_fonts("新品上市", chain)
    assert all(font is not None and "CJK" in font.path for _, font in assigned)
    image = compose(text_design("新品上市 Summer 新品"), {})
    assert ink(image).sum() > 3000
    regular = compose(text_design("新品上市 Summer 新品", weight="regular"), {})
    assert ink(regular).sum() < ink(image).sum()  # the regular sibling is lighter
    save("cjk.png", compositor.encode_png(image))


def test_arabic_is_shaped_when_raqm_is_available():
    text = "تخفيضات الصيف"
    chain = font_chain({"id": "t", "weight": "bold"})
    runs = fonts.line_runs(text, chain)
    assert all(run.rtl and "Arabic" in run.font.path for run in runs if run.text.strip())
    if not features.check("raqm"):
        # Without libraqm Pillow draws Arabic letters unjoined and left to right; the
        # compositor cannot shape it here (stated, not hidden).
        assert not fonts.rtl_supported()
        pytest.skip("Pillow was built without raqm: Arabic is not shaped on this machine")
    # Shaped: joined letters are narrower than the same letters set apart (isolated forms).
    joined = fonts.line_width(fonts.line_runs("سلام", chain), 64)
    isolated = sum(fonts.line_width(fonts.line_runs(c, chain), 64) for c in "سلام")
    assert joined < isolated
    image = compose(text_design(text, align="right"), {})
    cols = np.nonzero(ink(image).any(axis=0))[0]
    assert cols.max() > 930 and ink(image).sum() > 2000
    save("arabic.png", compositor.encode_png(image))


@pytest.mark.parametrize("char", ["\U0010FFFF", "\uE000", "\u0378"])
def test_a_character_no_font_has_is_an_error(char):
    assert unicodedata.category(char) in ("Cn", "Co")
    with pytest.raises(ValidationError) as caught:
        compose(text_design(f"Sale {char}"), {})
    message = caught.value.message_dict["layers[1].text"][0]
    assert "'headline'" in message and f"U+{ord(char):04X}" in message


def test_a_brand_font_from_the_inputs_is_used_first():
    path = "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf"
    if not os.path.exists(path):
        pytest.skip("DejaVu Serif is not installed")
    data = Path(path).read_bytes()
    plain = compose(text_design("Brand Serif"), {})
    branded = compose(text_design("Brand Serif", font=sha(data)), {sha(data): data})
    assert not np.array_equal(np.asarray(plain), np.asarray(branded))
    with pytest.raises(ValidationError) as caught:
        compose(text_design("Brand Serif", font=sha(data)), {})
    assert "layers[1].font" in caught.value.message_dict
    junk = zlib.compress(b"no font")
    with pytest.raises(ValidationError) as caught:
        compose(text_design("Brand Serif", font=sha(junk)), {sha(junk): junk})
    assert "not a TrueType" in caught.value.message_dict["layers[1].font"][0]


# --- logo --------------------------------------------------------------------------------

def test_logo_keeps_its_aspect_inside_its_box():
    doc = {"schema": DESIGN_SCHEMA, "size": [400, 300], "layers": [
        {"kind": "background", "id": "bg",
         "source": {"type": "fill", "fill": {"type": "solid", "color": "#FFFFFF"}}},
        {"kind": "logo", "id": "logo", "sha256": sha(LOGO), "box": [20, 20, 300, 200],
         "align": "right", "valign": "top"}]}
    image = compose(doc, INPUTS)
    mask = ink(image, threshold=250)
    rows, cols = np.nonzero(mask)
    # 400x120 into 300x200: 300x90, at the top, filling the width
    assert (rows.min(), rows.max()) == (20, 109)
    assert (cols.min(), cols.max()) == (20, 319)


# --- looking at it -----------------------------------------------------------------------

def test_save_designs_for_people_to_look_at():
    story = {"schema": DESIGN_SCHEMA, "size": [1080, 1920], "safe": [0, 270, 0, 380],
             "layout": "story.stack", "layers": [
                 {"kind": "background", "id": "background",
                  "source": {"type": "fill", "fill": {"type": "linear", "angle": 160,
                                                      "colors": ["#0B3D5C", "#1D7A8C",
                                                                 "#F2C14E"]}}},
                 {"kind": "product", "id": "product", "sha256": sha(CUTOUT),
                  "box": [190, 660, 700, 760],
                  "shadow": {"opacity": 0.5, "blur": 24, "offset": [0, 18]}},
                 {"kind": "shape", "id": "panel", "shape": "panel", "box": [80, 300, 920, 360],
                  "color": "#FFFFFF", "opacity": 0.92, "radius": 36},
                 {"kind": "text", "id": "headline", "role": "headline",
                  "text": "夏季新品上市 🔥 تخفيضات", "box": [130, 330, 820, 200], "size": 76,
                  "color": "#0B3D5C", "align": "center", "valign": "middle",
                  "line_height": 1.15, "max_lines": 2},
                 {"kind": "text", "id": "subline", "role": "subline",
                  "text": "Cold brew 冷萃咖啡 ×2", "box": [130, 540, 820, 80], "size": 44,
                  "color": "#1B1B1B", "align": "center", "weight": "regular",
                  "max_lines": 1},
                 {"kind": "shape", "id": "badge", "shape": "badge", "box": [620, 1150, 200, 200],
                  "color": "#E63946"},
                 {"kind": "text", "id": "price", "role": "price", "text": "¥39",
                  "box": [620, 1150, 200, 200], "size": 64, "color": "#FFFFFF",
                  "align": "center", "valign": "middle", "max_lines": 1},
                 {"kind": "logo", "id": "logo", "sha256": sha(LOGO),
                  "box": [390, 1450, 300, 80], "valign": "bottom"},
             ]}
    data = compose_png(story, INPUTS)
    save("story-1080x1920.png", data)
    image = Image.open(io.BytesIO(data))
    assert image.size == (1080, 1920)
    result = product_fidelity(image.convert("RGB"), story, INPUTS)
    assert result["ok"] and result["covered"] > 0  # the badge and price overlap the bottle
    box, _ = product_region(story, INPUTS)
    assert box[1] + box[3] <= 1450  # the logo is below it
