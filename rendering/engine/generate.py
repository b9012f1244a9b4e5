"""The one module that owns the diffusers pipelines.

``get_renderer()`` loads ``QwenImagePipeline.from_pretrained(model)`` once per process, with the
device and dtype explicit: bf16 on CUDA, float32 on CPU. ``model`` is a Hugging Face id or a
local folder from ``ADSTUDIO_QWEN_IMAGE_MODEL``; when unset, the embedded tiny random-weight
model is built offline on first use (its images are noise, and we say so loudly).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

TINY_MODEL_NOTICE = """
************************************************************************************
*  NO MODEL CONFIGURED: using the tiny random-weight Qwen-Image pipeline in          *
*  {path}
*  Its images are NOISE. It runs the real diffusers code path so the whole product  *
*  works on a CPU. For real images, on a GPU machine set:                           *
*      ADSTUDIO_QWEN_IMAGE_MODEL=Qwen/Qwen-Image      (or a local weights folder)    *
*  and see docs/workers.md.                                                         *
************************************************************************************
"""

# Files above this are fingerprinted by samples instead of read whole (real shards are ~5 GB).
_FULL_HASH_LIMIT = 64 * 1024 * 1024
_SAMPLE = 1024 * 1024


@dataclass(frozen=True)
class RenderRequest:
    prompt: str
    negative_prompt: str
    seed: int
    steps: int
    true_cfg_scale: float
    width: int
    height: int


def resolve_model() -> str:
    """The configured model id or folder; builds the tiny model when none is configured."""
    if settings.ADSTUDIO_QWEN_IMAGE_MODEL:
        return settings.ADSTUDIO_QWEN_IMAGE_MODEL
    folder = Path(settings.ADSTUDIO_TINY_MODEL_DIR)
    if not (folder / "model_index.json").exists():
        from rendering.engine.tiny import build_tiny_qwen_image

        build_tiny_qwen_image(folder)
    return str(folder)


def weights_fingerprint(model: str) -> str:
    """A SHA-256 over a local weights folder (names, sizes, contents; big shards sampled).

    For a hub id there is no folder here; the id itself is recorded (pin a revision by
    pointing at a downloaded snapshot folder).
    """
    root = Path(model)
    if not root.is_dir():
        return hashlib.sha256(f"hub:{model}".encode()).hexdigest()
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        size = path.stat().st_size
        digest.update(f"{path.relative_to(root).as_posix()}\0{size}\0".encode())
        with path.open("rb") as fh:
            if size <= _FULL_HASH_LIMIT:
                for chunk in iter(lambda fh=fh: fh.read(_SAMPLE), b""):
                    digest.update(chunk)
            else:
                for offset in (0, size // 2, size - _SAMPLE):
                    fh.seek(offset)
                    digest.update(fh.read(_SAMPLE))
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    return {name: metadata.version(name) for name in ("diffusers", "transformers", "torch")}


class QwenImageRenderer:
    """A loaded Qwen-Image text-to-image pipeline."""

    def __init__(self, model: str, *, device: str, dtype_name: str, pipeline=None):
        """Load ``model`` with ``from_pretrained`` (or wrap an assembled ``pipeline``, as the
        GPU benchmark does with random full-size weights)."""
        import torch
        from diffusers import QwenImagePipeline

        from rendering.engine.speed import (
            TextEmbeddingCache,
            apply_static_options,
            load_lora,
            lora_fingerprint,
            quantize_transformer,
        )

        if settings.ADSTUDIO_TORCH_THREADS:
            torch.set_num_threads(settings.ADSTUDIO_TORCH_THREADS)
        self.model = model
        self.device = device
        self.dtype_name = dtype_name
        if pipeline is None:
            pipeline = QwenImagePipeline.from_pretrained(model, dtype=getattr(torch, dtype_name))
            if settings.ADSTUDIO_MEMORY_MODE not in OFFLOAD_MODES:  # else it never fits whole
                pipeline.to(device)
            self.weights_sha256 = weights_fingerprint(model)
        else:
            self.weights_sha256 = "assembled-in-process"
        self.pipeline = pipeline
        self.pipeline.set_progress_bar_config(disable=True)
        self.speed = {
            "batched_cfg": settings.ADSTUDIO_BATCHED_CFG,
            "attention_backend": settings.ADSTUDIO_ATTENTION_BACKEND or "default",
            "compile": settings.ADSTUDIO_COMPILE,
            "step_cache": settings.ADSTUDIO_STEP_CACHE or "off",
            "quantization": settings.ADSTUDIO_QUANTIZATION or "none",
            "lora": "off",
        }
        # The LoRA is fused into full-precision weights first, then those are quantized.
        if settings.ADSTUDIO_LORA:
            load_lora(self.pipeline, settings.ADSTUDIO_LORA, mode="fused")
            self.speed["lora"] = (f"{settings.ADSTUDIO_LORA} "
                                  f"sha256:{lora_fingerprint(settings.ADSTUDIO_LORA)}")
        quantize_transformer(self.pipeline.transformer, settings.ADSTUDIO_QUANTIZATION)
        apply_static_options(self.pipeline, attention_backend=settings.ADSTUDIO_ATTENTION_BACKEND,
                             compile_mode=settings.ADSTUDIO_COMPILE,
                             step_cache=settings.ADSTUDIO_STEP_CACHE)
        self.embeddings = TextEmbeddingCache(self.pipeline,
                                             size=settings.ADSTUDIO_TEXT_EMBEDDING_CACHE)
        # Height and width must be multiples of this (16 for Qwen-Image, 8 for the tiny VAE).
        self.size_multiple = self.pipeline.vae_scale_factor * 2
        self.memory_mode = "normal"
        # The mode every job starts in (ADSTUDIO_MEMORY_MODE); the out-of-memory ladder steps
        # down from it and comes back to it.
        self.base_memory_mode = settings.ADSTUDIO_MEMORY_MODE
        if self.base_memory_mode in OFFLOAD_MODES:
            self.memory_mode = "vae_tiling"  # on the CPU now: nothing to move back first
        self.set_memory_mode(self.base_memory_mode)

    def render(self, request: RenderRequest,
               on_step: Callable[[int, int], bool | None] | None = None):
        """Render one request; see ``render_batch``."""
        return self.render_batch([request], on_step=on_step)[0]

    def render_batch(self, requests: list[RenderRequest],
                     on_step: Callable[[int, int], bool | None] | None = None,
                     output_type: str = "pil") -> list:
        """Run the pipeline once for requests that share size, steps and guidance, each with
        its own prompt and seed; ``on_step(step, total)`` returning False interrupts it.

        Returns PIL images at the requested size, in order. One image per prompt: diffusers
        0.42 misaligns masks for batched prompts with num_images_per_prompt > 1.
        """
        import torch

        from rendering.engine.faults import maybe_inject_oom
        from rendering.engine.speed import BatchedCFG

        first = requests[0]
        shared = {(r.width, r.height, r.steps, r.true_cfg_scale, bool(r.negative_prompt))
                  for r in requests}
        if len(shared) != 1:
            raise ValueError("a batch must share size, steps, guidance and negative-prompt use")
        if first.width % self.size_multiple or first.height % self.size_multiple:
            raise ValueError(
                f"render size {first.width}x{first.height} is not a multiple of "
                f"{self.size_multiple}"
            )

        def callback(pipe, step_index, timestep, callback_kwargs):
            if on_step is not None and on_step(step_index + 1, first.steps) is False:
                pipe._interrupt = True
            return {}

        # Initial noise from CPU generators: the same seed gives the same noise on any device
        # and in any batch position.
        generators = [torch.Generator(device="cpu").manual_seed(r.seed) for r in requests]
        # True CFG runs only with a negative prompt and a scale above 1 (two passes per step).
        use_cfg = first.true_cfg_scale > 1 and bool(first.negative_prompt)
        maybe_inject_oom()
        with torch.inference_mode():
            embeds, mask = self.embeddings.batch([r.prompt for r in requests])
            negative = (self.embeddings.batch([r.negative_prompt for r in requests])
                        if use_cfg else (None, None))
            batched_cfg = (BatchedCFG(self.pipeline.transformer, *negative)
                           if use_cfg and self.speed["batched_cfg"] else nullcontext())
            with batched_cfg:
                result = self.pipeline(
                    prompt_embeds=embeds,
                    prompt_embeds_mask=mask,
                    negative_prompt_embeds=negative[0],
                    negative_prompt_embeds_mask=negative[1],
                    true_cfg_scale=first.true_cfg_scale if use_cfg else 1.0,
                    width=first.width,
                    height=first.height,
                    num_inference_steps=first.steps,
                    generator=generators if len(generators) > 1 else generators[0],
                    callback_on_step_end=callback,
                    output_type=output_type,
                )
        return list(result.images)

    def set_memory_mode(self, mode: str) -> None:
        """``normal``; ``vae_tiling`` (decode in tiles); ``cpu_offload`` (tiling, and each
        model moved to the GPU only while it runs); ``group_offload`` (tiling, and the
        transformer and text encoder streamed to the GPU one block at a time, overlapped with
        compute: for cards smaller than the largest model). The out-of-memory ladder steps
        through the first three; ``normal`` undoes them for the next job."""
        import torch

        if mode not in MEMORY_MODES:
            raise ValueError(f"unknown memory mode {mode!r}; use one of {MEMORY_MODES}")
        if mode == self.memory_mode:
            return
        if self.memory_mode == "cpu_offload":
            self.pipeline.remove_all_hooks()
            self.pipeline.to(self.device)
        elif self.memory_mode == "group_offload":
            from rendering.engine.speed import remove_group_offload

            remove_group_offload(self.pipeline)
            self.pipeline.to(self.device)
        if mode == "normal":
            self.pipeline.vae.disable_tiling()
        else:
            self.pipeline.vae.enable_tiling()
        if mode == "cpu_offload" and self.device.startswith("cuda"):
            self.pipeline.enable_model_cpu_offload(device=self.device)
        elif mode == "group_offload":
            self.pipeline.to("cpu")  # the groups come back to the GPU one at a time
            self.pipeline.enable_group_offload(
                onload_device=torch.device(self.device), offload_type="block_level",
                num_blocks_per_group=1, use_stream=self.device.startswith("cuda"),
                exclude_modules=["vae"])
        self.memory_mode = mode

    def free_memory(self) -> None:
        import gc

        import torch

        gc.collect()
        if self.device.startswith("cuda"):
            torch.cuda.empty_cache()


MEMORY_MODES = ("normal", "vae_tiling", "cpu_offload", "group_offload")
OFFLOAD_MODES = ("cpu_offload", "group_offload")


def _device_and_dtype() -> tuple[str, str]:
    import torch

    device = settings.ADSTUDIO_RENDER_DEVICE
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = settings.ADSTUDIO_RENDER_DTYPE
    if dtype == "auto":
        dtype = "bfloat16" if device.startswith("cuda") else "float32"
    if dtype not in {"bfloat16", "float16", "float32"}:
        raise ValueError(f"ADSTUDIO_RENDER_DTYPE must be bfloat16, float16 or float32: {dtype}")
    return device, dtype


_lock = threading.Lock()
_renderers: dict[tuple[str, str, str], QwenImageRenderer] = {}


def get_renderer() -> QwenImageRenderer:
    """The process's renderer for the configured model, loaded on first use."""
    model = resolve_model()
    device, dtype = _device_and_dtype()
    key = (model, device, dtype)
    with _lock:
        if key not in _renderers:
            if not settings.ADSTUDIO_QWEN_IMAGE_MODEL:
                logger.warning(TINY_MODEL_NOTICE.format(path=model))
            logger.info("loading Qwen-Image from %s on %s (%s)", model, device, dtype)
            _renderers[key] = QwenImageRenderer(model, device=device, dtype_name=dtype)
        return _renderers[key]
