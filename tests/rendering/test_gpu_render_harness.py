"""bench/gpu_render.py on the tiny model: the harness works, and the full-size floor is counted
from the real 20B architecture (on the meta device, so no GPU is needed for the count)."""

import json

import pytest


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
    assert [r["variant"] for r in results["rows"] if r.get("note")] == ["fp8 (torchao)"]


@pytest.mark.parametrize("workload", ["A", "B", "C"])
def test_tiny_workloads_keep_the_full_size_shapes(workload):
    from bench.gpu_render import workloads

    tiny, full = workloads(True)[workload], workloads(False)[workload]
    assert tiny["cfg"] == full["cfg"] and tiny["batch"] == full["batch"]
    tw, th = tiny["size"]
    fw, fh = full["size"]
    assert abs(tw / th - fw / fh) < 0.1
