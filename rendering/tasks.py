"""Rendering tasks: thin (ids in, one service call), with stable names and queues. Services
import lazily inside each task, so a process that only publishes (web, beat, the cpu
worker) never imports torch."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(
    name="rendering.render_job",
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
    # No time limits here: a publisher would stamp its own into every message. Each GPU
    # worker sets them from its settings at start (rendering.jobs.worker).
)
def render_job(job_id=None, *args, **kwargs) -> None:
    """The doorbell for a queued job: render the next job in fair order (see rendering.jobs.states).

    Malformed arguments are logged and acknowledged (F10): the database, not the message,
    says what is queued.
    """
    if not isinstance(job_id, int) or args or kwargs:
        logger.error("render_job got malformed arguments %r %r %r; ignoring", job_id, args,
                     kwargs)
    from rendering.jobs.worker import current_worker_name, record_jobs_done

    name = current_worker_name()
    from rendering.jobs.run import render_next

    assets = render_next(worker=name)
    record_jobs_done(name, len(assets))


@shared_task(name="rendering.compose_job", ignore_result=True, acks_late=True,
             reject_on_worker_lost=True)
def compose_job(job_id=None, *args, **kwargs) -> None:
    """The doorbell for a queued composition (cpu queue): compose the next one in fair
    order, whichever rang it. Malformed arguments are logged and acknowledged (F10)."""
    if not isinstance(job_id, int) or args or kwargs:
        logger.error("compose_job got malformed arguments %r %r %r; ignoring", job_id, args,
                     kwargs)
    from rendering.jobs.compose_run import compose_next
    from rendering.jobs.worker import current_worker_name

    compose_next(worker=current_worker_name())


@shared_task(name="rendering.reconcile_jobs", ignore_result=True)
def reconcile_jobs() -> None:
    from rendering.jobs.reconcile import jobs_reconcile
    from rendering.jobs.worker import workers_mark_lost
    from rendering.quality.checks import asset_checks_reconcile

    report = jobs_reconcile()
    if report.requeued or report.failed or report.published:
        logger.info("reconciled render jobs: %s", report)
    if lost := workers_mark_lost():
        logger.warning("%s worker processes stopped reporting: marked lost", lost)
    if checks := asset_checks_reconcile():
        logger.info("queued the checks of %s assets again", checks)


@shared_task(name="rendering.check_asset", ignore_result=True, acks_late=True)
def check_asset(asset_id=None, *args, **kwargs) -> None:
    """Run the copy and brand checks of one stored asset (cpu queue)."""
    if not isinstance(asset_id, int) or args or kwargs:
        logger.error("check_asset got malformed arguments %r %r %r; ignoring", asset_id, args,
                     kwargs)
        return
    from rendering.quality.checks import asset_checks_run

    asset_checks_run(asset_id=asset_id)
