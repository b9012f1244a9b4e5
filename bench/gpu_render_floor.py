"""The GPU render benchmark's floor: FLOPs counted by torch's FlopCounterMode on meta-device
models at a workload's shapes, and the device's dense matrix rate measured in the run."""

from __future__ import annotations

import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from bench.gpu_render_models import meta_models
from bench.gpu_render_timing import sync


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
