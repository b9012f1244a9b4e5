"""Reads for job progress and the operator view."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from django.db.models import Count
from django.utils import timezone

from core.broker import broker_is_eager, broker_queue_depth
from rendering.jobs.enqueue import queue_positions
from rendering.models import JobStatus, RenderJob, Worker, WorkerStatus


def job_states(jobs: list[RenderJob]) -> list[dict]:
    """What a progress bar needs for each job, with queue positions for queued ones."""
    queued = [j.pk for j in jobs if j.status == JobStatus.QUEUED]
    positions = queue_positions(jobs[0].workspace_id, queued) if queued else {}
    return [{
        "id": job.pk, "status": job.status, "step": job.progress_step,
        "total": job.progress_total or job.recipe.get("steps", 0), "attempt": job.attempt,
        "position": positions.get(job.pk), "error": job.error,
    } for job in jobs]


def operator_overview(*, broker_depths: dict[str, int | None]) -> dict:
    """Workers, queue depths, throughput and recent failures, in a few queries."""
    now = timezone.now()
    workers = [worker_state(w, now=now) for w in Worker.objects.order_by("-last_seen_at")[:200]]
    by_status = dict(RenderJob.objects.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
                     .values_list("status").annotate(n=Count("id")))
    last_hour = RenderJob.objects.filter(finished_at__gte=now - timedelta(hours=1))
    failures = list(
        RenderJob.objects.filter(status=JobStatus.FAILED, finished_at__gte=now - timedelta(days=1))
        .values("error").annotate(count=Count("id")).order_by("-count")[:20]
    )
    return {
        "render": render_capacity(workers),
        "workers": workers,
        "queued": by_status.get(JobStatus.QUEUED, 0),
        "running": by_status.get(JobStatus.RUNNING, 0),
        "broker_queue_depth": broker_depths,
        "images_last_hour": last_hour.filter(status=JobStatus.SUCCEEDED).count(),
        "failed_last_hour": last_hour.filter(status=JobStatus.FAILED).count(),
        "failures_last_day": failures,
    }


def worker_state(worker: Worker, *, now) -> dict:
    """One worker as an operator sees it: a row that still says healthy or loading but has
    been silent for three heartbeats is shown as lost (the reconciler then marks it)."""
    from rendering.jobs.worker import worker_silence_seconds

    silent = worker.last_seen_at < now - timedelta(seconds=worker_silence_seconds())
    state = worker.status
    if silent and state in (WorkerStatus.HEALTHY, WorkerStatus.LOADING):
        state = WorkerStatus.LOST
    return {
        "name": worker.name, "device": worker.device, "model": worker.model,
        "status": state, "label": WorkerStatus(state).label if state in WorkerStatus.values
        else state, "alive": state == WorkerStatus.HEALTHY, "detail": worker.detail,
        "load_seconds": worker.load_seconds, "jobs_done": worker.jobs_done,
        "started_at": worker.started_at, "last_seen_at": worker.last_seen_at,
        "gpu": "gpu" in worker.queues.split(","),
        "recent": worker.last_seen_at >= now - timedelta(hours=1),
    }


def render_capacity(workers: list[dict]) -> dict:
    """Whether any GPU worker can render now, and if not, why (for /ops/ and /healthz)."""
    if broker_is_eager():
        return {"can_render": True, "ready": 0, "summary": "in-process (no GPU workers)"}
    gpu = [w for w in workers if w["gpu"]]
    ready = sum(w["alive"] for w in gpu)
    counts = Counter(w["status"] for w in gpu if not w["alive"] and w["recent"])
    others = ", ".join(f"{counts[s]} {WorkerStatus(s).label.lower()}" for s in WorkerStatus.values
                       if counts.get(s) and s != WorkerStatus.STOPPED)
    if ready:
        summary = f"{ready} GPU worker process{'es' if ready > 1 else ''} ready"
        summary += f"; {others}" if others else ""
    elif counts.get(WorkerStatus.LOADING):
        summary = f"no GPU worker can render yet: {others}"
    else:
        summary = (f"no GPU worker can render: {others or 'none is running'}; start one "
                   "(docs/workers.md)")
    return {"can_render": bool(ready), "ready": ready, "summary": summary}


def broker_queue_depths(queues=("gpu", "cpu", "default")) -> dict[str, int | None]:
    """Messages waiting in each broker queue (None when the broker cannot be asked)."""
    if broker_is_eager():
        return dict.fromkeys(queues, 0)
    return {queue: broker_queue_depth(queue) for queue in queues}


CHECK_ORDER = ("text", "copy_rules", "logo", "safe_zone", "file_weight", "palette")


def asset_checks(asset) -> list[dict]:
    """An asset's quality checks for the review screen and the API, most important first:
    kind, label, status, reason, and for the text check each line's reading and differences.
    Empty while the checks have not run yet."""
    from rendering.models import CheckKind, CheckStatus, QualityCheck

    labels, statuses = dict(CheckKind.choices), dict(CheckStatus.choices)
    rows = sorted(QualityCheck.objects.filter(asset_id=asset.pk),
                  key=lambda c: CHECK_ORDER.index(c.kind) if c.kind in CHECK_ORDER else 99)
    return [{
        "kind": c.kind, "label": labels.get(c.kind, c.kind), "status": c.status,
        "status_label": statuses.get(c.status, c.status),  # "Not verified" is never a pass
        "reason": c.reason, "readings": c.details.get("readings", []),
        "rerender": c.details.get("rerender"), "details": c.details, "seconds": c.seconds,
    } for c in rows]
