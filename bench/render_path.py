"""Where the time of one render goes, per sample format, on the configured model.

    .venv/bin/python bench/render_path.py [--repeat 5]

Stages: the pipeline call, crop/resize to the format, PNG encode, thumbnail. Prints a table of
medians and appends it to docs/benchmarks.md with the date, machine, commit and command.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adstudio.settings")

import django  # noqa: E402

django.setup()

from rendering.compose.formats import PRESETS, fit_to_format, model_request_size, nearest_bucket  # noqa: E402
from rendering.design.compositor import encode_png  # noqa: E402
from rendering.engine.generate import RenderRequest, get_renderer  # noqa: E402
from rendering.jobs.store import thumbnail_webp  # noqa: E402

SAMPLE = ("gdn-medium-rectangle", "responsive-landscape", "meta-story", "print-a4")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--steps", type=int, default=None)
    args = parser.parse_args()
    import tempfile

    from django.conf import settings

    from rendering.engine.tiny import build_tiny_qwen_image

    started = time.perf_counter()
    build_tiny_qwen_image(Path(tempfile.mkdtemp()) / "tiny")
    tiny_build_seconds = time.perf_counter() - started
    renderer = get_renderer()
    steps = args.steps or settings.ADSTUDIO_DEFAULT_STEPS
    rows = []
    for key in SAMPLE:
        preset = next(p for p in PRESETS if p.key == key)
        size = model_request_size(nearest_bucket(preset.width, preset.height),
                                  scale=settings.ADSTUDIO_RENDER_SCALE,
                                  multiple=renderer.size_multiple)
        request = RenderRequest(prompt="A banner for a trail tent, Ultra HD, 4K.",
                                negative_prompt="blurry", seed=1, steps=steps,
                                true_cfg_scale=4.0, width=size[0], height=size[1])
        renderer.render(request)  # warm-up
        timings = {"pipeline": [], "fit": [], "png": [], "thumbnail": []}
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            image = renderer.render(request).convert("RGB")
            t1 = time.perf_counter()
            fitted = fit_to_format(image, preset.width, preset.height)
            t2 = time.perf_counter()
            encode_png(fitted, dpi=preset.dpi)
            t3 = time.perf_counter()
            thumbnail_webp(fitted)
            t4 = time.perf_counter()
            for name, value in zip(timings, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                timings[name].append(value * 1000)
        rows.append((key, f"{size[0]}x{size[1]}", f"{preset.width}x{preset.height}",
                     *(statistics.median(v) for v in timings.values())))

    header = "| format | model size | output | pipeline ms | fit ms | png ms | thumbnail ms |"
    lines = [header, "|---|---|---|---|---|---|---|"]
    lines += [f"| {r[0]} | {r[1]} | {r[2]} | " + " | ".join(f"{v:.0f}" for v in r[3:]) + " |"
              for r in rows]
    table = "\n".join(lines)
    print(table)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=ROOT).stdout.strip()
    with (ROOT / "docs" / "benchmarks.md").open("a", encoding="utf-8") as fh:
        fh.write(
            f"\n## Render path stages ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)\n\n"
            f"Machine: {platform.node()} {platform.machine()}, {os.cpu_count()} CPUs; "
            f"model {renderer.model} on {renderer.device} {renderer.dtype_name}, "
            f"{steps} steps, true CFG 4; commit {commit}; median of {args.repeat}. "
            f"Building the tiny model took {tiny_build_seconds:.1f} s.\n"
            f"Command: `.venv/bin/python bench/render_path.py --repeat {args.repeat}`\n\n"
            f"{table}\n"
        )


if __name__ == "__main__":
    main()
