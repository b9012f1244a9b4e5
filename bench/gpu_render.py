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
import copy
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
import types
from datetime import UTC, datetime
from pathlib import Path

STARTED = time.perf_counter()  # --deadline-s counts from here: imports and model build too
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from django.conf import settings  # noqa: E402


def configure_settings() -> None:
    """The workers' settings (adstudio/settings.py, read from the environment), loaded without
    the adstudio package, whose Celery app the GPU machine does not need to install."""
    if settings.configured:
        return
    if "adstudio" not in sys.modules:
        # settings.py imports adstudio.secret_key: the package's folder, without running its
        # __init__ (the Celery app).
        package = types.ModuleType("adstudio")
        package.__path__ = [str(ROOT / "adstudio")]
        sys.modules["adstudio"] = package
    spec = importlib.util.spec_from_file_location("adstudio_render_settings",
                                                  ROOT / "adstudio" / "settings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    settings.configure(**{name: getattr(module, name) for name in dir(module) if name.isupper()})


configure_settings()

import torch  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from rendering.renderer import QwenImageRenderer, RenderRequest  # noqa: E402
from rendering.speed import enable_step_cache, load_lora, quantize_transformer  # noqa: E402

PROMPT = ('A sunlit lifestyle photo of a green trail tent on a mountain ridge at dawn, the '
          'headline "Home is where you pitch it" in bold white sans serif, Ultra HD, 4K, '
          'cinematic composition.')
NEGATIVE = "blurry, low quality, watermark, distorted text"
WARMUP_STEPS = 2
# Step k's time is stamp k - stamp k-1 (step 1 has none): 13 steps give 2 warm-up + 10 timed.
QUICK_STEPS = WARMUP_STEPS + 11
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
# The layout of the published step-distilled LoRAs (Qwen-Image-Lightning): every attention and
# MLP linear of every block. Rank 64 matches their size (~0.85 GB in bf16; our estimate).
LORA_TARGETS = ("attn.to_q", "attn.to_k", "attn.to_v", "attn.to_out.0", "attn.add_q_proj",
                "attn.add_k_proj", "attn.add_v_proj", "attn.to_add_out", "img_mlp.net.0.proj",
                "img_mlp.net.2", "txt_mlp.net.0.proj", "txt_mlp.net.2")
LIGHTNING_RANK = 64
# Memory plans, fastest first: (name, renderer memory mode, fp8 transformer).
EXACT_PLANS = (("resident", "vae_tiling", False), ("cpu_offload", "cpu_offload", False),
               ("group_offload", "group_offload", False))
FP8_PLANS = (("fp8", "vae_tiling", True), ("fp8+cpu_offload", "cpu_offload", True),
             ("fp8+group_offload", "group_offload", True))
GIB = 2**30


def workloads(tiny: bool) -> dict[str, dict]:
    """A-D of BENCHMARKS.md; the tiny run keeps their shape at 1/16 of the size."""
    from rendering.formats import model_request_size

    def size(w, h):  # as the renderer asks the model: 1/16 of the bucket for the tiny model
        return model_request_size((w, h), scale=1 / 16 if tiny else 1.0,
                                  multiple=8 if tiny else 16)

    return {
        "A": {"size": size(1328, 1328), "steps": 50, "cfg": 4.0, "batch": 1},
        "B": {"size": size(1328, 1328), "steps": 8 if not tiny else 13, "cfg": 1.0, "batch": 1},
        "C": {"size": size(1664, 928), "steps": 50 if not tiny else 13, "cfg": 4.0, "batch": 8},
        "D": {"size": size(1024, 1024), "steps": 40 if not tiny else 13, "cfg": 4.0, "batch": 1,
              "edit": True},
    }


def variants_for(name: str, *, device: str, thresholds: list[str]) -> list[str]:
    gpu = device != "cpu"
    if name == "A":
        return (["diffusers", "default", "batched_cfg"]
                + [f"attention:{b}" for b in attention_backends(device)]
                + [f"step_cache:first_block:{t}" for t in thresholds]
                + ["fp8"] + (["compile", "fp8+compile"] if gpu else []))
    if name == "B":  # the lightning-style run: 8 steps, no CFG, with a step-distilled LoRA
        return ["diffusers", "default", "fp8", "lora:unfused", "lora:fused"]
    if name == "C":  # batching; batched CFG is measured on A (and here off the GPU)
        return ["diffusers one-by-one", "default one-by-one", "default"] + (
            [] if gpu else ["batched_cfg"])
    return []


def attention_backends(device: str) -> list[str]:
    if device == "cpu":
        return ["native"]
    return ["native", "_native_cudnn", "flash"]


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


def meta_models(configs):
    from diffusers import AutoencoderKLQwenImage, QwenImageTransformer2DModel
    from transformers import Qwen2_5_VLForConditionalGeneration

    transformer_config, vae_config, text_config = configs
    with torch.device("meta"):
        return (QwenImageTransformer2DModel.from_config(transformer_config),
                AutoencoderKLQwenImage.from_config(vae_config),
                Qwen2_5_VLForConditionalGeneration(text_config))


def count_flops(configs, *, width: int, height: int, text_tokens: int,
                image_sets: int = 1) -> dict[str, float]:
    """FLOPs of one transformer pass, one VAE decode and one prompt encoding at these shapes,
    counted on meta-device models (no memory, no time on the real device). ``image_sets=2``:
    an edit, whose transformer also sees the source image's latents."""
    transformer_config, vae_config, _ = configs
    transformer, vae, text_encoder = meta_models(configs)
    factor = 2 ** len(vae_config["temperal_downsample"])
    lat_h, lat_w = height // factor // 2, width // factor // 2
    with torch.device("meta"):
        hidden = torch.zeros(1, image_sets * lat_h * lat_w, transformer_config["in_channels"])
        text = torch.zeros(1, text_tokens, transformer_config["joint_attention_dim"])
        latents = torch.zeros(1, vae_config["z_dim"], 1, lat_h * 2, lat_w * 2)
        ids = torch.zeros(1, text_tokens + 34, dtype=torch.long)
        timestep = torch.ones(1)
    counts = {}
    with FlopCounterMode(display=False) as counter:
        transformer(hidden_states=hidden, encoder_hidden_states=text, timestep=timestep,
                    img_shapes=[[(1, lat_h, lat_w)] * image_sets], return_dict=False)
    counts["transformer_pass"] = counter.get_total_flops()
    with FlopCounterMode(display=False) as counter:
        vae.decode(latents, return_dict=False)
    counts["vae_decode"] = counter.get_total_flops()
    with FlopCounterMode(display=False) as counter:
        text_encoder(input_ids=ids, output_hidden_states=True)
    counts["text_encode"] = counter.get_total_flops()
    return counts


def model_sizes_gib(configs) -> dict[str, float]:
    """Each model's bf16 weights in GiB (counted on the meta device) and its block count."""
    transformer, vae, text_encoder = meta_models(configs)
    gib = {name: sum(p.numel() for p in model.parameters()) * 2 / GIB
           for name, model in (("transformer", transformer), ("text_encoder", text_encoder),
                               ("vae", vae))}
    return {**gib, "blocks": len(transformer.transformer_blocks)}


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


def write_random_lora(transformer, *, rank: int, folder: Path) -> Path:
    """A LoRA of ``rank`` on LORA_TARGETS in every block with random weights (no hub), saved as
    diffusers saves one; its update is about a tenth of the layer's output."""
    from diffusers import QwenImagePipeline

    generator = torch.Generator().manual_seed(0)
    dtype = next(transformer.parameters()).dtype
    layers = {}
    for index, block in enumerate(transformer.transformer_blocks):
        for target in LORA_TARGETS:
            linear = block.get_submodule(target)
            down = torch.randn(rank, linear.in_features, generator=generator)
            up = torch.randn(linear.out_features, rank, generator=generator)
            layers[f"transformer_blocks.{index}.{target}.lora_A.weight"] = (
                down / linear.in_features**0.5).to(dtype)
            layers[f"transformer_blocks.{index}.{target}.lora_B.weight"] = (
                up * 0.1 / rank**0.5).to(dtype)
    QwenImagePipeline.save_lora_weights(folder, transformer_lora_layers=layers)
    return folder


def quantized_copy(transformer):
    """An FP8 copy of the transformer; the exact one stays for the other variants."""
    fp8 = copy.deepcopy(transformer)
    quantize_transformer(fp8, "fp8")
    return fp8


def uncompile(module) -> None:
    # compile_repeated_blocks sets each block's compiled call; clearing it restores eager.
    for block in module.modules():
        if getattr(block, "_compiled_call_impl", None) is not None:
            block._compiled_call_impl = None


class Bench:
    """One run: the renderer, the device, the exact references and the rows so far."""

    def __init__(self, renderer, *, device: str, args, tiny: bool, text_tokens: int):
        self.renderer, self.device, self.args, self.tiny = renderer, device, args, tiny
        self.text_tokens = text_tokens
        self.references: dict[tuple[str, int], torch.Tensor] = {}
        self.baselines: dict[str, float] = {}
        self.rows: list[dict] = []
        self.results: dict = {"rows": self.rows}
        self.scratch = Path(tempfile.mkdtemp(prefix="gpu-render-"))
        self._lora: Path | None = None

    def out_of_time(self) -> bool:
        deadline = self.args.deadline_s
        return bool(deadline) and time.perf_counter() - STARTED > deadline

    def lora_path(self) -> Path:
        if self._lora is None:
            rank = self.args.lora_rank or (4 if self.tiny else LIGHTNING_RANK)
            self._lora = write_random_lora(self.renderer.pipeline.transformer, rank=rank,
                                           folder=self.scratch / "lora")
        return self._lora

    def measure(self, name: str, workload: dict, variant: str, *, flops: float, rate: float,
                full: bool = False) -> dict:
        """One row: the variant's timing, MFU and latent error against the exact reference
        (plain diffusers at the same steps, run first when missing)."""
        if self.out_of_time():
            row = {"workload": name, "variant": variant, "note": "skipped: out of time"}
            self.rows.append(row)
            return row
        quick = self.args.quick and not full
        steps = min(QUICK_STEPS, workload["steps"]) if quick else workload["steps"]
        jobs = 2 if quick and variant.endswith("one-by-one") else None
        reference = "diffusers one-by-one" if workload["batch"] > 1 else "diffusers"
        if (name, steps) not in self.references and not variant.startswith("diffusers"):
            self.measure(name, workload, reference, flops=flops, rate=rate, full=not quick)
        row = run_variant(self.renderer, workload, variant, device=self.device, steps=steps,
                          jobs=jobs, bench=self)
        latents = row.pop("latents")
        if variant.startswith("diffusers") and "error" not in row:
            self.references.setdefault((name, steps), latents)
            self.baselines.setdefault(name, row["seconds_per_image"])
        floor = flops / rate / workload["batch"]
        expected = self.references.get((name, steps))
        row.update({
            "workload": name, "variant": variant, "flops": flops, "floor_seconds": floor,
            "mfu": floor / row["seconds_per_image"],
            "speedup_vs_diffusers": self.baselines.get(name, float("nan"))
            / row["seconds_per_image"],
            "latent_rel_error": relative_error(latents, expected)
            if expected is not None and latents.shape == expected.shape else None,
        })
        if variant.startswith("diffusers") and steps < workload["steps"]:
            row["variant"] = f"{variant} ({steps} steps)"  # the reference of the quick rows
        self.rows.append(row)
        self.save()
        return row

    def save(self) -> None:
        if self.args.json:  # after every row: a run cut short still leaves its rows
            Path(self.args.json).write_text(json.dumps(self.results, default=str, indent=1))


def run_variant(renderer, workload: dict, variant: str, *, device: str, steps: int,
                jobs: int | None, bench: Bench) -> dict:
    """Switch the renderer to ``variant``, warm it up once, measure, and switch back."""
    speed = dict(renderer.speed)
    transformer = renderer.pipeline.transformer
    snapshot = None
    try:
        if variant == "batched_cfg":
            renderer.speed["batched_cfg"] = True
        elif variant.startswith("attention:"):
            transformer.set_attention_backend(variant.split(":", 1)[1])
        elif variant.startswith("step_cache:"):
            enable_step_cache(transformer, variant.split(":", 1)[1])
        elif variant.startswith("fp8"):
            renderer.pipeline.transformer = quantized_copy(transformer)
        elif variant.startswith("lora:"):
            path = bench.lora_path()
            if variant == "lora:fused":  # fusing changes the weights; put them back after
                snapshot = {k: v.clone() for k, v in transformer.state_dict().items()}
            load_lora(renderer.pipeline, str(path), mode=variant.split(":", 1)[1])
        if variant.endswith("compile"):
            renderer.pipeline.transformer.compile_repeated_blocks(fullgraph=True)
        run(renderer, {**workload, "batch": 1}, variant, device=device, steps=WARMUP_STEPS + 1)
        return run(renderer, workload, variant, device=device, steps=steps, jobs=jobs)
    except Exception as exc:  # noqa: BLE001 - one GPU call: record the failure, run the rest
        return failed(exc)
    finally:
        renderer.speed.update(speed)
        renderer.pipeline.transformer = transformer
        if variant.startswith("attention:"):
            transformer.reset_attention_backend()
        if variant.startswith("step_cache:"):
            transformer.disable_cache()
        if variant == "compile":
            uncompile(transformer)
        if variant.startswith("lora:"):
            renderer.pipeline.unload_lora_weights()
            if snapshot is not None:
                transformer.load_state_dict(snapshot)
        renderer.free_memory()


def failed(exc: Exception) -> dict:
    # e.g. a backend not installed, FP8 on a device without FP8 matmuls, out of memory
    return {"seconds_per_image": float("nan"), "error": f"{type(exc).__name__}: {exc}"[:200],
            "latents": torch.zeros(1), "images_per_hour": 0}


def budget_plans(budget_gib: float, sizes: dict, *, margin_gib: float) -> list[tuple]:
    """The plans that should fit the full-size model in ``budget_gib``: exact ones, then FP8
    ones, each group fastest first (a plan that runs out of memory falls to the next)."""
    def need(mode: str, fp8: bool) -> float:
        transformer = sizes["transformer"] / 2 if fp8 else sizes["transformer"]
        if mode == "vae_tiling":  # everything resident
            return transformer + sizes["text_encoder"] + sizes["vae"]
        if mode == "cpu_offload":  # one whole model at a time
            return max(transformer, sizes["text_encoder"], sizes["vae"])
        return sizes["vae"] + 2 * transformer / sizes["blocks"]  # a block and the next

    return [plan for plans in (EXACT_PLANS, FP8_PLANS) for plan in plans
            if need(plan[1], plan[2]) + margin_gib <= budget_gib]


def run_budgets(bench: Bench, workloads_: dict, *, rate: float, configs) -> None:
    """Each budget's fastest exact plan, then (after quantizing the transformer in place: the
    end of the run) its fastest FP8 plan, on the budget workload end to end."""
    args = bench.args
    name = args.budget_workload
    workload = workloads_[name]
    flops = workload_flops(count_flops(configs, width=workload["size"][0],
                                       height=workload["size"][1],
                                       text_tokens=bench.text_tokens), workload)
    sizes = model_sizes_gib(full_size_configs())
    budgets = [float(b) for b in args.memory_budget_gb.split(",") if b]
    plans = {b: budget_plans(b, sizes, margin_gib=args.activation_margin_gb) for b in budgets}
    if (name, workload["steps"]) not in bench.references:
        bench.measure(name, workload, "diffusers", flops=flops, rate=rate, full=True)
    for fp8 in (False, True):
        if fp8 and any(p[2] for ps in plans.values() for p in ps) and not bench.out_of_time():
            try:
                quantize_transformer(bench.renderer.pipeline.transformer, "fp8")
            except (ValueError, ImportError) as exc:
                bench.rows.append({"workload": name, "variant": "budget fp8 plans",
                                   "note": f"{type(exc).__name__}: {exc}"[:200]})
                return
        for budget, candidates in plans.items():
            chosen = [plan for plan in candidates if plan[2] == fp8]
            if not chosen:
                bench.rows.append({"workload": name, "variant": f"budget:{budget:g}GiB",
                                   "note": f"no {'fp8' if fp8 else 'exact'} plan fits"})
            for plan, mode, _ in chosen:
                row = measure_budget(bench, name, workload, budget, plan, mode, flops=flops,
                                     rate=rate)
                if "out of memory" not in row.get("error", "").lower():
                    break  # the fastest plan that fit; on out-of-memory, the next one


def measure_budget(bench: Bench, name: str, workload: dict, budget: float, plan: str,
                   mode: str, *, flops: float, rate: float) -> dict:
    from rendering.speed import TextEmbeddingCache

    renderer, device = bench.renderer, bench.device
    variant = f"budget:{budget:g}GiB {plan}"
    if bench.out_of_time():  # before moving the models about
        return bench.measure(name, workload, variant, flops=flops, rate=rate, full=True)
    # Every image encodes its prompt: the text encoder's trip to the GPU is part of the cost.
    cache, renderer.embeddings = renderer.embeddings, TextEmbeddingCache(renderer.pipeline,
                                                                         size=0)
    try:
        renderer.set_memory_mode(mode)
        renderer.free_memory()
        if device.startswith("cuda"):  # a smaller card: the allocator refuses past the budget
            total = torch.cuda.get_device_properties(0).total_memory / GIB
            torch.cuda.set_per_process_memory_fraction(min(1.0, budget / total))
        return bench.measure(name, workload, variant, flops=flops, rate=rate, full=True)
    except Exception as exc:  # noqa: BLE001 - e.g. the mode itself fails; the run goes on
        row = {"workload": name, "variant": variant, "note": f"{type(exc).__name__}: {exc}"[:200]}
        bench.rows.append(row)
        return row
    finally:
        renderer.embeddings = cache
        if device.startswith("cuda"):
            torch.cuda.set_per_process_memory_fraction(1.0)
        renderer.set_memory_mode("normal")
        renderer.free_memory()


EDIT_INSTRUCTION = 'Replace the headline with "Summer Sale" in bold white sans serif.'


def edit_renderer_for(bench: Bench):
    """The workers' EditRenderer: on the tiny edit model (built here) with --tiny; on the GPU,
    over the generation pipeline's full-size models (Qwen-Image-Edit has the same
    architecture), or None while rendering.edit_renderer has no EditRenderer."""
    from django.core.exceptions import AppRegistryNotReady

    try:
        from rendering.edit_renderer import EditRenderer
    except (ImportError, AppRegistryNotReady):
        return None
    if bench.tiny:
        from rendering.tiny_model import build_tiny_qwen_image_edit

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

    from rendering import edit_renderer

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

    from rendering.edit_renderer import EditRequest

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
                           "note": "waits for rendering.edit_renderer.EditRenderer"})
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
        from rendering.tiny_model import build_tiny_qwen_image

        folder = build_tiny_qwen_image(Path(tempfile.mkdtemp()) / "tiny")
        settings.ADSTUDIO_TORCH_THREADS = settings.ADSTUDIO_TORCH_THREADS or 1
        renderer = QwenImageRenderer(str(folder), device="cpu", dtype_name="float32")
        rate = matrix_rate("cpu", torch.float32, n=512, repeat=10)
    else:
        renderer = QwenImageRenderer("random-full-size", device=device, dtype_name="bfloat16",
                                     pipeline=build_full_size_pipeline(device))
        rate = matrix_rate(device, dtype, n=8192, repeat=50)
    bench = Bench(renderer, device=device, args=args, tiny=tiny,
                  text_tokens=renderer.embeddings.one(PROMPT).shape[1])
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


