"""The reconciler (beat, every minute): expired leases back to the queue or failed at their
attempt limit, and a doorbell in the broker for every queued job (F16)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core.broker import broker_queue_depth
from rendering.jobs.enqueue import jobs_publish
from rendering.jobs.states import jobs_fail_waiting, jobs_failed_notify
from rendering.models import JobQueue, JobStatus, RenderJob

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReconcileReport:
    requeued: int
    failed: int
    published: int


def jobs_reconcile() -> ReconcileReport:
    """Run by beat: requeue running jobs whose lease expired (or fail them at their attempt
    limit, with the reason), and publish queued jobs whose doorbell is missing.

    A doorbell goes missing when it was never published (broker down), when Redis lost it (a
    crash between two AOF fsyncs) or when a killed worker holds it unacknowledged until the
    visibility timeout (26 min by default). Doorbells are interchangeable (each claims the next
    job in fair order), so the broker must hold at least one per queued job: the reconciler
    tops the queue up to that, for the oldest jobs first (F16). So a job whose doorbell was
    lost starts within ADSTUDIO_PUBLISH_GRACE_SECONDS + ADSTUDIO_RECONCILE_EVERY_SECONDS once a
    GPU worker is free. Only when the broker cannot report its depth does the reconciler fall
    back to republishing doorbells older than ADSTUDIO_REPUBLISH_AFTER_SECONDS.
    """
    now = timezone.now()
    expired = RenderJob.objects.filter(status=JobStatus.RUNNING, lease_expires_at__lt=now)
    giving_up = list(expired.filter(attempt__gte=F("attempt_limit")).values_list("id", flat=True))
    failed = expired.filter(pk__in=giving_up, attempt__gte=F("attempt_limit")).update(
        status=JobStatus.FAILED, finished_at=now, lease_expires_at=None,
        error=("Gave up after the render stopped without finishing on every attempt "
               "(the worker was killed or lost). Retry it, or ask an operator to check "
               "the GPU workers."),
    )
    if failed:
        transaction.on_commit(lambda: jobs_failed_notify(giving_up))
    requeued = expired.filter(cancel_requested=False).update(
        status=JobStatus.QUEUED, lease_expires_at=None, published_at=None, worker="")
    expired.filter(cancel_requested=True).update(
        status=JobStatus.CANCELLED, finished_at=now, lease_expires_at=None)
    # Jobs waiting for a background that failed or was cancelled (a campaign change, a
    # give-up above) can never run: fail them with the reason.
    dead = list(RenderJob.objects.filter(
        status=JobStatus.QUEUED, waits_for__status__in=(JobStatus.FAILED, JobStatus.CANCELLED)
    ).values_list("waits_for_id", flat=True).distinct()[:1000])
    failed += len(jobs_fail_waiting(dead)) if dead else 0
    grace = now - timedelta(seconds=settings.ADSTUDIO_PUBLISH_GRACE_SECONDS)
    # A job waiting for another's output gets its doorbell when that one succeeds.
    queued = RenderJob.objects.filter(
        Q(waits_for__isnull=True) | Q(waits_for__status=JobStatus.SUCCEEDED),
        status=JobStatus.QUEUED, cancel_requested=False, attempt__lt=F("attempt_limit"))
    due = list(queued.filter(
        Q(published_at__isnull=True, created_at__lt=grace)
        | Q(published_at__isnull=True, started_at__isnull=False)
    ).order_by("id").values_list("id", flat=True)[:1000])
    stale = now - timedelta(seconds=settings.ADSTUDIO_REPUBLISH_AFTER_SECONDS)
    # The cpu queue also carries checks, cut-outs and imports, so its depth says nothing of
    # compositions: their doorbells are rung again once they are old.
    due += list(queued.filter(queue=JobQueue.CPU, published_at__lt=stale).order_by("id")
                .values_list("id", flat=True)[:1000])
    on_gpu = queued.filter(queue=JobQueue.GPU)
    waiting = broker_queue_depth("gpu")
    if waiting is None:
        due += list(on_gpu.filter(published_at__lt=stale).order_by("id")
                    .values_list("id", flat=True)[:1000])
    else:
        # Jobs published within the grace may still be on their way to the broker.
        deficit = on_gpu.filter(published_at__isnull=False).count() - waiting
        if deficit > 0:
            due += list(on_gpu.filter(published_at__lt=grace).order_by("published_at", "id")
                        .values_list("id", flat=True)[:min(deficit, 1000)])
    published = jobs_publish(due) if due else 0
    return ReconcileReport(requeued=requeued, failed=failed, published=published)
