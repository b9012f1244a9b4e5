"""GPU paintings per campaign: one scene master per product (plus outpaints) against one model
render per format.

    .venv/bin/python bench/scene_masters.py [--products 50] [--formats 12] [--paint 1]
                                            [--no-append]

In a throwaway SQLite database and media folder (bench/price_change.py's seeding: a brand kit,
N products with the coffee photo's cut-out, a campaign of N products x F formats) it plans the
campaign twice inside a transaction that is rolled back (so nothing runs): once with scene
templates (``background="scene"``: what this bench is for) and once with picture templates
(``background="picture"``: one model render per format, the old way). For each it counts the
jobs on the gpu queue and the pixels the model paints at full scale (ADSTUDIO_RENDER_SCALE 1:
a scene's or outpaint's own size, a render's Qwen-Image bucket), the cost of a GPU job being
about proportional to its pixels (attention makes it grow a little faster).

``--paint P`` then generates the scene campaign for the first P products for real with the
tiny random-weight model on this CPU (every job in-process), and reports how many jobs
succeeded, how many ads are aligned on their scene (the product where the scene was painted
around it), and the product check's verdicts: the flow, not the speed of an H200.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import price_change  # noqa: E402

BENCHMARKS = ROOT / "docs" / "benchmarks.md"
FORMATS = price_change.FORMATS


@dataclass
class Plan:
    label: str
    gpu_jobs: int
    masters: int
    outpaints: int
    compositions: int
    megapixels: float


@dataclass
class Report:
    products: int
    formats: list[str]
    plans: list[Plan]
    painted: dict
    table: str = ""


class _Rollback(Exception):
    pass


def _templates(workspace, formats, background: str):
    from rendering.templates import prompt_template_save

    return [prompt_template_save(
        user=None, workspace=workspace, name=f"{background} ({kind})", kind=kind,
        body="an espresso cup on a marble cafe table, morning light",
        headline="{{ product.name }}", cta="Shop now", show_price=True, text_mode="overlay",
        background=background) for kind in sorted({f.kind for f in formats})]


def _plan(label: str, campaign, templates) -> Plan:
    """Generate inside a transaction that rolls back: the jobs are counted, none runs."""
    from django.db import transaction

    from campaigns.services import campaign_generate
    from rendering.compose.formats import model_request_size
    from rendering.models import JobKind, JobQueue

    campaign.templates.set(templates)
    result = {}
    try:
        with transaction.atomic():
            jobs = campaign_generate(campaign=campaign, user=None, seed=11).jobs
            gpu = [j for j in jobs if j.queue == JobQueue.GPU]
            pixels = 0
            for job in gpu:
                if job.kind == JobKind.BACKGROUND:
                    width, height = job.recipe["output_size"]
                else:
                    width, height = model_request_size(tuple(job.recipe["bucket"]), scale=1.0,
                                                       multiple=16)
                pixels += width * height
            result = {
                "gpu_jobs": len(gpu),
                "masters": sum(j.recipe.get("derive") == "scene" for j in gpu),
                "outpaints": sum(j.recipe.get("derive") == "outpaint" for j in gpu),
                "compositions": sum(j.kind == JobKind.COMPOSE for j in jobs),
                "megapixels": pixels / 1e6,
            }
            raise _Rollback
    except _Rollback:
        pass
    return Plan(label, **result)


def _paint(campaign, templates, products, n: int) -> dict:
    """The scene campaign of the first ``n`` products, painted for real (tiny model)."""
    from django.db.models import Count

    from campaigns.services import campaign_generate
    from rendering.models import Asset, CheckKind, JobStatus, QualityCheck, RenderJob

    campaign.templates.set(templates)
    slots = list(campaign.slots.filter(product__in=products[:n]).select_related(
        "product", "format"))
    started = time.perf_counter()
    jobs = campaign_generate(campaign=campaign, user=None, slots=slots, seed=11).jobs
    seconds = time.perf_counter() - started
    statuses = dict(RenderJob.objects.filter(pk__in=[j.pk for j in jobs]).order_by()
                    .values("status").annotate(n=Count("id")).values_list("status", "n"))
    assets = list(Asset.objects.filter(job_id__in=[j.pk for j in jobs]))
    checks = dict(QualityCheck.objects.filter(asset__in=assets, kind=CheckKind.PRODUCT)
                  .order_by().values("status").annotate(n=Count("id"))
                  .values_list("status", "n"))
    return {"products": n, "jobs": len(jobs), "seconds": round(seconds, 1),
            "succeeded": statuses.get(JobStatus.SUCCEEDED, 0), "statuses": statuses,
            "ads": len(assets), "aligned": sum(a.recipe["scene"]["aligned"] for a in assets),
            "product_check": checks}


def table(plans: list[Plan]) -> str:
    base = plans[-1]
    lines = ["| campaign made with | gpu jobs | scene masters | outpaints | compositions (cpu) "
             "| megapixels painted | vs one render per format |", "|---|---|---|---|---|---|---|"]
    for p in plans:
        ratio = f"{p.megapixels / base.megapixels:.2f}x pixels, {p.gpu_jobs / base.gpu_jobs:.2f}x" \
                f" jobs" if base.gpu_jobs else ""
        lines.append(f"| {p.label} | {p.gpu_jobs} | {p.masters} | {p.outpaints} | "
                     f"{p.compositions} | {p.megapixels:.1f} | {ratio} |")
    return "\n".join(lines)


def run(n_products: int, format_keys: list[str], paint: int) -> Report:
    _owner, workspace, campaign, products, _cut_s, _method = price_change.seed(
        n_products, format_keys)
    formats = list(campaign.formats.all())
    scenes = _templates(workspace, formats, "scene")
    pictures = _templates(workspace, formats, "picture")
    plans = [_plan("scene templates (one master per product)", campaign, scenes),
             _plan("picture templates (one render per format)", campaign, pictures)]
    painted = _paint(campaign, scenes, products, paint) if paint else {}
    return Report(n_products, format_keys, plans, painted, table(plans))


def main(argv: list[str] | None = None) -> Report:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--products", type=int, default=50)
    parser.add_argument("--formats", type=int, default=12,
                        help=f"how many of the {len(FORMATS)} web/social presets")
    parser.add_argument("--paint", type=int, default=1,
                        help="products to paint for real with the tiny model (0: none)")
    parser.add_argument("--no-append", action="store_true")
    args = parser.parse_args(argv)
    if args.products < 1 or not 1 <= args.formats <= len(FORMATS) or not (
            0 <= args.paint <= args.products):
        parser.error("--products >= 1, --formats 1..12, --paint 0..products")
    keys = list(FORMATS[:args.formats])
    report = run(args.products, keys, args.paint)
    print(report.table)
    if report.painted:
        print(f"\npainted for real (tiny model): {report.painted}")
    if not args.no_append:
        from bench.compose import commit, machine

        command = (f"`.venv/bin/python bench/scene_masters.py --products {args.products} "
                   f"--formats {args.formats} --paint {args.paint}`")
        painted = report.painted
        flow = (f"Painted for real with the tiny model on this CPU ({painted['products']} "
                f"product(s), every job in-process): {painted['succeeded']} of "
                f"{painted['jobs']} jobs succeeded in {painted['seconds']} s; "
                f"{painted['aligned']} of {painted['ads']} ads aligned on their scene; "
                f"product check: {painted['product_check']}." if painted else "")
        with BENCHMARKS.open("a", encoding="utf-8") as fh:
            fh.write(
                f"\n## Scene masters: GPU paintings per campaign ({args.products} products x "
                f"{len(keys)} formats) ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)\n\n"
                f"Machine: {machine()}; commit {commit()}. Command: {command}\n\n"
                f"The campaign is planned twice (generate in a transaction rolled back: "
                f"nothing runs): with scene templates, and with picture templates (one model "
                f"render per format). Megapixels: what the model paints at full scale (a "
                f"scene master's or outpaint's size; a render's Qwen-Image bucket); a GPU "
                f"job's time grows about with its pixels. Formats: {', '.join(keys)}. "
                f"{flow}\n\n{report.table}\n")
    return report


if __name__ == "__main__":
    _scratch = price_change.scratch_setup()
    import logging

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    logging.getLogger("celery.app.trace").setLevel(logging.WARNING)
    try:
        main()
    finally:
        shutil.rmtree(_scratch, ignore_errors=True)