def report(results: dict, args, tiny: bool) -> None:
    lines = ["| workload | variant | s/step | s/image | images/h | peak GB | MFU | vs diffusers "
             "| latent rel. error |", "|---|---|---|---|---|---|---|---|---|"]
    for row in results["rows"]:
        if "note" in row:
            lines.append(f"| {row['workload']} | {row['variant']} | | | | | | | {row['note']} |")
            continue
        step = f"{row['step_seconds']:.4f}" if row.get("step_seconds") else "-"
        peak = f"{row['peak_memory_gb']:.1f}" if row.get("peak_memory_gb") else "-"
        error = row.get("latent_rel_error")
        mark = "~" if row.get("estimated") else ""
        lines.append(
            f"| {row['workload']} | {row['variant']} | {step} | "
            f"{mark}{row['seconds_per_image']:.3f} | {mark}{row['images_per_hour']:.0f} | {peak} "
            f"| {row.get('mfu', 0):.1%} | {row.get('speedup_vs_diffusers', 0):.2f}x "
            f"| {'-' if error is None else f'{error:.1e}'} {row.get('error', '')}|")
    table = "\n".join(lines)
    header = (f"Device: {results['device']}; measured matrix rate "
              f"{results['matrix_tflops']:.1f} TFLOP/s; prompt {results['text_tokens']} tokens. "
              f"Full-size workload A counts {results['full_size_flops_A']:.3g} FLOPs (transformer "
              f"pass {results['full_size_transformer_pass_flops']:.3g}), a floor of "
              f"{results['full_size_flops_A'] / 790e12:.1f} s at 790 TFLOP/s. "
              f"~: extrapolated from {QUICK_STEPS} steps (2 warm-up).")
    if tiny:
        header += (" Tiny model on a CPU: this checks the harness; its times and MFU say nothing"
                   " about a GPU (the FLOP count of the full-size model above is real).")
    print(header)
    print(table)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=ROOT).stdout.strip()
    section = (f"\n## GPU render ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)"
               f"{' - tiny model on CPU, for the harness only' if tiny else ''}\n\n"
               f"{header} Commit {commit or 'unknown'}. Command: `{results['command']}`\n\n"
               f"{table}\n")
    if args.markdown:
        Path(args.markdown).write_text(section, encoding="utf-8")
    if not args.no_append:
        with (ROOT / "docs" / "benchmarks.md").open("a", encoding="utf-8") as fh:
            fh.write(section)


if __name__ == "__main__":
    main()
