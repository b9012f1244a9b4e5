"""The render job state machine: queued -> running -> succeeded | failed | cancelled.

The database row is the truth and the broker only a doorbell: a doorbell makes a worker claim
the next job in fair order (round robin over workspaces), whichever job rang it. Every
transition is one conditional UPDATE guarded by the status and, for a running job, by the
attempt that claimed it (the fencing token), so duplicates and late workers change nothing.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from brands.models import Workspace
from core.events import event_announce
from rendering.jobs.enqueue import jobs_publish
from rendering.models import JobQueue, JobStatus, RenderJob

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claim:
    job_id: int
    attempt: int


def _lease_deadline():
    return timezone.now() + timedelta(seconds=settings.ADSTUDIO_JOB_LEASE_SECONDS)


def _claim_one(job: RenderJob, *, worker: str) -> Claim | None:
    claimed = RenderJob.objects.filter(
        pk=job.pk, status=JobStatus.QUEUED, attempt=job.attempt,
        attempt__lt=F("attempt_limit"), cancel_requested=False,
    ).update(
        status=JobStatus.RUNNING, attempt=F("attempt") + 1, started_at=timezone.now(),
        lease_expires_at=_lease_deadline(), worker=worker[:200], progress_step=0, error="",
    )
    return Claim(job.pk, job.attempt + 1) if claimed else None


def _fair_order(queue: str):
    """Queued jobs of ``queue``, the workspace served longest ago first, then oldest first."""
    return (
        RenderJob.objects.filter(status=JobStatus.QUEUED, cancel_requested=False,
                                 attempt__lt=F("attempt_limit"), queue=queue)
        .filter(Q(waits_for__isnull=True) | Q(waits_for__status=JobStatus.SUCCEEDED))
        .order_by(F("workspace__last_claimed_at").asc(nulls_first=True), "id")
    )


def job_claim_next(*, worker: str, max_batch: int = 1, queue: str = JobQueue.GPU
                   ) -> list[Claim]:
    """Claim the next job of ``queue`` in fair order, plus up to ``max_batch - 1`` queued jobs
    that can share its pipeline call (same batch key), also in fair order."""
    for _ in range(5):  # another worker may win the race for a row: take the next one
        first = _fair_order(queue).only("id", "attempt", "workspace_id", "batch_key").first()
        if first is None:
            return []
        claim = _claim_one(first, worker=worker)
        if claim is not None:
            break
    else:
        return []
    claims = [claim]
    if max_batch > 1 and first.batch_key:
        mates = _fair_order(queue).filter(batch_key=first.batch_key).exclude(pk=first.pk)
        for mate in mates.only("id", "attempt", "workspace_id")[: max_batch - 1]:
            mate_claim = _claim_one(mate, worker=worker)
            if mate_claim is not None:
                claims.append(mate_claim)
    Workspace.objects.filter(pk=first.workspace_id).update(last_claimed_at=timezone.now())
    return claims


class ProgressReporter:
    """The step callback's link to the row: progress, lease renewal and the cancel check in
    one guarded UPDATE, at most every ADSTUDIO_PROGRESS_INTERVAL seconds (and on the last
    step). Returns False when the job was cancelled or taken over: stop denoising."""

    def __init__(self, claims: list[Claim]):
        self.claims = claims
        self.interval = settings.ADSTUDIO_PROGRESS_INTERVAL
        self._last = 0.0

    def __call__(self, step: int, total: int) -> bool:
        now = time.monotonic()
        if now - self._last < self.interval and step < total:
            return True
        self._last = now
        alive = 0
        for claim in self.claims:
            alive += RenderJob.objects.filter(
                pk=claim.job_id, attempt=claim.attempt, status=JobStatus.RUNNING,
                cancel_requested=False,
            ).update(progress_step=step, progress_total=total,
                     lease_expires_at=_lease_deadline())
        # A batch keeps going while any of its jobs still wants the result.
        return alive > 0


def job_succeed(claim: Claim, *, gpu_seconds: float) -> bool:
    """Finalize as succeeded if ``claim`` is still the job's current attempt."""
    return bool(RenderJob.objects.filter(
        pk=claim.job_id, attempt=claim.attempt, status=JobStatus.RUNNING,
        cancel_requested=False,
    ).update(status=JobStatus.SUCCEEDED, finished_at=timezone.now(), lease_expires_at=None,
             progress_step=F("progress_total"), gpu_seconds=gpu_seconds))


def job_fail(claim: Claim, reason: str, *, gpu_seconds: float = 0) -> bool:
    failed = bool(RenderJob.objects.filter(
        pk=claim.job_id, attempt=claim.attempt, status=JobStatus.RUNNING,
    ).update(status=JobStatus.FAILED, error=reason[:1000], finished_at=timezone.now(),
             lease_expires_at=None, gpu_seconds=gpu_seconds))
    if failed:
        jobs_fail_waiting([claim.job_id])
        transaction.on_commit(lambda: jobs_failed_notify([claim.job_id]))
    return failed


