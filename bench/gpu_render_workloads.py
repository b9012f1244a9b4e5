"""The GPU render benchmark's workloads A-D (BENCHMARKS.md section 1), their prompt and the
variants measured on each."""

from __future__ import annotations

PROMPT = ('A sunlit lifestyle photo of a green trail tent on a mountain ridge at dawn, the '
          'headline "Home is where you pitch it" in bold white sans serif, Ultra HD, 4K, '
          'cinematic composition.')
NEGATIVE = "blurry, low quality, watermark, distorted text"
WARMUP_STEPS = 2
# Step k's time is stamp k - stamp k-1 (step 1 has none): 13 steps give 2 warm-up + 10 timed.
QUICK_STEPS = WARMUP_STEPS + 11


def workloads(tiny: bool) -> dict[str, dict]:
    """A-D of BENCHMARKS.md; the tiny run keeps their shape at 1/16 of the size."""
    from rendering.compose.formats import model_request_size

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
