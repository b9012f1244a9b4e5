"""Exact speed options give the same images (or latents, up to float rounding) as plain
diffusers; lossy ones (FP8, a step-distilled LoRA) stay close and are opt-in."""

import sys

import numpy as np
import pytest
import torch

from rendering.engine.generate import QwenImageRenderer, RenderRequest
from rendering.engine.speed import BatchedCFG, load_lora, pad_embeddings

PROMPT = 'A sunlit poster for the Northwind trail tent, headline "Summer Sale", Ultra HD, 4K.'
NEGATIVE = "blurry"


@pytest.fixture
def renderer(tiny_model_dir, settings):
    settings.ADSTUDIO_TORCH_THREADS = 1
    return QwenImageRenderer(str(tiny_model_dir), device="cpu", dtype_name="float32")


def _request(**changes):
    values = {"prompt": PROMPT, "negative_prompt": NEGATIVE, "seed": 7, "steps": 3,
              "true_cfg_scale": 4.0, "width": 64, "height": 48}
    return RenderRequest(**{**values, **changes})


def test_text_embedding_cache_gives_the_same_image_as_plain_diffusers(renderer):
    plain = renderer.pipeline(
        prompt=PROMPT, negative_prompt=NEGATIVE, true_cfg_scale=4.0, width=64, height=48,
        num_inference_steps=3, generator=torch.Generator().manual_seed(7)).images[0]
    first = renderer.render(_request())
    again = renderer.render(_request())
    assert np.array_equal(np.asarray(plain), np.asarray(first))
    assert np.array_equal(np.asarray(first), np.asarray(again))
    assert renderer.embeddings.hits >= 2  # the second render encoded nothing


def test_embedding_cache_is_bounded(renderer):
    renderer.embeddings.size = 2
    for prompt in ("one", "two", "three"):
        renderer.embeddings.one(prompt)
    assert list(renderer.embeddings._entries) == ["two", "three"]


def test_batched_cfg_gives_the_same_latents_as_two_passes(renderer):
    request = _request()
    sequential = renderer.render_batch([request], output_type="latent")[0]
    renderer.speed["batched_cfg"] = True
    batched = renderer.render_batch([request], output_type="latent")[0]
    assert sequential.shape == batched.shape
    # Prompt and negative differ in length, so the batch pads and masks the negative.
    assert renderer.embeddings.one(PROMPT).shape[1] != renderer.embeddings.one(NEGATIVE).shape[1]
    torch.testing.assert_close(batched, sequential, rtol=1e-4, atol=1e-5)


def test_batched_cfg_calls_the_transformer_once_per_step(renderer):
    calls = []
    original = type(renderer.pipeline.transformer).forward

    def counting(module, *args, **kwargs):
        calls.append(kwargs["hidden_states"].shape[0])
        return original(module, *args, **kwargs)

    negative, mask = renderer.embeddings.batch([NEGATIVE])
    type(renderer.pipeline.transformer).forward = counting
    try:
        with BatchedCFG(renderer.pipeline.transformer, negative, mask):
            renderer.pipeline(
                prompt_embeds=renderer.embeddings.one(PROMPT), negative_prompt_embeds=negative,
                negative_prompt_embeds_mask=mask, true_cfg_scale=4.0, width=64, height=48,
                num_inference_steps=3, generator=torch.Generator().manual_seed(7),
                output_type="latent")
    finally:
        type(renderer.pipeline.transformer).forward = original
    assert calls == [2, 2, 2]  # one forward of batch 2 per step, not two of batch 1
    assert "forward" not in vars(renderer.pipeline.transformer)  # unwrapped after the render


def test_pad_embeddings_masks_only_the_padding():
    short, long = torch.ones(1, 2, 4), torch.ones(1, 5, 4)
    embeds, mask = pad_embeddings([short, long])
    assert embeds.shape == (2, 5, 4)
    assert mask.tolist() == [[True, True, False, False, False], [True] * 5]
    assert pad_embeddings([long, long])[1] is None


