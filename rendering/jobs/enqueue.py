"""Where render jobs come from: the quota check, the one place that creates them, the one that
cancels unfinished ones, and the doorbell (published by task name, after commit)."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from brands.models import Workspace
from core.broker import task_publish
from rendering.compose.recipes import batch_key, new_seed
from rendering.models import JobKind, JobQueue, JobStatus, RenderJob

logger = logging.getLogger(__name__)


# The doorbell of each queue: it claims the next job of its queue in fair order.
DOORBELLS = {JobQueue.GPU: "rendering.render_job", JobQueue.CPU: "rendering.compose_job"}


def jobs_create(jobs: list[RenderJob]) -> list[RenderJob]:
    """The one place render jobs are made: ``jobs`` are unsaved rows with their workspace,
    slot, author, kind and recipe. They are created queued, with the attempt allowance and
    (for renders) the batch key, in the caller's transaction, and their doorbells ring after
    it commits (the broker only hears of jobs that exist)."""
    for job in jobs:
        job.status = JobStatus.QUEUED
        job.attempt_limit = settings.ADSTUDIO_JOB_MAX_ATTEMPTS
        job.queue = JobQueue.CPU if job.kind == JobKind.COMPOSE else JobQueue.GPU
        if job.kind == JobKind.GENERATE:
            job.batch_key = batch_key(job.recipe)
    with transaction.atomic():
        RenderJob.objects.bulk_create(jobs)
        job_ids = [job.pk for job in jobs]
        transaction.on_commit(lambda: jobs_publish(job_ids))
    return jobs


def jobs_cancel_unfinished(jobs) -> int:
    """Cancel the unfinished jobs of the queryset ``jobs`` (call inside the transaction,
    before checking for assets): queued ones never start, running ones stop within a step,
    and once this commits a render that finishes cannot store its asset. Returns how many."""
    count = jobs.filter(status__in=(JobStatus.QUEUED, JobStatus.RUNNING)).update(
        cancel_requested=True)
    jobs.filter(status=JobStatus.QUEUED).update(status=JobStatus.CANCELLED,
                                                finished_at=timezone.now())
    return count


def edit_recipe(*, source, instruction: str, region, then: list[str],
                seed: int | None = None) -> dict:
    """What an edit job needs to run again: the source version (and its file hash), the
    instruction, region, seed, steps and guidance."""
    return {
        "kind": "edit",
        "instruction": instruction,
        "then": list(then),
        "region": list(region) if region else None,
        "source": {"asset": source.pk, "sha256": source.sha256, "version": source.version},
        "seed": new_seed() if seed is None else seed,
        "steps": settings.ADSTUDIO_EDIT_STEPS,
        "true_cfg_scale": settings.ADSTUDIO_DEFAULT_TRUE_CFG_SCALE,
        "negative_prompt": source.recipe.get("negative_prompt", " ") or " ",
        "output_size": [source.width, source.height],
        "format": source.recipe.get("format", {"dpi": None}),
        "template": source.recipe.get("template"),
        "brand": source.recipe.get("brand"),
        "product": source.recipe.get("product"),
        "input_hash": source.recipe.get("input_hash"),
    }


def edit_job_create(*, source, instructions: list[str], region, created_by) -> RenderJob:
    """A Qwen-Image-Edit job for the first of ``instructions`` on the asset ``source``; the
    rest run as a chain, each on the version the one before made (rendering.jobs.run)."""
    recipe = edit_recipe(source=source, instruction=instructions[0], region=region,
                         then=instructions[1:])
    [job] = jobs_create([RenderJob(
        workspace_id=source.workspace_id, slot_id=source.slot_id, created_by=created_by,
        kind=JobKind.EDIT, source_asset=source, recipe=recipe)])
    return job


def edit_chain_continue(*, asset, job_id: int) -> RenderJob | None:
    """The next instruction of a chain, on the version the previous one made."""
    job = RenderJob.objects.get(pk=job_id)
    remaining = list(job.recipe.get("then") or [])
    if not remaining:
        return None
    return edit_job_create(source=asset, instructions=remaining,
                           region=job.recipe.get("region"), created_by=job.created_by)


def asset_checks_enqueue(asset_id: int) -> None:
    """Queue the checks of a stored asset on the cpu queue (call it on commit)."""
    from kombu.exceptions import OperationalError

    try:
        task_publish("rendering.check_asset", args=[asset_id])
    except OperationalError as exc:  # the asset stays; its checks can be run again later
        logger.warning("could not queue the checks of asset %s: %s", asset_id, exc)


def jobs_publish(job_ids: list[int]) -> int:
    """Ring the doorbell once per job. A broker that is down leaves the jobs queued and
    unpublished; the reconciler publishes them later. Returns how many were published."""
    from kombu.exceptions import OperationalError

    # A job waiting for another's output (a scene) rings when that one succeeds.
    waiting = set(RenderJob.objects.filter(pk__in=job_ids, waits_for__isnull=False).exclude(
        waits_for__status=JobStatus.SUCCEEDED).values_list("id", flat=True)) if job_ids else set()
    job_ids = [job_id for job_id in job_ids if job_id not in waiting]
    # Recorded first, in one query: an in-process (eager) task may finish a job inside
    # apply_async, and a fan-out of thousands must not cost a query per job.
    RenderJob.objects.filter(pk__in=job_ids, status=JobStatus.QUEUED).update(
        published_at=timezone.now())
    on_cpu = set(RenderJob.objects.filter(pk__in=job_ids, queue=JobQueue.CPU)
                 .values_list("id", flat=True)) if job_ids else set()
    published = 0
    for job_id in job_ids:
        try:
            task_publish(DOORBELLS[JobQueue.CPU if job_id in on_cpu else JobQueue.GPU],
                         args=[job_id],
                         task_id=f"render-job-{job_id}-{time.time_ns()}")
        except OperationalError as exc:  # broker unreachable: the reconciler will retry
            logger.warning("could not publish render jobs from %s on: %s", job_id, exc)
            RenderJob.objects.filter(pk__in=job_ids[published:], status=JobStatus.QUEUED).update(
                published_at=None)
            break
        published += 1
    return published


def queue_positions(workspace_id: int, job_ids: list[int]) -> dict[int, int]:
    """For queued jobs of one workspace: about how many jobs will be claimed before each
    (round robin: each other workspace gets a turn per turn of ours). Two queries."""
    mine = list(RenderJob.objects.filter(workspace_id=workspace_id, status=JobStatus.QUEUED)
                .order_by("id").values_list("id", flat=True))
    others = list(RenderJob.objects.filter(status=JobStatus.QUEUED)
                  .exclude(workspace_id=workspace_id).values("workspace_id")
                  .annotate(n=Count("id")).values_list("n", flat=True))
    positions = {}
    for rank, job_id in enumerate(mine):
        if job_id in job_ids:
            positions[job_id] = rank + sum(min(rank + 1, n) for n in others) + 1
    return positions


def gpu_seconds_this_month(workspace_id: int) -> float:
    start = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    used = RenderJob.objects.filter(workspace_id=workspace_id, finished_at__gte=start).aggregate(
        total=Sum("gpu_seconds"))["total"]
    return float(used or 0)


def quota_check(workspace: Workspace) -> None:
    """Refuse new renders once a workspace used its monthly GPU quota, saying so plainly."""
    quota = Workspace.objects.values_list("gpu_quota_seconds", flat=True).get(pk=workspace.pk)
    if quota is None:
        return
    used = gpu_seconds_this_month(workspace.pk)
    if used >= quota:
        month = timezone.now().strftime("%B")
        raise ValidationError(
            f"This workspace has used {used:,.0f} of its {quota:,} "
            f"GPU-seconds for {month}. Ask a workspace admin to raise the quota, or wait "
            "until the first of next month."
        )
