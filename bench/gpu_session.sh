#!/usr/bin/env bash
# The one-call GPU session of the render benchmark (docs/benchmarks.md, "GPU render"): install
# the carried wheels, print the machine, run bench/gpu_render.py on the full-size model in
# --quick mode (whole images for plain diffusers and our default of A and B and for D's edit,
# 13 steps, 10 timed, for every other variant), then memory budgets of 48 and 24 GiB. No
# variant starts after ADSTUDIO_GPU_DEADLINE_S seconds (470), so the run ends inside the
# device's 600 s call.
#
# From the device tool, with the wheels built as docs/benchmarks.md says:
#     run(command="bash bench/gpu_session.sh", carry=["var/wheels"], timeout_s=600)
# Results land in $OUT: gpu_render.json (every row, written as it is measured), gpu_render.md
# (the section for docs/benchmarks.md), gpu_render.log and machine.txt. Extra arguments go to
# the harness (e.g. `--workloads C,D --memory-budget-gb ""` for a second call).
# Here, on a CPU, the same script runs the tiny model, installing the same wheels:
#     OUT=/tmp/gpu PYTHON=.venv/bin/python bash bench/gpu_session.sh --tiny
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-var/gpu-session}"
PY="${PYTHON:-python3}"
WHEELS="${ADSTUDIO_WHEELS:-var/wheels}"
mkdir -p "$OUT"

if compgen -G "$WHEELS/*.whl" >/dev/null; then
    # diffusers, torchao, Django and django-environ; torch, transformers, peft and accelerate
    # are the machine's own. --no-deps: nothing can be fetched there.
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/adstudio-site "$WHEELS"/*.whl
    export PYTHONPATH="/tmp/adstudio-site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONUNBUFFERED=1
export ADSTUDIO_TORCH_THREADS="${ADSTUDIO_TORCH_THREADS:-$(nproc)}"
export TORCHINDUCTOR_CACHE_DIR="${TORCHINDUCTOR_CACHE_DIR:-/tmp/adstudio-inductor}"

{
    date -u
    nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv || true
    "$PY" - <<'PY'
import importlib.metadata as m
for name in ("torch", "diffusers", "transformers", "peft", "accelerate", "torchao", "Django"):
    try:
        print(name, m.version(name))
    except m.PackageNotFoundError:
        print(name, "missing")
PY
} 2>&1 | tee "$OUT/machine.txt"

timeout "${ADSTUDIO_GPU_TIMEOUT_S:-570}" "$PY" bench/gpu_render.py --quick --no-append \
    --json "$OUT/gpu_render.json" --markdown "$OUT/gpu_render.md" \
    --step-cache-thresholds 0.2 --deadline-s "${ADSTUDIO_GPU_DEADLINE_S:-470}" "$@" \
    2>&1 | tee "$OUT/gpu_render.log"
