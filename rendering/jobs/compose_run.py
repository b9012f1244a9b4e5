"""Running a claimed composition (cpu queue): the recipe's design is laid out for its format
and composed from its input files (checked by hash), and stored like a render. No GPU and no
torch: a price or headline change costs milliseconds here."""

from __future__ import annotations

import logging
import time

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage

from rendering.design.compositor import compose
from rendering.design.layout_context import LayoutError
from rendering.design.recipe import ENGINE, recipe_design, recipe_inputs
from rendering.design.scene_recipe import image_size, scene_source
from rendering.jobs.states import job_claim_next, job_fail
from rendering.jobs.store import store_asset
from rendering.models import Asset, BackgroundLayer, JobQueue, RenderJob

logger = logging.getLogger(__name__)

COMPOSE_KEYS = ("engine", "output_size", "format", "copy", "palette", "background")


def _problem(recipe) -> str | None:
    if not isinstance(recipe, dict):
        return "the job has no recipe"
    missing = [key for key in COMPOSE_KEYS if key not in recipe]
    if missing:
        return f"the recipe lacks {', '.join(missing)}"
    if recipe["engine"] != ENGINE:
        return f"the recipe is for {recipe['engine']!r}, not a composition"
    return None


def _scene(claim, recipe: dict, design: dict, inputs: dict, *, workspace_id: int
           ) -> dict | None:
    """The scene this composition is cut from (its file joins ``inputs``) and the cut; None
    when it cannot be had (the job is failed with the reason)."""
    key = recipe["background"].get("layer")
    layer = BackgroundLayer.objects.filter(workspace_id=workspace_id, recipe_sha256=key).first()
    if layer is None:
        job_fail(claim, "This composition cannot run: the scene it is cut from was never "
                        "painted or is gone. Generate the slot again.")
        return None
    with default_storage.open(layer.file.name, "rb") as handle:
        inputs[layer.sha256] = handle.read()
    cutout = recipe.get("cutout")
    cutout_size = image_size(inputs[cutout["sha256"]]) if cutout else None
    source, moved = scene_source(design, layer_size=(layer.width, layer.height),
                                 layer_rect=layer.product_rect, layer_sha256=layer.sha256,
                                 cutout_size=cutout_size)
    return {"source": source, "info": {
        "layer": key, "file": layer.file.name, "sha256": layer.sha256,
        "size": [layer.width, layer.height],
        "derive": layer.recipe.get("derive"), "master": layer.recipe.get("master", key),
        # A plain picture has no product painted in it: nothing to line up.
        "crop": source["crop"],
        "aligned": None if layer.recipe.get("derive") == "plain" else not moved,
        "inputs_key": layer.recipe.get("inputs_key")}}


def compose_next(*, worker: str = "in-process") -> Asset | None:
    """Claim the next composition in fair order, compose it and store its asset. A recipe
    that cannot be composed (an input file gone or changed, copy that cannot be set) fails the
    job with the reason; nothing is retried that would fail the same way."""
    claims = job_claim_next(worker=worker, queue=JobQueue.CPU)
    if not claims:
        return None
    [claim] = claims
    row = RenderJob.objects.filter(pk=claim.job_id).values_list(
        "recipe", "source_asset_id", "workspace_id").first()
    recipe, source_id, workspace_id = row if row else (None, None, None)
    parent = Asset.objects.filter(pk=source_id).first() if source_id else None
    problem = _problem(recipe)
    if problem is None and source_id and parent is None:
        problem = "the asset whose design changed no longer exists"
    if problem:
        job_fail(claim, f"This composition cannot run: {problem}.")
        return None
    started = time.perf_counter()
    try:
        inputs = recipe_inputs(recipe)
        design = recipe_design(recipe)
        scene = None
        if recipe["background"].get("type") == "scene" and not recipe.get("design"):
            scene = _scene(claim, recipe, design, inputs, workspace_id=workspace_id)
            if scene is None:
                return None
            design = recipe_design(recipe, background=scene["source"])
        image = compose(design, inputs)
    except ValidationError as exc:
        job_fail(claim, "This composition cannot run: " + " ".join(exc.messages))
        return None
    except LayoutError as exc:
        job_fail(claim, f"This composition cannot run: {exc}")
        return None
    except FileNotFoundError as exc:
        job_fail(claim, f"This composition cannot run: an input file is gone ({exc}).")
        return None
    completed = {**recipe, "compose_seconds": round(time.perf_counter() - started, 4)}
    if scene is not None:
        completed["scene"] = scene["info"]
    return store_asset(claim, image, completed, gpu_seconds=0, design=design, parent=parent)
