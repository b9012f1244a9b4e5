"""The canvas editor's endpoints on the asset page (JSON in; a PNG or JSON out): preview a
changed design, lay it out again in another layout, save it as the next version, and apply
its copy to every size. Each is scoped to the workspace (404) and to the roles that may edit
assets (403); a bad design is a 400 whose ``errors`` name the fields."""

from __future__ import annotations

import json

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.http import HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_POST
from rest_framework.throttling import UserRateThrottle

from brands.access import can, workspace_view
from campaigns import design_edits, design_preview, design_relayout
from campaigns.channel_frames import channel_frames
from core.addresses import client_address
from rendering.models import Asset

LAYOUT_LABELS = {
    "wide.split": "Panel left, product right", "wide.mirror": "Product left, panel right",
    "rectangle.stack": "Panel left, product right",
    "rectangle.mirror": "Product left, panel right",
    "square.split": "Side panel", "square.stack": "Centred stack",
    "strip.row": "One row", "leaderboard.row": "One row", "portrait.stack": "Stack",
    "story.center": "Centred stack", "skyscraper.stack": "Stack", "print.poster": "Poster",
}


def asset_page_editor(request, membership, asset) -> dict:
    """What the asset page shows of the editor (composed assets, roles that may edit; else
    None) and the channel frames around the ad."""
    context = {"editor": None, "frames": channel_frames(asset)}
    if not asset.design or not can(membership, "asset.edit"):
        return context
    design = asset.design
    used = [la["color"] for la in design["layers"] if la["kind"] in ("text", "shape")]
    palette = list(dict.fromkeys(c.upper() for c in [*(asset.recipe or {}).get("palette", []),
                                                     *used]))
    width, height = design["size"]
    bleed = design.get("bleed", 0)
    urls = {key: reverse(name, kwargs={"ws": membership.workspace.slug, "asset_id": asset.pk})
            for key, name in (("preview", "asset-design-preview"),
                              ("relayout", "asset-design-relayout"),
                              ("save", "asset-design-save"), ("apply", "asset-copy-apply"))}
    context["editor"] = {
        "data": {"design": design, "csrf": get_token(request), "urls": urls},
        "layout_choices": [(lid, LAYOUT_LABELS.get(lid, lid))
                           for lid in design_relayout.asset_layouts(asset)],
        "palette": palette, "canvas": [width + 2 * bleed, height + 2 * bleed],
        "tall": height > width,  # the panel beside the canvas, not under it
        # Tall formats fit the window's height; wide ones the column's width.
        "max_width": f"calc(72vh * {(width + 2 * bleed) / (height + 2 * bleed):.4f})",
    }
    return context


class PreviewThrottle(UserRateThrottle):
    """Previews count per user at the API's rate (ADSTUDIO_API_RATE): the editor debounces."""

    scope = "design-preview"

    def get_rate(self):
        return settings.ADSTUDIO_API_RATE

    def get_ident(self, request):
        return client_address(request)


def _body(request) -> dict:
    try:
        data = json.loads(request.body or b"{}")
    except RequestDataTooBig:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raise ValidationError({"design": [f"The request is over {limit // 1024} KB."]}) from None
    except (ValueError, UnicodeDecodeError):
        raise ValidationError({"design": ["Send the design as JSON."]}) from None
    if not isinstance(data, dict):
        raise ValidationError({"design": ["Send a JSON object."]})
    return data


def _errors(exc: ValidationError) -> JsonResponse:
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"design": exc.messages}
    return JsonResponse({"errors": errors, "detail": " ".join(exc.messages)}, status=400)


def _asset(membership, asset_id) -> Asset:
    return get_object_or_404(Asset.objects.select_related("slot__format", "slot__campaign"),
                             pk=asset_id, workspace=membership.workspace)


@require_POST
@workspace_view("asset.edit")
def asset_design_preview(request, membership, asset_id):
    """POST {"design": {...}} → the PNG it composes to (nothing stored)."""
    asset = _asset(membership, asset_id)
    throttle = PreviewThrottle()
    if not throttle.allow_request(request, None):
        return JsonResponse({"detail": "Too many previews; wait a moment."}, status=429,
                            headers={"Retry-After": str(int(throttle.wait() or 1))})
    try:
        png = design_preview.asset_design_preview(asset=asset, user=request.user,
                                                  design=_body(request).get("design"))
    except ValidationError as exc:
        return _errors(exc)
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@workspace_view("asset.edit")
def asset_design_relayout(request, membership, asset_id):
    """POST {"layout": id, "copy": {role: text}} → {"design": ...} laid out again."""
    asset = _asset(membership, asset_id)
    try:
        body = _body(request)
        design = design_relayout.asset_relayout(asset=asset, user=request.user,
                                                layout=body.get("layout"),
                                                copy=body.get("copy") or {})
    except ValidationError as exc:
        return _errors(exc)
    return JsonResponse({"design": design})


def _where(membership, job) -> dict:
    ws = membership.workspace.slug
    made = Asset.objects.filter(job=job).first()
    return {"job": job.pk, "status": job.status,
            "asset_url": reverse("asset-detail", kwargs={"ws": ws, "asset_id": made.pk})
            if made else "", "version": made.version if made else None}


@require_POST
@workspace_view("asset.edit")
def asset_design_save(request, membership, asset_id):
    """POST {"design": {...}} → queued as the next version (in review), where it went."""
    asset = _asset(membership, asset_id)
    try:
        job = design_edits.asset_design_save(asset=asset, user=request.user,
                                             design=_body(request).get("design"))
    except ValidationError as exc:
        return _errors(exc)
    job.refresh_from_db()
    return JsonResponse({**_where(membership, job), "review_url": reverse(
        "review-queue", kwargs={"ws": membership.workspace.slug})}, status=202)


@require_POST
@workspace_view("asset.edit")
def product_copy_apply(request, membership, asset_id):
    """POST {"copy": {role: text}} → every size of the product re-laid out and queued."""
    asset = _asset(membership, asset_id)
    try:
        jobs = design_relayout.product_copy_apply(asset=asset, user=request.user,
                                                  copy=_body(request).get("copy") or {})
    except ValidationError as exc:
        return _errors(exc)
    for job in jobs:
        job.refresh_from_db()
    return JsonResponse({"jobs": [_where(membership, job) for job in jobs],
                         "campaign_url": reverse("campaign-detail", kwargs={
                             "ws": membership.workspace.slug,
                             "campaign_id": asset.slot.campaign_id})}, status=202)
