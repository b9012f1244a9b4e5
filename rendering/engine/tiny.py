"""Build tiny random-weight Qwen-Image pipelines offline: generation and edit.

The folders they write load with ``from_pretrained(folder)`` exactly like the real
``Qwen/Qwen-Image`` and ``Qwen/Qwen-Image-Edit-2509`` weights: the same diffusers and
transformers classes, tiny configs, and a byte-level BPE tokenizer trained here with
``tokenizers``. Their images are noise; they exist so tests and CPU demos run the production
loading and rendering code without a model hub.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

# The real Qwen2.5 special tokens at their real ids, so token ids seen by the text encoder
# (and the pipeline's chat template) match production.
QWEN_SPECIAL_TOKENS = [
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
    "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
    "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>", "<tool_call>",
    "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>",
    "<|repo_name|>", "<|file_sep|>",
]
FIRST_SPECIAL_ID = 151643
TEXT_VOCAB_SIZE = 152064  # Qwen2.5-VL's embedding rows
# Qwen2's pre-tokenizer split pattern (from its tokenizer.json).
QWEN_SPLIT_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
# QwenImagePipeline drops this many leading tokens (its system prompt); the tokenizer is trained
# so the prompt's template prefix encodes to exactly this many tokens, as the real one does.
TEMPLATE_PREFIX_TOKENS = 34
TEMPLATE_PREFIX = (
    "<|im_start|>system\nDescribe the image by detailing the color, shape, size, texture, "
    "quantity, text, spatial relationships of the objects and background:<|im_end|>\n"
    "<|im_start|>user\n"
)
# The same for the Qwen-Image-Edit pipelines' system prompt, which they drop as 64 tokens.
EDIT_SYSTEM_PROMPT = (
    "Describe the key features of the input image (color, shape, size, texture, objects, "
    "background), then explain how the user's text instruction should alter or modify the image. "
    "Generate a new image that meets the user's requirements while maintaining consistency with "
    "the original input where appropriate."
)
EDIT_TEMPLATE_PREFIX_TOKENS = 64
EDIT_TEMPLATE_PREFIX = f"<|im_start|>system\n{EDIT_SYSTEM_PROMPT}<|im_end|>\n<|im_start|>user\n"
_CORPUS = [
    "Describe the image by detailing the color, shape, size, texture, quantity, text, "
    "spatial relationships of the objects and background:",
    EDIT_SYSTEM_PROMPT,
    "system user assistant",
    "system\nuser\nassistant\n",
    "A clean product banner photo of a bottle on a marble table, soft studio light, "
    "the headline reads \"Summer Sale\" in bold sans serif, brand colors, high quality.",
    "Poster for a coffee shop with the text \"Qwen Cafe\" and a price tag, 4K, ultra HD, "
    "cinematic composition, professional advertising photography.",
    "超清，4K，电影级构图。新品上市，限时优惠，产品海报，品牌色彩，简洁背景。",
    "Ultra HD, 4K, cinematic composition. Fresh deals, free shipping, shop now, learn more.",
    "blurry, low quality, watermark, distorted text, extra fingers, jpeg artifacts",
]


def _train_tokenizer():
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
    from tokenizers.trainers import BpeTrainer

    def configure(tok: Tokenizer) -> Tokenizer:
        tok.normalizer = normalizers.NFC()
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(QWEN_SPLIT_PATTERN), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ])
        tok.decoder = decoders.ByteLevel()
        return tok

    trainer = BpeTrainer(
        vocab_size=1024,
        min_frequency=1,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    draft = configure(Tokenizer(models.BPE()))
    draft.train_from_iterator(_CORPUS * 8, trainer=trainer)

    # Re-home the special tokens at Qwen's ids: the BPE vocabulary may leave a gap before them.
    state = json.loads(draft.to_str())
    vocab = dict(state["model"]["vocab"])
    for offset, token in enumerate(QWEN_SPECIAL_TOKENS):
        vocab[token] = FIRST_SPECIAL_ID + offset
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m)
              for m in state["model"]["merges"]]
    tok = configure(Tokenizer(models.BPE(vocab=vocab, merges=merges)))
    tok.add_special_tokens(QWEN_SPECIAL_TOKENS)
    return tok


def build_tokenizer():
    """A ``Qwen2Tokenizer`` (tokenizers-backed) with Qwen's special tokens at their ids."""
    from transformers import Qwen2TokenizerFast

    tokenizer = Qwen2TokenizerFast(
        tokenizer_object=_train_tokenizer(),
        bos_token=None,
        eos_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        unk_token=None,
        model_max_length=131072,
    )
    for prefix, dropped, pipeline in (
        (TEMPLATE_PREFIX, TEMPLATE_PREFIX_TOKENS, "QwenImagePipeline"),
        (EDIT_TEMPLATE_PREFIX, EDIT_TEMPLATE_PREFIX_TOKENS, "QwenImageEditPlusPipeline"),
    ):
        tokens = len(tokenizer(prefix)["input_ids"])
        if tokens != dropped:
            raise RuntimeError(
                f"tiny tokenizer encodes the prompt template prefix to {tokens} tokens, "
                f"{pipeline} drops {dropped}"
            )
    return tokenizer


