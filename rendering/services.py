"""Rendering use cases: run a render job, store its asset, render a recipe again."""

from __future__ import annotations

import hashlib
import io
import logging
import uuid

import torch
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from PIL import Image

from .formats import fit_to_format
from .models import Asset, JobStatus, RenderJob
from .prompts import validate_template_body
from .recipes import render_size
from .renderer import RenderRequest, get_renderer, library_versions

logger = logging.getLogger(__name__)


def render_recipe(recipe: dict) -> tuple[Image.Image, dict]:
    """Render a recipe with this process's model; returns the exact-size image and the
    completed recipe (model, weights fingerprint, device, dtype, library versions)."""
    return _render(get_renderer(), recipe, on_step=None)


def _request_for(recipe: dict, renderer) -> RenderRequest:
    width, height = render_size(recipe, renderer.size_multiple)
    return RenderRequest(
        prompt=recipe["prompt"], negative_prompt=recipe["negative_prompt"],
        seed=recipe["seed"], steps=recipe["steps"], true_cfg_scale=recipe["true_cfg_scale"],
        width=width, height=height,
    )


def _render(renderer, recipe: dict, on_step):
    request = _request_for(recipe, renderer)
    image = renderer.render(request, on_step=on_step)
    out_w, out_h = recipe["output_size"]
    image = fit_to_format(image.convert("RGB"), out_w, out_h)
    completed = {
        **recipe,
        "model": renderer.model,
        "weights_sha256": renderer.weights_sha256,
        "render_size": [request.width, request.height],
        "device": renderer.device,
        "dtype": renderer.dtype_name,
        "torch_threads": torch.get_num_threads(),
        "libraries": library_versions(),
    }
    return image, completed


def encode_png(image: Image.Image, *, dpi: int | None) -> bytes:
    buffer = io.BytesIO()
    options = {"dpi": (dpi, dpi)} if dpi else {}
    # Level 3: near the default size, several times faster on print-size images.
    image.save(buffer, format="PNG", compress_level=3, **options)
    return buffer.getvalue()


def _thumbnail(image: Image.Image) -> bytes:
    thumb = image.copy()
    thumb.thumbnail((settings.ADSTUDIO_THUMBNAIL_SIZE,) * 2, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    thumb.save(buffer, format="WEBP", quality=85)
    return buffer.getvalue()


def _claim(job_id: int) -> int | None:
    """Move a queued job to running in one conditional UPDATE; returns the new attempt."""
    claimed = RenderJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, attempt=F("attempt") + 1, started_at=timezone.now(),
        progress_step=0, error="",
    )
    if not claimed:
        return None
    return RenderJob.objects.values_list("attempt", flat=True).get(pk=job_id)


def _progress_writer(job_id: int, attempt: int):
    def on_step(step: int, total: int) -> bool:
        RenderJob.objects.filter(pk=job_id, attempt=attempt).update(
            progress_step=step, progress_total=total
        )
        return True

    return on_step


def _fail(job_id: int, attempt: int, message: str) -> None:
    RenderJob.objects.filter(pk=job_id, attempt=attempt, status=JobStatus.RUNNING).update(
        status=JobStatus.FAILED, error=message[:1000], finished_at=timezone.now()
    )


def render_job_run(*, job_id: int) -> Asset | None:
    """Render one queued job and store its asset; a job that is not queued is left alone.

    Files are written before the asset row commits; if the row cannot be written, the files
    are removed, so there is never a row without a file nor a file without a row.
    """
    attempt = _claim(job_id)
    if attempt is None:
        logger.info("job %s is not queued; nothing to do", job_id)
        return None
    job = RenderJob.objects.select_related("slot__format").get(pk=job_id)
    try:
        RenderJob.objects.filter(pk=job_id, attempt=attempt).update(
            progress_total=job.recipe["steps"]
        )
        image, recipe = _render(get_renderer(), job.recipe, _progress_writer(job_id, attempt))
    except (RuntimeError, ValueError, OSError) as exc:
        logger.exception("render job %s failed", job_id)
        _fail(job_id, attempt, f"Rendering failed: {exc}")
        return None
    return _store_asset(job, attempt, image, recipe)


def _store_asset(job: RenderJob, attempt: int, image: Image.Image, recipe: dict) -> Asset | None:
    content = encode_png(image, dpi=recipe["format"]["dpi"])
    base = f"ws/{job.workspace_id}/assets/{job.pk}/{attempt}/{uuid.uuid4().hex}"
    file_key = default_storage.save(f"{base}.png", ContentFile(content))
    thumb_key = default_storage.save(f"{base}.thumb.webp", ContentFile(_thumbnail(image)))
    try:
        with transaction.atomic():
            # Finalize only as the current attempt (a late duplicate cannot overwrite it).
            finished = RenderJob.objects.filter(
                pk=job.pk, attempt=attempt, status=JobStatus.RUNNING
            ).update(
                status=JobStatus.SUCCEEDED, finished_at=timezone.now(),
                progress_step=F("progress_total"),
            )
            if not finished:
                raise _Superseded
            return Asset.objects.create(
                workspace_id=job.workspace_id, slot_id=job.slot_id, job=job,
                file=file_key, thumbnail=thumb_key, width=image.width, height=image.height,
                sha256=hashlib.sha256(content).hexdigest(), recipe=recipe,
            )
    except _Superseded:
        logger.warning("job %s attempt %s was superseded; discarding its output", job.pk, attempt)
    except Exception:
        # Not a blind catch: we clean up our files and re-raise.
        default_storage.delete(file_key)
        default_storage.delete(thumb_key)
        raise
    default_storage.delete(file_key)
    default_storage.delete(thumb_key)
    return None


class _Superseded(Exception):
    """Another attempt owns the job now."""


def format_create(*, workspace, name: str, width: int, height: int, kind: str,
                  channel: str = "Custom"):
    """A custom output size for one workspace (B12: sizes outside the range are refused)."""
    from django.utils.text import slugify

    from .formats import validate_format_size
    from .models import Format

    validate_format_size(width, height)
    key = slugify(f"{name}-{width}x{height}")[:60]
    return Format.objects.create(
        workspace=workspace, key=key, name=name, channel=channel, kind=kind,
        width=width, height=height,
    )


def prompt_template_save(*, workspace, name: str, kind: str, body: str,
                         negative_prompt: str = "", brand=None, template=None):
    """Create or update a prompt template after checking it (B11); a new body is a new
    version, and every version is kept as a revision."""
    from .models import PromptTemplate, PromptTemplateRevision

    validate_template_body(body)
    with transaction.atomic():
        if template is None:
            template = PromptTemplate.objects.create(
                workspace=workspace, name=name, kind=kind, body=body,
                negative_prompt=negative_prompt, brand=brand,
            )
        else:
            template = PromptTemplate.objects.select_for_update().get(
                pk=template.pk, workspace=workspace
            )
            content_changed = (template.body, template.negative_prompt) != (body, negative_prompt)
            template.name, template.kind, template.brand = name, kind, brand
            template.body, template.negative_prompt = body, negative_prompt
            if content_changed:
                template.version += 1
            template.save()
        PromptTemplateRevision.objects.get_or_create(
            template=template, version=template.version,
            defaults={"body": body, "negative_prompt": negative_prompt},
        )
        return template
