"""Workload D: an edit through the workers' EditRenderer, on the tiny edit model or assembled
over the full-size generation models (no weights on disk)."""

from __future__ import annotations

import statistics
import time

import torch

from bench.gpu_render_bench import Bench
from bench.gpu_render_floor import count_flops, workload_flops
from bench.gpu_render_models import configs_of
from bench.gpu_render_timing import failed, peak_memory_gb, sync
from bench.gpu_render_workloads import NEGATIVE, WARMUP_STEPS, workloads

EDIT_INSTRUCTION = 'Replace the headline with "Summer Sale" in bold white sans serif.'


def edit_renderer_for(bench: Bench):
    """The workers' EditRenderer: on the tiny edit model (built here) with --tiny; on the GPU,
    over the generation pipeline's full-size models (Qwen-Image-Edit has the same
    architecture), or None while rendering.engine.edit has no EditRenderer."""
    from django.core.exceptions import AppRegistryNotReady

    try:
        from rendering.engine.edit import EditRenderer
    except (ImportError, AppRegistryNotReady):
        return None
    if bench.tiny:
        from rendering.engine.tiny import build_tiny_qwen_image_edit

        folder = build_tiny_qwen_image_edit(bench.scratch / "tiny-edit")
        return EditRenderer(str(folder), device="cpu", dtype_name="float32",
                            condition_size=64, vae_image_size=workloads(True)["D"]["size"][0])
    return assembled_edit_renderer(bench.renderer.pipeline, device=bench.device,
                                   dtype_name="bfloat16", condition_size=384, vae_image_size=1024)


def assembled_edit_renderer(pipeline, *, device: str, dtype_name: str, condition_size: int,
                            vae_image_size: int):
    """An EditRenderer whose loader returns QwenImageEditPlusPipeline assembled from
    ``pipeline``'s models (no weights on disk: the GPU machine has no hub), so the edit runs
    exactly the workers' EditRenderer code."""
    from unittest import mock

    from diffusers import QwenImageEditPlusPipeline
    from transformers import Qwen2VLImageProcessorPil

    from rendering.engine import edit as edit_renderer

    processor = edit_renderer.build_edit_processor(image_processor=Qwen2VLImageProcessorPil(),
                                                   tokenizer=pipeline.tokenizer)
    edit = QwenImageEditPlusPipeline(
        transformer=pipeline.transformer, vae=pipeline.vae, text_encoder=pipeline.text_encoder,
        tokenizer=pipeline.tokenizer, scheduler=pipeline.scheduler, processor=processor)
    with mock.patch.object(QwenImageEditPlusPipeline, "from_pretrained", return_value=edit), \
            mock.patch.object(edit_renderer, "load_edit_processor", return_value=processor):
        return edit_renderer.EditRenderer("random-full-size", device=device,
                                          dtype_name=dtype_name, condition_size=condition_size,
                                          vae_image_size=vae_image_size)


def run_edit(editor, workload: dict, *, device: str, steps: int) -> dict:
    """Time one edit of a random source image: per-step median and the edit end to end."""
    from PIL import Image

    from rendering.engine.edit import EditRequest

    width, height = workload["size"]
    pixels = torch.randint(0, 256, (height, width, 3), dtype=torch.uint8,
                           generator=torch.Generator().manual_seed(0))
    request = EditRequest(image=Image.fromarray(pixels.numpy()), instruction=EDIT_INSTRUCTION,
                          seed=0, steps=steps, true_cfg_scale=workload["cfg"],
                          negative_prompt=NEGATIVE)
    stamps: list[float] = []

    def on_step(step, total):
        sync(device)
        stamps.append(time.perf_counter())

    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    sync(device)
    started = time.perf_counter()
    latents = editor.edit(request, on_step, output_type="latent")
    sync(device)
    seconds = time.perf_counter() - started
    step_times = [b - a for a, b in zip(stamps, stamps[1:], strict=False)][WARMUP_STEPS:]
    step = statistics.median(step_times) if step_times else None
    if steps < workload["steps"] and step:
        seconds += (workload["steps"] - steps) * step
    return {"step_seconds": step, "steps_run": steps, "steps_measured": len(step_times),
            "estimated": steps < workload["steps"], "seconds_per_image": seconds,
            "images_per_hour": 3600 / seconds, "peak_memory_gb": peak_memory_gb(device),
            "latents": latents.float().flatten()[:4096].cpu()}


def measure_edit(bench: Bench, workload: dict, *, rate: float) -> None:
    """Workload D: one edit through the workers' EditRenderer, warmed up once."""
    if bench.out_of_time():
        bench.rows.append({"workload": "D", "variant": "edit", "note": "skipped: out of time"})
        return
    try:
        editor = edit_renderer_for(bench)
    except Exception as exc:  # noqa: BLE001 - e.g. a library the GPU machine lacks
        bench.rows.append({"workload": "D", "variant": "edit",
                           "note": f"{type(exc).__name__}: {exc}"[:200]})
        return
    if editor is None:
        bench.rows.append({"workload": "D", "variant": "edit",
                           "note": "waits for rendering.engine.edit.EditRenderer"})
        return
    # The transformer sees the output's and the source's latents; the prompt carries the
    # condition image's vision tokens (28 px each).
    width, height = workload["size"]
    text_tokens = bench.text_tokens + (editor.condition_size // 28) ** 2
    flops = workload_flops(count_flops(configs_of(editor.pipeline), width=width, height=height,
                                       text_tokens=text_tokens, image_sets=2), workload)
    try:  # a whole edit, --quick or not: it is the workload's one row
        run_edit(editor, workload, device=bench.device, steps=WARMUP_STEPS + 1)
        row = run_edit(editor, workload, device=bench.device, steps=workload["steps"])
    except Exception as exc:  # noqa: BLE001 - one GPU call: record the failure, run the rest
        row = failed(exc)
    row.pop("latents")
    floor = flops / rate
    row.update({"workload": "D", "variant": "edit", "flops": flops, "floor_seconds": floor,
                "mfu": floor / row["seconds_per_image"], "speedup_vs_diffusers": 1.0,
                "latent_rel_error": None})
    bench.rows.append(row)
    bench.save()
    editor.free_memory()
