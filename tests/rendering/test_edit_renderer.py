"""The Qwen-Image-Edit renderer on the tiny edit model: diffusers' real edit pipelines, real
loading code, only the folder differs from production."""

import json

import numpy as np
import pytest
import torch
from diffusers.pipelines.qwenimage import pipeline_qwenimage_edit_plus as edit_plus
from PIL import Image

from rendering.engine.edit import (
    EditRenderer,
    EditRequest,
    get_edit_renderer,
    load_edit_processor,
    region_box,
)
from rendering.engine.tiny import EDIT_TEMPLATE_PREFIX, EDIT_TEMPLATE_PREFIX_TOKENS, build_tokenizer

SOURCE_SIZE = (150, 90)  # not square, not a multiple of anything the pipeline uses


@pytest.fixture(scope="module")
def source():
    pixels = np.random.default_rng(0).integers(0, 256, (SOURCE_SIZE[1], SOURCE_SIZE[0], 3))
    return Image.fromarray(pixels.astype(np.uint8))


@pytest.fixture(scope="module")
def renderer(tiny_edit_model_dir):
    return EditRenderer(str(tiny_edit_model_dir), device="cpu", dtype_name="float32",
                        condition_size=64, vae_image_size=128)


def _request(image, **changes):
    values = {"image": image, "instruction": "Make the background sky blue", "seed": 7,
              "steps": 2, "true_cfg_scale": 4.0, "negative_prompt": " "}
    return EditRequest(**{**values, **changes})


def test_tiny_edit_model_is_laid_out_like_the_real_weights(tiny_edit_model_dir):
    index = json.loads((tiny_edit_model_dir / "model_index.json").read_text())
    assert index["_class_name"] == "QwenImageEditPlusPipeline"
    assert index["processor"] == ["transformers", "Qwen2VLProcessor"]
    config = json.loads((tiny_edit_model_dir / "processor" / "preprocessor_config.json")
                        .read_text())
    assert config["image_processor_type"] == "Qwen2VLImageProcessor"
    assert (config["patch_size"], config["merge_size"]) == (14, 2)
    assert (tiny_edit_model_dir / "processor" / "tokenizer.json").is_file()


def test_tokenizer_encodes_the_edit_system_prompt_to_what_the_pipeline_drops():
    assert len(build_tokenizer()(EDIT_TEMPLATE_PREFIX)["input_ids"]) == EDIT_TEMPLATE_PREFIX_TOKENS


def test_processor_loads_without_torchvision_and_expands_the_image_tokens(
        tiny_edit_model_dir, source):
    processor = load_edit_processor(str(tiny_edit_model_dir))
    inputs = processor(text=["Picture 1: <|vision_start|><|image_pad|><|vision_end|>edit"],
                       images=[source], return_tensors="pt")
    grid = inputs["image_grid_thw"][0]
    image_tokens = int((inputs["input_ids"][0] == processor.image_token_id).sum())
    assert image_tokens == int(grid.prod()) // 4  # one token per 2x2 merge of 14 px patches
    assert inputs["pixel_values"].shape[0] == int(grid.prod())


def test_edit_comes_back_at_the_source_size_through_the_configured_model(tiny_edit_model,
                                                                          source):
    renderer = get_edit_renderer()
    assert renderer.model == str(tiny_edit_model)
    assert get_edit_renderer() is renderer  # loaded once per process
    edited = renderer.edit(_request(source))
    assert edited.size == SOURCE_SIZE
    assert edited.mode == "RGB"
    assert not np.array_equal(np.asarray(edited), np.asarray(source))


def test_same_seed_gives_the_same_pixels_and_another_seed_does_not(renderer, source):
    first = np.asarray(renderer.edit(_request(source)))
    again = np.asarray(renderer.edit(_request(source)))
    other = np.asarray(renderer.edit(_request(source, seed=8)))
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_region_edit_changes_only_the_marked_region(renderer, source):
    region = (0.2, 0.1, 0.4, 0.5)
    edited = np.asarray(renderer.edit(_request(source, region=region)))
    before = np.asarray(source)
    left, top, right, bottom = region_box(SOURCE_SIZE, region)
    assert (left, top, right, bottom) == (30, 9, 90, 54)
    inside = np.zeros(before.shape[:2], dtype=bool)
    inside[top:bottom, left:right] = True
    assert np.array_equal(edited[~inside], before[~inside])  # every pixel outside: the source's
    assert (edited[inside] != before[inside]).any(axis=-1).mean() > 0.5


@pytest.mark.parametrize(("changes", "message"), [
    ({"instruction": "   "}, "instruction is empty"),
    ({"instruction": ""}, "instruction is empty"),
    ({"region": (0.5, 0.5, 0.6, 0.2)}, "inside the image"),
    ({"region": (-0.1, 0, 0.5, 0.5)}, "inside the image"),
    ({"region": (0.1, 0.1, 0, 0.5)}, "width and a height"),
    ({"region": (0.1, 0.1, 0.001, 0.001)}, "too small"),
    ({"region": (0.1, 0.1, 0.5)}, "four numbers"),
    ({"region": ("a", 0, 1, 1)}, "four numbers"),
    ({"steps": 0}, "at least one step"),
])
def test_bad_requests_are_refused_with_a_clear_message(renderer, source, changes, message):
    calls = []
    with pytest.raises(ValueError, match=message):
        renderer.edit(_request(source, **changes), on_step=lambda *step: calls.append(step))
    assert calls == []  # refused before the pipeline ran


