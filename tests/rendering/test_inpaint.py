"""Scenes around a product and outpainting: the real QwenImageInpaintPipeline on the tiny model."""

from io import StringIO

import numpy as np
import pytest
import torch
from PIL import Image

from rendering.engine.inpaint import (
    Inpainter,
    InpaintRequest,
    get_inpainter,
    outpaint_request,
    paste_keep,
    scene_canvas,
    scene_mask,
    snap_to_cells,
    unmasked_keep,
)

SIZE = (60, 44)  # not a multiple of the tiny model's 8: the inpainter pads and crops
XY = (20, 12)


def product(seed: int = 0) -> Image.Image:
    """A 20x18 RGBA cut-out: noisy colours, an opaque core and a soft one-pixel edge."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (18, 20, 4), dtype=np.uint8)
    pixels[..., 3] = 255
    pixels[0, :, 3] = pixels[-1, :, 3] = pixels[:, 0, 3] = pixels[:, -1, 3] = 128
    pixels[0, :3, 3] = 0  # a transparent corner
    return Image.fromarray(pixels, "RGBA")


def scene(cutout, **overrides) -> InpaintRequest:
    fields = {
        "image": scene_canvas(SIZE, cutout, XY),
        "mask": scene_mask(SIZE, cutout, XY),
        "prompt": "a bottle on a marble table, soft light",
        "seed": 7,
        "steps": 2,
        "true_cfg_scale": 1.0,
        "keep": (cutout, XY),
    }
    return InpaintRequest(**{**fields, **overrides})


@pytest.fixture
def inpainter(tiny_model):
    return get_inpainter()


def test_inpainter_runs_diffusers_inpaint_pipeline_on_the_renderers_own_weights(inpainter):
    from diffusers import QwenImageInpaintPipeline

    from rendering.engine.generate import get_renderer

    renderer = get_renderer()
    assert type(inpainter.pipeline) is QwenImageInpaintPipeline
    assert inpainter.shares_weights
    for name in ("transformer", "vae", "text_encoder"):
        ours, theirs = getattr(inpainter.pipeline, name), getattr(renderer.pipeline, name)
        assert ours is theirs
        for a, b in zip(ours.parameters(), theirs.parameters(), strict=True):
            assert a.data_ptr() == b.data_ptr()
    assert next(inpainter.pipeline.transformer.parameters()).dtype == torch.float32
    # The scheduler keeps per-call state: a copy, with the same configuration.
    assert inpainter.pipeline.scheduler is not renderer.pipeline.scheduler
    assert dict(inpainter.pipeline.scheduler.config) == dict(renderer.pipeline.scheduler.config)
    assert inpainter.embeddings is renderer.embeddings
    assert get_inpainter() is inpainter
    assert inpainter.size_multiple == renderer.size_multiple == 8


def test_scene_mask_keeps_the_opaque_product_shrunk_by_grow():
    cutout = product()
    alpha = np.asarray(cutout.getchannel("A"))
    plain = np.asarray(scene_mask(SIZE, cutout, XY, grow=0))
    x, y = XY
    under = plain[y:y + 18, x:x + 20]
    assert (under[alpha == 255] == 0).all()
    assert (under[alpha < 255] == 255).all()  # the soft edge is painted too
    outside = plain.copy()
    outside[y:y + 18, x:x + 20] = 255
    assert (outside == 255).all()
    grown = np.asarray(scene_mask(SIZE, cutout, XY, grow=2))
    assert (grown == 0).sum() == (16 - 4) * (18 - 4)  # the 16x14 opaque core, 2 px less a side
    assert set(np.unique(grown)) == {0, 255}


def test_snap_to_cells_paints_a_cell_when_any_pixel_may_be_painted():
    mask = Image.new("L", (16, 8), 0)
    mask.putpixel((5, 6), 200)  # one paint pixel in the second 4x4 cell of the bottom row
    mask.putpixel((12, 1), 127)  # below diffusers' 0.5 threshold: kept
    snapped = np.asarray(snap_to_cells(mask, 4))
    assert (snapped[4:8, 4:8] == 255).all()
    assert snapped.sum() == 16 * 255


def test_scene_around_a_product_keeps_its_pixels_exact_and_paints_the_rest(inpainter):
    cutout = product()
    request = scene(cutout)
    out = inpainter.inpaint(request)
    assert out.size == SIZE and out.mode == "RGB"
    pixels = np.asarray(out).astype(int)
    x, y = XY
    under = pixels[y:y + 18, x:x + 20]
    cut = np.asarray(cutout).astype(int)
    opaque = cut[..., 3] == 255
    assert np.abs(under[opaque] - cut[..., :3][opaque]).max() == 0
    # The paste is the cut-out alpha-composited onto the decoded painting (same seed, same
    # painting): the soft edge blends the product into the scene.
    assert ((cut[..., 3] > 0) & ~opaque).any()
    painting = inpainter.inpaint(scene(cutout, keep=None))
    assert np.array_equal(pixels, np.asarray(paste_keep(painting, (cutout, XY))))
    # The model painted everything outside the product.
    outside = np.ones(SIZE[::-1], dtype=bool)
    outside[y:y + 18, x:x + 20] = False
    changed = np.abs(pixels - np.asarray(request.image).astype(int)).sum(axis=-1) > 0
    assert changed[outside].mean() > 0.9


def test_same_seed_same_image_other_seed_other_image(inpainter):
    cutout = product()
    first = np.asarray(inpainter.inpaint(scene(cutout)))
    again = np.asarray(inpainter.inpaint(scene(cutout)))
    other = np.asarray(inpainter.inpaint(scene(cutout, seed=8)))
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_step_callback_counts_steps_and_false_cancels(inpainter):
    calls = []
    inpainter.inpaint(scene(product(), steps=3), on_step=lambda s, n: calls.append((s, n)))
    assert calls == [(1, 3), (2, 3), (3, 3)]

    calls.clear()
    # With strength below 1 only int(steps * strength) steps run: that is the total.
    inpainter.inpaint(scene(product(), steps=4, strength=0.5),
                      on_step=lambda s, n: calls.append((s, n)))
    assert calls == [(1, 2), (2, 2)]

    calls.clear()

    def cancel(step, total):
        calls.append(step)
        return False

    out = inpainter.inpaint(scene(product(), steps=3), on_step=cancel)
    assert calls == [1]  # interrupted: no further steps ran
    assert out.size == SIZE


def test_zero_masked_image_latents_change_nothing(inpainter):
    """Qwen-Image's inpaint loop never reads the masked image's latents: handing it zeros
    (one VAE encode saved) gives the same image bit for bit."""
    pipe = inpainter.pipeline
    image = scene_canvas((32, 32), product(), (6, 6))
    mask = snap_to_cells(scene_mask((32, 32), product(), (6, 6)), inpainter.cell)

    def paint(**extra):
        return pipe(prompt="a scene", image=image, mask_image=mask, strength=1.0, width=32,
                    height=32, num_inference_steps=2, true_cfg_scale=1.0, output_type="np",
                    generator=torch.Generator().manual_seed(0), **extra).images[0]

    zeros = torch.zeros(1, pipe.latent_channels, 1, 32 // inpainter.cell, 32 // inpainter.cell)
    assert np.array_equal(paint(), paint(masked_image_latents=zeros))


def test_outpaint_places_the_master_without_cropping_the_subject():
    master = Image.new("RGB", (300, 250), (10, 120, 200))
    canvas, mask = outpaint_request(master, (1200, 628))
    assert canvas.size == mask.size == (1200, 628)
    # The whole master is the subject: as large as fits (628 / 250), centred.
    assert mask.point(lambda v: 255 - v).getbbox() == (223, 0, 977, 628)
    assert set(np.unique(np.asarray(mask))) == {0, 255}

    # A small subject: the master covers the whole target, the subject inside it.
    canvas, mask = outpaint_request(master, (1200, 628), focus=(200, 20, 280, 100))
    assert mask.getbbox() is None  # nothing to paint: a subject-aware crop
    # A tall subject limits the scale: the master is scaled so it just fits, then extended.
    canvas, mask = outpaint_request(master, (1200, 628), focus=(0, 0, 100, 250))
    # 754 px wide; the subject (its left 251 px) as central as the master's edge allows.
    assert mask.point(lambda v: 255 - v).getbbox() == (446, 0, 1200, 628)


def test_outpaint_keeps_the_master_exact_after_the_vae(inpainter):
    rng = np.random.default_rng(3)
    master = Image.fromarray(rng.integers(0, 256, (250, 300, 3), dtype=np.uint8))
    canvas, mask = outpaint_request(master, (1200, 628))
    kept = np.asarray(mask) == 0
    common = {"image": canvas, "mask": mask, "prompt": "extend the beach", "seed": 1,
              "steps": 2, "true_cfg_scale": 1.0, "render_size": (150, 78)}

    # Without the paste the kept area is a VAE round trip (and a rescale): not exact.
    raw = np.asarray(inpainter.inpaint(InpaintRequest(**common))).astype(int)
    assert np.abs(raw[kept] - np.asarray(canvas).astype(int)[kept]).max() > 0

    out = inpainter.inpaint(InpaintRequest(**common, keep=unmasked_keep(canvas, mask)))
    pixels = np.asarray(out).astype(int)
    assert out.size == (1200, 628)
    assert np.abs(pixels[kept] - np.asarray(canvas).astype(int)[kept]).max() == 0
    assert (pixels[~kept] != np.asarray(canvas).astype(int)[~kept]).any(axis=-1).mean() > 0.9


def test_fallback_loads_the_inpaint_pipeline_from_the_generation_folder(tiny_model, inpainter):
    loaded = Inpainter(model=str(tiny_model), device="cpu", dtype_name="float32")
    assert not loaded.shares_weights
    request = scene(product())
    assert np.array_equal(np.asarray(loaded.inpaint(request)),
                          np.asarray(inpainter.inpaint(request)))


def test_bad_requests_are_refused(inpainter):
    with pytest.raises(ValueError, match="'L' image"):
        inpainter.inpaint(scene(product(), mask=Image.new("1", SIZE)))
    with pytest.raises(ValueError, match="strength"):
        inpainter.inpaint(scene(product(), strength=0))
    with pytest.raises(ValueError, match="run none"):
        inpainter.inpaint(scene(product(), steps=1, strength=0.5))


def test_build_tiny_qwen_inpaint_checks_the_generation_folder_loads(tmp_path):
    from django.core.management import call_command

    out = StringIO()
    call_command("build_tiny_qwen", str(tmp_path / "tiny"), "--pipeline", "inpaint", stdout=out)
    assert "QwenImageInpaintPipeline loads from" in out.getvalue()
    assert "no separate inpaint folder is needed" in out.getvalue()
    assert (tmp_path / "tiny" / "model_index.json").exists()
    out = StringIO()  # a second time: verifies the folder already there
    call_command("build_tiny_qwen", str(tmp_path / "tiny"), "--pipeline", "inpaint", stdout=out)
    assert "already in" in out.getvalue()


def test_build_tiny_qwen_all_builds_both_and_checks_inpainting(tmp_path):
    from django.core.management import call_command

    out = StringIO()
    call_command("build_tiny_qwen", str(tmp_path), "--pipeline", "all", stdout=out)
    text = out.getvalue()
    assert f"ADSTUDIO_QWEN_IMAGE_MODEL={tmp_path / 'qwen-image'}" in text
    assert f"ADSTUDIO_QWEN_IMAGE_EDIT_MODEL={tmp_path / 'qwen-image-edit'}" in text
    assert "QwenImageInpaintPipeline loads from" in text
