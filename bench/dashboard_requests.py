"""The dashboard benchmark's requests (campaign page, review queue, asset list API, export) and
their in-process measurement through Django's test client: SQL queries per request, time in
SQL and latency, with EXPLAIN ANALYZE of each endpoint's slowest read."""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from bench.dashboard_data import Seeded

TARGET_P95_MS = 150.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


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
