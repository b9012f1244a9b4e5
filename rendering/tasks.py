"""Rendering tasks: thin (ids in, one service call), with stable names and queues."""

from celery import shared_task

from . import services


@shared_task(name="rendering.render_job", ignore_result=True)
def render_job(job_id: int) -> None:
    services.render_job_run(job_id=job_id)
