"""Switching the renderer to one variant (batched CFG, an attention backend, step caching, FP8,
a random step-distilled LoRA, torch.compile), measuring it, and switching back."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from bench.gpu_render_timing import failed, run
from bench.gpu_render_workloads import WARMUP_STEPS
from rendering.engine.speed import enable_step_cache, load_lora, quantize_transformer

if TYPE_CHECKING:
    from bench.gpu_render_bench import Bench

# The layout of the published step-distilled LoRAs (Qwen-Image-Lightning): every attention and
# MLP linear of every block. Rank 64 matches their size (~0.85 GB in bf16; our estimate).
LORA_TARGETS = ("attn.to_q", "attn.to_k", "attn.to_v", "attn.to_out.0", "attn.add_q_proj",
                "attn.add_k_proj", "attn.add_v_proj", "attn.to_add_out", "img_mlp.net.0.proj",
                "img_mlp.net.2", "txt_mlp.net.0.proj", "txt_mlp.net.2")
LIGHTNING_RANK = 64


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
