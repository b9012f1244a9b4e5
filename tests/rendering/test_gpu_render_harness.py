"""bench/gpu_render.py on the tiny model: the harness works, and the full-size floor is counted
from the real 20B architecture (on the meta device, so no GPU is needed for the count)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]


def test_gpu_render_harness_measures_every_variant_on_the_tiny_model(settings, tmp_path):
    from bench import gpu_render

    settings.ADSTUDIO_TORCH_THREADS = 1
    out = tmp_path / "gpu.json"
    # Random tiny weights change a lot between steps: only a loose threshold hits the cache.
    gpu_render.main(["--tiny", "--no-append", "--json", str(out), "--workloads", "A,C",
                     "--step-cache-thresholds", "0.5"])
    results = json.loads(out.read_text())
    rows = {(r["workload"], r["variant"]): r for r in results["rows"]}
    for key in [("A", "diffusers"), ("A", "default"), ("A", "batched_cfg"),
                ("C", "diffusers one-by-one"), ("C", "default one-by-one"), ("C", "default")]:
        assert rows[key]["seconds_per_image"] > 0, key
        assert rows[key]["images_per_hour"] > 0, key
    assert rows[("A", "diffusers")]["steps_measured"] >= 10  # per-step median after warm-up
    # Exact options: the same latents as plain diffusers (batched CFG up to float rounding).
    assert rows[("A", "default")]["latent_rel_error"] == 0.0
    assert float(rows[("A", "batched_cfg")]["latent_rel_error"]) < 1e-4
    # Workload A at full size: 60 dual-stream blocks x 2 CFG passes x 50 steps at 1328x1328.
    assert 1.2e14 < results["full_size_transformer_pass_flops"] < 1.45e14
    assert 1.2e16 < results["full_size_flops_A"] < 1.5e16
    assert results["matrix_tflops"] > 0
    # Lossy step caching is measured with its latent error against the exact run.
    cached = rows[("A", "step_cache:first_block:0.5")]
    assert 0 < float(cached["latent_rel_error"]) < 0.5
    assert not [r for r in results["rows"] if r.get("note")]  # every variant ran


@pytest.mark.parametrize("workload", ["A", "B", "C"])
def test_tiny_workloads_keep_the_full_size_shapes(workload):
    from bench.gpu_render import workloads

    tiny, full = workloads(True)[workload], workloads(False)[workload]
    assert tiny["cfg"] == full["cfg"] and tiny["batch"] == full["batch"]
    tw, th = tiny["size"]
    fw, fh = full["size"]
    assert abs(tw / th - fw / fh) < 0.1


def test_new_variants_and_memory_budgets_run_on_the_tiny_model(settings, tmp_path, monkeypatch):
    from bench import gpu_render

    settings.ADSTUDIO_TORCH_THREADS = 1
    fp8_runs = _allow_fp8_on_cpu(monkeypatch)
    out, markdown = tmp_path / "gpu.json", tmp_path / "gpu.md"
    gpu_render.main(["--tiny", "--no-append", "--json", str(out), "--markdown", str(markdown),
                     "--workloads", "B", "--quick", "--memory-budget-gb", "48,24"])
    results = json.loads(out.read_text())
    rows = {(r["workload"], r["variant"]): r for r in results["rows"]}
    # The lightning-style run: a random LoRA, unfused then fused, 8 steps without CFG.
    unfused, fused = rows[("B", "lora:unfused")], rows[("B", "lora:fused")]
    assert unfused["seconds_per_image"] > 0 and fused["seconds_per_image"] > 0
    assert float(fused["latent_rel_error"]) > 1e-3  # the LoRA changes the render...
    assert abs(fused["latent_rel_error"] - unfused["latent_rel_error"]) < 1e-4  # ...fused or not
    # Budgets: the full-size model's plans, run on the tiny model (no memory cap on a CPU).
    assert rows[("B", "budget:48GiB cpu_offload")]["latent_rel_error"] == 0.0
    assert rows[("B", "budget:24GiB group_offload")]["latent_rel_error"] == 0.0
    if fp8_runs:
        assert 0 < rows[("B", "fp8")]["latent_rel_error"] < 0.1
        assert 0 < rows[("B", "budget:48GiB fp8")]["latent_rel_error"] < 0.1
        assert rows[("B", "budget:24GiB fp8+cpu_offload")]["seconds_per_image"] > 0
    else:
        assert "torchao" in rows[("B", "fp8")]["error"]
    assert "| B | lora:fused |" in markdown.read_text()


def _allow_fp8_on_cpu(monkeypatch) -> bool:
    """Lift torchao's FP8-GPU check (its maths runs on a CPU) when torchao is installed."""
    try:
        import torchao.quantization.quant_api  # noqa: F401
    except ImportError:
        return False
    monkeypatch.setattr("torchao.quantization.quant_api._check_hardware_support",
                        lambda granularity: None)
    return True


