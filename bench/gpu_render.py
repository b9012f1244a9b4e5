"""GPU render benchmark (BENCHMARKS.md section 1): Qwen-Image at full size against its floor.

    python bench/gpu_render.py                 # GPU: full-size architecture, random bf16 weights
    python bench/gpu_render.py --tiny          # CPU: the tiny model (how CI tests this harness)
    bash bench/gpu_session.sh                  # the one-call H200 session (docs/benchmarks.md)

The pipeline is assembled from diffusers' classes (full-size default configs; the text encoder
with Qwen2.5-VL-7B's published sizes) and wrapped by the same QwenImageRenderer the workers
use. For each workload it measures seconds per denoising step (median over >= 10 steps after
2 warm-up steps), one full image end to end, images per hour, peak memory, and MFU: the
floor (FLOPs counted by torch's FlopCounterMode on a meta-device copy of each model at the
workload's shapes, divided by the bf16 matrix rate measured in the same run) over the time.

Variants, each against plain diffusers in the same run. Exact: our default (text-embedding
cache), batched CFG, attention backends, torch.compile of the repeated blocks (GPU). Lossy,
with their latent error against the exact run on the same seed and steps: step caching
(first-block cache), FP8 (torchao), a step-distilled LoRA of the published rank (random
weights, unfused and fused). Memory budgets (``--memory-budget-gb 48,24``): for each, the
fastest exact plan and the fastest FP8 plan that the full-size model's sizes allow (VAE
tiling with CPU offload or group offload), run under torch.cuda.set_per_process_memory_fraction
(skipped on a CPU, where only the code path runs). Workload D edits through the workers'
EditRenderer. ``--quick`` (the GPU session) renders whole images only for the plain and default
variants of A and B and for D; the others run 13 steps (2 warm-up + 10 timed) and their
per-image time is extrapolated, marked ``~``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import time
import types
from pathlib import Path

STARTED = time.perf_counter()  # --deadline-s counts from here: imports and model build too
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from django.conf import settings  # noqa: E402


def configure_settings() -> None:
    """The workers' settings (adstudio.settings, read from the environment), loaded without
    the adstudio package, whose Celery app the GPU machine does not need to install."""
    if settings.configured:
        return
    if "adstudio" not in sys.modules:
        # The settings import adstudio.secret_key: the package's folder, without running its
        # __init__ (the Celery app).
        package = types.ModuleType("adstudio")
        package.__path__ = [str(ROOT / "adstudio")]
        sys.modules["adstudio"] = package
    # adstudio.settings: a module or a package of them, either way under the bare package.
    module = importlib.import_module("adstudio.settings")
    settings.configure(**{name: getattr(module, name) for name in dir(module) if name.isupper()})


configure_settings()

import torch  # noqa: E402

from bench.gpu_render_bench import Bench  # noqa: E402
from bench.gpu_render_budgets import budget_plans, run_budgets  # noqa: E402
from bench.gpu_render_edit import assembled_edit_renderer, measure_edit, run_edit  # noqa: E402
from bench.gpu_render_floor import count_flops, matrix_rate, workload_flops  # noqa: E402
from bench.gpu_render_models import (  # noqa: E402
    build_full_size_pipeline,
    configs_of,
    full_size_configs,
    model_sizes_gib,
)
from bench.gpu_render_report import report  # noqa: E402
from bench.gpu_render_variants import LIGHTNING_RANK, write_random_lora  # noqa: E402
from bench.gpu_render_workloads import PROMPT, variants_for, workloads  # noqa: E402
from rendering.engine.generate import QwenImageRenderer  # noqa: E402

# What the tests and other benchmarks import from here.
__all__ = ["assembled_edit_renderer", "budget_plans", "full_size_configs", "main",
           "model_sizes_gib", "run_edit", "workloads", "write_random_lora"]


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tiny", action="store_true", help="CPU, the tiny model")
    parser.add_argument("--workloads", default="A,B,C,D")
    parser.add_argument("--variants", default="",
                        help="only these variants (comma-separated prefixes); default all")
    parser.add_argument("--quick", action="store_true",
                        help="whole images only for plain and default; others 13 steps")
    parser.add_argument("--memory-budget-gb", default=None,
                        help="GiB budgets to run within, e.g. 48,24 (default: 48,24 on a GPU)")
    parser.add_argument("--budget-workload", default="B")
    parser.add_argument("--activation-margin-gb", type=float, default=3.0,
                        help="GiB kept free for activations when choosing a memory plan")
    parser.add_argument("--lora-rank", type=int, default=0,
                        help=f"random LoRA's rank (default {LIGHTNING_RANK}; 4 with --tiny)")
    parser.add_argument("--deadline-s", type=float, default=0,
                        help="start no variant after this many seconds (0: no limit)")
    parser.add_argument("--json", help="write the results here too (after every row)")
    parser.add_argument("--markdown", help="write the report section here")
    parser.add_argument("--no-append", action="store_true", help="leave docs/benchmarks.md")
    parser.add_argument("--step-cache-thresholds", default="0.1,0.2",
                        help="first-block cache thresholds to measure (lossy)")
    args = parser.parse_args(argv)
    tiny = args.tiny or not torch.cuda.is_available()
    if args.memory_budget_gb is None:
        args.memory_budget_gb = "" if tiny else "48,24"
    device, dtype = ("cpu", torch.float32) if tiny else ("cuda", torch.bfloat16)
    if tiny:
        from rendering.engine.tiny import build_tiny_qwen_image

        folder = build_tiny_qwen_image(Path(tempfile.mkdtemp()) / "tiny")
        settings.ADSTUDIO_TORCH_THREADS = settings.ADSTUDIO_TORCH_THREADS or 1
        renderer = QwenImageRenderer(str(folder), device="cpu", dtype_name="float32")
        rate = matrix_rate("cpu", torch.float32, n=512, repeat=10)
    else:
        renderer = QwenImageRenderer("random-full-size", device=device, dtype_name="bfloat16",
                                     pipeline=build_full_size_pipeline(device))
        rate = matrix_rate(device, dtype, n=8192, repeat=50)
    bench = Bench(renderer, device=device, args=args, tiny=tiny,
                  text_tokens=renderer.embeddings.one(PROMPT).shape[1], started=STARTED)
    all_workloads = workloads(tiny)
    bench.results.update({
        "device": device if tiny else torch.cuda.get_device_name(),
        "matrix_tflops": rate / 1e12, "text_tokens": bench.text_tokens,
        "command": " ".join(["python bench/gpu_render.py", *(argv or sys.argv[1:])])})
    # The full-size floor is counted on meta copies even on a CPU machine.
    full = workloads(False)["A"]
    full_pipe_flops = count_flops(full_size_configs(), width=full["size"][0],
                                  height=full["size"][1], text_tokens=bench.text_tokens)
    bench.results["full_size_flops_A"] = workload_flops(full_pipe_flops, full)
    bench.results["full_size_transformer_pass_flops"] = full_pipe_flops["transformer_pass"]
    wanted = [v for v in args.variants.split(",") if v]
    thresholds = [t for t in args.step_cache_thresholds.split(",") if t]
    for name in args.workloads.split(","):
        workload = all_workloads[name]
        if workload.get("edit"):
            measure_edit(bench, workload, rate=rate)
            continue
        flops = workload_flops(count_flops(configs_of(renderer.pipeline),
                                           width=workload["size"][0],
                                           height=workload["size"][1],
                                           text_tokens=bench.text_tokens), workload)
        for variant in variants_for(name, device=device, thresholds=thresholds):
            if wanted and not any(variant.startswith(w) for w in wanted):
                continue
            full_image = variant.split(" ")[0] in ("diffusers", "default") and name != "C"
            bench.measure(name, workload, variant, flops=flops, rate=rate, full=full_image)
    if args.memory_budget_gb:
        run_budgets(bench, all_workloads, rate=rate, configs=configs_of(renderer.pipeline))
    bench.save()
    report(bench.results, args, tiny)
    return bench.results


if __name__ == "__main__":
    main()