def jobs_fail_waiting(job_ids: list[int]) -> list[int]:
    """The queued jobs that wait for these (a scene's compositions and outpaints), and the
    ones waiting for those, failed with the reason: they can never run. Returns their ids."""
    failed: list[int] = []
    reasons = dict(RenderJob.objects.filter(pk__in=job_ids).values_list("id", "error"))
    while job_ids:
        waiting = list(RenderJob.objects.filter(waits_for_id__in=job_ids,
                                                status=JobStatus.QUEUED)
                       .values_list("id", "waits_for_id"))
        for job_id, first in waiting:
            why = reasons.get(first) or "it was cancelled"
            RenderJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
                status=JobStatus.FAILED, finished_at=timezone.now(), lease_expires_at=None,
                error=(f"The background this job waits for (job {first}) did not finish: "
                       f"{why}")[:1000])
            reasons[job_id] = why
        job_ids = [job_id for job_id, _ in waiting]
        failed += job_ids
    if failed:
        transaction.on_commit(lambda: jobs_failed_notify(failed))
    return failed


def jobs_failed_notify(job_ids: list[int]) -> None:
    """Announce job.failed for jobs that ended failed (after that committed)."""
    for job in RenderJob.objects.filter(pk__in=job_ids, status=JobStatus.FAILED).select_related(
            "slot"):
        event_announce(workspace_id=job.workspace_id, event="job.failed", payload={
            "job": job.pk, "kind": job.kind, "campaign": job.slot.campaign_id if job.slot else None,
            "slot": job.slot_id, "attempt": job.attempt, "error": job.error,
        })


def job_settle_cancelled(claim: Claim) -> bool:
    """A running job whose cancel was requested: its output is discarded."""
    settled = bool(RenderJob.objects.filter(
        pk=claim.job_id, attempt=claim.attempt, status=JobStatus.RUNNING,
        cancel_requested=True,
    ).update(status=JobStatus.CANCELLED, finished_at=timezone.now(), lease_expires_at=None))
    if settled:
        jobs_fail_waiting([claim.job_id])
    return settled


def job_requeue_after_fault(claim: Claim, reason: str) -> None:
    """A transient fault after rendering (storage): queue the job again while attempts last,
    else fail it with the reason."""
    requeued = RenderJob.objects.filter(
        pk=claim.job_id, attempt=claim.attempt, status=JobStatus.RUNNING,
        attempt__lt=F("attempt_limit"),
    ).update(status=JobStatus.QUEUED, lease_expires_at=None, published_at=None, worker="",
             error=reason[:1000])
    if requeued:
        transaction.on_commit(lambda: jobs_publish([claim.job_id]))
    else:
        job_fail(claim, f"{reason} (gave up after {claim.attempt} attempts)")


def job_cancel(*, job: RenderJob) -> RenderJob:
    """Cancel a job: a queued one never starts; a running one stops within a step."""
    RenderJob.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
        status=JobStatus.CANCELLED, cancel_requested=True, finished_at=timezone.now())
    RenderJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(cancel_requested=True)
    job.refresh_from_db()
    if job.status == JobStatus.CANCELLED:
        jobs_fail_waiting([job.pk])
    if job.status not in (JobStatus.CANCELLED, JobStatus.RUNNING):
        raise ValidationError(f"This job has already {job.status}; there is nothing to cancel.")
    return job


def job_retry(*, job: RenderJob) -> RenderJob:
    """Queue a failed or cancelled job again, with a fresh allowance of attempts."""
    with transaction.atomic():
        retried = RenderJob.objects.filter(
            pk=job.pk, status__in=[JobStatus.FAILED, JobStatus.CANCELLED]
        ).update(
            status=JobStatus.QUEUED, cancel_requested=False, error="", progress_step=0,
            finished_at=None, published_at=None,
            attempt_limit=F("attempt") + settings.ADSTUDIO_JOB_MAX_ATTEMPTS,
        )
        if not retried:
            raise ValidationError("Only failed or cancelled jobs can be retried.")
        # What failed because this job did (a scene's compositions) waits for it again.
        parents = [job.pk]
        while parents:
            children = list(RenderJob.objects.filter(
                waits_for_id__in=parents, status=JobStatus.FAILED).values_list("id", flat=True))
            RenderJob.objects.filter(pk__in=children).update(
                status=JobStatus.QUEUED, error="", progress_step=0, finished_at=None,
                published_at=None, attempt_limit=F("attempt") + settings.ADSTUDIO_JOB_MAX_ATTEMPTS)
            parents = children
        transaction.on_commit(lambda: jobs_publish([job.pk]))
    job.refresh_from_db()
    return job
