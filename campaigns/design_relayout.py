"""Laying a composed asset out again: in another of its format's designed layouts with the copy
edited on the canvas (the editor's layout switcher), and a copy change applied to every size
of a product in a campaign, each size re-laid out for its own format (never boxes copied
across sizes), all queued on the cpu queue or none.
"""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError
from django.db import transaction

from brands.audit import audit_record
from campaigns.design_edits import (
    asset_design_check,
    check_text_fits,
    design_input_names,
    design_job,
)
from campaigns.models import Slot
from rendering.design.layout_classes import GRIDS, aspect_class
from rendering.design.layout_context import LayoutError
from rendering.design.recipe import recipe_design
from rendering.design.scene_recipe import scene_source
from rendering.design.schema import design_hash, design_validate
from rendering.design.schema_layers import MAX_TEXT, ROLES
from rendering.jobs.enqueue import jobs_create
from rendering.models import Asset, BackgroundLayer, RenderJob

# The lines "Apply to every size" carries: the price and the disclaimer come from the catalog
# and the brand kit, so they are changed there.
SHARED_ROLES = ("headline", "subline", "cta")


def asset_layouts(asset: Asset) -> list[str]:
    """The designed layouts of the asset's format class (its current one among them)."""
    recipe = asset.recipe or {}
    fmt = recipe.get("format") or {}
    width, height = recipe.get("output_size") or [asset.width, asset.height]
    return list(GRIDS[aspect_class(width, height, fmt.get("kind", ""), fmt.get("dpi"))].layouts)


def copy_clean(copy, roles=ROLES) -> dict[str, str]:
    """The copy as {role: text}, whitespace folded; a ValidationError naming ``copy.<role>``
    for a line that is not text a layout can take. An empty line removes it (not the
    headline)."""
    if not isinstance(copy, dict):
        raise ValidationError({"copy": ["Send the copy as an object of role: text."]})
    errors, out = {}, {}
    for role, text in copy.items():
        path = f"copy.{role}"
        if role not in roles:
            errors[path] = [f"Unknown line; use {', '.join(roles)}."]
        elif not isinstance(text, str) or len(text) > MAX_TEXT:
            errors[path] = [f"Send text of at most {MAX_TEXT} characters."]
        elif any(unicodedata.category(c) in ("Cc", "Cs") for c in text.replace("\n", " ")):
            errors[path] = ["Remove the control characters."]
        elif not text.strip() and role == "headline":
            errors[path] = ["An ad needs a headline."]
        else:
            out[role] = " ".join(text.split())
    if errors:
        raise ValidationError(errors)
    return out


def copy_merged(recipe: dict, copy: dict[str, str]) -> dict[str, str]:
    """The recipe's copy with ``copy`` over it (an empty line removed)."""
    merged = {**(recipe.get("copy") or {}), **copy}
    return {role: text for role, text in merged.items() if text}


def _laid_out(asset: Asset, copy: dict[str, str], layout: str) -> dict:
    """The asset's recipe laid out in ``layout`` with ``copy`` over its own, on the asset's
    own background (a painted scene is cut again under the product's new place)."""
    ids = asset_layouts(asset)
    recipe = {k: v for k, v in asset.recipe.items() if k not in ("design", "inputs")}
    recipe["copy"] = copy_merged(recipe, copy)
    recipe["variant"] = ids.index(layout) or len(ids)  # variant n takes the n-th layout
    current = asset.design["layers"][0]
    design = recipe_design(recipe, background=current["source"])
    layers = [dict(current)] + design["layers"][1:]
    scene = (recipe.get("background") or {}).get("layer")
    found = BackgroundLayer.objects.filter(workspace_id=asset.workspace_id,
                                           recipe_sha256=scene).first() if scene else None
    cutout = recipe.get("cutout")
    if found is not None and current["source"].get("type") == "image":
        source, _ = scene_source({**design, "layers": layers},
                                 layer_size=(found.width, found.height),
                                 layer_rect=found.product_rect, layer_sha256=found.sha256,
                                 cutout_size=tuple(cutout["size"]) if cutout else None)
        layers[0] = {**current, "source": source}
    return design_validate({**design, "layers": layers})


