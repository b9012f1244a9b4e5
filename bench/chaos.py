"""Chaos run of the job platform (RELIABILITY.md F1-F4, F14-F16), on this machine with the
tiny model:

    .venv/bin/python bench/chaos.py [--jobs 48] [--seconds 150] [--seed 7]

Starts a throwaway PostgreSQL cluster, a redis-server as production runs it (AOF with
``appendfsync everysec``), two GPU workers, a CPU worker (checks, the reconciler) and one beat,
all real processes, then queues ``--jobs`` renders and, for ``--seconds``, does one of these
every few seconds at random: SIGKILL a GPU pool child mid-render, SIGKILL a whole GPU worker
(restarted after a pause), SIGTERM a GPU worker (restarted), SIGKILL Redis (restarted on its
AOF), SIGKILL beat (restarted), queue more renders. Then it lets everything settle and checks
the invariants:

  - every job ended: none queued or running is left behind;
  - every succeeded job has exactly one asset, whose file hashes to its SHA-256; no other job
    has an asset; no job went past its attempt limit; every failed job says why;
  - after the orphan sweep (grace 0 here), storage holds exactly the files rows point at;
  - every worker process that was killed is shown lost or stopped, never healthy.

Prints the actions and the invariants and exits non-zero if one fails; ``--append`` adds the
table to docs/benchmarks.md. Times are for a 2-core machine running everything at once.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.services import (  # noqa: E402
    CeleryBeat,
    CeleryWorker,
    Postgres,
    RedisServer,
    wait_for,
)

SCRATCH = Path(tempfile.mkdtemp(prefix="adstudio-chaos-"))


def settings_env(database_url: str, redis_url: str) -> dict:
    return {
        "DJANGO_SETTINGS_MODULE": "adstudio.settings", "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url, "REDIS_URL": redis_url,
        "ADSTUDIO_VAR_DIR": str(SCRATCH), "ADSTUDIO_MEDIA_ROOT": str(SCRATCH / "media"),
        "ADSTUDIO_QWEN_IMAGE_MODEL": str(SCRATCH / "tiny-qwen-image"),
        "ADSTUDIO_RENDER_SCALE": "0.0625", "ADSTUDIO_TORCH_THREADS": "1",
        # Short leases and ticks so that a few minutes hold many faults; the mechanisms and
        # their order are production's.
        "ADSTUDIO_JOB_LEASE_SECONDS": "4", "ADSTUDIO_PROGRESS_INTERVAL": "0.2",
        "ADSTUDIO_RECONCILE_EVERY_SECONDS": "2", "ADSTUDIO_PUBLISH_GRACE_SECONDS": "2",
        "ADSTUDIO_WORKER_HEARTBEAT_SECONDS": "1", "ADSTUDIO_JOB_MAX_ATTEMPTS": "5",
        "ADSTUDIO_LOG_LEVEL": "INFO",
    }


class Fleet:
    """The processes of a small production: two GPU workers, a CPU worker, a beat."""

    def __init__(self, env: dict):
        self.env = env
        self.gpu = [self._gpu(i) for i in range(2)]
        self.cpu = CeleryWorker(env=env, log=SCRATCH / "cpu.log", beat=False,
                                queues="cpu,default", name="cpu@chaos").start()
        self.beat = CeleryBeat(env=env, log=SCRATCH / "beat.log").start()

    def _gpu(self, i: int) -> CeleryWorker:
        return CeleryWorker(env=self.env, log=SCRATCH / f"gpu{i}.log", beat=False,
                            queues="gpu", name=f"gpu{i}@chaos").start()

    def restart_gpu(self, i: int) -> None:
        self.gpu[i].stop()
        self.gpu[i] = self._gpu(i)

    def stop(self) -> None:
        for process in (*self.gpu, self.cpu, self.beat):
            process.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=48)
    parser.add_argument("--seconds", type=float, default=150)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--append", action="store_true", help="append to docs/benchmarks.md")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    pg = Postgres(None)
    redis = RedisServer(SCRATCH / "redis", appendfsync="everysec")
    (SCRATCH / "redis").mkdir()
    redis.start()
    env = {**os.environ, **settings_env(pg.url, redis.url)}
    os.environ.update(settings_env(pg.url, redis.url))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from rendering.engine.tiny import build_tiny_qwen_image

    build_tiny_qwen_image(SCRATCH / "tiny-qwen-image")
    fleet = None
    started = time.monotonic()
    try:
        queue_more = seed_catalog()
        fleet = Fleet(env)
        wait_for(lambda: _ready_workers() >= 2, timeout=300, what="two GPU workers")
        jobs = queue_more(args.jobs, rng)
        actions = chaos(fleet, redis, queue_more, rng, seconds=args.seconds)
        settle(fleet, redis)
        report = invariants(actions)
    finally:
        if fleet:
            fleet.stop()
        redis.stop()
        pg.drop()
    report["wall seconds"] = round(time.monotonic() - started)
    report["jobs queued"] = f"{len(jobs)} at the start, {actions.count('queue more')} batches more"
    table = render(report, actions, args)
    print(table)
    if args.append:
        with (ROOT / "docs" / "benchmarks.md").open("a") as fh:
            fh.write("\n" + table)
    return 0 if report["all invariants hold"] else 1


def seed_catalog():
    """A workspace, brand, products and templates; returns a function that queues renders."""
    from campaigns.services import campaign_create, campaign_generate
    from rendering.models import Format
    from rendering.templates import prompt_template_save
    from tests.factories import BrandKitFactory, ProductFactory, WorkspaceFactory

    workspace = WorkspaceFactory()
    brand = BrandKitFactory(workspace=workspace)
    products = [ProductFactory(workspace=workspace) for _ in range(4)]
    for kind in ("banner", "poster", "story", "social"):
        prompt_template_save(workspace=workspace, user=None, name=kind, kind=kind,
                             body="A {{ format.kind }} for {{ product.name }}")
    formats = list(Format.objects.filter(workspace=None, width__lte=1200, height__lte=1200)[:4])

    def queue_more(n: int, rng: random.Random) -> list:
        from django.conf import settings

        # Renders of 50 to 600 steps: some finish between faults, some are caught by them.
        settings.ADSTUDIO_DEFAULT_STEPS = rng.choice((50, 200, 600))
        per_slot = max(1, n // (len(products) * len(formats)))
        campaign = campaign_create(workspace=workspace, user=None, name=f"chaos {time.time_ns()}",
                                   brand=brand, products=products, formats=formats,
                                   variants_per_slot=per_slot)
        return campaign_generate(campaign=campaign, user=None).jobs

    return queue_more


def _ready_workers() -> int:
    from rendering.models import Worker

    return Worker.objects.filter(status="healthy", queues="gpu").count()


def _running_child() -> int | None:
    from rendering.models import JobStatus, RenderJob

    job = RenderJob.objects.filter(status=JobStatus.RUNNING, progress_step__gt=0).first()
    return int(job.worker.split(":")[1]) if job and ":" in job.worker else None


KILLED: list[str] = []  # worker rows whose process was killed


def chaos(fleet: Fleet, redis: RedisServer, queue_more, rng: random.Random, *,
          seconds: float) -> list[str]:
    import socket

    actions: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(rng.uniform(3, 7))
        action = rng.choice(("kill child", "kill child", "kill worker", "term worker",
                             "kill redis", "kill beat", "queue more"))
        if action == "kill child":
            pid = _running_child()
            if pid is None:
                continue
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
            KILLED.append(f"{socket.gethostname()}:{pid}")
        elif action in ("kill worker", "term worker"):
            i = rng.randrange(len(fleet.gpu))
            worker = fleet.gpu[i]
            if action == "kill worker":
                KILLED.extend(_children_of(worker))
                os.killpg(worker.process.pid, signal.SIGKILL)
                worker.process.wait()
                time.sleep(rng.uniform(1, 4))
            fleet.restart_gpu(i)  # a warm shutdown (SIGTERM) finishes the render first
        elif action == "kill redis":
            redis.process.send_signal(signal.SIGKILL)
            redis.process.wait()
            time.sleep(rng.uniform(0.5, 2))
            redis.start()
        elif action == "kill beat":
            fleet.beat.process.send_signal(signal.SIGKILL)
            fleet.beat.process.wait()
            fleet.beat = CeleryBeat(env=fleet.env, log=SCRATCH / "beat.log").start()
        elif action == "queue more":
            queue_more(rng.choice((4, 8, 16)), rng)
        actions.append(action)
        print(f"{time.strftime('%H:%M:%S')} {action}", flush=True)
    return actions


def _children_of(worker: CeleryWorker) -> list[str]:
    import socket

    result = subprocess.run(["pgrep", "-P", str(worker.process.pid)], capture_output=True,
                            text=True)
    return [f"{socket.gethostname()}:{pid}" for pid in result.stdout.split()]


def settle(fleet: Fleet, redis: RedisServer) -> None:
    """No more faults: every job must end by itself (workers, beat and Redis all up)."""
    from rendering.models import JobStatus, RenderJob

    if not redis.ping():
        redis.start()
    for i, worker in enumerate(fleet.gpu):
        if worker.process.poll() is not None:
            fleet.restart_gpu(i)
    wait_for(lambda: not RenderJob.objects.filter(
        status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).exists(), timeout=900, interval=1,
        what="every job to end")
    time.sleep(5)  # the last reconciler ticks mark killed workers lost


def invariants(actions: list[str]) -> dict:
    from django.core.files.storage import default_storage
    from django.db.models import Count, F

    from adstudio.orphan_files import orphan_files_sweep
    from rendering.models import Asset, JobStatus, RenderJob, Worker

    jobs = RenderJob.objects.all()
    by_status = Counter(jobs.values_list("status", flat=True))
    assets_per_job = dict(Asset.objects.values_list("job_id").annotate(n=Count("id")))
    succeeded = set(jobs.filter(status=JobStatus.SUCCEEDED).values_list("id", flat=True))
    bad_hash = [a.pk for a in Asset.objects.all()
                if hashlib.sha256(default_storage.open(a.file.name).read()).hexdigest() != a.sha256]
    sweep = orphan_files_sweep(grace_seconds=0)
    report = {
        "jobs by end state": dict(by_status),
        "attempts (job count by attempt)": dict(sorted(Counter(
            jobs.values_list("attempt", flat=True)).items())),
        "faults injected": dict(Counter(actions)),
        "orphan files swept": sweep.removed,
        "checks": {
            "no job left queued or running":
                not jobs.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).exists(),
            "one asset per succeeded job": all(assets_per_job.get(j) == 1 for j in succeeded),
            "no asset for any other job": set(assets_per_job) <= succeeded,
            "no job past its attempt limit": not jobs.filter(
                attempt__gt=F("attempt_limit")).exists(),
            "every failed job says why": not jobs.filter(status=JobStatus.FAILED,
                                                         error="").exists(),
            "every asset file hashes to its SHA-256": not bad_hash,
            "after the sweep, storage holds only files rows point at":
                orphan_files_sweep(grace_seconds=0).removed == 0,
            "no killed worker process still shown healthy": not Worker.objects.filter(
                name__in=KILLED, status="healthy").exists(),
        },
    }
    report["all invariants hold"] = all(report["checks"].values())
    return report


def render(report: dict, actions: list[str], args) -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    lines = [
        f"## Chaos run ({datetime.now(UTC):%Y-%m-%d}, {platform.node()}, "
        f"{os.cpu_count()} cores, commit {commit})", "",
        f"`.venv/bin/python bench/chaos.py --jobs {args.jobs} --seconds {args.seconds:.0f} "
        f"--seed {args.seed}`: two GPU workers, a CPU worker and beat on a throwaway "
        "PostgreSQL and a redis-server with `appendfsync everysec`, tiny model.", "",
        "| measure | result |", "|---|---|",
    ]
    for key in ("jobs queued", "faults injected", "jobs by end state",
                "attempts (job count by attempt)", "orphan files swept", "wall seconds"):
        lines.append(f"| {key} | {report[key]} |")
    for check, held in report["checks"].items():
        lines.append(f"| {check} | {'holds' if held else '**FAILS**'} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
