"""Compose time per format: a layered design in, PNG bytes out, on the CPU.

    .venv/bin/python bench/compose.py [--repeat 20] [--formats KEY,KEY] [--no-append]

For every channel preset (rendering/compose/formats.py) the layout engine
(``design_layout``) writes a design: a brand gradient fill as the background, the coffee
cut-out (``cutout_make`` on campaigns/sample_photos/coffee.jpg) as the product, a logo drawn
here, and headline, subline, price, CTA and disclaimer copy. Then ``compose_png`` runs
``--repeat`` times: the first call (the compositor's decoded-image cache emptied before it;
fonts stay loaded after the first format), and p50/p95 of the repeats after it.

The "price change" rows recompose one design with only the price text changed (a new price
every repeat): the no-GPU path of a price update. For scale, the tiny random-weight model
renders one 300x250 and one 1200x628 format through the real Renderer (2 steps, CPU, at the
tiny model's request size): its times say nothing about a GPU. The GPU figure compared with
is an H200 "A default" row of docs/benchmarks.md when one is recorded there, else the 30 s
per render the job-platform section assumes.

Prints a markdown table and appends it (unless ``--no-append``) to docs/benchmarks.md with
the date, machine, commit and command. Not a test: no timing is asserted anywhere.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import io
import os
import platform
import re
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adstudio.settings")

import django  # noqa: E402

django.setup()

from PIL import Image, ImageDraw  # noqa: E402

from brands.cutout import cutout_make  # noqa: E402
from rendering.compose.formats import (  # noqa: E402
    PRESETS,
    fit_to_format,
    model_request_size,
    nearest_bucket,
)
from rendering.design import pixel_cache  # noqa: E402
from rendering.design.compositor import compose_png  # noqa: E402
from rendering.design.layout_classes import print_bleed  # noqa: E402
from rendering.design.layouts import design_layout  # noqa: E402

BENCHMARKS = ROOT / "docs" / "benchmarks.md"
PHOTO = ROOT / "campaigns" / "sample_photos" / "coffee.jpg"
COPY = {"headline": "Fresh roast, every morning",
        "subline": "Single-origin beans, roasted this week",
        "price": "$12.99", "cta": "Shop now",
        "disclaimer": "Offer ends 31 July. While stocks last."}
PALETTE = ["#3B2416", "#F5EBDD", "#D9822B"]
BACKGROUND = {"type": "fill", "fill": {"type": "linear", "colors": ["#F5EBDD", "#E3CBA8"],
                                       "angle": 180}}
PRICE_FORMATS = ("gdn-medium-rectangle", "responsive-landscape")
RENDER_FORMATS = ("gdn-medium-rectangle", "responsive-landscape")
RENDER_STEPS = 2
ASSUMED_GPU_SECONDS = 30.0
SECTION = "Compose (CPU, layered design)"


@dataclass
class Row:
    case: str
    size: str
    detail: str  # layout id, layer count, what gave way / model size
    layout_ms: float | None
    first_ms: float | None
    p50_ms: float
    p95_ms: float
    png_bytes: int | None
    gpu_share: float | None  # p50 as a share of one GPU render


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def make_logo() -> bytes:
    """A small procedural RGBA logo: a coffee-bean mark and a two-bar wordmark."""
    image = Image.new("RGBA", (320, 112), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((4, 4, 108, 108), fill=(59, 36, 22, 255))
    draw.arc((30, 10, 82, 102), 300, 60, fill=(245, 235, 221, 255), width=8)
    draw.rounded_rectangle((126, 24, 314, 58), 10, fill=(59, 36, 22, 255))
    draw.rounded_rectangle((126, 70, 260, 90), 8, fill=(217, 130, 43, 255))
    return _png(image)


def _ref(data: bytes) -> dict:
    with Image.open(io.BytesIO(data)) as image:
        size = image.size
    return {"sha256": hashlib.sha256(data).hexdigest(), "size": size}


def build_design(preset, *, logo: dict, product: dict, copy_: dict = COPY) -> dict:
    return design_layout(
        size=(preset.width, preset.height), kind=preset.kind, copy=copy_, palette=PALETTE,
        logo=logo, product=product, background=BACKGROUND,
        bleed=print_bleed(preset.dpi) if preset.dpi else 0, dpi=preset.dpi,
        safe_zone=preset.safe_zone)


def _clear_pixel_cache() -> None:
    pixel_cache.cache_clear()


def _time_ms(fn) -> tuple[float, object]:
    started = time.perf_counter()
    value = fn()
    return (time.perf_counter() - started) * 1000, value


def measure_format(preset, inputs: dict, refs: dict, repeat: int, gpu_s: float) -> Row:
    layout_ms, design = _time_ms(lambda: build_design(preset, **refs))
    _clear_pixel_cache()
    first_ms, png = _time_ms(lambda: compose_png(design, inputs, dpi=preset.dpi))
    times = [_time_ms(lambda: compose_png(design, inputs, dpi=preset.dpi))[0]
             for _ in range(repeat)]
    dropped = design["meta"].get("dropped") or []
    detail = (f"{design['layout']}, {len(design['layers'])} layers"
              + (f", dropped {'/'.join(dropped)}" if dropped else ""))
    p50 = statistics.median(times)
    return Row(preset.key, f"{preset.width}x{preset.height}", detail, layout_ms, first_ms, p50,
               percentile(times, 0.95), len(png), p50 / 1000 / gpu_s)


def measure_price_change(preset, inputs: dict, refs: dict, repeat: int, gpu_s: float) -> Row:
    """Recompose the design with only the price text changed, a new price each time."""
    design = build_design(preset, **refs)
    price = next(layer for layer in design["layers"]
                 if layer["kind"] == "text" and layer.get("role") == "price")
    compose_png(design, inputs, dpi=preset.dpi)  # the design as first made: caches warm
    times = []
    for i in range(repeat):
        changed = copy.deepcopy(design)
        layer = next(la for la in changed["layers"] if la["id"] == price["id"])
        layer["text"] = f"${10 + i % 9}.{(i * 7) % 100:02d}"  # never wider than "$12.99"
        times.append(_time_ms(lambda doc=changed: compose_png(doc, inputs, dpi=preset.dpi))[0])
    p50 = statistics.median(times)
    return Row(f"price change: {preset.key}", f"{preset.width}x{preset.height}",
               "only the price text layer changed, no GPU", None, None, p50,
               percentile(times, 0.95), None, p50 / 1000 / gpu_s)


def _tiny_model_dir(folder: str | None) -> Path:
    from django.conf import settings

    from rendering.engine.tiny import build_tiny_qwen_image

    path = Path(folder or settings.ADSTUDIO_TINY_MODEL_DIR)
    if not (path / "model_index.json").exists():
        build_tiny_qwen_image(path)
    return path


def measure_tiny_renders(model_dir: Path, repeat: int, gpu_s: float) -> tuple[list[Row], str]:
    """The tiny model through the real Renderer: one warm-up render, then ``repeat`` (at most
    3) timed renders per format, at the request size the settings give the tiny model."""
    from django.test import override_settings

    from rendering.engine.generate import RenderRequest, get_renderer

    rows = []
    with override_settings(ADSTUDIO_QWEN_IMAGE_MODEL=str(model_dir), ADSTUDIO_RENDER_SCALE=0.0625,
                           ADSTUDIO_LORA="", ADSTUDIO_RENDER_DEVICE="cpu",
                           ADSTUDIO_RENDER_DTYPE="float32"):
        load_ms, renderer = _time_ms(get_renderer)
        for key in RENDER_FORMATS:
            preset = next(p for p in PRESETS if p.key == key)
            width, height = model_request_size(nearest_bucket(preset.width, preset.height),
                                               scale=0.0625, multiple=renderer.size_multiple)
            request = RenderRequest(prompt="A banner for fresh roasted coffee, Ultra HD, 4K.",
                                    negative_prompt="blurry", seed=1, steps=RENDER_STEPS,
                                    true_cfg_scale=4.0, width=width, height=height)
            first_ms, _ = _time_ms(lambda r=request: renderer.render(r))
            times = []
            for _ in range(min(repeat, 3)):
                ms, image = _time_ms(lambda r=request: renderer.render(r))
                fit_ms, _ = _time_ms(lambda im=image, p=preset: fit_to_format(
                    im.convert("RGB"), p.width, p.height))
                times.append(ms + fit_ms)
            p50 = statistics.median(times)
            rows.append(Row(f"tiny model render: {key}", f"{preset.width}x{preset.height}",
                            f"TINY random-weight model, {RENDER_STEPS} steps, true CFG 4, "
                            f"{width}x{height} then fitted, CPU", None, first_ms, p50,
                            percentile(times, 0.95), None, None))
    return rows, f"tiny model loaded in {load_ms / 1000:.1f} s"


def gpu_reference() -> tuple[float, str]:
    """An H200 workload-A "default" s/image from docs/benchmarks.md, else the assumed 30 s."""
    text = BENCHMARKS.read_text(encoding="utf-8") if BENCHMARKS.exists() else ""
    for section in re.split(r"\n(?=## )", text):
        header = section.split("\n", 1)[0]
        if not header.startswith("## GPU render (") or "tiny" in header.lower():
            continue
        match = re.search(r"^\| A \| default \| [^|]* \| ([0-9.]+) \|", section, re.M)
        if match:
            return float(match.group(1)), (f"the H200 workload A default render, "
                                           f"{match.group(1)} s (docs/benchmarks.md, "
                                           f"{header[3:].strip()})")
    return ASSUMED_GPU_SECONDS, (
        "the 30 s GPU render docs/benchmarks.md assumes (no H200 render is recorded there yet; "
        "BENCHMARKS.md's published reference is 20.0 s for plain diffusers on an H200 at "
        "1024x1024, 50 steps, true CFG)")


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def table(rows: list[Row]) -> str:
    lines = ["| case | size | design / notes | layout ms | first call ms | p50 ms | p95 ms "
             "| PNG KB | p50 / GPU render |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        kb = f"{r.png_bytes / 1024:.0f}" if r.png_bytes is not None else ""
        share = f"{r.gpu_share:.2%}" if r.gpu_share is not None else ""
        lines.append(f"| {r.case} | {r.size} | {r.detail} | {_fmt(r.layout_ms)} | "
                     f"{_fmt(r.first_ms)} | "
                     f"{_fmt(r.p50_ms)} | {_fmt(r.p95_ms)} | {kb} | {share} |")
    return "\n".join(lines)


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{platform.node()} {platform.machine()}, nproc {cpus}, {model}"


def commit() -> str:
    """HEAD's short hash, read from .git's files (no git process)."""
    git = ROOT / ".git"
    try:
        if git.is_file():  # a worktree: "gitdir: PATH"
            git = Path(git.read_text().split(":", 1)[1].strip())
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head[:7]
        ref = head[5:]
        common = Path((git / "commondir").read_text().strip()) if (git / "commondir").exists() \
            else None
        for base in (git, (git / common) if common else None):
            if base and (base / ref).exists():
                return (base / ref).read_text().strip()[:7]
            packed = base / "packed-refs" if base else None
            if packed and packed.exists():
                for line in packed.read_text().splitlines():
                    if line.endswith(" " + ref):
                        return line[:7]
    except (OSError, IndexError):
        pass
    return "unknown"


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--formats", default="",
                        help="comma-separated preset keys (default: every preset)")
    parser.add_argument("--tiny-model", default=None,
                        help="a built tiny model folder (default: ADSTUDIO_TINY_MODEL_DIR)")
    parser.add_argument("--no-append", action="store_true")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    keys = [k.strip() for k in args.formats.split(",") if k.strip()]
    known = {p.key for p in PRESETS}
    if unknown := [k for k in keys if k not in known]:
        parser.error(f"unknown format(s): {', '.join(unknown)}")
    presets = [p for p in PRESETS if not keys or p.key in keys]

    gpu_s, gpu_source = gpu_reference()
    cutout_ms, cutout = _time_ms(lambda: cutout_make(PHOTO.read_bytes()))
    logo_png = make_logo()
    inputs = {cutout.sha256: cutout.png, hashlib.sha256(logo_png).hexdigest(): logo_png}
    assert hashlib.sha256(cutout.png).hexdigest() == cutout.sha256
    refs = {"logo": _ref(logo_png), "product": _ref(cutout.png)}

    rows = [measure_format(p, inputs, refs, args.repeat, gpu_s) for p in presets]
    price_presets = [p for p in presets if p.key in PRICE_FORMATS] or presets[:1]
    rows += [measure_price_change(p, inputs, refs, args.repeat, gpu_s) for p in price_presets]
    render_rows, load_note = measure_tiny_renders(_tiny_model_dir(args.tiny_model),
                                                  args.repeat, gpu_s)
    rows += render_rows
    result = table(rows)
    print(result)

    if not args.no_append:
        command = "`.venv/bin/python bench/compose.py --repeat {}{}`".format(
            args.repeat, f" --formats {args.formats}" if keys else "")
        with BENCHMARKS.open("a", encoding="utf-8") as fh:
            fh.write(
                f"\n## {SECTION} ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)\n\n"
                f"Machine: {machine()}; commit {commit()}. Command: {command}\n\n"
                f"Inputs: the coffee cut-out ({cutout.method}, "
                f"{refs['product']['size'][0]}x{refs['product']['size'][1]}, made in "
                f"{cutout_ms / 1000:.1f} s, not counted), a procedural 320x112 logo, a linear "
                f"brand fill, five copy roles. First call: the compositor's pixel cache emptied "
                f"before it (fonts stay loaded after the first format); p50/p95 over "
                f"{args.repeat} calls after it. Price change: {args.repeat} recomposes, a new "
                f"price each. Tiny model rows: a random-weight model with tiny configs on the "
                f"CPU ({load_note}), p50 of {min(args.repeat, 3)} after a warm-up; pipeline "
                f"call plus the fit to the format, first call = the warm-up render. GPU render "
                f"for the last column: {gpu_source}.\n\n"
                f"{result}\n"
            )
    return result


if __name__ == "__main__":
    main()
