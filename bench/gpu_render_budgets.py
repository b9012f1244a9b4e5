"""Memory budgets (``--memory-budget-gb``): the fastest exact and FP8 plans the full-size
model's sizes allow, each run under torch.cuda.set_per_process_memory_fraction."""

from __future__ import annotations

import torch

from bench.gpu_render_bench import Bench
from bench.gpu_render_floor import count_flops, workload_flops
from bench.gpu_render_models import GIB, full_size_configs, model_sizes_gib
from rendering.engine.speed import quantize_transformer

# Memory plans, fastest first: (name, renderer memory mode, fp8 transformer).
EXACT_PLANS = (("resident", "vae_tiling", False), ("cpu_offload", "cpu_offload", False),
               ("group_offload", "group_offload", False))
FP8_PLANS = (("fp8", "vae_tiling", True), ("fp8+cpu_offload", "cpu_offload", True),
             ("fp8+group_offload", "group_offload", True))


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
    from rendering.engine.speed import TextEmbeddingCache

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
