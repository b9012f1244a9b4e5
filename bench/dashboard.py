"""Dashboard and API load benchmark (BENCHMARKS.md section 3), on PostgreSQL.

    .venv/bin/python bench/dashboard.py [--sizes 10000,100000] [--campaigns 1000]
        [--workspaces 10] [--requests 100] [--explain] [--no-doc]

Uses the PostgreSQL server of DATABASE_URL when set (it creates a scratch database there and
drops it at the end), else starts its own throwaway cluster as `./dev test` does (initdb as
the postgres user, fsync off) and removes it. For each size it seeds N assets over the
campaigns and workspaces (several versions per slot in parent chains, a share approved and
live with their review events, a big review queue), then measures, through gunicorn (one sync
worker) and a plain HTTP client:

  - the campaign page (``campaign-detail``),
  - the review queue (``review-queue``, page 1),
  - the asset list API (``api-asset-list``, page 1 of 50, and filtered by campaign),
  - export start (``campaign-export``: the POST that signs a link and redirects), and the time
    to first byte of the ZIP behind that link,

with p50/p95 latency and the SQL queries per request, counted in-process with Django's test
client on the same URLs (the counts must not grow with N). Files are placeholders: only the
live assets of the sampled campaigns get a file on disk (the ZIP needs them); other pages only
link thumbnails. Prints the table and appends it to docs/benchmarks.md ("Dashboard").
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.dashboard_data import seed  # noqa: E402
from bench.dashboard_http import Gunicorn, measure_http  # noqa: E402
from bench.dashboard_report import report  # noqa: E402
from bench.dashboard_requests import measure_inprocess  # noqa: E402
from tests.services import Postgres  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="asset counts, comma separated")
    parser.add_argument("--campaigns", type=int, default=1000)
    parser.add_argument("--workspaces", type=int, default=10)
    parser.add_argument("--requests", type=int, default=100, help="timed requests per endpoint")
    parser.add_argument("--explain", action="store_true",
                        help="EXPLAIN ANALYZE each endpoint's slowest query at each size")
    parser.add_argument("--no-doc", action="store_true", help="do not append to the docs")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    scratch = Path(tempfile.mkdtemp(prefix="adstudio-dash-"))
    pg = Postgres(os.environ.get("DATABASE_URL"))
    env = {"DATABASE_URL": pg.url, "ADSTUDIO_VAR_DIR": str(scratch),
           "ADSTUDIO_MEDIA_ROOT": str(scratch / "media"), "DJANGO_DEBUG": "0",
           "ADSTUDIO_API_RATE": "1000000/minute", "DJANGO_SETTINGS_MODULE": "adstudio.settings"}
    os.environ.update(env)
    for name in ("REDIS_URL", "CACHE_URL", "ADSTUDIO_S3_BUCKET"):
        os.environ.pop(name, None)  # local files, in-process cache: measure the web tier
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    server = None
    sampled = 0
    rows: dict[str, list[str]] = {}
    notes = []
    try:
        call_command("migrate", verbosity=0)
        server = Gunicorn({**os.environ, "PYTHONPATH": str(ROOT)}, scratch / "gunicorn.log")
        for n in sizes:
            call_command("flush", interactive=False, verbosity=0)
            seeded = seed(n, args.campaigns, args.workspaces)
            sampled = len(seeded.campaigns)
            per_page = n / args.campaigns
            notes.append(f"{n:,} assets: seeded in {seeded.seconds:.0f} s; {seeded.assets:,} "
                         f"assets ({per_page:.0f} per campaign), {seeded.in_review:,} in review "
                         f"({seeded.in_review // args.workspaces:,} per workspace queue), "
                         f"{seeded.live:,} live, {seeded.events:,} review events")
            print(notes[-1], flush=True)
            results = measure_inprocess(seeded, min(args.requests, 40),
                                        explain=args.explain)
            measure_http(server, seeded, args.requests, results)
            notes[-1] += f"; 1-min load average after measuring: {os.getloadavg()[0]:.1f}"
            for res in results.values():
                rows.setdefault(res.name, []).append(res.row(n))
                print(rows[res.name][-1], flush=True)
    finally:
        if server:
            server.stop()
        from django.db import connections

        connections.close_all()
        pg.drop()
        shutil.rmtree(scratch, ignore_errors=True)

    report(args, rows, notes, sampled=sampled, db_label=pg.label)


if __name__ == "__main__":
    main()
