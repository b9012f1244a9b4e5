"""One GPU render benchmark run: the renderer, the device, the exact references, the rows so
far, and the measurement of one row against plain diffusers."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import torch

from bench.gpu_render_timing import relative_error
from bench.gpu_render_variants import LIGHTNING_RANK, run_variant, write_random_lora
from bench.gpu_render_workloads import QUICK_STEPS


class Bench:
    """One run: the renderer, the device, the exact references and the rows so far."""

    def __init__(self, renderer, *, device: str, args, tiny: bool, text_tokens: int,
                 started: float):
        self.renderer, self.device, self.args, self.tiny = renderer, device, args, tiny
        self.started = started  # --deadline-s counts from here
        self.text_tokens = text_tokens
        self.references: dict[tuple[str, int], torch.Tensor] = {}
        self.baselines: dict[str, float] = {}
        self.rows: list[dict] = []
        self.results: dict = {"rows": self.rows}
        self.scratch = Path(tempfile.mkdtemp(prefix="gpu-render-"))
        self._lora: Path | None = None

    def out_of_time(self) -> bool:
        deadline = self.args.deadline_s
        return bool(deadline) and time.perf_counter() - self.started > deadline

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