def test_attention_backend_setting_is_applied(tiny_model_dir, settings):
    settings.ADSTUDIO_ATTENTION_BACKEND = "native"
    settings.ADSTUDIO_TORCH_THREADS = 1
    renderer = QwenImageRenderer(str(tiny_model_dir), device="cpu", dtype_name="float32")
    assert renderer.speed["attention_backend"] == "native"
    image = renderer.render(_request())
    assert image.size == (64, 48)


def test_unknown_compile_mode_is_refused(tiny_model_dir, settings):
    settings.ADSTUDIO_COMPILE = "everything"
    with pytest.raises(ValueError, match="ADSTUDIO_COMPILE"):
        QwenImageRenderer(str(tiny_model_dir), device="cpu", dtype_name="float32")


def test_step_cache_is_lossy_opt_in_and_recorded(tiny_model_dir, settings):
    settings.ADSTUDIO_TORCH_THREADS = 1
    exact = QwenImageRenderer(str(tiny_model_dir), device="cpu", dtype_name="float32")
    reference = exact.render_batch([_request(steps=12)], output_type="latent")[0]
    settings.ADSTUDIO_STEP_CACHE = "first_block:0.5"
    cached = QwenImageRenderer(str(tiny_model_dir), device="cpu", dtype_name="float32")
    assert cached.speed["step_cache"] == "first_block:0.5"
    latents = cached.render_batch([_request(steps=12)], output_type="latent")[0]
    error = float((latents - reference).norm() / reference.norm())
    assert 0 < error < 0.2  # close, but not the exact render
    settings.ADSTUDIO_STEP_CACHE = "everything"
    with pytest.raises(ValueError, match="ADSTUDIO_STEP_CACHE"):
        QwenImageRenderer(str(tiny_model_dir), device="cpu", dtype_name="float32")


# --- FP8 (torchao), lossy and opt-in ---

def test_fp8_without_torchao_names_the_setting_and_the_extra(tiny_model_dir, settings,
                                                             monkeypatch):
    monkeypatch.setitem(sys.modules, "torchao", None)  # as on a machine without the gpu extra
    monkeypatch.setitem(sys.modules, "torchao.quantization", None)
    settings.ADSTUDIO_QUANTIZATION = "fp8"
    with pytest.raises(ImportError, match=r"ADSTUDIO_QUANTIZATION=fp8 .*pip install '\.\[gpu\]'"):
        QwenImageRenderer(str(tiny_model_dir), device="cpu", dtype_name="float32")


def test_unknown_quantization_is_refused(tiny_model_dir, settings):
    settings.ADSTUDIO_QUANTIZATION = "int3"
    with pytest.raises(ValueError, match="ADSTUDIO_QUANTIZATION"):
        QwenImageRenderer(str(tiny_model_dir), device="cpu", dtype_name="float32")


def test_fp8_on_a_device_without_fp8_matmuls_names_the_setting(tiny_model_dir, settings):
    pytest.importorskip("torchao.quantization")
    settings.ADSTUDIO_QUANTIZATION = "fp8"
    with pytest.raises(ValueError, match="ADSTUDIO_QUANTIZATION=fp8 cannot run on this device"):
        QwenImageRenderer(str(tiny_model_dir), device="cpu", dtype_name="float32")


def allow_fp8_on_cpu(monkeypatch):
    """torchao refuses FP8 without an FP8 GPU; its maths runs on a CPU all the same (torch's
    CPU scaled matmul), so the tests lift that one check to run the GPU's code path here."""
    pytest.importorskip("torchao.quantization")
    monkeypatch.setattr("torchao.quantization.quant_api._check_hardware_support",
                        lambda granularity: None)


