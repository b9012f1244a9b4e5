"""The GPU render benchmark's report: the header and table printed, written to ``--markdown``
and appended to docs/benchmarks.md."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

from bench.gpu_render_workloads import QUICK_STEPS

ROOT = Path(__file__).resolve().parent.parent


def report(results: dict, args, tiny: bool) -> None:
    lines = ["| workload | variant | s/step | s/image | images/h | peak GB | MFU | vs diffusers "
             "| latent rel. error |", "|---|---|---|---|---|---|---|---|---|"]
    for row in results["rows"]:
        if "note" in row:
            lines.append(f"| {row['workload']} | {row['variant']} | | | | | | | {row['note']} |")
            continue
        step = f"{row['step_seconds']:.4f}" if row.get("step_seconds") else "-"
        peak = f"{row['peak_memory_gb']:.1f}" if row.get("peak_memory_gb") else "-"
        error = row.get("latent_rel_error")
        mark = "~" if row.get("estimated") else ""
        lines.append(
            f"| {row['workload']} | {row['variant']} | {step} | "
            f"{mark}{row['seconds_per_image']:.3f} | {mark}{row['images_per_hour']:.0f} | {peak} "
            f"| {row.get('mfu', 0):.1%} | {row.get('speedup_vs_diffusers', 0):.2f}x "
            f"| {'-' if error is None else f'{error:.1e}'} {row.get('error', '')}|")
    table = "\n".join(lines)
    header = (f"Device: {results['device']}; measured matrix rate "
              f"{results['matrix_tflops']:.1f} TFLOP/s; prompt {results['text_tokens']} tokens. "
              f"Full-size workload A counts {results['full_size_flops_A']:.3g} FLOPs (transformer "
              f"pass {results['full_size_transformer_pass_flops']:.3g}), a floor of "
              f"{results['full_size_flops_A'] / 790e12:.1f} s at 790 TFLOP/s. "
              f"~: extrapolated from {QUICK_STEPS} steps (2 warm-up).")
    if tiny:
        header += (" Tiny model on a CPU: this checks the harness; its times and MFU say nothing"
                   " about a GPU (the FLOP count of the full-size model above is real).")
    print(header)
    print(table)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=ROOT).stdout.strip()
    section = (f"\n## GPU render ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)"
               f"{' - tiny model on CPU, for the harness only' if tiny else ''}\n\n"
               f"{header} Commit {commit or 'unknown'}. Command: `{results['command']}`\n\n"
               f"{table}\n")
    if args.markdown:
        Path(args.markdown).write_text(section, encoding="utf-8")
    if not args.no_append:
        with (ROOT / "docs" / "benchmarks.md").open("a", encoding="utf-8") as fh:
            fh.write(section)
