"""Fault injection for tests of what cannot happen on a CPU machine (out of GPU memory).

``ADSTUDIO_FAULT_INJECTION="oom:N"`` makes the next N pipeline calls of this process raise
``torch.OutOfMemoryError`` before they start; ``"slow_load:S"`` makes each model load in a
worker process take S seconds longer (real weights take minutes: F14). Empty (the default)
injects nothing; it is read only here, and production never sets it.
"""

from __future__ import annotations

import time

from django.conf import settings

_spent: dict[str, int] = {}


def maybe_inject_oom() -> None:
    plan = settings.ADSTUDIO_FAULT_INJECTION
    if not plan.startswith("oom:"):
        return
    budget = int(plan.split(":", 1)[1])
    if _spent.get(plan, 0) < budget:
        _spent[plan] = _spent.get(plan, 0) + 1
        import torch

        raise torch.OutOfMemoryError(
            f"CUDA out of memory (injected by ADSTUDIO_FAULT_INJECTION={plan})")


def maybe_slow_down_load() -> None:
    plan = settings.ADSTUDIO_FAULT_INJECTION
    if plan.startswith("slow_load:"):
        time.sleep(float(plan.split(":", 1)[1]))


def reset() -> None:
    _spent.clear()