@pytest.mark.parametrize("region", [None, (0.0, 0.0, 0.5, 1.0)])
def test_progress_is_reported_once_per_step(renderer, source, region):
    calls = []
    renderer.edit(_request(source, steps=3, region=region),
                  on_step=lambda step, total: calls.append((step, total)))
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_on_step_returning_false_interrupts_the_edit(renderer, source):
    calls = []

    def cancel(step, total):
        calls.append(step)
        return False

    renderer.edit(_request(source, steps=4), on_step=cancel)
    assert calls == [1]  # no step ran after the cancel


def test_edit_sizes_apply_during_the_call_and_diffusers_own_values_come_back(renderer, source):
    seen = []
    renderer.edit(_request(source), on_step=lambda step, total: seen.append(
        (edit_plus.CONDITION_IMAGE_SIZE, edit_plus.VAE_IMAGE_SIZE)))
    assert seen == [(64 * 64, 128 * 128)] * 2
    assert (edit_plus.CONDITION_IMAGE_SIZE, edit_plus.VAE_IMAGE_SIZE) == (384 * 384, 1024 * 1024)


@pytest.mark.parametrize("region", [None, (0.25, 0.25, 0.5, 0.5)])
def test_the_vae_image_size_sets_the_size_the_model_edits_at(tiny_edit_model_dir, renderer,
                                                             source, region):
    larger = EditRenderer(str(tiny_edit_model_dir), device="cpu", dtype_name="float32",
                          condition_size=64, vae_image_size=256)
    assert renderer.working_size(SOURCE_SIZE) == (160, 96)
    assert larger.working_size(SOURCE_SIZE) == (320, 192)
    for edit_renderer in (renderer, larger):  # the inpaint variant (a region) included
        latents = edit_renderer.edit(_request(source, region=region), output_type="latent")
        width, height = edit_renderer.working_size(SOURCE_SIZE)
        # Packed latents: a token per 2x2 patch of the VAE's 4x-downsampled image, 4x4 channels.
        assert latents.shape == ((width // 8) * (height // 8), 16)


def test_recipe_fields_record_model_weights_and_sizes(renderer, tiny_edit_model_dir):
    fields = renderer.recipe_fields()
    assert fields["model"] == str(tiny_edit_model_dir)
    assert len(fields["weights_sha256"]) == 64
    assert (fields["device"], fields["dtype"]) == ("cpu", "float32")
    assert (fields["edit_condition_size"], fields["edit_vae_image_size"]) == (64, 128)
    assert set(fields["libraries"]) == {"diffusers", "transformers", "torch"}


def test_inpaint_variant_shares_the_weights_in_the_renderers_dtype(tiny_edit_model_dir):
    bf16 = EditRenderer(str(tiny_edit_model_dir), device="cpu", dtype_name="bfloat16",
                        condition_size=64, vae_image_size=128)
    assert bf16.inpaint_pipeline.transformer is bf16.pipeline.transformer
    assert bf16.pipeline.transformer.dtype == torch.bfloat16  # from_pipe did not cast it back
    assert bf16.pipeline.text_encoder.dtype == torch.bfloat16


def test_edit_works_in_the_out_of_memory_ladders_modes(renderer, source):
    plain = np.asarray(renderer.edit(_request(source)))
    renderer.set_memory_mode("vae_tiling")
    try:
        [tiled] = renderer.render_batch([_request(source)])
    finally:
        renderer.set_memory_mode("normal")
    assert renderer.memory_mode == "normal"
    assert np.array_equal(np.asarray(tiled), plain)  # tiles larger than the image: same result


def test_build_tiny_qwen_command_builds_the_edit_model(tmp_path):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("build_tiny_qwen", str(tmp_path / "edit"), "--pipeline", "edit", stdout=out)
    assert "ADSTUDIO_QWEN_IMAGE_EDIT_MODEL=" in out.getvalue()
    renderer = EditRenderer(str(tmp_path / "edit"), device="cpu", dtype_name="float32",
                            condition_size=64, vae_image_size=128)
    assert renderer.pipeline.vae_scale_factor == 4


def test_worker_preflight_refuses_an_edit_model_folder_without_weights(settings, tmp_path):
    from rendering.jobs.worker import preflight_model

    settings.ADSTUDIO_QWEN_IMAGE_MODEL = ""
    settings.ADSTUDIO_QWEN_IMAGE_EDIT_MODEL = str(tmp_path / "missing")
    problem = preflight_model()
    assert problem and problem.startswith("ADSTUDIO_QWEN_IMAGE_EDIT_MODEL=")
    settings.ADSTUDIO_QWEN_IMAGE_EDIT_MODEL = ""
    assert preflight_model() is None
