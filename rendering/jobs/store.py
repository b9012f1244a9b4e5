"""Storing a finished job's image: the PNG and its thumbnail first, then the asset row as the
claim's attempt (fenced), then its checks and the asset_stored signal after commit. No torch
here: GPU renders and CPU compositions store alike."""

from __future__ import annotations

import hashlib
import io
import logging
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from PIL import Image

from rendering.design.compositor import encode_png
from rendering.design.schema import design_hash
from rendering.jobs.enqueue import asset_checks_enqueue
from rendering.models import Asset, BackgroundLayer, JobStatus, RenderJob
from rendering.signals import asset_stored

logger = logging.getLogger(__name__)


def thumbnail_webp(image: Image.Image) -> bytes:
    thumb = image.copy()
    thumb.thumbnail((settings.ADSTUDIO_THUMBNAIL_SIZE,) * 2, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    thumb.save(buffer, format="WEBP", quality=85)
    return buffer.getvalue()


def _job_to_store(claim, doing: str):
    """The claimed job's row, or None when its output must be dropped: the row is gone (its
    campaign or product was deleted meanwhile) or a cancel was asked (settled here)."""
    from rendering.jobs.states import job_settle_cancelled

    job = RenderJob.objects.only("id", "workspace_id", "slot_id", "cancel_requested").filter(
        pk=claim.job_id).first()
    if job is None:
        logger.info("job %s was deleted while %s; discarding its output", claim.job_id, doing)
        return None
    if job.cancel_requested:
        job_settle_cancelled(claim)
        return None
    return job


def store_asset(claim, image: Image.Image, recipe: dict, *, gpu_seconds: float,
                parent: Asset | None = None, design: dict | None = None):
    """Write the files, then the row, as the claim's attempt. No row without its files, no
    files without their row: whatever does not commit is removed. A composed asset keeps its
    ``design`` and the design's hash."""
    from rendering.jobs.states import job_requeue_after_fault, job_settle_cancelled, job_succeed

    job = _job_to_store(claim, "rendering")
    if job is None:
        return None
    base = f"ws/{job.workspace_id}/assets/{job.pk}/{claim.attempt}/{uuid.uuid4().hex}"
    saved: list[str] = []
    stored = False
    try:
        content = encode_png(image, dpi=recipe["format"]["dpi"])
        saved.append(default_storage.save(f"{base}.png", ContentFile(content)))
        saved.append(default_storage.save(f"{base}.thumb.webp", ContentFile(thumbnail_webp(image))))
        with transaction.atomic():
            if not job_succeed(claim, gpu_seconds=gpu_seconds):
                raise _Superseded
            asset = Asset.objects.create(
                workspace_id=job.workspace_id, slot_id=job.slot_id, job_id=job.pk,
                file=saved[0], thumbnail=saved[1], width=image.width, height=image.height,
                sha256=hashlib.sha256(content).hexdigest(), recipe=recipe,
                parent=parent, version=parent.version + 1 if parent else 1,
                design=design, design_sha256=design_hash(design) if design else "",
            )
            # Copy and brand checks run on the cpu queue, never on this GPU worker's time.
            transaction.on_commit(lambda: asset_checks_enqueue(asset.pk))
            # The product may have changed while the job waited or rendered: then the new asset
            # is stale from the start, with the reason, like the assets made before the change.
            product_id = (recipe.get("product") or {}).get("id")
            transaction.on_commit(lambda: asset_stored.send(
                sender=Asset, asset_id=asset.pk, product_id=product_id))
        stored = True
        return asset
    except _Superseded:
        logger.warning("job %s attempt %s was superseded or cancelled; discarding its output",
                       job.pk, claim.attempt)
        job_settle_cancelled(claim)
    except OSError as exc:  # storage unavailable or full: try the job again later
        logger.warning("storing job %s failed: %s", job.pk, exc)
        job_requeue_after_fault(claim, f"Could not store the image: {exc}")
    finally:
        if not stored:  # the row did not commit: its files must not stay
            for key in saved:
                default_storage.delete(key)
    return None


class _Superseded(Exception):
    """Another attempt owns the job now, or it was cancelled."""


def store_background(claim, image: Image.Image, recipe: dict, *, gpu_seconds: float):
    """Write a painted background's file, then its row, as the claim's attempt (fenced, like
    ``store_asset``), and ring the doorbells of the jobs that wait for it once that commits.
    The same recipe painted twice keeps the first file."""
    from rendering.jobs.enqueue import jobs_publish
    from rendering.jobs.states import job_requeue_after_fault, job_settle_cancelled, job_succeed

    job = _job_to_store(claim, "painting")
    if job is None:
        return None
    base = f"ws/{job.workspace_id}/backgrounds/{job.pk}/{claim.attempt}/{uuid.uuid4().hex}"
    saved: list[str] = []
    keep = False
    try:
        content = encode_png(image, dpi=None)
        saved.append(default_storage.save(f"{base}.png", ContentFile(content)))
        with transaction.atomic():
            if not job_succeed(claim, gpu_seconds=gpu_seconds):
                raise _Superseded
            layer, keep = BackgroundLayer.objects.get_or_create(
                workspace_id=job.workspace_id, recipe_sha256=recipe["scene_sha256"],
                defaults={"job_id": job.pk, "recipe": recipe, "file": saved[0],
                          "sha256": hashlib.sha256(content).hexdigest(),
                          "width": image.width, "height": image.height,
                          "product_rect": recipe["product_rect"]})
            waiting = list(RenderJob.objects.filter(waits_for_id=job.pk,
                                                    status=JobStatus.QUEUED)
                           .values_list("id", flat=True))
            transaction.on_commit(lambda: jobs_publish(waiting))
        return layer
    except _Superseded:
        logger.warning("job %s attempt %s was superseded or cancelled; discarding its output",
                       job.pk, claim.attempt)
        job_settle_cancelled(claim)
    except OSError as exc:
        logger.warning("storing background job %s failed: %s", job.pk, exc)
        job_requeue_after_fault(claim, f"Could not store the background: {exc}")
    finally:
        if not keep:
            for key in saved:
                default_storage.delete(key)
    return None
