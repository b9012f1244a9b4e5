"""Speed options for the Qwen-Image renderer, each switched by a setting and measured in
bench/gpu_render.py against plain diffusers.

Lossy, opt-in: step caching (``first_block:<threshold>``, diffusers' first-block cache): a
step whose first block barely changed reuses the rest of the last step's output.

Exact options (same maths, same images up to float rounding):
- a text-embedding cache: a prompt seen before is not encoded again (byte-identical);
- batched CFG: true CFG's two transformer passes per step run as one batched forward;
- the attention backend (diffusers' ``set_attention_backend``) and ``torch.compile`` of the
  repeated transformer blocks.
"""

from __future__ import annotations

from collections import OrderedDict

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
