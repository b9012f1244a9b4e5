"""Project-wide tasks: thin (one service call), with stable names and queues."""

import logging

from celery import shared_task

from adstudio.orphan_files import orphan_files_sweep

logger = logging.getLogger(__name__)


@shared_task(name="adstudio.sweep_orphan_files", ignore_result=True)
def sweep_orphan_files() -> None:
    """Remove stored files that no row references once their grace period is over (F15)."""
    report = orphan_files_sweep()
    if report.removed or report.failed or report.aborted_uploads:
        logger.info("swept orphan files: %s", report)
