"""The dashboard benchmark's report: the table printed, and with how it was measured appended
to docs/benchmarks.md ("Dashboard")."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

HOW = (
    "Each size is seeded fresh (bulk inserts) into {workspaces} workspaces and {campaigns:,} "
    "campaigns: ~4 assets per slot, as version chains (earlier versions had changes requested) "
    "whose newest is approved and live (half the slots), in review or rejected, plus fresh "
    "variants waiting for review; one render job per asset, a review event per decision. Asset "
    "files are placeholders: only the live assets of the {sampled} sampled campaigns get a "
    "(16 KiB) file, which the ZIP reads and hashes; the pages only link thumbnails. HTTP: "
    "gunicorn with one sync worker, a session cookie (force_login) and `http.client`, "
    "{requests} timed requests per row after 3 warm-up, rotating over the workspaces (queue, "
    "API page 1) or the sampled campaigns. SQL queries, SQL ms and in-process p50: the same "
    "URLs through Django's test client ({inproc} requests). ZIP first byte: GET of the signed "
    "link the export POST redirects to, until the first body byte.")


def report(args, rows: dict[str, list[str]], notes: list[str], *, sampled: int,
           db_label: str) -> None:
    """Print the table; unless --no-doc, append it with the machine, the command, how it was
    measured and the seeding notes to docs/benchmarks.md."""
    table = "\n".join([
        "| request | assets | HTTP p50 ms | HTTP p95 ms | SQL queries | SQL ms p50 | "
        "in-process p50 ms | p95 <= 150 ms |",
        "|---|---|---|---|---|---|---|---|", *(r for group in rows.values() for r in group)])
    print(table)
    if args.no_doc:
        return
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=ROOT).stdout.strip()
    command = (f".venv/bin/python bench/dashboard.py --sizes {args.sizes} --campaigns "
               f"{args.campaigns} --workspaces {args.workspaces} --requests {args.requests}")
    how = HOW.format(workspaces=args.workspaces, campaigns=args.campaigns, sampled=sampled,
                     requests=args.requests, inproc=min(args.requests, 40))
    with (ROOT / "docs" / "benchmarks.md").open("a", encoding="utf-8") as fh:
        fh.write(
            f"\n## Dashboard ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)\n\n"
            f"Machine: {platform.node()} {platform.machine()}, {os.cpu_count()} CPUs; "
            f"{db_label}; gunicorn, one sync worker, on this machine; commit {commit}.\n"
            f"Command: `{command}`\n\n{how}\n\n" + "\n".join(f"- {n}" for n in notes) + "\n\n"
            f"{table}\n"
        )