def asset_relayout(*, asset: Asset, user, layout: str, copy) -> dict:
    """The asset's design laid out again in ``layout`` (one of ``asset_layouts``) with the
    copy edited on the canvas: what the editor shows next (nothing is saved)."""
    asset_design_check(asset=asset, user=user, design=asset.design)
    copy = copy_clean(copy)
    if layout not in asset_layouts(asset):
        raise ValidationError({"layout": [f"Choose one of {', '.join(asset_layouts(asset))}."]})
    try:
        return _laid_out(asset, copy, layout)
    except LayoutError as exc:
        raise ValidationError({"layout": [str(exc)]}) from None


def _settable(target: Asset, copy: dict[str, str]) -> tuple[dict, dict[str, str]] | None:
    """The target laid out with ``copy`` in its own layout, else the first other layout of
    its class that sets every changed line in full; None when no layout can."""
    ids = asset_layouts(target)
    current = target.design.get("layout")
    for layout in sorted(ids, key=lambda i: i != current):
        try:
            design = _laid_out(target, copy, layout)
            inputs = design_input_names(target, design)
            check_text_fits(design, inputs)
        except (LayoutError, ValidationError):
            continue
        if _carries(design, copy):
            return design, inputs
    return None


def _carries(design: dict, copy: dict[str, str]) -> bool:
    texts = {la.get("role"): la["text"] for la in design["layers"] if la["kind"] == "text"}
    return all(texts.get(role, "") == text for role, text in copy.items())


def product_assets(asset: Asset) -> list[Asset]:
    """The latest composed version of every slot of the asset's product in its campaign."""
    slots = Slot.objects.filter(campaign_id=asset.slot.campaign_id,
                                product_id=asset.slot.product_id).select_related("format")
    latest = []
    for slot in slots.order_by("format__width", "format__height", "id"):
        found = slot.assets.order_by("-created_at", "-id").first()
        if found is not None and found.design:
            found.slot = slot
            latest.append(found)
    return latest


def product_copy_apply(*, asset: Asset, user, copy) -> list[RenderJob]:
    """Queue the copy change (headline, subline, call to action) as the next version of every
    size of the asset's product in its campaign, each laid out for its format, in review and
    on the cpu queue. Text that no layout of some format can set refuses the whole change,
    naming the format, before anything is queued."""
    asset_design_check(asset=asset, user=user, design=asset.design)
    copy = copy_clean(copy, SHARED_ROLES)
    if not copy:
        raise ValidationError({"copy": ["Change the headline, subline or button first."]})
    if asset.slot_id is None:
        raise ValidationError("This asset belongs to no campaign slot.")
    plans, problems = [], []
    for target in product_assets(asset):
        if _carries(target.design, copy):  # e.g. the size just saved: its layout is kept
            continue
        planned = _settable(target, copy)
        if planned is None:
            fmt = target.slot.format
            problems.append(f"{fmt.name} ({fmt.width}x{fmt.height}): no layout can set this "
                            "copy in full; shorten it.")
        elif design_hash(planned[0]) != target.design_sha256:
            plans.append((target, *planned))
    if problems:
        raise ValidationError({"copy": problems})
    if not plans:
        raise ValidationError({"copy": ["Every size of this product already carries this copy."]})
    with transaction.atomic():
        jobs = jobs_create([design_job(
            asset=target, user=user, design=design, inputs=inputs,
            recipe={**target.recipe, "copy": copy_merged(target.recipe, copy)})
            for target, design, inputs in plans])
        audit_record(workspace_id=asset.workspace_id, actor=user, verb="product.copy_applied",
                     obj=asset, data={"copy": copy, "jobs": [job.pk for job in jobs],
                                      "assets": [target.pk for target, _, _ in plans]})
    return jobs
