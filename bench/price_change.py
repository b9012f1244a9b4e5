"""A price change across a whole campaign of composed ads, recomposed with no GPU job.

    .venv/bin/python bench/price_change.py [--products 50] [--formats 12] [--no-append]

In a throwaway SQLite database and media folder (a scratch ADSTUDIO_VAR_DIR; the embedded
default: no broker, so every task runs in-process once its transaction commits, on-commit
callbacks for real, no test transaction) it seeds one workspace, a brand kit with a palette
and a logo, N products with the coffee photo (campaigns/sample_photos/coffee.jpg), brand-fill
templates (one per format kind) and one campaign of N products x F web/social formats;
generates it; changes every product's price (``product_save``); and times
``campaign_rerender_stale`` for the whole campaign.

The cut-out is made once, for real: the first product's photo goes through
``product_photo_add`` and its ``brands.make_cutout`` task (u2netp matting) runs at commit. The
other products' photo rows share that stored photo file (no second upload check) and each get
their own copy of the cut-out with one fully transparent pixel's colour changed: the same
visible product, but a distinct file and sha256 per product, so the compositor's decoded-input
cache (keyed by hash) only helps within a product, as it would in a real catalog.

Reports the initial generate, the price change and the re-render: wall time until every new
asset is stored (the newest asset row's created_at), the call's own time (it also runs each
asset's copy and product checks in-process), assets per second, p50/p95 of the recipe's
``compose_seconds``, and the jobs on the gpu queue (must be 0: exits non-zero otherwise).
Prints a markdown table and appends it (unless ``--no-append``) to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adstudio.settings")

BENCHMARKS = ROOT / "docs" / "benchmarks.md"
PHOTO = ROOT / "campaigns" / "sample_photos" / "coffee.jpg"
# Web and social presets (rendering/compose/formats.py), no print: every aspect class but
# print, small banners to 1080x1920. --formats F takes the first F.
FORMATS = (
    "gdn-medium-rectangle", "gdn-mobile-banner", "gdn-leaderboard", "gdn-large-rectangle",
    "gdn-billboard", "gdn-half-page", "gdn-wide-skyscraper", "gdn-square",
    "responsive-landscape", "responsive-square", "meta-feed", "meta-story",
)  # fmt: skip
PALETTE = [
    {"name": "Roast", "hex": "#3B2416", "role": "primary"},
    {"name": "Copper", "hex": "#D9822B", "role": "accent"},
    {"name": "Cream", "hex": "#F5EBDD", "role": "background"},
    {"name": "Ink", "hex": "#1B1B1B", "role": "text"},
]
SLUG = "bench-price-change"


@dataclass
class Step:
    label: str
    call_s: float  # the service call, with what ran in-process at its commit
    stored_s: float | None = None  # until the newest asset row was written
    assets: int = 0
    compose: list[float] = field(default_factory=list)  # recipe compose_seconds
    note: str = ""


@dataclass
class Report:
    products: int
    formats: list[str]
    steps: list[Step]
    new_assets: int  # made by the re-render
    gpu_jobs: int  # jobs on the gpu queue in the bench's workspace, whole run
    jobs_by_queue: dict
    new_price_everywhere: bool
    cutout_s: float
    cutout_method: str
    table: str = ""


def scratch_setup() -> Path:
    """A throwaway var dir (SQLite database, media, secret key) and the embedded defaults:
    no broker (tasks in-process), local files. Call before django.setup()."""
    scratch = Path(tempfile.mkdtemp(prefix="adstudio-price-"))
    os.environ["ADSTUDIO_VAR_DIR"] = str(scratch)
    os.environ["ADSTUDIO_MEDIA_ROOT"] = str(scratch / "media")
    os.environ["DATABASE_URL"] = f"sqlite:///{scratch / 'bench.sqlite3'}"
    for name in ("REDIS_URL", "ADSTUDIO_S3_BUCKET"):
        os.environ.pop(name, None)
    return scratch


def _logo() -> bytes:
    from bench.compose import make_logo

    return make_logo()


def _data(sku: str, name: str, price: str):
    from brands.product_fields import clean_product_data

    return clean_product_data({"sku": sku, "name": name, "slogan": "Roasted this week",
                               "description": "A double-walled espresso cup.",
                               "price": price, "currency": "USD", "features": ["double-walled"]})


def _price(i: int, *, changed: bool) -> str:
    return f"{9 + i % 7}.99" if changed else f"{12 + i % 7}.50"


def _cutout_variant(png: bytes, index: int) -> bytes:
    """The cut-out with its first fully transparent pixel recoloured (still transparent):
    the same visible pixels, a distinct file."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as opened:
        image = opened.convert("RGBA")
    alpha = image.getchannel("A")
    spot = next(((x, y) for y in range(image.height) for x in range(image.width)
                 if alpha.getpixel((x, y)) == 0), (0, 0))
    r, g, b, a = image.getpixel(spot)
    image.putpixel(spot, ((r + index) % 256, (g + index // 256) % 256, b ^ 1, a))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def seed(n_products: int, format_keys: list[str]):
    """The workspace, brand, products with photos and cut-outs, template and campaign."""
    import hashlib

    from django.contrib.auth import get_user_model
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import transaction
    from django.utils import timezone

    from brands.models import ProductPhoto
    from brands.services import (
        brand_kit_save,
        brand_logo_add,
        product_photo_add,
        product_save,
        workspace_create,
    )
    from brands.uploads import storage_key
    from campaigns.services import campaign_create
    from rendering.models import Format
    from rendering.templates import prompt_template_save

    owner = get_user_model().objects.create_user(username=f"{SLUG}-owner",
                                                 email="bench@example.com")
    workspace = workspace_create(name="Price change bench", slug=SLUG, owner=owner, user=None)
    brand = brand_kit_save(workspace=workspace, user=None, name="Pikolo", palette=PALETTE)
    brand_logo_add(brand=brand, user=None, name="Mark",
                   uploaded=SimpleUploadedFile("mark.png", _logo()))
    products = [product_save(workspace=workspace, user=None,
                             data=_data(f"CUP-{i:04d}", f"Pikolo cup {i + 1}",
                                        _price(i, changed=False)))
                for i in range(n_products)]

    started = time.perf_counter()
    with transaction.atomic():  # the cut-out task runs in-process once this commits
        photo = product_photo_add(product=products[0], user=None,
                                  uploaded=SimpleUploadedFile("coffee.jpg", PHOTO.read_bytes()))
    cutout_s = time.perf_counter() - started
    photo.refresh_from_db()
    if not photo.cutout_sha256:
        raise RuntimeError(f"the coffee photo was not cut out: {photo.cutout_note!r}")
    with default_storage.open(photo.cutout.name, "rb") as handle:
        cutout_png = handle.read()
    shared = {name: getattr(photo, name) for name in (
        "file", "width", "height", "sha256", "cutout_method", "cutout_note", "cutout_box",
        "cutout_coverage", "cutout_source_sha256")}
    for i, product in enumerate(products[1:], start=1):
        png = _cutout_variant(cutout_png, i)
        key = default_storage.save(
            storage_key(workspace_id=workspace.pk, folder="cutouts", extension="png"),
            ContentFile(png))
        ProductPhoto.objects.create(product=product, cutout=key,
                                    cutout_sha256=hashlib.sha256(png).hexdigest(),
                                    cutout_made_at=timezone.now(), **shared)

    formats = list(Format.objects.filter(workspace=None, key__in=format_keys))
    if len(formats) != len(format_keys):
        raise RuntimeError(f"missing format presets: {set(format_keys) - {f.key for f in formats}}")
    # One brand-fill template per kind of format (banner, social, story), the same copy lines.
    templates = [prompt_template_save(
        user=None, workspace=workspace, name=f"Brand fill ({kind})", kind=kind,
        body="{{ product.name }}", headline="{{ product.name }}", cta="Shop now",
        show_price=True, text_mode="overlay", background="fill")
        for kind in sorted({f.kind for f in formats})]
    campaign = campaign_create(user=None, workspace=workspace, name="Coffee", brand=brand,
                               products=products, formats=formats, templates=templates)
    return owner, workspace, campaign, products, cutout_s, photo.cutout_method


def _assets_of(jobs):
    from rendering.models import Asset

    return list(Asset.objects.filter(job_id__in=[j.pk for j in jobs])
                .only("id", "created_at", "recipe", "design"))


def _timed_assets(label: str, run) -> tuple[Step, list]:
    from django.db.models import Count
    from django.utils import timezone

    from rendering.models import QualityCheck

    wall_start = timezone.now()
    started = time.perf_counter()
    jobs = run()
    call_s = time.perf_counter() - started
    assets = _assets_of(jobs)
    stored_s = (max(a.created_at for a in assets) - wall_start).total_seconds() if assets \
        else None
    compose = [float(a.recipe["compose_seconds"]) for a in assets
               if "compose_seconds" in (a.recipe or {})]
    checks = dict(QualityCheck.objects.filter(asset__in=assets).order_by().values("status")
                  .annotate(n=Count("id")).values_list("status", "n"))
    verdicts = ", ".join(f"{n} {status}" for status, n in sorted(checks.items()))
    return Step(label, call_s, stored_s, len(assets), compose,
                note=f"{len(jobs)} jobs; checks: {verdicts or 'none'}"), assets


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return ""
    ms = seconds * 1000
    return f"{ms:.1f}" if ms < 100 else f"{ms:.0f}"


def _s(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds:.2f}"


def table(steps: list[Step]) -> str:
    from bench.compose import percentile

    lines = ["| step | assets | wall s, until every asset is stored | call s (with checks) "
             "| assets/s | compose p50 ms | compose p95 ms | notes |",
             "|---|---|---|---|---|---|---|---|"]
    for s in steps:
        rate = f"{s.assets / s.stored_s:.1f}" if s.assets and s.stored_s else ""
        p50 = _ms(statistics.median(s.compose)) if s.compose else ""
        p95 = _ms(percentile(s.compose, 0.95)) if s.compose else ""
        lines.append(f"| {s.label} | {s.assets or ''} | {_s(s.stored_s)} | {_s(s.call_s)} | "
                     f"{rate} | {p50} | {p95} | {s.note} |")
    return "\n".join(lines)


def run(n_products: int, format_keys: list[str]) -> Report:
    from django.db.models import Count

    from brands.services import product_save
    from campaigns.services import campaign_generate
    from campaigns.staleness import RECOMPOSE_NOTE, campaign_rerender_stale
    from rendering.models import Asset, JobQueue, JobStatus, RenderJob

    owner, workspace, campaign, products, cutout_s, method = seed(n_products, format_keys)

    generate, _ = _timed_assets(
        "initial generate (campaign_generate)",
        lambda: campaign_generate(campaign=campaign, user=None).jobs)

    started = time.perf_counter()
    for i, product in enumerate(products):
        product_save(user=None, workspace=workspace, product=product,
                     data=_data(product.sku, product.name, _price(i, changed=True)))
    price_s = time.perf_counter() - started
    stale = Asset.objects.filter(slot__campaign=campaign, stale_reason__endswith=RECOMPOSE_NOTE)
    price = Step(f"price change (product_save x {n_products})", price_s,
                 note=f"{stale.count()} assets marked stale, recompose: no GPU")

    gpu_before = RenderJob.objects.filter(workspace=workspace, queue=JobQueue.GPU).count()
    rerender, assets = _timed_assets(
        "re-render stale (campaign_rerender_stale)",
        lambda: campaign_rerender_stale(campaign=campaign, user=owner).jobs)
    gpu_jobs = RenderJob.objects.filter(workspace=workspace, queue=JobQueue.GPU).count()
    rerender.note += f", {gpu_jobs - gpu_before} on the gpu queue"

    expected = {p.pk: f"${_price(i, changed=True)}" for i, p in enumerate(products)}
    new_price_everywhere = bool(assets) and all(
        [la["text"] for la in a.design["layers"] if la.get("role") == "price"]
        == [expected[a.recipe["product"]["id"]]] for a in assets)
    by_queue = dict(RenderJob.objects.filter(workspace=workspace).order_by().values("queue")
                    .annotate(n=Count("id")).values_list("queue", "n"))
    unfinished = RenderJob.objects.filter(workspace=workspace).exclude(
        status=JobStatus.SUCCEEDED).count()
    if unfinished:
        rerender.note += f", {unfinished} jobs not succeeded"
    steps = [generate, price, rerender]
    return Report(n_products, format_keys, steps, len(assets), gpu_jobs, by_queue,
                  new_price_everywhere, cutout_s, method, table(steps))


def main(argv: list[str] | None = None) -> Report:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--products", type=int, default=50)
    parser.add_argument("--formats", type=int, default=12,
                        help=f"how many of the {len(FORMATS)} web/social presets")
    parser.add_argument("--no-append", action="store_true")
    args = parser.parse_args(argv)
    if args.products < 1 or not 1 <= args.formats <= len(FORMATS):
        parser.error(f"--products must be at least 1 and --formats 1 to {len(FORMATS)}")
    keys = list(FORMATS[:args.formats])

    report = run(args.products, keys)
    print(report.table)
    print(f"\nnew assets: {report.new_assets} (expected {args.products * len(keys)}); "
          f"new price in every new asset: {report.new_price_everywhere}; "
          f"jobs by queue: {report.jobs_by_queue}; gpu queue jobs: {report.gpu_jobs}")
    if report.gpu_jobs:
        print(f"FAIL: {report.gpu_jobs} jobs on the gpu queue (a price change must need none)",
              file=sys.stderr)
        raise SystemExit(1)

    if not args.no_append:
        from bench.compose import commit, machine

        command = (f"`.venv/bin/python bench/price_change.py --products {args.products} "
                   f"--formats {args.formats}`")
        with BENCHMARKS.open("a", encoding="utf-8") as fh:
            fh.write(
                f"\n## Price change: {args.products} products x {len(keys)} formats (no GPU) "
                f"({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)\n\n"
                f"Machine: {machine()}; commit {commit()}. Command: {command}\n\n"
                f"Setup: a scratch SQLite database and media folder, the embedded default (no "
                f"broker: each task runs in-process when its transaction commits). One "
                f"campaign of {args.products} products x {len(keys)} formats "
                f"({', '.join(keys)}), a brand-fill template per format kind (headline, "
                f"price, button), a four-colour palette and a 320x112 logo. The coffee "
                f"cut-out is made once "
                f"({report.cutout_method}, {report.cutout_s:.1f} s, not counted); the other "
                f"products' photos share the stored photo and get their own copy of the "
                f"cut-out with one transparent pixel recoloured (a distinct file and hash "
                f"each, so the compositor's cache helps only within a product). Wall time: "
                f"from the call to the newest new asset row; call time also covers each "
                f"asset's checks, run in-process after it is stored. Compose p50/p95: the "
                f"recipe's compose_seconds (layout and composition, not the PNG encode or "
                f"storage). New assets: {report.new_assets}, every one with its product's "
                f"new price: {report.new_price_everywhere}; jobs by queue over the whole "
                f"run: {report.jobs_by_queue}; gpu queue jobs: {report.gpu_jobs}.\n\n"
                f"{report.table}\n")
    return report


if __name__ == "__main__":
    _scratch = scratch_setup()
    import logging

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    logging.getLogger("celery.app.trace").setLevel(logging.WARNING)  # a line per task
    try:
        main()
    finally:
        shutil.rmtree(_scratch, ignore_errors=True)
