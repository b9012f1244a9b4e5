"""Rendering use cases: run a render job, store its asset, render a recipe again."""

from __future__ import annotations

import hashlib
import io
import logging
import time
import uuid

import torch
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from PIL import Image

from .copy_rules import recipe_copy_problem, template_copy_validate
from .formats import fit_to_format
from .models import Asset, JobKind, RenderJob
from .prompts import validate_template_body
from .recipes import render_size
from .renderer import RenderRequest, get_renderer, library_versions
from .signals import asset_stored
from .typography import typeset_recipe

logger = logging.getLogger(__name__)


RECIPE_KEYS = ("prompt", "negative_prompt", "seed", "steps", "true_cfg_scale", "bucket",
               "render_scale", "output_size", "format")


def render_recipe(recipe: dict) -> tuple[Image.Image, dict]:
    """Render a recipe with this process's model; returns the exact-size image and the
    completed recipe (model, weights fingerprint, device, dtype, library versions)."""
    renderer = get_renderer()
    request = _request_for(recipe, renderer)
    image = renderer.render(request)
    return _finish(image, recipe, renderer, request, batch_size=1)


def _request_for(recipe: dict, renderer) -> RenderRequest:
    width, height = render_size(recipe, renderer.size_multiple)
    return RenderRequest(
        prompt=recipe["prompt"], negative_prompt=recipe["negative_prompt"],
        seed=recipe["seed"], steps=recipe["steps"], true_cfg_scale=recipe["true_cfg_scale"],
        width=width, height=height,
    )


