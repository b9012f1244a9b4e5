"""Speed options for the Qwen-Image renderer, each switched by a setting and measured in
bench/gpu_render.py against plain diffusers.

Lossy, opt-in:
- step caching (``first_block:<threshold>``, diffusers' first-block cache): a step whose first
  block barely changed reuses the rest of the last step's output;
- FP8 (``ADSTUDIO_QUANTIZATION=fp8``): torchao's float8 dynamic activations and float8 weights
  on the transformer's linear layers (half the transformer's memory, Hopper/Ada FP8 matmuls);
- a step-distilled LoRA (``ADSTUDIO_LORA``, 8 steps without CFG), fused into the weights at
  load so it costs nothing per step.

Exact options (same maths, same images up to float rounding):
- a text-embedding cache: a prompt seen before is not encoded again (byte-identical);
- batched CFG: true CFG's two transformer passes per step run as one batched forward;
- the attention backend (diffusers' ``set_attention_backend``) and ``torch.compile`` of the
  repeated transformer blocks.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import torch


class TextEmbeddingCache:
    """LRU cache of one prompt's embeddings, computed exactly as the pipeline does for a
    single prompt, so a cached render equals an uncached one bit for bit."""

    def __init__(self, pipeline, *, size: int, max_sequence_length: int = 512):
        self.pipeline = pipeline
        self.size = size
        self.max_sequence_length = max_sequence_length
        self._entries: OrderedDict[str, torch.Tensor] = OrderedDict()
        self.hits = self.misses = 0

    def one(self, prompt: str) -> torch.Tensor:
        if prompt in self._entries:
            self.hits += 1
            self._entries.move_to_end(prompt)
            return self._entries[prompt]
        self.misses += 1
        embeds, _mask = self.pipeline._get_qwen_prompt_embeds(
            [prompt], device=self.pipeline._execution_device)
        embeds = embeds[:, : self.max_sequence_length]
        if self.size:
            self._entries[prompt] = embeds
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return embeds

    def batch(self, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Embeddings for ``prompts`` padded to one length, and the mask of real tokens (all
        ones when nothing was padded: the pipeline then drops it, exactly as for text)."""
        embeds, mask = pad_embeddings([self.one(p) for p in prompts])
        if mask is None:
            mask = torch.ones(embeds.shape[:2], dtype=torch.long, device=embeds.device)
        return embeds, mask


def pad_embeddings(parts: list[torch.Tensor], masks: list[torch.Tensor | None] | None = None):
    """Concatenate (1|B, L_i, D) embeddings along the batch, zero-padding to the longest L,
    with the boolean mask of real tokens (None when nothing was padded)."""
    masks = masks or [None] * len(parts)
    longest = max(p.shape[1] for p in parts)
    padded, full_masks = [], []
    for part, mask in zip(parts, masks, strict=True):
        if mask is None:
            mask = torch.ones(part.shape[:2], dtype=torch.bool, device=part.device)
        extra = longest - part.shape[1]
        if extra:
            part = torch.cat([part, part.new_zeros(part.shape[0], extra, part.shape[2])], dim=1)
            mask = torch.cat([mask.bool(), mask.new_zeros(mask.shape[0], extra).bool()], dim=1)
        padded.append(part)
        full_masks.append(mask.bool())
    mask = torch.cat(full_masks)
    return torch.cat(padded), (None if bool(mask.all()) else mask)


class BatchedCFG:
    """While active, the pipeline's conditional transformer call computes the unconditional
    one in the same forward (batch of 2B), and its unconditional call returns that result.

    The negative embeddings are known before the render (the renderer encodes them), so no
    copy of the pipeline's denoising loop is needed: only the transformer's forward is
    wrapped, and only for this render.
    """

    def __init__(self, transformer, negative_embeds: torch.Tensor,
                 negative_mask: torch.Tensor | None):
        self.transformer = transformer
        self.negative = (negative_embeds, negative_mask)
        self._stash = None

    def __enter__(self):
        self._forward = self.transformer.forward
        self.transformer.forward = self._batched_forward
        return self

    def __exit__(self, *exc):
        del self.transformer.forward  # back to the class's forward
        self._stash = None

    def _batched_forward(self, hidden_states, encoder_hidden_states=None,
                         encoder_hidden_states_mask=None, timestep=None, img_shapes=None,
                         **kwargs):
        if self._stash is not None and self._stash[0] is hidden_states:
            uncond, self._stash = self._stash[1], None  # the same step's unconditional call
            return (uncond,)
        embeds, mask = pad_embeddings(
            [encoder_hidden_states, self.negative[0]],
            [encoder_hidden_states_mask, self.negative[1]],
        )
        output = self._forward(
            hidden_states=torch.cat([hidden_states, hidden_states]),
            encoder_hidden_states=embeds, encoder_hidden_states_mask=mask,
            timestep=torch.cat([timestep, timestep]), img_shapes=list(img_shapes) * 2,
            **{**kwargs, "return_dict": False},
        )[0]
        cond, uncond = output.chunk(2)
        self._stash = (hidden_states, uncond)
        return (cond,)


