"""Reads for job progress and the operator view."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count
from django.utils import timezone

from .jobs import queue_positions
from .models import JobStatus, RenderJob, Worker

WORKER_ALIVE_SECONDS = 60


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
    alive_after = now - timedelta(seconds=WORKER_ALIVE_SECONDS)
    workers = [{
        "name": w.name, "device": w.device, "model": w.model, "status": w.status,
        "alive": w.status == "healthy" and w.last_seen_at >= alive_after,
        "jobs_done": w.jobs_done, "last_seen_at": w.last_seen_at.isoformat(),
    } for w in Worker.objects.order_by("-last_seen_at")[:200]]
    by_status = dict(RenderJob.objects.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
                     .values_list("status").annotate(n=Count("id")))
    last_hour = RenderJob.objects.filter(finished_at__gte=now - timedelta(hours=1))
    failures = list(
        RenderJob.objects.filter(status=JobStatus.FAILED, finished_at__gte=now - timedelta(days=1))
        .values("error").annotate(count=Count("id")).order_by("-count")[:20]
    )
    return {
        "workers": workers,
        "queued": by_status.get(JobStatus.QUEUED, 0),
        "running": by_status.get(JobStatus.RUNNING, 0),
        "broker_queue_depth": broker_depths,
        "images_last_hour": last_hour.filter(status=JobStatus.SUCCEEDED).count(),
        "failed_last_hour": last_hour.filter(status=JobStatus.FAILED).count(),
        "failures_last_day": failures,
    }


def broker_queue_depths(queues=("gpu", "cpu", "default")) -> dict[str, int | None]:
    """Messages waiting in each broker queue (None when the broker cannot be asked)."""
    from kombu.exceptions import OperationalError

    from adstudio.celery import app

    if app.conf.task_always_eager:
        return dict.fromkeys(queues, 0)
    depths = {}
    try:
        with app.connection_for_read() as connection:
            channel = connection.default_channel
            for queue in queues:
                try:
                    depths[queue] = channel.queue_declare(queue=queue, passive=True).message_count
                except channel.connection.channel_errors:
                    depths[queue] = 0
    except (OperationalError, OSError):
        return dict.fromkeys(queues)
    return depths


CHECK_ORDER = ("text", "copy_rules", "logo", "safe_zone", "file_weight", "palette")


def asset_checks(asset) -> list[dict]:
    """An asset's quality checks for the review screen and the API, most important first:
    kind, label, status, reason, and for the text check each line's reading and differences.
    Empty while the checks have not run yet."""
    from .models import CheckKind, QualityCheck

    labels = dict(CheckKind.choices)
    rows = sorted(QualityCheck.objects.filter(asset_id=asset.pk),
                  key=lambda c: CHECK_ORDER.index(c.kind) if c.kind in CHECK_ORDER else 99)
    return [{
        "kind": c.kind, "label": labels.get(c.kind, c.kind), "status": c.status,
        "reason": c.reason, "readings": c.details.get("readings", []),
        "rerender": c.details.get("rerender"), "details": c.details, "seconds": c.seconds,
    } for c in rows]
