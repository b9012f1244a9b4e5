"""The house keeps its shape (docs/architecture.md), checked on every import statement, at
module level or inside a function:

- apps import one way: core <- brands <- rendering <- campaigns <- api <- adstudio. A lower app
  hears of what happens above it through signals it defines (brands/signals.py,
  rendering/signals.py, core/events.py), connected in the upper app's AppConfig.ready;
- inside rendering, rooms import one way: models and signals <- engine, compose <- design <-
  jobs <- quality <- the app's own top (templates, selectors, views, tasks, admin, apps); engine and
  compose know nothing of each other;
- no two first-party modules import each other, directly or around a circle;
- the web process, beat and the cpu worker never import torch or diffusers.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APPS = ["core", "brands", "rendering", "campaigns", "api", "adstudio"]
# Rooms of rendering, by rank: a module may import its own room and lower ranks only.
ROOMS = {"rendering.models": 0, "rendering.signals": 0, "rendering.engine": 1,
         "rendering.compose": 1, "rendering.design": 2, "rendering.jobs": 3,
         "rendering.quality": 4}
TOP_OF_RENDERING = 5  # every other module of rendering (views, templates, tasks, ...)


def _modules() -> dict[str, Path]:
    found = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


MODULES = _modules()


def _imports(path: Path) -> set[str]:
    """First-party modules imported by ``path`` (``from a import b`` counts a.b when that is
    a module, else a)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            targets = [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target:
                names.add(target)
    return names


GRAPH = {name: {t for t in _imports(path) if t != name and not name.startswith(t + ".")}
         for name, path in MODULES.items()}


def _room(module: str) -> int:
    for prefix, rank in ROOMS.items():
        if module == prefix or module.startswith(prefix + "."):
            return rank
    return TOP_OF_RENDERING


def test_no_app_imports_a_higher_one():
    upward = sorted(
        (module, target) for module, targets in GRAPH.items() for target in targets
        if APPS.index(target.split(".")[0]) > APPS.index(module.split(".")[0]))
    assert upward == []


def test_rooms_of_rendering_import_one_way():
    wrong = []
    for module, targets in GRAPH.items():
        if not module.startswith("rendering."):
            continue
        own = next((p for p in ROOMS if module == p or module.startswith(p + ".")), None)
        for target in targets:
            if not target.startswith("rendering.") or target == "rendering":
                continue
            same_room = own is not None and (target == own or target.startswith(own + "."))
            both_on_top = own is None and _room(target) == TOP_OF_RENDERING
            if not (same_room or both_on_top) and _room(target) >= _room(module):
                wrong.append((module, target))
    assert sorted(wrong) == []


def _circles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, stack, on_stack, circles = {}, {}, [], set(), []
    counter = 0
    for start in GRAPH:
        if start in index:
            continue
        work = [(start, iter(sorted(GRAPH[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(GRAPH[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    circles.append(sorted(component))
    return circles


def test_no_import_circle_anywhere():
    assert _circles() == []


def test_the_checks_see_a_circle_and_an_upward_import(monkeypatch):
    """The checks above can fail: a made-up import brands -> campaigns is both, and one
    from the engine to the job platform goes the wrong way inside rendering."""
    assert _room("rendering.jobs.run") > _room("rendering.engine.generate")
    monkeypatch.setitem(GRAPH, "brands.models", GRAPH["brands.models"] | {"campaigns.models"})
    assert any("brands.models" in c and "campaigns.models" in c for c in _circles())
    with_upward = [(m, t) for m, ts in GRAPH.items() for t in ts
                   if APPS.index(t.split(".")[0]) > APPS.index(m.split(".")[0])]
    assert ("brands.models", "campaigns.models") in with_upward


NO_TORCH = """
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adstudio.settings")
import django
django.setup()
import adstudio.urls  # every page and API view
from celery import current_app
current_app.loader.import_default_modules()  # every tasks module, as beat and workers do
import rendering.quality.checks  # what the cpu worker runs
import rendering.jobs.compose_run  # compositions, on the cpu worker too
heavy = sorted(m for m in ("torch", "diffusers", "transformers") if m in sys.modules)
print(",".join(heavy))
"""


def test_web_beat_and_cpu_worker_never_import_torch():
    done = subprocess.run([sys.executable, "-c", NO_TORCH], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"imported: {done.stdout.strip()}"


def test_render_jobs_are_created_and_cancelled_in_one_place():
    """rendering/jobs/enqueue.py is the only module that writes new render jobs
    (jobs_create) or cancels unfinished ones in bulk (jobs_cancel_unfinished)."""
    creators = set()
    for name, path in MODULES.items():
        text = path.read_text()
        if "RenderJob.objects.create(" in text or "RenderJob.objects.bulk_create(" in text:
            creators.add(name)
    assert creators == {"rendering.jobs.enqueue"}