def test_fp8_quantizes_every_transformer_linear_and_stays_close(renderer, tiny_model_dir,
                                                                settings, monkeypatch):
    allow_fp8_on_cpu(monkeypatch)
    exact = renderer.render_batch([_request(steps=6)], output_type="latent")[0]
    settings.ADSTUDIO_QUANTIZATION = "fp8"
    fp8 = QwenImageRenderer(str(tiny_model_dir), device="cpu", dtype_name="float32")
    assert fp8.speed["quantization"] == "fp8"
    linears = [m for m in fp8.pipeline.transformer.modules() if isinstance(m, torch.nn.Linear)]
    assert linears and all(type(m.weight).__name__ == "Float8Tensor" for m in linears)
    latents = fp8.render_batch([_request(steps=6)], output_type="latent")[0]
    error = float((latents - exact).norm() / exact.norm())
    assert 0 < error < 0.1  # lossy, but near the exact render on the same seed


# --- a step-distilled LoRA, fused at load ---

@pytest.fixture(scope="module")
def random_lora(tiny_model_dir, tmp_path_factory):
    from diffusers import QwenImageTransformer2DModel

    from bench.gpu_render import write_random_lora

    transformer = QwenImageTransformer2DModel.from_pretrained(tiny_model_dir,
                                                              subfolder="transformer")
    return write_random_lora(transformer, rank=4, folder=tmp_path_factory.mktemp("lora"))


def test_fused_lora_gives_the_unfused_latents_and_changes_the_render(renderer, tiny_model_dir,
                                                                     settings, random_lora):
    plain = renderer.render_batch([_request(true_cfg_scale=1.0)], output_type="latent")[0]
    load_lora(renderer.pipeline, str(random_lora), mode="unfused")
    unfused = renderer.render_batch([_request(true_cfg_scale=1.0)], output_type="latent")[0]
    settings.ADSTUDIO_LORA = str(random_lora)
    fused = QwenImageRenderer(str(tiny_model_dir), device="cpu", dtype_name="float32")
    assert fused.speed["lora"].startswith(f"{random_lora} sha256:")
    # Fused and unloaded: plain linear layers again, so a step costs what it cost before.
    assert not any("lora" in name for name, _ in fused.pipeline.transformer.named_modules())
    latents = fused.render_batch([_request(true_cfg_scale=1.0)], output_type="latent")[0]
    torch.testing.assert_close(latents, unfused, rtol=1e-4, atol=1e-5)
    assert float((latents - plain).norm() / plain.norm()) > 1e-3  # the LoRA does something


def test_missing_lora_names_the_setting(tiny_model_dir, settings, tmp_path):
    settings.ADSTUDIO_LORA = str(tmp_path / "nowhere.safetensors")
    with pytest.raises(ValueError, match="ADSTUDIO_LORA"):
        QwenImageRenderer(str(tiny_model_dir), device="cpu", dtype_name="float32")


def test_a_lora_makes_jobs_default_to_its_steps_without_cfg(monkeypatch):
    import importlib.util
    from pathlib import Path

    monkeypatch.setenv("ADSTUDIO_LORA", "/models/lightning-8steps.safetensors")
    monkeypatch.delenv("ADSTUDIO_DEFAULT_STEPS", raising=False)
    monkeypatch.delenv("ADSTUDIO_DEFAULT_TRUE_CFG_SCALE", raising=False)
    path = Path(__file__).resolve().parents[2] / "adstudio" / "settings" / "rendering.py"
    spec = importlib.util.spec_from_file_location("settings_with_lora", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (module.ADSTUDIO_DEFAULT_STEPS, module.ADSTUDIO_DEFAULT_TRUE_CFG_SCALE) == (8, 1.0)


# --- memory modes ---

def test_group_offload_gives_the_same_latents_and_is_undone(renderer):
    exact = renderer.render_batch([_request()], output_type="latent")[0]
    renderer.set_memory_mode("group_offload")
    offloaded = renderer.render_batch([_request()], output_type="latent")[0]
    renderer.set_memory_mode("normal")
    again = renderer.render_batch([_request()], output_type="latent")[0]
    torch.testing.assert_close(offloaded, exact)
    torch.testing.assert_close(again, exact)
    assert not renderer.pipeline.vae.use_tiling