def _finish(image, recipe: dict, renderer, request: RenderRequest, *, batch_size: int):
    out_w, out_h = recipe["output_size"]
    image = fit_to_format(image.convert("RGB"), out_w, out_h)
    image, typography = typeset_recipe(image, recipe)  # the exact copy, when the recipe asks
    completed = {
        **recipe,
        **typography,
        "model": renderer.model,
        "weights_sha256": renderer.weights_sha256,
        "render_size": [request.width, request.height],
        "batch_size": batch_size,
        "device": renderer.device,
        "dtype": renderer.dtype_name,
        "speed": renderer.speed,
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


def _recipe_problem(recipe) -> str | None:
    """Why a recipe cannot be rendered, or None (F10: malformed work fails, never loops)."""
    if not isinstance(recipe, dict):
        return "the job has no recipe"
    missing = [key for key in RECIPE_KEYS if key not in recipe]
    if missing:
        return f"the recipe lacks {', '.join(missing)}"
    try:
        render_size(recipe, 8)
        if int(recipe["steps"]) < 1 or len(recipe["output_size"]) != 2:
            return "the recipe has no steps or no output size"
    except (TypeError, ValueError, KeyError) as exc:
        return f"the recipe is invalid ({exc})"
    return recipe_copy_problem(recipe)  # B14: before the GPU time, not after it


class OutOfMemory(Exception):
    """The render did not fit in GPU memory on any rung of the ladder."""


LADDER = ("normal", "vae_tiling", "cpu_offload", "group_offload")
MODE_NAMES = {"normal": "a smaller batch", "vae_tiling": "VAE tiling",
              "cpu_offload": "CPU offload", "group_offload": "group offload"}


def _ladder(batch_size: int, base: str = "normal") -> list[tuple[str, int]]:
    """Memory modes to try after an out-of-memory error in mode ``base``: at most two steps
    down (a batch is split first)."""
    lower = list(LADDER[LADDER.index(base) + 1:])
    if batch_size > 1:
        return [(base, 1), *[(mode, 1) for mode in lower[:1]]]
    return [(mode, batch_size) for mode in lower[:2]]


def _render_with_ladder(renderer, requests: list[RenderRequest], on_step):
    """Render ``requests`` (a batch), stepping down on out-of-memory; returns images and the
    memory mode that worked. The next job starts in the base mode again."""
    import torch

    base = getattr(renderer, "base_memory_mode", "normal")
    attempts = [(base, len(requests)), *_ladder(len(requests), base)]
    try:
        for number, (mode, chunk) in enumerate(attempts):
            try:
                renderer.set_memory_mode(mode)
                images = []
                for start in range(0, len(requests), chunk):
                    images += renderer.render_batch(requests[start:start + chunk], on_step)
                return images, mode
            except torch.OutOfMemoryError as exc:
                renderer.free_memory()
                logger.warning("out of GPU memory in mode %s (try %s): %s", mode, number + 1,
                               exc)
        tried = " and ".join(dict.fromkeys(MODE_NAMES[mode] for mode, _ in attempts[1:]))
        raise OutOfMemory(f"Out of GPU memory, even with {tried}. Use a smaller format or a "
                          "GPU with more memory (docs/deploy.md: memory per GPU size).")
    finally:
        renderer.set_memory_mode(base)


def render_next(*, worker: str = "in-process") -> list[Asset]:
    """Claim the next job (or a batch of compatible jobs) in fair order and render it.

    Returns the stored assets. A cancelled job's image is discarded; a failure marks its jobs
    failed with a reason a user can read; a storage fault puts the job back in the queue.
    """
    from celery.exceptions import SoftTimeLimitExceeded

    from .jobs import ProgressReporter, job_claim_next, job_fail

    claims = job_claim_next(worker=worker, max_batch=settings.ADSTUDIO_MAX_BATCH)
    if not claims:
        return []
    rows = {row[0]: row for row in RenderJob.objects.filter(pk__in=[c.job_id for c in claims])
            .values_list("id", "recipe", "kind", "source_asset_id")}
    first = rows.get(claims[0].job_id)  # None: deleted with its campaign since the claim
    # Edit jobs never share a batch (no batch key).
    if first is not None and first[2] == JobKind.EDIT:
        asset = _edit_run(claims[0], first[1], source_asset_id=first[3])
        return [asset] if asset is not None else []
    recipes = {job_id: row[1] for job_id, row in rows.items()}
    valid = []
    for claim in claims:
        problem = _recipe_problem(recipes.get(claim.job_id))
        if problem:
            job_fail(claim, f"This job cannot be rendered: {problem}.")
        else:
            valid.append(claim)
    if not valid:
        return []
    renderer = get_renderer()
    requests = [_request_for(recipes[c.job_id], renderer) for c in valid]
    started = time.monotonic()
    try:
        images, _mode = _render_with_ladder(renderer, requests, ProgressReporter(valid))
    except SoftTimeLimitExceeded:
        for claim in valid:
            job_fail(claim, "timeout: the render took longer than "
                            f"{settings.ADSTUDIO_RENDER_SOFT_TIME_LIMIT} s and was stopped.")
        return []
    except (OutOfMemory, RuntimeError, ValueError, OSError) as exc:
        logger.exception("render of jobs %s failed", [c.job_id for c in valid])
        message = str(exc) if isinstance(exc, OutOfMemory) else f"Rendering failed: {exc}"
        for claim in valid:
            job_fail(claim, message, gpu_seconds=(time.monotonic() - started) / len(valid))
        return []
    gpu_seconds = (time.monotonic() - started) / len(valid)
    assets = []
    for claim, request, image in zip(valid, requests, images, strict=True):
        image, recipe = _finish(image, recipes[claim.job_id], renderer, request,
                                batch_size=len(valid))
        asset = _store_asset(claim, image, recipe, gpu_seconds=gpu_seconds)
        if asset is not None:
            assets.append(asset)
    return assets


def _store_asset(claim, image: Image.Image, recipe: dict, *, gpu_seconds: float,
                 parent: Asset | None = None):
    """Write the files, then the row, as the claim's attempt. No row without its files, no
    files without their row: whatever does not commit is removed."""
    from .checks import asset_checks_enqueue
    from .jobs import job_requeue_after_fault, job_settle_cancelled, job_succeed

    job = RenderJob.objects.only("id", "workspace_id", "slot_id", "cancel_requested").filter(
        pk=claim.job_id).first()
    if job is None:  # its campaign or product was deleted while it rendered
        logger.info("job %s was deleted while rendering; discarding its output", claim.job_id)
        return None
    if job.cancel_requested:
        job_settle_cancelled(claim)
        return None
    base = f"ws/{job.workspace_id}/assets/{job.pk}/{claim.attempt}/{uuid.uuid4().hex}"
    saved: list[str] = []
    stored = False
    try:
        content = encode_png(image, dpi=recipe["format"]["dpi"])
        saved.append(default_storage.save(f"{base}.png", ContentFile(content)))
        saved.append(default_storage.save(f"{base}.thumb.webp", ContentFile(_thumbnail(image))))
        with transaction.atomic():
            if not job_succeed(claim, gpu_seconds=gpu_seconds):
                raise _Superseded
            asset = Asset.objects.create(
                workspace_id=job.workspace_id, slot_id=job.slot_id, job_id=job.pk,
                file=saved[0], thumbnail=saved[1], width=image.width, height=image.height,
                sha256=hashlib.sha256(content).hexdigest(), recipe=recipe,
                parent=parent, version=parent.version + 1 if parent else 1,
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


EDIT_RECIPE_KEYS = ("instruction", "seed", "steps", "true_cfg_scale", "output_size", "source")


def _edit_recipe_problem(recipe) -> str | None:
    if not isinstance(recipe, dict):
        return "the job has no recipe"
    missing = [key for key in EDIT_RECIPE_KEYS if key not in recipe]
    if missing:
        return f"the edit recipe lacks {', '.join(missing)}"
    if not str(recipe["instruction"]).strip():
        return "the edit has no instruction"
    try:
        if int(recipe["steps"]) < 1 or len(recipe["output_size"]) != 2:
            return "the edit has no steps or no output size"
    except (TypeError, ValueError):
        return "the edit recipe is invalid"
    return None


def _edit_run(claim, recipe, *, source_asset_id: int | None) -> Asset | None:
    """Run one Qwen-Image-Edit job: the source version's file, edited by the instruction (in
    the region, if any), stored as the source's child. A chain of instructions continues
    with the next one on the new version."""
    from celery.exceptions import SoftTimeLimitExceeded

    from .edit_renderer import EditRequest, get_edit_renderer
    from .jobs import ProgressReporter, job_fail

    problem = _edit_recipe_problem(recipe)
    source = Asset.objects.filter(pk=source_asset_id).first() if source_asset_id else None
    if problem is None and source is None:
        problem = "the asset to edit no longer exists"
    if problem is None and source.sha256 != recipe["source"].get("sha256"):
        problem = "the asset to edit changed since the edit was asked for"
    if problem:
        job_fail(claim, f"This edit cannot run: {problem}.")
        return None
    started = time.monotonic()
    try:
        with default_storage.open(source.file.name, "rb") as handle:
            image = Image.open(handle)
            image.load()
        renderer = get_edit_renderer()
        request = EditRequest(
            image=image.convert("RGB"), instruction=recipe["instruction"],
            seed=int(recipe["seed"]), steps=int(recipe["steps"]),
            true_cfg_scale=float(recipe["true_cfg_scale"]),
            negative_prompt=recipe.get("negative_prompt") or " ",
            region=tuple(recipe["region"]) if recipe.get("region") else None,
        )
        edited = renderer.edit(request, on_step=ProgressReporter([claim]))
    except SoftTimeLimitExceeded:
        job_fail(claim, "timeout: the edit took longer than "
                        f"{settings.ADSTUDIO_RENDER_SOFT_TIME_LIMIT} s and was stopped.")
        return None
    except torch.OutOfMemoryError:
        if torch.cuda.is_available():
            torch.cuda.empty_cache()  # the next job must run
        job_fail(claim, "Out of GPU memory while editing. Try a smaller format or a GPU "
                        "with more memory.", gpu_seconds=time.monotonic() - started)
        return None
    except (RuntimeError, ValueError, OSError) as exc:
        logger.exception("edit job %s failed", claim.job_id)
        job_fail(claim, f"Editing failed: {exc}", gpu_seconds=time.monotonic() - started)
        return None
    out_w, out_h = recipe["output_size"]
    edited = fit_to_format(edited.convert("RGB"), out_w, out_h)
    completed = {**recipe, **renderer.recipe_fields(),
                 "torch_threads": torch.get_num_threads(), "libraries": library_versions()}
    asset = _store_asset(claim, edited, completed, gpu_seconds=time.monotonic() - started,
                         parent=source)
    if asset is not None and recipe.get("then"):
        from campaigns.review import asset_edit_continue

        asset_edit_continue(asset=asset, job_id=claim.job_id)
    return asset


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
                         negative_prompt: str = "", brand=None, template=None,
                         text_mode: str = "native", headline: str = "", subline: str = "",
                         cta: str = "", show_price: bool = False):
    """Create or update a prompt template after checking it (B11); a new body or new copy is
    a new version, and every version is kept as a revision. ``text_mode`` and the copy lines
    say which words the ad carries and who draws them (rendering/typography.py)."""
    from .models import PromptTemplate, PromptTemplateRevision

    validate_template_body(body)
    copy = {"text_mode": text_mode, "headline": headline, "subline": subline, "cta": cta,
            "show_price": show_price}
    for field in ("headline", "subline", "cta"):
        try:
            validate_template_body(copy[field])
        except ValidationError as exc:
            raise ValidationError({field: exc.messages}) from None
    # Line breaks, control characters, length and glyphs no font has (B14).
    template_copy_validate(text_mode=text_mode, brand=brand,
                           lines={f: copy[f] for f in ("headline", "subline", "cta")})
    with transaction.atomic():
        if template is None:
            template = PromptTemplate.objects.create(
                workspace=workspace, name=name, kind=kind, body=body,
                negative_prompt=negative_prompt, brand=brand, **copy,
            )
        else:
            template = PromptTemplate.objects.select_for_update().get(
                pk=template.pk, workspace=workspace
            )
            content_changed = (template.body, template.negative_prompt) != (body, negative_prompt)
            content_changed |= any(getattr(template, k) != v for k, v in copy.items())
            template.name, template.kind, template.brand = name, kind, brand
            template.body, template.negative_prompt = body, negative_prompt
            for field, value in copy.items():
                setattr(template, field, value)
            if content_changed:
                template.version += 1
            template.save()
            if content_changed:  # assets rendered from the old prompt are out of date
                from campaigns.staleness import assets_flag_stale_for_template

                assets_flag_stale_for_template(template, old_version=template.version - 1)
        PromptTemplateRevision.objects.get_or_create(
            template=template, version=template.version,
            defaults={"body": body, "negative_prompt": negative_prompt},
        )
        return template


def prompt_template_delete(*, template, user) -> None:
    """Delete a prompt template with its revisions. Refused while a campaign has chosen it;
    assets keep the prompt they were rendered from in their recipes."""
    from brands.audit import audit_record

    from .models import PromptTemplate

    with transaction.atomic():
        template = PromptTemplate.objects.select_for_update().get(pk=template.pk)
        users = list(template.campaigns.values_list("name", flat=True))
        if users:
            shown = ", ".join(f"“{name}”" for name in users[:3])
            more = f" and {len(users) - 3} more" if len(users) > 3 else ""
            raise ValidationError(
                f"{template.name} is chosen in the campaign{'s' if len(users) > 1 else ''} "
                f"{shown}{more}. Remove it from {'those campaigns' if len(users) > 1 else 'it'} "
                "first.", code="template_in_use")
        audit_record(workspace_id=template.workspace_id, actor=user, verb="template.deleted",
                     obj=template, data={"name": template.name, "version": template.version})
        template.delete()
