"""GPU render benchmark (BENCHMARKS.md section 1): Qwen-Image at full size against its floor.

    python bench/gpu_render.py                 # GPU: full-size architecture, random bf16 weights
    python bench/gpu_render.py --tiny          # CPU: the tiny model (how CI tests this harness)

The pipeline is assembled from diffusers' classes (full-size default configs; the text encoder
with Qwen2.5-VL-7B's published sizes) and wrapped by the same QwenImageRenderer the workers
use. For each workload it measures seconds per denoising step (median over >= 10 steps after
2 warm-up steps), one full image end to end, images per hour, peak memory, and MFU: the
floor (FLOPs counted by torch's FlopCounterMode on a meta-device copy of each model at the
workload's shapes, divided by the bf16 matrix rate measured in the same run) over the time.

Variants, each against plain diffusers in the same run: our default (text-embedding cache),
batched CFG, attention backends, torch.compile of the repeated blocks (GPU), memory budgets of
48 and 24 GB (GPU); and, reported apart with their latent error against the exact run on the
same seed, lossy step caching (diffusers' first-block cache). FP8 (torchao) is not built yet
and says so.
Workload D (Qwen-Image-Edit) waits for the edit pipeline of the review issue.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adstudio.settings")

import django  # noqa: E402

django.setup()

import torch  # noqa: E402
from django.conf import settings  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from rendering.renderer import QwenImageRenderer, RenderRequest  # noqa: E402
from rendering.speed import enable_step_cache  # noqa: E402

PROMPT = ('A sunlit lifestyle photo of a green trail tent on a mountain ridge at dawn, the '
          'headline "Home is where you pitch it" in bold white sans serif, Ultra HD, 4K, '
          'cinematic composition.')
NEGATIVE = "blurry, low quality, watermark, distorted text"
WARMUP_STEPS = 2
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


def workloads(tiny: bool) -> dict[str, dict]:
    """A-C of BENCHMARKS.md; the tiny run keeps their shape at 1/16 of the size."""
    from rendering.formats import model_request_size

    def size(w, h):  # as the renderer asks the model: 1/16 of the bucket for the tiny model
        return model_request_size((w, h), scale=1 / 16 if tiny else 1.0,
                                  multiple=8 if tiny else 16)

    return {
        "A": {"size": size(1328, 1328), "steps": 50, "cfg": 4.0, "batch": 1},
        "B": {"size": size(1328, 1328), "steps": 8 if not tiny else 12, "cfg": 1.0, "batch": 1},
        "C": {"size": size(1664, 928), "steps": 50 if not tiny else 12, "cfg": 4.0, "batch": 8},
    }


def build_full_size_pipeline(device: str):
    """The full-size Qwen-Image architecture with random bf16 weights, built on the GPU."""
    from diffusers import (
        AutoencoderKLQwenImage,
        FlowMatchEulerDiscreteScheduler,
        QwenImagePipeline,
        QwenImageTransformer2DModel,
    )
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    from rendering.tiny_model import build_tokenizer

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


def count_flops(configs, *, width: int, height: int, text_tokens: int) -> dict[str, float]:
    """FLOPs of one transformer pass, one VAE decode and one prompt encoding at these shapes,
    counted on meta-device models (no memory, no time on the real device)."""
    from diffusers import AutoencoderKLQwenImage, QwenImageTransformer2DModel
    from transformers import Qwen2_5_VLForConditionalGeneration

    transformer_config, vae_config, text_config = configs
    factor = 2 ** len(vae_config["temperal_downsample"])
    lat_h, lat_w = height // factor // 2, width // factor // 2
    with torch.device("meta"):
        transformer = QwenImageTransformer2DModel.from_config(transformer_config)
        vae = AutoencoderKLQwenImage.from_config(vae_config)
        text_encoder = Qwen2_5_VLForConditionalGeneration(text_config)
        hidden = torch.zeros(1, lat_h * lat_w, transformer_config["in_channels"])
        text = torch.zeros(1, text_tokens, transformer_config["joint_attention_dim"])
        latents = torch.zeros(1, vae_config["z_dim"], 1, lat_h * 2, lat_w * 2)
        ids = torch.zeros(1, text_tokens + 34, dtype=torch.long)
        timestep = torch.ones(1)
    counts = {}
    with FlopCounterMode(display=False) as counter:
        transformer(hidden_states=hidden, encoder_hidden_states=text, timestep=timestep,
                    img_shapes=[[(1, lat_h, lat_w)]], return_dict=False)
    counts["transformer_pass"] = counter.get_total_flops()
    with FlopCounterMode(display=False) as counter:
        vae.decode(latents, return_dict=False)
    counts["vae_decode"] = counter.get_total_flops()
    with FlopCounterMode(display=False) as counter:
        text_encoder(input_ids=ids, output_hidden_states=True)
    counts["text_encode"] = counter.get_total_flops()
    return counts


def workload_flops(flops: dict, workload: dict) -> float:
    passes = 2 if workload["cfg"] > 1 else 1
    prompts = 2 if workload["cfg"] > 1 else 1
    return workload["batch"] * (flops["transformer_pass"] * passes * workload["steps"]
                                + flops["vae_decode"] + flops["text_encode"] * prompts)


def matrix_rate(device: str, dtype: torch.dtype, *, n: int, repeat: int) -> float:
    """Dense matmul FLOP/s of this device and dtype, measured now."""
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(2):
        a @ b
    sync(device)
    started = time.perf_counter()
    for _ in range(repeat):
        a @ b
    sync(device)
    return 2 * n**3 * repeat / (time.perf_counter() - started)


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def peak_memory_gb(device: str) -> float | None:
    return torch.cuda.max_memory_allocated() / 2**30 if device.startswith("cuda") else None


def run(renderer, workload: dict, variant: str, *, device: str) -> dict:
    """Time one workload in one variant: per-step median and one full image end to end."""
    width, height = workload["size"]
    requests = [RenderRequest(prompt=PROMPT if i == 0 else f"{PROMPT} Variant {i}.",
                              negative_prompt=NEGATIVE if workload["cfg"] > 1 else "",
                              seed=i, steps=workload["steps"], true_cfg_scale=workload["cfg"],
                              width=width, height=height) for i in range(workload["batch"])]
    stamps: list[float] = []

    def on_step(step, total):
        sync(device)
        stamps.append(time.perf_counter())

    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    one_by_one = variant.endswith("one-by-one")
    sync(device)
    started = time.perf_counter()
    latents = []
    if variant.startswith("diffusers"):
        for request in (requests if one_by_one or len(requests) == 1 else [None]):
            batch = requests if request is None else [request]
            out = renderer.pipeline(
                prompt=[r.prompt for r in batch],
                negative_prompt=[r.negative_prompt for r in batch] if workload["cfg"] > 1
                else None,
                true_cfg_scale=workload["cfg"], width=width, height=height,
                num_inference_steps=workload["steps"],
                generator=[torch.Generator().manual_seed(r.seed) for r in batch],
                callback_on_step_end=lambda p, i, t, k: (on_step(i, 0), {})[1],
                output_type="latent")
            latents.append(out.images[0])
    else:
        groups = [[r] for r in requests] if one_by_one else [requests]
        for group in groups:
            latents.append(renderer.render_batch(group, on_step=on_step, output_type="latent")[0])
    sync(device)
    seconds = time.perf_counter() - started
    steps = [b - a for a, b in zip(stamps, stamps[1:], strict=False)][WARMUP_STEPS:]
    return {
        "step_seconds": statistics.median(steps) if steps else None,
        "steps_measured": len(steps),
        "seconds_per_image": seconds / workload["batch"],
        "images_per_hour": 3600 * workload["batch"] / seconds,
        "peak_memory_gb": peak_memory_gb(device),
        "latents": latents[0].float().flatten()[:4096].cpu(),
    }


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm().clamp_min(1e-12))


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tiny", action="store_true", help="CPU, the tiny model")
    parser.add_argument("--workloads", default="A,B,C")
    parser.add_argument("--json", help="write the results here too")
    parser.add_argument("--no-append", action="store_true", help="leave docs/benchmarks.md")
    parser.add_argument("--step-cache-thresholds", default="0.1,0.2",
                        help="first-block cache thresholds to measure (lossy)")
    args = parser.parse_args(argv)
    tiny = args.tiny or not torch.cuda.is_available()
    device, dtype = ("cpu", torch.float32) if tiny else ("cuda", torch.bfloat16)
    if tiny:
        from rendering.tiny_model import build_tiny_qwen_image

        folder = build_tiny_qwen_image(Path(tempfile.mkdtemp()) / "tiny")
        settings.ADSTUDIO_TORCH_THREADS = settings.ADSTUDIO_TORCH_THREADS or 1
        renderer = QwenImageRenderer(str(folder), device="cpu", dtype_name="float32")
        rate = matrix_rate("cpu", torch.float32, n=512, repeat=10)
    else:
        renderer = QwenImageRenderer("random-full-size", device=device, dtype_name="bfloat16",
                                     pipeline=build_full_size_pipeline(device))
        rate = matrix_rate(device, dtype, n=8192, repeat=50)
    text_tokens = renderer.embeddings.one(PROMPT).shape[1]
    all_workloads = workloads(tiny)
    results: dict = {"device": device if tiny else torch.cuda.get_device_name(),
                     "matrix_tflops": rate / 1e12, "text_tokens": text_tokens, "rows": []}
    # The full-size floor is counted on meta copies even on a CPU machine.
    full = workloads(False)["A"]
    full_pipe_flops = count_flops(full_size_configs(), width=full["size"][0],
                                  height=full["size"][1], text_tokens=text_tokens)
    results["full_size_flops_A"] = workload_flops(full_pipe_flops, full)
    results["full_size_transformer_pass_flops"] = full_pipe_flops["transformer_pass"]
    for name in args.workloads.split(","):
        workload = all_workloads[name]
        flops = workload_flops(count_flops(configs_of(renderer.pipeline),
                                           width=workload["size"][0],
                                           height=workload["size"][1],
                                           text_tokens=text_tokens), workload)
        floor = flops / rate
        variants = ["diffusers", "default", "batched_cfg"] if workload["cfg"] > 1 else [
            "diffusers", "default"]
        if name == "C":
            variants = ["diffusers one-by-one", "default one-by-one", "default", "batched_cfg"]
        variants += [f"attention:{b}" for b in attention_backends(device)]
        variants += [f"step_cache:first_block:{t}"  # lossy
                     for t in args.step_cache_thresholds.split(",") if t]
        if not tiny:
            variants += ["compile", "budget:48", "budget:24"]
        baseline = None
        for variant in variants:
            row = run_variant(renderer, workload, variant, device=device)
            baseline = baseline or row
            row.update({
                "workload": name, "variant": variant, "flops": flops,
                "floor_seconds": floor * workload["batch"] ** 0 / workload["batch"],
                "mfu": floor / workload["batch"] / row["seconds_per_image"],
                "speedup_vs_diffusers": baseline["seconds_per_image"] / row["seconds_per_image"],
                "latent_rel_error": relative_error(row.pop("latents"), baseline["latents"])
                if row is not baseline else 0.0,
            })
            results["rows"].append(row)
        baseline.pop("latents", None)
    results["rows"].append({"workload": "-", "variant": "fp8 (torchao)",
                            "note": "not built yet"})
    report(results, args, tiny)
    return results


def attention_backends(device: str) -> list[str]:
    if device == "cpu":
        return ["native"]
    return ["native", "_native_cudnn", "flash"]


def run_variant(renderer, workload: dict, variant: str, *, device: str) -> dict:
    """Switch the renderer to ``variant``, warm it up once, measure, and switch back."""
    speed = dict(renderer.speed)
    try:
        if variant == "batched_cfg":
            renderer.speed["batched_cfg"] = True
        elif variant.startswith("attention:"):
            renderer.pipeline.transformer.set_attention_backend(variant.split(":", 1)[1])
        elif variant.startswith("step_cache:"):
            enable_step_cache(renderer.pipeline.transformer, variant.split(":", 1)[1])
        elif variant == "compile":
            renderer.pipeline.transformer.compile_repeated_blocks(fullgraph=True)
        elif variant.startswith("budget:"):
            total = torch.cuda.get_device_properties(0).total_memory / 2**30
            torch.cuda.set_per_process_memory_fraction(min(1.0, int(variant[7:]) / total))
            renderer.set_memory_mode("cpu_offload")
        warm = {**workload, "steps": WARMUP_STEPS + 1, "batch": 1}
        run(renderer, warm, variant, device=device)
        return run(renderer, workload, variant, device=device)
    except (RuntimeError, ValueError, ImportError) as exc:  # e.g. a backend not installed
        return {"seconds_per_image": float("nan"), "error": f"{type(exc).__name__}: {exc}"[:200],
                "latents": torch.zeros(1), "images_per_hour": 0}
    finally:
        renderer.speed.update(speed)
        if variant.startswith("attention:"):
            renderer.pipeline.transformer.reset_attention_backend()
        if variant.startswith("step_cache:"):
            renderer.pipeline.transformer.disable_cache()
        if variant.startswith("budget:"):
            torch.cuda.set_per_process_memory_fraction(1.0)
            renderer.set_memory_mode("normal")


def report(results: dict, args, tiny: bool) -> None:
    lines = ["| workload | variant | s/step | s/image | images/h | peak GB | MFU | vs diffusers "
             "| latent rel. error |", "|---|---|---|---|---|---|---|---|---|"]
    for row in results["rows"]:
        if "note" in row:
            lines.append(f"| - | {row['variant']} | | | | | | | {row['note']} |")
            continue
        step = f"{row['step_seconds']:.4f}" if row.get("step_seconds") else "-"
        peak = f"{row['peak_memory_gb']:.1f}" if row.get("peak_memory_gb") else "-"
        lines.append(
            f"| {row['workload']} | {row['variant']} | {step} | {row['seconds_per_image']:.3f} "
            f"| {row['images_per_hour']:.0f} | {peak} | {row.get('mfu', 0):.1%} "
            f"| {row.get('speedup_vs_diffusers', 0):.2f}x | {row.get('latent_rel_error', 0):.1e} "
            f"{row.get('error', '')}|")
    table = "\n".join(lines)
    header = (f"Device: {results['device']}; measured matrix rate "
              f"{results['matrix_tflops']:.1f} TFLOP/s; prompt {results['text_tokens']} tokens. "
              f"Full-size workload A counts {results['full_size_flops_A']:.3g} FLOPs (transformer "
              f"pass {results['full_size_transformer_pass_flops']:.3g}), a floor of "
              f"{results['full_size_flops_A'] / 790e12:.1f} s at 790 TFLOP/s.")
    if tiny:
        header += (" Tiny model on a CPU: this checks the harness; its times and MFU say nothing"
                   " about a GPU (the FLOP count of the full-size model above is real).")
    print(header)
    print(table)
    if args.json:
        Path(args.json).write_text(json.dumps(results, default=str, indent=1))
    if not args.no_append:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, cwd=ROOT).stdout.strip()
        command = "python bench/gpu_render.py" + (" --tiny" if tiny else "")
        with (ROOT / "docs" / "benchmarks.md").open("a", encoding="utf-8") as fh:
            fh.write(f"\n## GPU render ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)"
                     f"{' - tiny model on CPU, for the harness only' if tiny else ''}\n\n"
                     f"{header} Commit {commit}. Command: `{command}`\n\n{table}\n")


if __name__ == "__main__":
    main()