def test_memory_plans_follow_the_full_size_models_sizes():
    from bench.gpu_render import budget_plans, full_size_configs, model_sizes_gib

    sizes = model_sizes_gib(full_size_configs())
    assert 37 < sizes["transformer"] < 39.5 and 15 < sizes["text_encoder"] < 16  # 20B, 8.3B
    plans = {budget: [plan[0] for plan in budget_plans(budget, sizes, margin_gib=3)]
             for budget in (80, 48, 24)}
    assert plans[80][0] == "resident"
    assert plans[48][0] == "cpu_offload" and "fp8" in plans[48]
    assert "cpu_offload" not in plans[24] and plans[24][0] == "group_offload"
    assert "fp8+cpu_offload" in plans[24] and "fp8" not in plans[24]


def test_the_cli_needs_neither_celery_nor_django_apps(tmp_path):
    """The GPU machine installs diffusers, Django and django-environ only: the harness reads the
    workers' settings file without importing the adstudio package (and its Celery app)."""
    out = tmp_path / "gpu.json"
    script = ("import runpy, sys; sys.modules['celery'] = None; "
              f"sys.argv = ['gpu_render.py', '--tiny', '--no-append', '--json', r'{out}', "
              "'--workloads', 'B', '--variants', 'default']; "
              "runpy.run_path('bench/gpu_render.py', run_name='__main__')")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                            text=True, timeout=300,
                            env={"PATH": "/usr/bin:/bin", "ADSTUDIO_TORCH_THREADS": "1",
                                 "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr[-2000:]
    rows = json.loads(out.read_text())["rows"]
    assert [r["variant"] for r in rows] == ["diffusers", "default"]


def test_workload_d_edits_through_the_workers_edit_renderer(settings, tmp_path):
    from bench import gpu_render

    settings.ADSTUDIO_TORCH_THREADS = 1
    out = tmp_path / "gpu.json"
    gpu_render.main(["--tiny", "--no-append", "--json", str(out), "--workloads", "D", "--quick"])
    (row,) = json.loads(out.read_text())["rows"]
    assert row["variant"] == "edit" and row["seconds_per_image"] > 0, row
    assert row["steps_measured"] >= 10 and row["flops"] > 0


def test_the_gpu_edit_renderer_assembled_from_models_edits_as_the_loaded_one(settings,
                                                                              tiny_edit_model_dir):
    """On the GPU the edit pipeline is assembled from the full-size models in memory; on the
    tiny edit model, that gives exactly the edit of the renderer loaded from disk."""
    from bench.gpu_render import assembled_edit_renderer, run_edit, workloads
    from rendering.engine.edit import EditRenderer

    settings.ADSTUDIO_TORCH_THREADS = 1
    sizes = {"condition_size": 64, "vae_image_size": 64}
    loaded = EditRenderer(str(tiny_edit_model_dir), device="cpu", dtype_name="float32", **sizes)
    assembled = assembled_edit_renderer(loaded.pipeline, device="cpu", dtype_name="float32",
                                        **sizes)
    assert assembled.pipeline.transformer is loaded.pipeline.transformer  # nothing copied
    workload = workloads(True)["D"]
    expected = run_edit(loaded, workload, device="cpu", steps=3)["latents"]
    torch.testing.assert_close(run_edit(assembled, workload, device="cpu", steps=3)["latents"],
                               expected)


def test_past_the_deadline_variants_are_skipped_and_say_so(settings, tmp_path):
    """The GPU call has a hard limit: no variant starts late, and the rows still get written."""
    from bench import gpu_render

    settings.ADSTUDIO_TORCH_THREADS = 1
    out = tmp_path / "gpu.json"
    gpu_render.main(["--tiny", "--no-append", "--json", str(out), "--workloads", "B",
                     "--memory-budget-gb", "24", "--deadline-s", "0.001"])
    rows = json.loads(out.read_text())["rows"]
    assert rows and {r["note"] for r in rows} == {"skipped: out of time"}
