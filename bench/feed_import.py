"""Product feed import at catalog scale (RELIABILITY.md B10), on this machine.

    .venv/bin/python bench/feed_import.py [--rows 100000]

Writes a Merchant Center CSV of N rows, imports it into a scratch SQLite database (fresh
import, then an unchanged re-import, then a re-import with every price changed), serves it over
HTTP and imports it as a feed source's job (then the 304 path), does the same with the catalog
as an RSS (XML) feed, and reports
seconds, rows/s and the peak traced Python memory of a separate fresh import (tracemalloc
slows the run, so memory is measured apart from time). Appends the table to
docs/benchmarks.md with the date, machine and commit.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SCRATCH = Path(tempfile.mkdtemp(prefix="adstudio-feed-"))
os.environ["ADSTUDIO_VAR_DIR"] = str(SCRATCH)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adstudio.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from brands.feed_import import feed_import_run  # noqa: E402
from brands.models import Workspace  # noqa: E402


def write_feed(path: Path, rows: int, *, price_cents: int) -> None:
    with path.open("w", encoding="utf-8") as fh:
        fh.write("id,title,description,price,link,product_highlight\n")
        for i in range(rows):
            fh.write(f"SKU-{i:07d},Product {i},A sturdy product number {i},"
                     f"{(price_cents + i % 997) / 100:.2f} USD,https://example.com/p/{i},"
                     f"Light;Tough\n")


def write_xml_feed(path: Path, rows: int, *, price_cents: int) -> None:
    """The same catalog as an RSS 2.0 Merchant Center feed (g: namespace)."""
    with path.open("w", encoding="utf-8") as fh:
        fh.write('<?xml version="1.0"?>\n<rss version="2.0" '
                 'xmlns:g="http://base.google.com/ns/1.0"><channel><title>Bench</title>\n')
        for i in range(rows):
            fh.write(f"<item><g:id>SKU-{i:07d}</g:id><title>Product {i}</title>"
                     f"<description>A sturdy product number {i}</description>"
                     f"<g:price>{(price_cents + i % 997) / 100:.2f} USD</g:price>"
                     f"<link>https://example.com/p/{i}</link>"
                     f"<g:product_highlight>Light</g:product_highlight>"
                     f"<g:product_highlight>Tough</g:product_highlight></item>\n")
        fh.write("</channel></rss>\n")


def timed_import(workspace, path: Path) -> tuple[float, object]:
    started = time.perf_counter()
    with path.open("rb") as fh:
        report = feed_import_run(workspace=workspace, user=None, fileobj=fh, filename=path.name)
    return time.perf_counter() - started, report


def serve(path: Path):
    """The feed over HTTP on 127.0.0.1 with an ETag, as a Merchant Center export is served."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    body = path.read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            if self.headers.get("If-None-Match") == '"bench"':
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("ETag", '"bench"')
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def timed_source_run(source) -> tuple[float, object]:
    """Queue an import of ``source``; with no broker configured the task runs in-process on
    commit, claiming and running it as a cpu worker does (fetch included)."""
    from brands.feed_sources import feed_source_run

    started = time.perf_counter()
    report = feed_source_run(source=source, user=None)
    report.refresh_from_db()
    return time.perf_counter() - started, report


