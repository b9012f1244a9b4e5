"""The jobs of one product's scene: one master per product, template and variant, an outpaint
for each format the master does not reach, and a composition per format that waits for its
background. A background already painted for the same recipe (or being painted) is reused, so
generating again with the same seed, or recomposing, paints nothing new.

Every format is laid out first (its layout says where the product goes); the master then
covers the union of the formats' frames (rendering/design/scene_geometry.py), so most formats
are a plain crop of it, cut on the CPU when they are composed.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from rendering.design.recipe import recipe_design
from rendering.design.scene_geometry import (
    covers,
    crop_for,
    frame_aspect,
    frame_of,
    master_plan,
    outpaint_plan,
)
from rendering.design.scene_recipe import (
    canvas_of,
    design_product_rect,
    scene_master_recipe,
    scene_outpaint_recipe,
    virtual_rect,
)
from rendering.jobs.enqueue import jobs_create
from rendering.models import BackgroundLayer, JobKind, JobStatus, RenderJob


@dataclass(frozen=True)
class SceneFormat:
    """One format of the scene: its compose job (unsaved) with the recipe laid out for it,
    and where its product goes (a stand-in when its layout shows none)."""
    job: RenderJob
    canvas: tuple[int, int]
    rect: tuple[int, int, int, int]
    shows_product: bool


def scene_format(job: RenderJob) -> SceneFormat:
    """Lay the compose job's recipe out to find where its product goes."""
    recipe = job.recipe
    design = recipe_design(recipe)
    canvas = canvas_of(design)
    cutout = recipe.get("cutout")
    rect = design_product_rect(design, tuple(cutout["size"])) if cutout else None
    return SceneFormat(job, canvas, rect or virtual_rect(canvas), rect is not None)


def _background_job(*, workspace_id: int, recipe: dict, template_job: RenderJob,
                    waits_for: RenderJob | None) -> tuple[RenderJob | None, bool]:
    """The job that paints ``recipe`` and whether it is new: (None, False) when it is already
    painted, the unfinished job that is painting it, or a new one."""
    key = recipe["scene_sha256"]
    if BackgroundLayer.objects.filter(workspace_id=workspace_id, recipe_sha256=key).exists():
        return None, False
    pending = RenderJob.objects.filter(
        workspace_id=workspace_id, kind=JobKind.BACKGROUND, recipe__scene_sha256=key,
        status__in=(JobStatus.QUEUED, JobStatus.RUNNING)).order_by("id").first()
    if pending is not None:
        return pending, False
    [job] = jobs_create([RenderJob(
        workspace_id=workspace_id, slot=template_job.slot, created_by=template_job.created_by,
        variant=template_job.variant, recipe=recipe, refresh=template_job.refresh,
        kind=JobKind.BACKGROUND, waits_for=waits_for)])
    return job, True


def scene_jobs_create(*, formats: list[SceneFormat], prompt: str, negative_prompt: str,
                      seed: int, around_product: bool = True) -> list[RenderJob]:
    """Create the scene's background jobs and the compositions (in the caller's transaction);
    returns every job made, backgrounds first. Not ``around_product``: a plain picture (no
    product in it), cut for every format and never outpainted (nothing to line up)."""
    first = formats[0].job
    recipe = first.recipe
    cutout = recipe.get("cutout") if around_product else None
    shown = recipe.get("cutout") or {}  # the cut-out the layouts place, painted or not
    frames = [frame_of(f.canvas, f.rect) for f in formats]
    limit = settings.ADSTUDIO_SCENE_MAX_ASPECT
    within = [fr for fr in frames if 1 / limit <= frame_aspect(fr) <= limit] or frames[:1]
    aspect = shown["size"][0] / shown["size"][1] if shown.get("size") else 1.0
    plan = master_plan(within, cutout_aspect=aspect, pixels=settings.ADSTUDIO_SCENE_PIXELS,
                       max_aspect=limit)
    provenance = {key: recipe[key] for key in ("template", "brand", "product", "language")}
    master = scene_master_recipe(
        prompt=prompt, negative_prompt=negative_prompt, seed=seed, plan=plan, cutout=cutout,
        provenance={**provenance, "variant": first.variant})
    workspace_id = first.workspace_id
    made: list[RenderJob] = []
    master_job, new = _background_job(workspace_id=workspace_id, recipe=master,
                                      template_job=first, waits_for=None)
    made += [master_job] if new else []
    composes = []
    for fmt in formats:
        layer, waits_for = master["scene_sha256"], master_job
        # Without its product the format needs no exact fit: the nearest crop will do.
        if around_product and fmt.shows_product and not covers(
                plan.size, crop_for(plan.size, plan.product_rect, fmt.canvas, fmt.rect)):
            extend = outpaint_plan(plan.size, plan.product_rect, fmt.canvas, fmt.rect,
                                   pixels=settings.ADSTUDIO_SCENE_PIXELS)
            outpaint = scene_outpaint_recipe(master=master, plan=extend,
                                             format_key=fmt.job.recipe["format"]["key"])
            job, new = _background_job(workspace_id=workspace_id, recipe=outpaint,
                                       template_job=fmt.job, waits_for=master_job)
            made += [job] if new else []
            layer, waits_for = outpaint["scene_sha256"], job
        fmt.job.recipe = {**fmt.job.recipe, "background": {
            "type": "scene", "layer": layer, "master": master["scene_sha256"],
            "inputs_key": master["inputs_key"]}}
        fmt.job.waits_for = waits_for
        composes.append(fmt.job)
    return made + jobs_create(composes)
