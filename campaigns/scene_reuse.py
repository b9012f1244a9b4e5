"""Recomposing on a scene already painted: a stale scene ad whose picture inputs (the scene's
prompt and negatives, the product's cut-out, steps, guidance) are unchanged gets its new copy,
price, logo or colours on the same background, with no GPU job; otherwise it needs a new
scene ("re-render")."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from rendering.compose.prompts import compose_prompt
from rendering.design.recipe import product_cutout_photo
from rendering.design.scene_recipe import scene_key, scene_prompt
from rendering.models import Asset, Background, PromptTemplate


def scene_reused(job, composed, *, around_product: bool = True) -> bool:
    """Point the unsaved compose ``job`` at the scene of its slot's latest ad when that scene
    still fits what would be painted now (``composed``: the template's prompt; a plain picture
    does not depend on the product's cut-out); True if so."""
    previous = (Asset.objects.filter(slot_id=job.slot_id, recipe__scene__isnull=False)
                .order_by("-created_at", "-id").values_list("recipe", flat=True).first())
    if not previous or previous.get("variant", 0) != job.variant:
        return False
    background = previous.get("background") or {}
    prompt, negative = scene_prompt(composed, around_product=around_product)
    cutout = job.recipe.get("cutout") if around_product else None
    if background.get("inputs_key") != scene_key(prompt=prompt, negative_prompt=negative,
                                                  cutout=cutout):
        return False
    job.recipe = {**job.recipe, "background": background}
    return True


def scenes_to_repaint(asset_ids) -> set[int]:
    """Of these assets, the scene ads whose scene would be painted differently now (a new
    prompt, negatives or product cut-out): they need a re-render, the others a recompose.
    One prompt per slot and template."""
    keys: dict[tuple, str | None] = {}
    repaint = set()
    for asset in (Asset.objects.filter(pk__in=list(asset_ids), recipe__scene__isnull=False)
                  .select_related("slot__campaign__brand", "slot__product", "slot__format")):
        template_id = (asset.recipe.get("template") or {}).get("id")
        key = (asset.slot_id, template_id)
        if key not in keys:
            keys[key] = _scene_key_now(asset.slot, template_id)
        if keys[key] != (asset.recipe.get("background") or {}).get("inputs_key"):
            repaint.add(asset.pk)
    return repaint


def _scene_key_now(slot, template_id) -> str | None:
    template = PromptTemplate.objects.filter(pk=template_id).first()
    if template is None or template.background not in (Background.SCENE, Background.PLAIN):
        return None  # no scene would be painted: it needs a new render either way
    campaign = slot.campaign
    try:
        composed = compose_prompt(template=template, brand=campaign.brand,
                                  product=slot.product, campaign=campaign, format=slot.format,
                                  language=campaign.language)
    except ValidationError:
        return None
    around = template.background == Background.SCENE
    prompt, negative = scene_prompt(composed, around_product=around)
    photo = product_cutout_photo(slot.product) if around else None
    return scene_key(prompt=prompt, negative_prompt=negative,
                     cutout={"sha256": photo.cutout_sha256} if photo else None)
