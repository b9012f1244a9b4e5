"""Running a claimed render or edit job: claim in fair order, render (with the memory ladder),
store the asset with its files as the claim's attempt, settle the job."""

from __future__ import annotations

import logging
import time

import torch
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from PIL import Image

from rendering.compose.copy_rules import recipe_copy_problem
from rendering.compose.formats import fit_to_format
from rendering.compose.recipes import render_size
from rendering.design.compositor import compose
from rendering.design.recipe import recipe_inputs
from rendering.engine.generate import get_renderer, library_versions
from rendering.engine.memory import OutOfMemory, render_with_ladder
from rendering.jobs.background_run import background_run
from rendering.jobs.edit_layers import edit_images, edited_background, layered_edit_recipe
from rendering.jobs.enqueue import edit_chain_continue
from rendering.jobs.output import render_finish, render_request_for
from rendering.jobs.store import store_asset
from rendering.models import Asset, JobKind, RenderJob

logger = logging.getLogger(__name__)


RECIPE_KEYS = ("prompt", "negative_prompt", "seed", "steps", "true_cfg_scale", "bucket",
               "render_scale", "output_size", "format")


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


def render_next(*, worker: str = "in-process") -> list[Asset]:
    """Claim the next job (or a batch of compatible jobs) in fair order and render it.

    Returns the stored assets. A cancelled job's image is discarded; a failure marks its jobs
    failed with a reason a user can read; a storage fault puts the job back in the queue.
    """
    from celery.exceptions import SoftTimeLimitExceeded

    from rendering.jobs.states import ProgressReporter, job_claim_next, job_fail

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
    if first is not None and first[2] == JobKind.BACKGROUND:  # no asset: a layer to compose on
        background_run(claims[0], first[1])
        return []
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
    requests = [render_request_for(recipes[c.job_id], renderer) for c in valid]
    started = time.monotonic()
    try:
        images, _mode = render_with_ladder(renderer, requests, ProgressReporter(valid))
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
        image, recipe = render_finish(image, recipes[claim.job_id], renderer, request,
                                batch_size=len(valid))
        asset = store_asset(claim, image, recipe, gpu_seconds=gpu_seconds)
        if asset is not None:
            assets.append(asset)
    return assets


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

    from rendering.engine.edit import EditRequest, get_edit_renderer
    from rendering.jobs.states import ProgressReporter, job_fail

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
    layered = bool(source.design)  # a composed ad: the model edits its background layer
    references, inputs = (), {}
    try:
        if layered:
            inputs = recipe_inputs(source.recipe or {})
            image, references = edit_images(source, inputs)
        else:
            with default_storage.open(source.file.name, "rb") as handle:
                image = Image.open(handle)
                image.load()
        renderer = get_edit_renderer()
        request = EditRequest(
            references=tuple(references),
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
    completed = {**recipe, **renderer.recipe_fields(),
                 "torch_threads": torch.get_num_threads(), "libraries": library_versions()}
    design = None
    if layered:  # the layers go back on top of the edited background: product and copy exact
        try:
            layer, design = edited_background(source=source, recipe=recipe, edited=edited,
                                              inputs=inputs)
            edited = compose(design, inputs)
        except (ValidationError, OSError) as exc:
            job_fail(claim, f"Editing failed: the layers could not go back on ({exc}).")
            return None
        completed = layered_edit_recipe(source=source, recipe=completed, layer=layer,
                                        design=design)
        completed["product_reference"] = bool(references)
    else:
        out_w, out_h = recipe["output_size"]
        edited = fit_to_format(edited.convert("RGB"), out_w, out_h)
    asset = store_asset(claim, edited, completed, gpu_seconds=time.monotonic() - started,
                         parent=source, design=design)
    if asset is not None and recipe.get("then"):
        edit_chain_continue(asset=asset, job_id=claim.job_id)
    return asset
