"""Timing one workload in one variant: seconds per denoising step (median after warm-up), the
images end to end, peak memory and the latents (for the latent error against the exact run)."""

from __future__ import annotations

import statistics
import time

import torch

from bench.gpu_render_models import GIB
from bench.gpu_render_workloads import NEGATIVE, PROMPT, WARMUP_STEPS
from rendering.engine.generate import RenderRequest


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def peak_memory_gb(device: str) -> float | None:
    return torch.cuda.max_memory_allocated() / GIB if device.startswith("cuda") else None


def run(renderer, workload: dict, variant: str, *, device: str, steps: int | None = None,
        jobs: int | None = None) -> dict:
    """Time one workload in one variant: per-step median and the images end to end. With
    ``steps`` below the workload's, the per-image time is extrapolated from the step median;
    ``jobs`` limits a one-by-one run to its first jobs."""
    width, height = workload["size"]
    steps = min(steps or workload["steps"], workload["steps"])
    requests = [RenderRequest(prompt=PROMPT if i == 0 else f"{PROMPT} Variant {i}.",
                              negative_prompt=NEGATIVE if workload["cfg"] > 1 else "",
                              seed=i, steps=steps, true_cfg_scale=workload["cfg"],
                              width=width, height=height) for i in range(workload["batch"])]
    one_by_one = variant.endswith("one-by-one")
    groups = [[r] for r in requests[:jobs or None]] if one_by_one else [requests]
    stamps: list[float] = []

    def on_step(step, total):
        sync(device)
        stamps.append(time.perf_counter())

    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    sync(device)
    started = time.perf_counter()
    latents = []
    for group in groups:
        if variant.startswith("diffusers"):
            out = renderer.pipeline(
                prompt=[r.prompt for r in group],
                negative_prompt=[r.negative_prompt for r in group] if workload["cfg"] > 1
                else None,
                true_cfg_scale=workload["cfg"], width=width, height=height,
                num_inference_steps=steps,
                generator=[torch.Generator().manual_seed(r.seed) for r in group],
                callback_on_step_end=lambda p, i, t, k: (on_step(i, 0), {})[1],
                output_type="latent")
            latents.append(out.images[0])
        else:
            latents.append(renderer.render_batch(group, on_step=on_step, output_type="latent")[0])
    sync(device)
    seconds = time.perf_counter() - started
    step_times = [b - a for a, b in zip(stamps, stamps[1:], strict=False)][WARMUP_STEPS:]
    step = statistics.median(step_times) if step_times else None
    images = sum(len(g) for g in groups)
    if steps < workload["steps"] and step:  # the remaining steps at the median step time
        seconds += len(groups) * (workload["steps"] - steps) * step
    return {
        "step_seconds": step, "steps_run": steps, "steps_measured": len(step_times),
        "estimated": steps < workload["steps"],
        "seconds_per_image": seconds / images, "images_per_hour": 3600 * images / seconds,
        "peak_memory_gb": peak_memory_gb(device),
        "latents": latents[0].float().flatten()[:4096].cpu(),
    }


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm().clamp_min(1e-12))


def failed(exc: Exception) -> dict:
    # e.g. a backend not installed, FP8 on a device without FP8 matmuls, out of memory
    return {"seconds_per_image": float("nan"), "error": f"{type(exc).__name__}: {exc}"[:200],
            "latents": torch.zeros(1), "images_per_hour": 0}