def apply_static_options(pipeline, *, attention_backend: str, compile_mode: str,
                         step_cache: str = "") -> None:
    """Options set once when the pipeline loads."""
    if attention_backend:
        pipeline.transformer.set_attention_backend(attention_backend)
    if step_cache:
        enable_step_cache(pipeline.transformer, step_cache)
    if compile_mode == "blocks":
        pipeline.transformer.compile_repeated_blocks(fullgraph=True)
    elif compile_mode not in ("", "none"):
        raise ValueError(f"ADSTUDIO_COMPILE must be 'none' or 'blocks', not {compile_mode!r}")


def enable_step_cache(transformer, spec: str) -> None:
    """``first_block:0.2`` turns on diffusers' first-block cache with that threshold."""
    from diffusers import FirstBlockCacheConfig

    kind, _, threshold = spec.partition(":")
    if kind != "first_block" or not threshold:
        raise ValueError(f"ADSTUDIO_STEP_CACHE must look like 'first_block:0.2', not {spec!r}")
    transformer.enable_cache(FirstBlockCacheConfig(threshold=float(threshold)))


QUANTIZATIONS = ("none", "fp8")


def quantize_transformer(transformer, kind: str) -> None:
    """``fp8``: float8 weights (per-row scales) and float8 activations (scaled per row at run
    time) on the transformer's linear layers, in place. ``none`` (or empty) leaves it alone."""
    if kind in ("", "none"):
        return
    if kind != "fp8":
        raise ValueError(f"ADSTUDIO_QUANTIZATION must be one of {QUANTIZATIONS}, not {kind!r}")
    try:  # lazy: torchao is in the gpu extra, and only this setting needs it
        from torchao.quantization import (
            Float8DynamicActivationFloat8WeightConfig,
            PerRow,
            PerTensor,
            quantize_,
        )
    except ImportError as exc:
        raise ImportError(
            "ADSTUDIO_QUANTIZATION=fp8 needs torchao, which is in the gpu extra: "
            "pip install '.[gpu]' (or set ADSTUDIO_QUANTIZATION=none)") from exc
    # torchao scales per row only for bf16 weights (the GPU's dtype); other dtypes per tensor.
    bf16 = next(transformer.parameters()).dtype == torch.bfloat16
    granularity = PerRow() if bf16 else PerTensor()
    config = Float8DynamicActivationFloat8WeightConfig(granularity=granularity)
    try:
        quantize_(transformer, config, filter_fn=_fp8_eligible)
    except AssertionError as exc:  # torchao's hardware check (FP8 matmuls: sm 8.9+, MI300+)
        raise ValueError(f"ADSTUDIO_QUANTIZATION=fp8 cannot run on this device: {exc}") from exc


def _fp8_eligible(module, name: str) -> bool:
    # FP8 matmuls (torch._scaled_mm) need both matrix dimensions to be multiples of 16.
    return (isinstance(module, torch.nn.Linear) and module.in_features % 16 == 0
            and module.out_features % 16 == 0)


LORA_MODES = ("fused", "unfused")


def load_lora(pipeline, path: str, *, mode: str = "fused") -> None:
    """Load a LoRA (a ``.safetensors`` file, or a folder holding
    ``pytorch_lora_weights.safetensors``) into the transformer with diffusers'
    ``load_lora_weights``. ``fused`` merges it into the weights and drops the adapter layers, so
    a step costs what it cost without the LoRA; ``unfused`` keeps the adapters (the benchmark's
    comparison)."""
    if mode not in LORA_MODES:
        raise ValueError(f"LoRA mode must be one of {LORA_MODES}, not {mode!r}")
    if not Path(path).exists():
        raise ValueError(f"ADSTUDIO_LORA points at {path}, which does not exist")
    pipeline.load_lora_weights(path, adapter_name="distilled")
    if mode == "fused":
        pipeline.fuse_lora(components=["transformer"])
        pipeline.unload_lora_weights()  # the merged weights stay; the adapter layers go


def lora_fingerprint(path: str) -> str:
    """SHA-256 of a LoRA file (or of the folder's weights file)."""
    import hashlib

    file = Path(path)
    if file.is_dir():
        file = file / "pytorch_lora_weights.safetensors"
    digest = hashlib.sha256()
    with file.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def remove_group_offload(pipeline) -> None:
    """Undo ``enable_group_offload`` on every model of the pipeline (diffusers has no public
    call for it); the weights stay where the offload left them (the CPU)."""
    from diffusers.hooks import HookRegistry

    for component in pipeline.components.values():
        if isinstance(component, torch.nn.Module):
            registry = HookRegistry.check_if_exists_or_initialize(component)
            for hook in ("group_offloading", "layer_execution_tracker",
                         "lazy_prefetch_group_offloading"):
                registry.remove_hook(hook, recurse=True)
