"""axe-core in a Playwright page: the accessibility check every browser test can call.

axe-core is pinned in frontend/package-lock.json and installed by `./dev setup`
(`npm ci --prefix frontend`). `axe_check(page, "label")` runs the WCAG 2.0/2.1/2.2 A and AA
rules plus axe's best practices on the page as it is now, saves the full result to
var/test-output/axe/<label>.json and fails the test on any serious or critical violation.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
OUTPUT = ROOT / "var" / "test-output" / "axe"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
BLOCKING = ("serious", "critical")
IMPACTS = ("minor", "moderate", "serious", "critical")


def axe_start(page) -> None:
    """Start axe-core on the page without waiting for it, so that pages in other browser
    contexts (other renderer processes) can be checked at the same time."""
    if not AXE_JS.exists():
        pytest.fail(f"axe-core is missing at {AXE_JS.relative_to(ROOT)}: run ./dev setup "
                    "(it runs npm ci --prefix frontend)")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    page.evaluate(
        "(tags) => { window.__adstudioAxe = axe.run(document, {runOnly: {type: 'tag',"
        " values: tags}, resultTypes: ['violations']}); }", TAGS)


def axe_results(page) -> dict:
    """axe-core's raw result for the page (started here unless ``axe_start`` did)."""
    if not page.evaluate("() => !!window.__adstudioAxe"):
        axe_start(page)
    return page.evaluate(
        "async () => { const r = await window.__adstudioAxe; window.__adstudioAxe = null;"
        " return r; }")


def violation_counts(results: dict) -> dict:
    """Violated rules by impact, e.g. {"serious": 2, "minor": 0, ...} (rules, not nodes)."""
    counts = dict.fromkeys(IMPACTS, 0)
    for violation in results["violations"]:
        counts[violation.get("impact") or "minor"] += 1
    return counts


def describe(violations: list[dict]) -> str:
    """One line per violated rule and the targets of its nodes, for a failure message."""
    lines = []
    for v in violations:
        targets = ", ".join(" ".join(map(str, n["target"])) for n in v["nodes"][:8])
        more = f" (+{len(v['nodes']) - 8} more)" if len(v["nodes"]) > 8 else ""
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']} -> {targets}{more}")
    return "\n".join(lines)


def axe_check(page, label: str, *, fail: bool = True) -> dict:
    """Check the page with axe-core; return violated rules by impact, plus "blocking": the
    description of every serious/critical one ("" when none). Fails the test on those unless
    ``fail=False`` (a test that checks many pages and asserts once at the end).

    The full result is saved to var/test-output/axe/<label>.json for reading afterwards.
    """
    results = axe_results(page)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", label)
    (OUTPUT / f"{safe}.json").write_text(json.dumps(
        {"url": page.url, "label": label, "violations": results["violations"],
         "testEngine": results.get("testEngine")}, indent=1))
    blocking = [v for v in results["violations"] if v.get("impact") in BLOCKING]
    message = (f"axe-core: {len(blocking)} serious/critical rule(s) violated on {label} "
               f"({page.url}):\n{describe(blocking)}") if blocking else ""
    if message and fail:
        pytest.fail(message, pytrace=False)
    return {**violation_counts(results), "blocking": message}