def photo_downloads(workspace, n: int = 40) -> str:
    """Photos from image links: download, the upload checks, storage; one product each."""
    import io

    from PIL import Image

    from brands.models import Product
    from brands.photo_fetch import product_photo_fetch
    from tests.feed_server import FeedServer

    with FeedServer() as server:
        for i in range(n):
            image = io.BytesIO()
            Image.new("RGB", (800, 800), (i * 5 % 256, 90, 160)).save(image, "JPEG", quality=90)
            server.serve(f"/img/{i}.jpg", image.getvalue(),
                         headers={"Content-Type": "image/jpeg"})
        products = [Product.objects.create(workspace=workspace, sku=f"PH-{i}", name=f"P {i}",
                                           price=1, currency="USD") for i in range(n)]
        started = time.perf_counter()
        for i, product in enumerate(products):
            product_photo_fetch(product=product, url=server.url(f"/img/{i}.jpg"))
        seconds = time.perf_counter() - started
    return (f"| photo downloads (800x800 JPEG from a local server, checked and stored) | "
            f"{seconds:.2f} | {n / seconds:,.1f} photos/s | {n} photos |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    feed, changed = SCRATCH / "feed.csv", SCRATCH / "feed-changed.csv"
    write_feed(feed, args.rows, price_cents=1000)
    write_feed(changed, args.rows, price_cents=1100)
    workspace = Workspace.objects.create(name="Bench", slug="bench")
    rows = []
    for label, path in (("fresh import", feed), ("unchanged re-import", feed),
                        ("every price changed", changed)):
        seconds, report = timed_import(workspace, path)
        rows.append(f"| {label} | {seconds:.1f} | {args.rows / seconds:,.0f} | "
                    f"{report.rows_created} created, {report.rows_updated} updated, "
                    f"{report.rows_unchanged} unchanged, {report.rows_failed} failed |")
    from django.conf import settings

    from brands.feed_sources import feed_source_save

    settings.ADSTUDIO_FEED_ALLOW_PRIVATE_NETWORKS = True  # the bench's own server
    server = serve(feed)
    served = Workspace.objects.create(name="Served", slug="served")
    source = feed_source_save(workspace=served, user=None, name="Bench", kind="url",
                              url=f"http://127.0.0.1:{server.server_port}/feed.csv")
    for label in ("served feed, fetched and imported as a job", "served feed unchanged (304)"):
        seconds, report = timed_source_run(source)
        rate = "" if report.not_modified else f"{report.rows_total / seconds:,.0f}"
        rows.append(f"| {label} | {seconds:.2f} | {rate} | "
                    f"{report.status}, {report.rows_created} created, not modified: "
                    f"{report.not_modified} |")
    server.shutdown()
    xml = SCRATCH / "feed.xml"
    write_xml_feed(xml, args.rows, price_cents=1000)
    server = serve(xml)
    source = feed_source_save(workspace=Workspace.objects.create(name="XML", slug="xml"),
                              user=None, name="Bench XML", kind="url",
                              url=f"http://127.0.0.1:{server.server_port}/feed.xml")
    seconds, report = timed_source_run(source)
    rows.append(f"| served RSS (XML) feed, fetched and imported as a job | {seconds:.1f} | "
                f"{report.rows_total / seconds:,.0f} | {report.status}, "
                f"{report.rows_created} created, {report.rows_failed} failed |")
    source = feed_source_save(workspace=Workspace.objects.create(name="XML2", slug="xml2"),
                              user=None, name="Bench XML", kind="url",
                              url=f"http://127.0.0.1:{server.server_port}/feed.xml")
    tracemalloc.start()
    timed_source_run(source)
    xml_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    server.shutdown()
    rows.append(f"| peak traced memory of a fresh XML import as a job | | | {xml_peak:.1f} MiB "
                f"(the file is {xml.stat().st_size / 2**20:.0f} MiB) |")
    rows.append(photo_downloads(Workspace.objects.create(name="Photos", slug="photos")))
    fresh = Workspace.objects.create(name="Memory", slug="memory")
    tracemalloc.start()
    timed_import(fresh, feed)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    rows.append(f"| peak traced memory of a fresh import | | | {peak:.1f} MiB "
                f"(the file is {feed.stat().st_size / 2**20:.0f} MiB) |")
    table = "\n".join(["| run | seconds | rows/s | result |", "|---|---|---|---|", *rows])
    print(table)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=ROOT).stdout.strip()
    with (ROOT / "docs" / "benchmarks.md").open("a", encoding="utf-8") as fh:
        fh.write(f"\n## Product feed import ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)\n\n"
                 f"Machine: {platform.node()} {platform.machine()}, {os.cpu_count()} CPUs; "
                 f"SQLite (WAL); {args.rows:,} rows; commit {commit}.\n"
                 f"Command: `.venv/bin/python bench/feed_import.py --rows {args.rows}`\n\n"
                 f"{table}\n")


if __name__ == "__main__":
    main()
