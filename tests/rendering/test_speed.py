"""Speed options are exact: same images (or latents, up to float rounding) as plain diffusers."""

import numpy as np
import pytest
import torch

from rendering.renderer import QwenImageRenderer, RenderRequest
from rendering.speed import BatchedCFG, pad_embeddings

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
