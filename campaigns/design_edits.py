"""Saving a changed design of a composed asset: validated (a clear error naming the field),
its input files limited to what the workspace has, and composed as the asset's next version
(in review) on the cpu queue: no GPU. The service a visual editor calls to apply a change."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import transaction

from brands.access import require
from brands.audit import audit_record
from brands.models import BrandFont, BrandLogo, Membership, ProductPhoto
from rendering.design.schema import design_hash, design_validate, layer_inputs
from rendering.design.text_draw import text_lines
from rendering.jobs.enqueue import jobs_create
from rendering.models import Asset, BackgroundLayer, JobKind, PromptTemplate, RenderJob


def _known_files(asset: Asset, wanted: set[str]) -> dict[str, str]:
    """The stored file of each ``wanted`` hash that a design of this asset may use: its own
    inputs, else a brand font, logo, product cut-out or painted scene of its workspace (one
    query each, for the wanted hashes only)."""
    recipe = asset.recipe or {}
    known = {d: n for d, n in (recipe.get("inputs") or {}).items() if d in wanted}
    for key in ("font", "logo", "cutout", "scene", "background_file"):
        ref = recipe.get(key)
        if ref and ref["sha256"] in wanted:
            known[ref["sha256"]] = ref["file"]
    missing = wanted - set(known)
    ws = asset.workspace_id
    for queryset, field, digest in (
            (BrandFont.objects.filter(brand__workspace_id=ws), "file", "sha256"),
            (BrandLogo.objects.filter(brand__workspace_id=ws), "file", "sha256"),
            (ProductPhoto.objects.filter(product__workspace_id=ws), "cutout", "cutout_sha256"),
            (BackgroundLayer.objects.filter(workspace_id=ws), "file", "sha256"),
            (PromptTemplate.objects.filter(workspace_id=ws), "background_image",
             "background_image_sha256")):
        if not missing:
            break
        for name, found in queryset.filter(**{f"{digest}__in": missing}).values_list(field,
                                                                                     digest):
            known.setdefault(found, name)
        missing = wanted - set(known)
    return known


def check_text_fits(design: dict, inputs: dict[str, str]) -> None:
    """Every text layer sets in its box with its fonts (a 400 naming the layer, before any
    job): only the fonts are read."""
    fonts = {}
    for index, layer in enumerate(design["layers"]):
        if layer["kind"] != "text":
            continue
        for _field, digest in layer_inputs(layer):
            if digest not in fonts:
                with default_storage.open(inputs[digest], "rb") as handle:
                    fonts[digest] = handle.read()
        text_lines(layer, fonts, path=f"layers[{index}].text")


def _editor_membership(asset: Asset, user) -> Membership:
    membership = Membership.objects.filter(user=user, workspace_id=asset.workspace_id).first()
    if membership is None:
        raise PermissionDenied("You are not a member of this workspace.")
    require(membership, "asset.edit")
    if not asset.design:
        raise ValidationError("This asset is a picture the model drew; only composed ads "
                              "have a design to change.", code="no_design")
    return membership


def design_input_names(asset: Asset, design: dict) -> dict[str, str]:
    """The stored file of every input the (validated) ``design`` needs, each one the asset's
    own or its workspace's; a ValidationError naming each layer field whose file is unknown."""
    wanted = {digest for layer in design["layers"] for _, digest in layer_inputs(layer)}
    known, inputs, unknown = _known_files(asset, wanted), {}, {}
    for index, layer in enumerate(design["layers"]):
        for field, digest in layer_inputs(layer):
            if digest in known:
                inputs[digest] = known[digest]
            else:
                unknown[f"layers[{index}].{field}"] = [
                    "No font, logo, product cut-out or painted scene of this workspace has "
                    "this hash."]
    if unknown:
        raise ValidationError(unknown)
    return inputs


def asset_design_check(*, asset: Asset, user, design) -> tuple[dict, dict[str, str]]:
    """The validated ``design`` of ``asset`` and its input files by hash, for a user who may
    edit it (PermissionDenied otherwise); a ValidationError naming the field when it is not
    a design this asset may have."""
    _editor_membership(asset, user)
    if not isinstance(design, dict):
        raise ValidationError({"design": ["Send the design as a JSON object."]})
    design = design_validate(design)
    return design, design_input_names(asset, design)


def design_job(*, asset: Asset, user, design: dict, inputs: dict[str, str],
               recipe: dict | None = None) -> RenderJob:
    """The unsaved composition job of ``design`` as the next version of ``asset``."""
    recipe = {**(recipe or asset.recipe), "design": design, "inputs": inputs,
              "design_of": {"asset": asset.pk, "sha256": asset.sha256}}
    return RenderJob(workspace_id=asset.workspace_id, slot_id=asset.slot_id, created_by=user,
                     kind=JobKind.COMPOSE, source_asset=asset, recipe=recipe)


def asset_design_save(*, asset: Asset, user, design) -> RenderJob:
    """Queue the composition of ``design`` as the next version of ``asset``."""
    design, inputs = asset_design_check(asset=asset, user=user, design=design)
    if design_hash(design) == asset.design_sha256:
        raise ValidationError("The design is unchanged.", code="design_unchanged")
    check_text_fits(design, inputs)
    with transaction.atomic():
        [job] = jobs_create([design_job(asset=asset, user=user, design=design, inputs=inputs)])
        audit_record(workspace_id=asset.workspace_id, actor=user, verb="asset.design_changed",
                     obj=asset, data={"job": job.pk, "design_sha256": design_hash(design)})
    return job
