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
import contextlib
import hashlib
import http.client
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.services import Postgres, free_port  # noqa: E402

TARGET_P95_MS = 150.0
BATCH = 2000
PLACEHOLDER = hashlib.sha256(b"adstudio-bench").digest() * 512  # 16 KiB of file body


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def file_body(uid: int) -> bytes:
    """A placeholder file body, unique per asset (its sha256 is the asset's)."""
    return PLACEHOLDER + uid.to_bytes(8, "big")


# --- Seeding -------------------------------------------------------------------------------


@dataclass
class Seeded:
    """What the measurements need: who signs in where, and which campaigns to open."""

    workspaces: list = field(default_factory=list)  # Workspace rows
    admins: dict = field(default_factory=dict)  # workspace id -> admin User
    campaigns: list = field(default_factory=list)  # sampled Campaign rows (each has a live asset)
    assets: int = 0
    in_review: int = 0
    live: int = 0
    events: int = 0
    seconds: float = 0.0


@contextlib.contextmanager
def explicit_timestamps(*models) -> Iterator[None]:
    """Let bulk_create keep the created_at we set (auto_now_add would stamp them all 'now')."""
    fields = [m._meta.get_field("created_at") for m in models]
    for f in fields:
        f.auto_now_add = False
    try:
        yield
    finally:
        for f in fields:
            f.auto_now_add = True


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    """``total`` split into ``parts`` positive-ish counts that vary a little (sum exact)."""
    base = [total // parts] * parts
    for i in range(total % parts):
        base[i] += 1
    for _ in range(parts):  # move one here and there, keep each at least 1
        a, b = rng.randrange(parts), rng.randrange(parts)
        if base[a] > 1:
            base[a] -= 1
            base[b] += 1
    return base


def seed(n_assets: int, n_campaigns: int, n_workspaces: int, *, tag: str = "b",
         products_per_workspace: int = 50, sample_per_workspace: int = 2,
         rng_seed: int = 7) -> Seeded:
    """Seed ``n_assets`` assets over ``n_campaigns`` campaigns in ``n_workspaces`` workspaces
    with bulk inserts. Per slot: a chain of versions (v1 <- v2 <- ...: earlier ones had changes
    requested), whose newest is approved and live (about half the slots), in review or
    rejected, plus fresh variants waiting for review. Every decision has its review event."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from brands.models import BrandKit, Membership, Product, Role, Workspace
    from campaigns.models import Campaign, ReviewEvent, Slot
    from rendering.models import Asset, Format, JobKind, JobStatus, RenderJob, ReviewState

    started = time.perf_counter()
    rng = random.Random(rng_seed)
    user_model = get_user_model()
    out = Seeded()
    formats = list(Format.objects.filter(workspace=None).order_by("id"))
    assert formats, "no format presets: run migrate first"
    per_ws_campaigns = _split(n_campaigns, n_workspaces, rng)
    per_campaign_assets = _split(n_assets, n_campaigns, rng)
    slots_per_campaign = max(1, round(n_assets / n_campaigns / 4))  # ~4 assets per slot
    t0 = datetime.now(UTC) - timedelta(days=120)

    workspaces = Workspace.objects.bulk_create(
        [Workspace(name=f"Bench {tag}{i}", slug=f"bench-{tag}{i}") for i in range(n_workspaces)])
    users = user_model.objects.bulk_create(
        [user_model(username=f"bench-{tag}{i}-{role}", password="!")
         for i in range(n_workspaces) for role in ("admin", "marketer", "approver")])
    Membership.objects.bulk_create(
        [Membership(workspace=ws, user=users[3 * i + k], role=role)
         for i, ws in enumerate(workspaces)
         for k, role in enumerate((Role.ADMIN, Role.MARKETER, Role.APPROVER))])
    brands = BrandKit.objects.bulk_create(
        [BrandKit(workspace=ws, name="Brand", palette=[{"name": "Ink", "hex": "#111111",
                                                        "role": "primary"}])
         for ws in workspaces])
    products = Product.objects.bulk_create(
        [Product(workspace=ws, sku=f"SKU-{j:05d}", name=f"Product {j}", price="19.90",
                 currency="USD") for ws in workspaces for j in range(products_per_workspace)],
        batch_size=BATCH)

    campaigns = []
    with explicit_timestamps(Campaign):
        for i, ws in enumerate(workspaces):
            for j in range(per_ws_campaigns[i]):
                campaigns.append(Campaign(
                    workspace=ws, brand=brands[i], name=f"Campaign {j}", status="active",
                    created_by=users[3 * i + 1],
                    created_at=t0 + timedelta(hours=len(campaigns) * 2)))
        campaigns = Campaign.objects.bulk_create(campaigns, batch_size=BATCH)
    ws_index = {ws.pk: i for i, ws in enumerate(workspaces)}

    slots = []
    slot_pairs = {}
    for ci, campaign in enumerate(campaigns):
        i = ws_index[campaign.workspace_id]
        ws_products = products[i * products_per_workspace:(i + 1) * products_per_workspace]
        n_formats = min(len(formats), max(1, round(slots_per_campaign ** 0.5)))
        n_products = min(len(ws_products), -(-slots_per_campaign // n_formats))
        chosen_formats = rng.sample(formats, n_formats)
        start = rng.randrange(len(ws_products))
        chosen_products = [ws_products[(start + k) % len(ws_products)] for k in range(n_products)]
        pairs = [(p, f) for p in chosen_products for f in chosen_formats][:slots_per_campaign]
        slot_pairs[ci] = (chosen_products, chosen_formats)
        slots += [Slot(campaign=campaign, product=p, format=f) for p, f in pairs]
    slots = Slot.objects.bulk_create(slots, batch_size=BATCH)
    through_p, through_f = Campaign.products.through, Campaign.formats.through
    through_p.objects.bulk_create(
        [through_p(campaign_id=campaigns[ci].pk, product_id=p.pk)
         for ci, (ps, _) in slot_pairs.items() for p in ps], batch_size=BATCH)
    through_f.objects.bulk_create(
        [through_f(campaign_id=campaigns[ci].pk, format_id=f.pk)
         for ci, (_, fs) in slot_pairs.items() for f in fs], batch_size=BATCH)
    by_campaign: dict[int, list] = {}
    for slot in slots:
        by_campaign.setdefault(slot.campaign_id, []).append(slot)

    # Plan every asset: (slot, level, parent plan index, state, live, created_at).
    plans: list[dict] = []
    for ci, campaign in enumerate(campaigns):
        i = ws_index[campaign.workspace_id]
        campaign_slots = by_campaign[campaign.pk]
        counts = _split(per_campaign_assets[ci], len(campaign_slots), rng) \
            if per_campaign_assets[ci] >= len(campaign_slots) \
            else [1] * per_campaign_assets[ci] + [0] * (len(campaign_slots)
                                                       - per_campaign_assets[ci])
        when = campaign.created_at
        for slot, count in zip(campaign_slots, counts, strict=True):
            if not count:
                continue
            chain = min(count, rng.choice((1, 2, 2, 3, 3, 4, 5)))
            last = rng.random()
            parent = None
            for level in range(chain):
                when += timedelta(minutes=rng.randint(5, 90))
                if level < chain - 1:
                    state, live = ReviewState.CHANGES_REQUESTED, False
                elif last < 0.5:
                    state, live = ReviewState.APPROVED, True
                elif last < 0.85:
                    state, live = ReviewState.IN_REVIEW, False
                else:
                    state, live = ReviewState.REJECTED, False
                plans.append({"ws": i, "slot": slot, "level": level, "parent": parent,
                              "state": state, "live": live, "at": when})
                parent = len(plans) - 1
            for _ in range(count - chain):  # fresh variants from later refreshes
                when += timedelta(minutes=rng.randint(5, 600))
                state = ReviewState.IN_REVIEW if rng.random() < 0.8 else ReviewState.REJECTED
                plans.append({"ws": i, "slot": slot, "level": 0, "parent": None,
                              "state": state, "live": False, "at": when})

    # Insert level by level: a version's parent (and its edit job's source) exists first.
    rows: list = [None] * len(plans)
    with explicit_timestamps(Asset, RenderJob):
        for level in range(max(p["level"] for p in plans) + 1):
            idx = [k for k, p in enumerate(plans) if p["level"] == level]
            jobs = []
            for k in idx:
                p = plans[k]
                recipe = {"seed": k, "model": "Qwen/Qwen-Image", "steps": 50, "cfg": 4.0,
                          "prompt": f"A banner for product {p['slot'].product_id}",
                          "width": p["slot"].format.width, "height": p["slot"].format.height}
                parent = rows[p["parent"]] if p["parent"] is not None else None
                jobs.append(RenderJob(
                    workspace=workspaces[p["ws"]], slot=p["slot"],
                    created_by=users[3 * p["ws"] + 1],
                    kind=JobKind.EDIT if parent else JobKind.GENERATE, source_asset=parent,
                    recipe=recipe, status=JobStatus.SUCCEEDED, attempt=1,
                    published_at=p["at"] - timedelta(seconds=40), gpu_seconds=30.0,
                    created_at=p["at"] - timedelta(seconds=45),
                    started_at=p["at"] - timedelta(seconds=35), finished_at=p["at"]))
            jobs = RenderJob.objects.bulk_create(jobs, batch_size=BATCH)
            assets = []
            for k, job in zip(idx, jobs, strict=True):
                p = plans[k]
                ws = workspaces[p["ws"]]
                fmt = p["slot"].format
                name = f"assets/{ws.slug}/{p['slot'].campaign_id}/{k}.png"
                stale = rng.random() < 0.05
                assets.append(Asset(
                    workspace=ws, slot=p["slot"], job=job,
                    parent=rows[p["parent"]] if p["parent"] is not None else None,
                    version=level + 1, review_state=p["state"], is_live=p["live"],
                    file=name, thumbnail=name.replace(".png", "-thumb.webp"),
                    width=fmt.width, height=fmt.height,
                    sha256=hashlib.sha256(file_body(k)).hexdigest(), recipe=job.recipe,
                    stale_reason="The product changed since." if stale else "",
                    stale_at=p["at"] + timedelta(days=1) if stale else None,
                    created_at=p["at"]))
            for k, asset in zip(idx, Asset.objects.bulk_create(assets, batch_size=BATCH),
                                strict=True):
                rows[k] = asset

    events = []
    actions = {ReviewState.APPROVED: "approve", ReviewState.CHANGES_REQUESTED: "request_changes",
               ReviewState.REJECTED: "reject"}
    with explicit_timestamps(ReviewEvent):
        for k, p in enumerate(plans):
            if p["state"] == ReviewState.IN_REVIEW:
                continue
            asset = rows[k]
            events.append(ReviewEvent(
                workspace_id=asset.workspace_id, asset=asset, action=actions[p["state"]],
                from_state=ReviewState.IN_REVIEW, to_state=p["state"],
                comment="" if p["state"] == ReviewState.APPROVED else "Make the logo larger.",
                sha256=asset.sha256, user=users[3 * p["ws"] + 2],
                created_at=p["at"] + timedelta(minutes=rng.randint(10, 300))))
        ReviewEvent.objects.bulk_create(events, batch_size=BATCH)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # what autovacuum would have done by now

    out.workspaces = workspaces
    out.admins = {ws.pk: users[3 * i] for i, ws in enumerate(workspaces)}
    live_by_campaign: dict[int, list[int]] = {}
    for k, p in enumerate(plans):
        if p["live"]:
            live_by_campaign.setdefault(p["slot"].campaign_id, []).append(k)
    for ws in workspaces:
        mine = [c for c in campaigns if c.workspace_id == ws.pk and c.pk in live_by_campaign]
        out.campaigns += rng.sample(mine, min(sample_per_workspace, len(mine)))
    write_files = [k for c in out.campaigns for k in live_by_campaign[c.pk]]
    for k in write_files:  # the ZIP reads (and checks) the live files of sampled campaigns
        _write_file(rows[k].file.name, file_body(k))
    out.assets = len(plans)
    out.in_review = sum(p["state"] == ReviewState.IN_REVIEW for p in plans)
    out.live = sum(p["live"] for p in plans)
    out.events = len(events)
    out.seconds = time.perf_counter() - started
    return out


def _write_file(name: str, body: bytes) -> None:
    from django.core.files.storage import default_storage

    path = Path(default_storage.path(name))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)


# --- Requests ------------------------------------------------------------------------------


@dataclass
class Endpoint:
    name: str
    method: str
    # (seeded, i) -> (workspace, path) of the i-th request
    target: Callable[[Seeded, int], tuple[object, str]]
    expect: int = 200


def endpoints() -> list[Endpoint]:
    from django.urls import reverse

    def campaign(s: Seeded, i: int):
        return s.campaigns[i % len(s.campaigns)]

    def ws_of(s: Seeded, c):
        return next(w for w in s.workspaces if w.pk == c.workspace_id)

    def detail(s, i):
        c = campaign(s, i)
        ws = ws_of(s, c)
        return ws, reverse("campaign-detail", kwargs={"ws": ws.slug, "campaign_id": c.pk})

    def queue(s, i):
        ws = s.workspaces[i % len(s.workspaces)]
        return ws, reverse("review-queue", kwargs={"ws": ws.slug})

    def api_list(s, i):
        ws = s.workspaces[i % len(s.workspaces)]
        return ws, reverse("api-asset-list", kwargs={"ws": ws.slug})

    def api_campaign(s, i):
        c = campaign(s, i)
        ws = ws_of(s, c)
        return ws, reverse("api-asset-list", kwargs={"ws": ws.slug}) + f"?campaign={c.pk}"

    def export(s, i):
        c = campaign(s, i)
        ws = ws_of(s, c)
        return ws, reverse("campaign-export", kwargs={"ws": ws.slug, "campaign_id": c.pk})

    return [
        Endpoint("campaign page", "GET", detail),
        Endpoint("review queue, page 1", "GET", queue),
        Endpoint("asset list API, page 1 (50)", "GET", api_list),
        Endpoint("asset list API, ?campaign=", "GET", api_campaign),
        Endpoint("export start (POST, 302)", "POST", export, expect=302),
    ]


@dataclass
class Result:
    name: str
    ms: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    inproc_ms: list[float] = field(default_factory=list)
    sql_ms: list[float] = field(default_factory=list)  # time in SQL, in-process
    by_position: dict[int, list[float]] = field(default_factory=dict)  # k-th query: ms
    last_sql: dict[int, tuple[str, object]] = field(default_factory=dict)

    def row(self, size: int) -> str:
        if not self.queries:
            return f"| {self.name} | {size:,} | | | | | | not measured |"
        lat = self.ms or self.inproc_ms
        p95 = percentile(lat, 0.95)
        q = (f"{min(self.queries)}" if min(self.queries) == max(self.queries)
             else f"{min(self.queries)}-{max(self.queries)}")
        verdict = "ok" if p95 <= TARGET_P95_MS else "**misses 150 ms**"
        return (f"| {self.name} | {size:,} | {statistics.median(lat):.1f} | {p95:.1f} | {q} | "
                f"{statistics.median(self.sql_ms):.1f} | {statistics.median(self.inproc_ms):.1f} | "
                f"{verdict} |")


class SqlRecorder:
    """Every statement this connection runs, with its own timing (finer than Django's 1 ms)."""

    def __init__(self, connection):
        self.connection = connection
        self.queries: list[tuple[str, object, float]] = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries.append((sql, params, (time.perf_counter() - started) * 1000))

    @contextlib.contextmanager
    def recording(self) -> Iterator[SqlRecorder]:
        self.queries = []
        with self.connection.execute_wrapper(self):
            yield self


def _record(res: Result, queries: list[tuple[str, object, float]], elapsed: float) -> None:
    res.inproc_ms.append(elapsed)
    res.queries.append(len(queries))
    res.sql_ms.append(sum(ms for _, _, ms in queries))
    for k, (sql, params, ms) in enumerate(queries):
        res.by_position.setdefault(k, []).append(ms)
        res.last_sql[k] = (sql, params)


def measure_inprocess(seeded: Seeded, n: int, *, explain: bool = False,
                      zip_download: bool = True) -> dict[str, Result]:
    """Query counts, time in SQL and in-process latency through Django's test client."""
    from django.db import connection
    from django.test import Client

    recorder = SqlRecorder(connection)
    clients = {}
    for ws in seeded.workspaces:
        client = Client()
        client.force_login(seeded.admins[ws.pk])
        clients[ws.pk] = client
    results: dict[str, Result] = {}
    for ep in endpoints():
        res = results[ep.name] = Result(ep.name)
        for i in range(n + 2):
            ws, path = ep.target(seeded, i)
            with recorder.recording():
                started = time.perf_counter()
                response = clients[ws.pk].generic(ep.method, path)
                elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == ep.expect, (path, response.status_code)
            if i >= 2:  # after warm-up
                _record(res, recorder.queries, elapsed)
        if ep.expect == 302 and zip_download:
            zres = results["ZIP download: first byte"] = Result("ZIP download: first byte")
            for i in range(min(n, len(seeded.campaigns)) + 1):
                ws, path = ep.target(seeded, i)
                location = clients[ws.pk].post(path)["Location"]
                with recorder.recording():
                    started = time.perf_counter()
                    response = clients[ws.pk].get(location)
                    chunks = iter(response.streaming_content)
                    first = next(chunks)
                    elapsed = (time.perf_counter() - started) * 1000
                queries = recorder.queries  # up to the first byte
                rest = b"".join(chunks)
                assert response.status_code == 200 and (first + rest)[:2] == b"PK", location
                if i >= 1:
                    _record(zres, queries, elapsed)
    if explain and connection.vendor == "postgresql":
        for res in results.values():
            explain_slowest(connection, res)
    return results


def explain_slowest(connection, res: Result) -> None:
    """EXPLAIN ANALYZE the read with the highest median time among the endpoint's queries."""
    reads = [(statistics.median(ms), k) for k, ms in res.by_position.items()
             if res.last_sql[k][0].lstrip().upper().startswith("SELECT")]
    if not reads:
        return
    ms, k = max(reads)
    sql, params = res.last_sql[k]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        plan = "\n".join(r[0] for r in cursor.fetchall())
    print(f"\n-- {res.name}: slowest query (median {ms:.2f} ms of {len(res.by_position[k])}):"
          f"\n{sql}\n{params}\n{plan}\n", flush=True)


# --- Over HTTP (gunicorn) ------------------------------------------------------------------


class Gunicorn:
    def __init__(self, env: dict, log: Path):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "gunicorn"), "adstudio.wsgi:application",
             "--workers", "1", "--bind", f"127.0.0.1:{self.port}", "--access-logfile", "-"],
            cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                self.request("GET", "/login/")
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not start; see {log}")

    def request(self, method: str, path: str, headers: dict | None = None, *,
                first_byte: bool = False) -> tuple[int, dict, float]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            started = time.perf_counter()
            conn.request(method, path, headers=headers or {})
            response = conn.getresponse()
            if first_byte:
                response.read(1)
            elapsed = (time.perf_counter() - started) * 1000
            response.read()
            return response.status, dict(response.getheaders()), elapsed
        finally:
            conn.close()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def measure_http(server: Gunicorn, seeded: Seeded, n: int, results: dict[str, Result]) -> None:
    from django.conf import settings
    from django.middleware.csrf import _get_new_csrf_string
    from django.test import Client

    headers = {}
    for ws in seeded.workspaces:
        client = Client()
        client.force_login(seeded.admins[ws.pk])
        csrf = _get_new_csrf_string()
        headers[ws.pk] = {
            "Cookie": f"{settings.SESSION_COOKIE_NAME}="
                      f"{client.cookies[settings.SESSION_COOKIE_NAME].value}; "
                      f"{settings.CSRF_COOKIE_NAME}={csrf}",
            "X-CSRFToken": csrf, "Host": "127.0.0.1"}
    for ep in endpoints():
        res = results[ep.name]
        for i in range(n + 3):
            ws, path = ep.target(seeded, i)
            status, got, ms = server.request(ep.method, path, headers[ws.pk])
            assert status == ep.expect, (path, status)
            if i >= 3:
                res.ms.append(ms)
            if ep.expect == 302 and "ZIP download: first byte" in results:
                location = urlsplit(got["Location"]).path
                status, _, ms = server.request("GET", location, {"Host": "127.0.0.1"},
                                               first_byte=True)
                assert status == 200, (location, status)
                if i >= 3:
                    results["ZIP download: first byte"].ms.append(ms)


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


# --- Main ----------------------------------------------------------------------------------


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
            f"{pg.label}; gunicorn, one sync worker, on this machine; commit {commit}.\n"
            f"Command: `{command}`\n\n{how}\n\n" + "\n".join(f"- {n}" for n in notes) + "\n\n"
            f"{table}\n"
        )


if __name__ == "__main__":
    main()
