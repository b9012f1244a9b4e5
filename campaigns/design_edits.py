"""Saving a changed design of a composed asset: validated (a clear error naming the field),
its input files limited to what the workspace has, and composed as the asset's next version
(in review) on the cpu queue: no GPU. The service a visual editor calls to apply a change."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from brands.access import require
from brands.audit import audit_record
from brands.models import BrandFont, BrandLogo, Membership, ProductPhoto
from rendering.design.schema import design_hash, design_validate, layer_inputs
from rendering.jobs.enqueue import jobs_create
from rendering.models import Asset, JobKind, RenderJob


def _known_files(asset: Asset) -> dict[str, str]:
    """The files a design of this asset may use, by hash: its own inputs, and the
    workspace's brand fonts, logos and product cut-outs."""
    known = dict((asset.recipe or {}).get("inputs") or {})
    for key in ("font", "logo", "cutout"):
        ref = (asset.recipe or {}).get(key)
        if ref:
            known[ref["sha256"]] = ref["file"]
    ws = asset.workspace_id
    for model, field, sha in ((BrandFont, "file", "sha256"), (BrandLogo, "file", "sha256"),
                              (ProductPhoto, "cutout", "cutout_sha256")):
        owner = "brand__workspace_id" if model is not ProductPhoto else "product__workspace_id"
        for name, digest in model.objects.filter(**{owner: ws}).exclude(**{sha: ""}) \
                .values_list(field, sha):
            known.setdefault(digest, name)
    return known


def asset_design_save(*, asset: Asset, user, design) -> RenderJob:
    """Queue the composition of ``design`` as the next version of ``asset``."""
    membership = Membership.objects.filter(user=user, workspace_id=asset.workspace_id).first()
    if membership is None:
        raise PermissionDenied("You are not a member of this workspace.")
    require(membership, "asset.edit")
    if not asset.design:
        raise ValidationError("This asset is a picture the model drew; only composed ads "
                              "have a design to change.", code="no_design")
    if not isinstance(design, dict):
        raise ValidationError({"design": ["Send the design as a JSON object."]})
    design = design_validate(design)
    if design_hash(design) == asset.design_sha256:
        raise ValidationError("The design is unchanged.", code="design_unchanged")
    known, inputs, unknown = _known_files(asset), {}, {}
    for index, layer in enumerate(design["layers"]):
        for field, digest in layer_inputs(layer):
            if digest in known:
                inputs[digest] = known[digest]
            else:
                unknown[f"layers[{index}].{field}"] = [
                    "No font, logo or product cut-out of this workspace has this hash."]
    if unknown:
        raise ValidationError(unknown)
    with transaction.atomic():
        recipe = {**asset.recipe, "design": design, "inputs": inputs,
                  "design_of": {"asset": asset.pk, "sha256": asset.sha256}}
        [job] = jobs_create([RenderJob(
            workspace_id=asset.workspace_id, slot_id=asset.slot_id, created_by=user,
            kind=JobKind.COMPOSE, source_asset=asset, recipe=recipe)])
        audit_record(workspace_id=asset.workspace_id, actor=user, verb="asset.design_changed",
                     obj=asset, data={"job": job.pk, "design_sha256": design_hash(design)})
    return job
