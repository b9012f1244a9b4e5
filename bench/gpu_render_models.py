"""The full-size Qwen-Image architecture the GPU render benchmark runs: the pipeline with
random bf16 weights, its configs, meta-device copies and the models' sizes."""

from __future__ import annotations

import torch

# Qwen2.5-VL-7B-Instruct's published text-model sizes (config.json of the release).
QWEN25_VL_7B_TEXT = {
    "hidden_size": 3584, "intermediate_size": 18944, "num_hidden_layers": 28,
    "num_attention_heads": 28, "num_key_value_heads": 4, "rope_theta": 1000000.0,
    "max_position_embeddings": 128000, "vocab_size": 152064,
    "rope_scaling": {"type": "mrope", "rope_type": "default", "mrope_section": [16, 24, 24]},
}
QWEN25_VL_7B_VISION = {
    "depth": 32, "hidden_size": 1280, "intermediate_size": 3420, "num_heads": 16,
    "out_hidden_size": 3584, "patch_size": 14, "spatial_merge_size": 2, "window_size": 112,
    "fullatt_block_indexes": [7, 15, 23, 31], "temporal_patch_size": 2,
}
GIB = 2**30


def build_full_size_pipeline(device: str):
    """The full-size Qwen-Image architecture with random bf16 weights, built on the GPU."""
    from diffusers import (
        AutoencoderKLQwenImage,
        FlowMatchEulerDiscreteScheduler,
        QwenImagePipeline,
        QwenImageTransformer2DModel,
    )
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    from rendering.engine.tiny import build_tokenizer

    torch.set_default_dtype(torch.bfloat16)
    with torch.device(device):
        transformer = QwenImageTransformer2DModel()
        vae = AutoencoderKLQwenImage()
        text_encoder = Qwen2_5_VLForConditionalGeneration(Qwen2_5_VLConfig(
            text_config=QWEN25_VL_7B_TEXT, vision_config=QWEN25_VL_7B_VISION,
            vocab_size=152064, image_token_id=151655, video_token_id=151656,
            vision_start_token_id=151652, vision_end_token_id=151653)).eval()
    torch.set_default_dtype(torch.float32)
    scheduler = FlowMatchEulerDiscreteScheduler(
        base_image_seq_len=256, base_shift=0.5, max_image_seq_len=8192, max_shift=0.9,
        num_train_timesteps=1000, shift=1.0, shift_terminal=0.02,
        time_shift_type="exponential", use_dynamic_shifting=True)
    return QwenImagePipeline(transformer=transformer, vae=vae, text_encoder=text_encoder,
                             tokenizer=build_tokenizer(), scheduler=scheduler)


def configs_of(pipeline) -> tuple[dict, dict, object]:
    return (dict(pipeline.transformer.config), dict(pipeline.vae.config),
            pipeline.text_encoder.config)


def full_size_configs() -> tuple[dict, dict, object]:
    """Default diffusers configs (the 20B transformer) and Qwen2.5-VL-7B's text encoder."""
    from diffusers import AutoencoderKLQwenImage, QwenImageTransformer2DModel
    from transformers import Qwen2_5_VLConfig

    with torch.device("meta"):
        transformer, vae = QwenImageTransformer2DModel(), AutoencoderKLQwenImage()
    text = Qwen2_5_VLConfig(text_config=QWEN25_VL_7B_TEXT, vision_config=QWEN25_VL_7B_VISION,
                            vocab_size=152064)
    return dict(transformer.config), dict(vae.config), text


def meta_models(configs):
    from diffusers import AutoencoderKLQwenImage, QwenImageTransformer2DModel
    from transformers import Qwen2_5_VLForConditionalGeneration

    transformer_config, vae_config, text_config = configs
    with torch.device("meta"):
        return (QwenImageTransformer2DModel.from_config(transformer_config),
                AutoencoderKLQwenImage.from_config(vae_config),
                Qwen2_5_VLForConditionalGeneration(text_config))


def model_sizes_gib(configs) -> dict[str, float]:
    """Each model's bf16 weights in GiB (counted on the meta device) and its block count."""
    transformer, vae, text_encoder = meta_models(configs)
    gib = {name: sum(p.numel() for p in model.parameters()) * 2 / GIB
           for name, model in (("transformer", transformer), ("text_encoder", text_encoder),
                               ("vae", vae))}
    return {**gib, "blocks": len(transformer.transformer_blocks)}