def _tiny_components(seed: int) -> dict:
    """The models, scheduler and tokenizer both tiny pipelines share (Qwen-Image-Edit has
    Qwen-Image's architecture; its text encoder's vision tower sees the source image)."""
    import torch
    from diffusers import (
        AutoencoderKLQwenImage,
        FlowMatchEulerDiscreteScheduler,
        QwenImageTransformer2DModel,
    )
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    torch.manual_seed(seed)
    transformer = QwenImageTransformer2DModel(
        patch_size=2,
        in_channels=16,
        out_channels=4,
        num_layers=2,
        attention_head_dim=16,
        num_attention_heads=3,
        joint_attention_dim=16,
        guidance_embeds=False,
        axes_dims_rope=(8, 4, 4),
    )
    z_dim = 4
    vae = AutoencoderKLQwenImage(
        base_dim=z_dim * 6,
        z_dim=z_dim,
        dim_mult=[1, 2, 4],
        num_res_blocks=1,
        temperal_downsample=[False, True],
        latents_mean=[0.0] * z_dim,
        latents_std=[1.0] * z_dim,
    )
    # Qwen-Image's own scheduler settings (dynamic shifting on image sequence length).
    scheduler = FlowMatchEulerDiscreteScheduler(
        base_image_seq_len=256,
        base_shift=0.5,
        max_image_seq_len=8192,
        max_shift=0.9,
        num_train_timesteps=1000,
        shift=1.0,
        shift_terminal=0.02,
        time_shift_type="exponential",
        use_dynamic_shifting=True,
    )
    config = Qwen2_5_VLConfig(
        text_config={
            "hidden_size": 16,
            "intermediate_size": 16,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "num_key_value_heads": 2,
            "rope_scaling": {"mrope_section": [1, 1, 2], "rope_type": "default", "type": "default"},
            "rope_theta": 1000000.0,
            "vocab_size": TEXT_VOCAB_SIZE,
        },
        vision_config={
            "depth": 2,
            "hidden_size": 16,
            "intermediate_size": 16,
            "num_heads": 2,
            "out_hidden_size": 16,
        },
        hidden_size=16,
        vocab_size=TEXT_VOCAB_SIZE,
        vision_end_token_id=151653,
        vision_start_token_id=151652,
        vision_token_id=151654,
        image_token_id=151655,
        video_token_id=151656,
    )
    return {
        "transformer": transformer,
        "vae": vae,
        "scheduler": scheduler,
        "text_encoder": Qwen2_5_VLForConditionalGeneration(config).eval(),
        "tokenizer": build_tokenizer(),
    }


def build_tiny_qwen_image(directory: str | Path, *, seed: int = 0) -> Path:
    """Write a tiny random-weight Qwen-Image pipeline to ``directory`` and return the path."""
    from diffusers import QwenImagePipeline

    directory = Path(directory)
    pipeline = QwenImagePipeline(**_tiny_components(seed))
    directory.mkdir(parents=True, exist_ok=True)
    pipeline.save_pretrained(directory)
    return directory


def build_tiny_qwen_image_edit(directory: str | Path, *, seed: int = 0) -> Path:
    """Write a tiny random-weight Qwen-Image-Edit pipeline to ``directory``, laid out like
    ``Qwen/Qwen-Image-Edit-2509`` (``QwenImageEditPlusPipeline``, with a ``processor`` folder
    holding the Qwen2-VL image processor's config and the tokenizer), and return the path."""
    from diffusers import QwenImageEditPlusPipeline
    from transformers import Qwen2VLImageProcessorPil

    from rendering.engine.processor import build_edit_processor

    directory = Path(directory)
    components = _tiny_components(seed)
    # Qwen2-VL's image processor with its real defaults (14 px patches, 2x2 merges).
    processor = build_edit_processor(
        image_processor=Qwen2VLImageProcessorPil(), tokenizer=components["tokenizer"])
    pipeline = QwenImageEditPlusPipeline(**components, processor=processor)
    directory.mkdir(parents=True, exist_ok=True)
    pipeline.save_pretrained(directory)
    # Write the processor as the real weights ship it: transformers' Qwen2VLProcessor, its parts
    # in their own files (save_pretrained recorded our image-only class and one combined file).
    shutil.rmtree(directory / "processor")
    processor.image_processor.save_pretrained(directory / "processor")
    processor.tokenizer.save_pretrained(directory / "processor")
    index_path = directory / "model_index.json"
    index = json.loads(index_path.read_text())
    index["processor"] = ["transformers", "Qwen2VLProcessor"]
    index_path.write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
    return directory
