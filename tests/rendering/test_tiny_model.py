import json

import torch
from diffusers import QwenImagePipeline

from rendering.engine.tiny import (
    FIRST_SPECIAL_ID,
    QWEN_SPECIAL_TOKENS,
    TEMPLATE_PREFIX,
    TEMPLATE_PREFIX_TOKENS,
    build_tokenizer,
)


def test_tokenizer_has_qwen_special_tokens_at_their_real_ids():
    tokenizer = build_tokenizer()
    for offset, token in enumerate(QWEN_SPECIAL_TOKENS):
        assert tokenizer.convert_tokens_to_ids(token) == FIRST_SPECIAL_ID + offset
    assert tokenizer.convert_tokens_to_ids("<|im_start|>") == 151644
    assert tokenizer.convert_tokens_to_ids("<|vision_start|>") == 151652


def test_pipeline_template_prefix_is_exactly_what_the_pipeline_drops():
    ids = build_tokenizer()(TEMPLATE_PREFIX)["input_ids"]
    assert len(ids) == TEMPLATE_PREFIX_TOKENS


def test_tokenizer_round_trips_english_and_chinese():
    tokenizer = build_tokenizer()
    text = "Summer Sale 新品上市 ¥99"
    assert tokenizer.decode(tokenizer(text)["input_ids"]) == text


def test_built_folder_loads_through_from_pretrained_and_renders(tiny_model_dir):
    index = json.loads((tiny_model_dir / "model_index.json").read_text())
    assert index["_class_name"] == "QwenImagePipeline"
    assert index["transformer"] == ["diffusers", "QwenImageTransformer2DModel"]
    pipe = QwenImagePipeline.from_pretrained(tiny_model_dir, dtype=torch.float32)
    pipe.set_progress_bar_config(disable=True)
    image = pipe("a poster", negative_prompt="blurry", true_cfg_scale=4.0, width=64, height=64,
                 num_inference_steps=2, generator=torch.Generator().manual_seed(0)).images[0]
    assert image.size == (64, 64)
    assert image.getextrema() != ((0, 0), (0, 0), (0, 0))
    assert len(image.getcolors(maxcolors=64 * 64)) > 1  # a real render, not a blank canvas


def test_build_tiny_qwen_command_writes_a_loadable_folder(tmp_path):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("build_tiny_qwen", str(tmp_path / "tiny"), stdout=out)
    assert "ADSTUDIO_QWEN_IMAGE_MODEL=" in out.getvalue()
    for part in ("transformer", "vae", "text_encoder", "tokenizer", "scheduler"):
        assert (tmp_path / "tiny" / part).is_dir(), part
    pipe = QwenImagePipeline.from_pretrained(tmp_path / "tiny", dtype=torch.float32)
    assert pipe.vae_scale_factor == 4
