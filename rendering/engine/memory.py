"""The out-of-memory ladder: a render that does not fit steps down through smaller batches,
VAE tiling, CPU offload and group offload, at most two rungs, then fails with a reason."""

from __future__ import annotations

import logging

import torch

from rendering.engine.generate import RenderRequest

logger = logging.getLogger(__name__)


class OutOfMemory(Exception):
    """The render did not fit in GPU memory on any rung of the ladder."""


LADDER = ("normal", "vae_tiling", "cpu_offload", "group_offload")


MODE_NAMES = {"normal": "a smaller batch", "vae_tiling": "VAE tiling",
              "cpu_offload": "CPU offload", "group_offload": "group offload"}


def _ladder(batch_size: int, base: str = "normal") -> list[tuple[str, int]]:
    """Memory modes to try after an out-of-memory error in mode ``base``: at most two steps
    down (a batch is split first)."""
    lower = list(LADDER[LADDER.index(base) + 1:])
    if batch_size > 1:
        return [(base, 1), *[(mode, 1) for mode in lower[:1]]]
    return [(mode, batch_size) for mode in lower[:2]]


def render_with_ladder(renderer, requests: list[RenderRequest], on_step):
    """Render ``requests`` (a batch), stepping down on out-of-memory; returns images and the
    memory mode that worked. The next job starts in the base mode again."""

    base = getattr(renderer, "base_memory_mode", "normal")
    attempts = [(base, len(requests)), *_ladder(len(requests), base)]
    try:
        for number, (mode, chunk) in enumerate(attempts):
            try:
                renderer.set_memory_mode(mode)
                images = []
                for start in range(0, len(requests), chunk):
                    images += renderer.render_batch(requests[start:start + chunk], on_step)
                return images, mode
            except torch.OutOfMemoryError as exc:
                renderer.free_memory()
                logger.warning("out of GPU memory in mode %s (try %s): %s", mode, number + 1,
                               exc)
        tried = " and ".join(dict.fromkeys(MODE_NAMES[mode] for mode, _ in attempts[1:]))
        raise OutOfMemory(f"Out of GPU memory, even with {tried}. Use a smaller format or a "
                          "GPU with more memory (docs/deploy.md: memory per GPU size).")
    finally:
        renderer.set_memory_mode(base)
