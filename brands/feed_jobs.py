"""The feed import job state machine: queued -> running -> succeeded | failed | cancelled.

The row is the truth and the broker only a doorbell, as for render jobs: a worker claims an
import with one conditional UPDATE that bumps ``attempt`` (the fencing token) and sets a lease;
every batch writes progress, renews the lease and checks the cancel flag in one fenced UPDATE,
so a cancelled import stops within a batch and a late worker's writes change nothing. A worker
killed mid-import stops renewing; the reconciler queues it again, or fails it at the cap.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from brands.models import FeedImport, ImportStatus
from core.broker import task_publish

logger = logging.getLogger(__name__)

PROGRESS_FIELDS = ("rows_total", "rows_created", "rows_updated", "rows_unchanged",
                   "rows_failed", "errors", "errors_truncated", "notes")  # fmt: skip


@dataclass(frozen=True)
class Claim:
    import_id: int
    attempt: int


def _lease_deadline(*, fetching: bool = False):
    seconds = settings.ADSTUDIO_FEED_LEASE_SECONDS
    if fetching:  # the download renews nothing: its own time limit comes first
        seconds += settings.ADSTUDIO_FEED_MAX_SECONDS
    return timezone.now() + timedelta(seconds=seconds)


def _fenced(claim: Claim, **extra):
    return FeedImport.objects.filter(pk=claim.import_id, attempt=claim.attempt,
                                     status=ImportStatus.RUNNING, **extra)


def feed_import_claim(*, import_id: int) -> Claim | None:
    """Start a queued import: None when it is not queued (done, cancelled, or claimed by another
    worker) or has used its attempts."""
    current = FeedImport.objects.filter(pk=import_id).values_list("attempt", flat=True).first()
    if current is None:
        return None
    claimed = FeedImport.objects.filter(
        pk=import_id, status=ImportStatus.QUEUED, attempt=current, cancel_requested=False,
        attempt__lt=settings.ADSTUDIO_FEED_MAX_ATTEMPTS,
    ).update(status=ImportStatus.RUNNING, attempt=F("attempt") + 1, started_at=timezone.now(),
             lease_expires_at=_lease_deadline(fetching=True), fatal_error="", rows_total=0,
             rows_created=0, rows_updated=0, rows_unchanged=0, rows_failed=0, errors=[],
             notes=[])
    return Claim(import_id, current + 1) if claimed else None


def feed_import_checkpoint(claim: Claim, report: FeedImport) -> bool:
    """Write the progress so far and renew the lease; False when the import was cancelled or
    taken over (stop, and roll back the batch being written)."""
    return bool(_fenced(claim, cancel_requested=False).update(
        lease_expires_at=_lease_deadline(),
        **{name: getattr(report, name) for name in PROGRESS_FIELDS}))


def feed_import_finish(claim: Claim, report: FeedImport, *, status: str) -> bool:
    """Settle a running import as succeeded or failed with its final counts and error."""
    if status not in (ImportStatus.SUCCEEDED, ImportStatus.FAILED):
        raise ValueError(f"cannot finish an import as {status!r}")
    return bool(_fenced(claim).update(
        status=status, finished_at=timezone.now(), lease_expires_at=None,
        fatal_error=report.fatal_error[:500], not_modified=report.not_modified,
        rows_unavailable=report.rows_unavailable, photos_queued=report.photos_queued,
        **{name: getattr(report, name) for name in PROGRESS_FIELDS}))


def feed_import_settle_cancelled(claim: Claim) -> bool:
    """A running import whose cancel was requested: it stops with the batches already written."""
    return bool(_fenced(claim, cancel_requested=True).update(
        status=ImportStatus.CANCELLED, finished_at=timezone.now(), lease_expires_at=None))


def feed_import_cancel(*, feed_import: FeedImport) -> FeedImport:
    """Cancel an import: a queued one never starts; a running one stops within a batch."""
    FeedImport.objects.filter(pk=feed_import.pk, status=ImportStatus.QUEUED).update(
        status=ImportStatus.CANCELLED, cancel_requested=True, finished_at=timezone.now())
    FeedImport.objects.filter(pk=feed_import.pk, status=ImportStatus.RUNNING).update(
        cancel_requested=True)
    feed_import.refresh_from_db()
    if feed_import.status not in (ImportStatus.CANCELLED, ImportStatus.RUNNING):
        raise ValidationError(
            f"This import has already {feed_import.status}; there is nothing to cancel.")
    return feed_import


def feed_imports_publish(import_ids: list[int]) -> None:
    """Ring the doorbell of each import once the transaction that queued it commits."""
    def publish():
        for import_id in import_ids:
            task_publish("brands.run_feed_import", args=[import_id])

    transaction.on_commit(publish)


@dataclass(frozen=True)
class ReconcileReport:
    requeued: int
    failed: int
    published: int


def feed_imports_reconcile() -> ReconcileReport:
    """Run by beat: queue running imports whose lease expired again (failed at the attempt
    cap, with the reason), and ring the doorbell of imports queued for a while."""
    now = timezone.now()
    expired = FeedImport.objects.filter(status=ImportStatus.RUNNING, lease_expires_at__lt=now)
    expired.filter(cancel_requested=True).update(
        status=ImportStatus.CANCELLED, finished_at=now, lease_expires_at=None)
    failed = expired.filter(attempt__gte=settings.ADSTUDIO_FEED_MAX_ATTEMPTS).update(
        status=ImportStatus.FAILED, finished_at=now, lease_expires_at=None,
        fatal_error=(f"The import stopped without finishing {settings.ADSTUDIO_FEED_MAX_ATTEMPTS}"
                     " times (the worker was stopped or ran out of memory). Run it again, or "
                     "ask an operator to check the cpu workers."))
    requeued_ids = list(expired.values_list("id", flat=True))
    requeued = FeedImport.objects.filter(
        pk__in=requeued_ids, status=ImportStatus.RUNNING, lease_expires_at__lt=now,
    ).update(status=ImportStatus.QUEUED, lease_expires_at=None)
    # A doorbell lost with the broker (or never rung): queued longer than one lease.
    stuck = now - timedelta(seconds=settings.ADSTUDIO_FEED_LEASE_SECONDS)
    waiting = list(FeedImport.objects.filter(
        status=ImportStatus.QUEUED, cancel_requested=False, created_at__lt=stuck,
        attempt__lt=settings.ADSTUDIO_FEED_MAX_ATTEMPTS,
    ).exclude(pk__in=requeued_ids).values_list("id", flat=True)[:1000])
    due = requeued_ids + waiting
    if due:
        feed_imports_publish(due)
    return ReconcileReport(requeued=requeued, failed=failed, published=len(due))
