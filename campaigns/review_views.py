"""Dashboard pages for reviewing: the asset page, the review queue, edits and export."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from brands.access import can, workspace_view
from campaigns import export, review, services
from campaigns.editor_views import asset_page_editor
from campaigns.models import Campaign, ReviewEvent, Slot
from campaigns.review_undo import UNDO_SECONDS
from campaigns.selectors import asset_lineage
from rendering.design.layer_images import asset_layer_entries, asset_layer_png
from rendering.models import Asset, JobKind, RenderJob
from rendering.selectors import asset_checks


def _asset_or_404(membership, asset_id):
    return get_object_or_404(
        Asset.objects.select_related("slot__product", "slot__format", "slot__campaign",
                                     "job__created_by"),
        pk=asset_id, workspace=membership.workspace)


@workspace_view("workspace.view")
def asset_detail(request, membership, asset_id):
    """The asset at real size and fitted, its layers (composed), recipe, versions, compare,
    checks and reviews."""
    asset = _asset_or_404(membership, asset_id)
    lineage = asset_lineage(asset)
    versions = lineage.all
    compare = None
    if request.GET.get("compare", "").isdigit():
        compare = next((v for v in versions if v.pk == int(request.GET["compare"])), None)
    elif asset.parent_id:
        compare = next((v for v in versions if v.pk == asset.parent_id), None)
    return render(request, "campaigns/asset_detail.html", {
        "asset": asset, "versions": versions, "compare": compare,
        "layers": asset_layer_entries(asset),
        "events": ReviewEvent.objects.filter(asset=asset).select_related("user", "edit_job"),
        "edits": RenderJob.objects.filter(source_asset=asset, kind=JobKind.EDIT)
        .exclude(status="succeeded").order_by("-created_at"),
        "checks": asset_checks(asset),
        "can_review": review.asset_may_approve(asset=asset, membership=membership),
        "own_asset": review.asset_author_id(asset) == request.user.pk,
        "can_edit": can(membership, "asset.edit"),
        "next_url": request.GET.get("next", ""),
        "stale_question": review.stale_question(asset) if asset.is_stale else "",
        **asset_page_editor(request, membership, asset),  # the canvas editor, channel frames
    })


LAYER_THUMBNAIL_PX = 240


@workspace_view("workspace.view")
def asset_layer(request, membership, asset_id, index, variant):
    """One layer of a composed asset alone, as an RGBA PNG (full size or a thumbnail), after
    the workspace check."""
    asset = get_object_or_404(Asset, pk=asset_id, workspace=membership.workspace)
    try:
        data = asset_layer_png(asset, index,
                               fit=LAYER_THUMBNAIL_PX if variant == "thumbnail" else None)
    except LookupError:
        raise Http404("This asset has no such layer.") from None
    except (OSError, ValidationError):  # an input file gone from storage, or changed
        raise Http404("This layer's input files are missing or changed.") from None
    response = HttpResponse(data, content_type="image/png")
    # An asset's design never changes (an edit is a new version), so neither does its layer.
    response["Cache-Control"] = "private, max-age=3600"
    return response


REVIEW_ACTIONS = {
    "approve": "Approved.",
    "request_changes": "Sent back: the edit is being made and will come back for review.",
    "reject": "Rejected.",
}


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return fallback


@require_POST
@workspace_view("asset.review")
def asset_review(request, membership, asset_id, action):
    """Approve, request changes or reject one asset version."""
    asset = _asset_or_404(membership, asset_id)
    stale_refused, event = False, None
    try:
        if action == "approve":
            event = review.asset_approve(asset=asset, user=request.user,
                                 sha256=request.POST.get("sha256") or None,
                                 comment=request.POST.get("comment", ""),
                                 confirm_stale=request.POST.get("confirm_stale") == "yes")
        elif action == "request_changes":
            review.asset_request_changes(asset=asset, user=request.user,
                                         comment=request.POST.get("comment", ""),
                                         region=_region(request))
        else:
            event = review.asset_reject(asset=asset, user=request.user,
                                        comment=request.POST.get("comment", ""))
    except ValidationError as exc:
        problem, done = " ".join(exc.messages), ""
        stale_refused = isinstance(exc, review.StaleAssetError)
    else:
        problem, done = "", REVIEW_ACTIONS[action]
    if request.htmx:  # the review queue swaps the card for the outcome and moves on
        return render(request, "campaigns/_queue_outcome.html",
                      {"asset": asset, "problem": problem, "done": done,
                       "ask_stale": stale_refused, "undo": event,
                       "undo_seconds": UNDO_SECONDS,
                       "next_url": _safe_next(request, "")})
    if problem:
        messages.error(request, problem)
    else:
        messages.success(request, done)
    fallback = reverse("asset-detail", kwargs={"ws": membership.workspace.slug,
                                               "asset_id": asset.pk})
    if stale_refused:  # back to the asset, where the confirmation is asked
        return redirect(fallback)
    return redirect(_safe_next(request, fallback))


def _region(request):
    values = [request.POST.get(f"region_{k}", "").strip() for k in ("x", "y", "w", "h")]
    return values if any(values) else None


@require_POST
@workspace_view("asset.edit")
def asset_edit(request, membership, asset_id):
    """Edit by instruction (one per line for a chain), optionally in a marked region."""
    asset = _asset_or_404(membership, asset_id)
    try:
        review.asset_edit(asset=asset, user=request.user,
                          instruction=request.POST.get("instruction", ""),
                          region=_region(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("asset-detail", ws=membership.workspace.slug, asset_id=asset.pk)
    messages.success(request, "Editing: the new version will appear on the campaign page.")
    return redirect("campaign-detail", ws=membership.workspace.slug,
                    campaign_id=asset.slot.campaign_id)


@workspace_view("workspace.view")
def review_queue_view(request, membership):
    """Assets waiting for review, oldest first, with filters, keyboard shortcuts and bulk
    approve; ``selected`` (asset ids) comes back checked after a bulk approval that failed."""
    from campaigns.queue_views import queue_context

    return render(request, "campaigns/review_queue.html", queue_context(request, membership))


@require_POST
@workspace_view("asset.review")
def review_bulk_approve(request, membership):
    """Approve the chosen assets after an explicit confirmation; stale ones are skipped and
    listed unless the approver also confirmed those. What could not be approved stays
    selected."""
    from campaigns.queue_views import queue_back

    ids = [int(v) for v in request.POST.getlist("asset") if v.isdigit()]
    if request.POST.get("confirm") != "yes":
        messages.error(request, "Confirm the bulk approval first: tick “Yes, I checked "
                                "them”. Your selection is kept.")
        return queue_back(request, membership, ids)
    if not ids:
        messages.error(request, "Choose the assets to approve.")
        return queue_back(request, membership, ids)
    assets = (Asset.objects.filter(workspace=membership.workspace, pk__in=ids)
              .select_related("slot__product", "slot__format").order_by("created_at", "id"))
    result = review.assets_approve_bulk(
        assets=assets, user=request.user,
        confirm_stale=request.POST.get("confirm_stale") == "yes")
    if result.approved:
        messages.success(request, f"Approved {len(result.approved)} asset"
                                  f"{'s' if len(result.approved) != 1 else ''}.")
    if result.stale:
        names = {a.pk: f"{a.slot.product.name} · {a.slot.format.name} v{a.version}"
                 for a in assets if a.slot_id}
        listed = "; ".join(f"{names.get(e.asset_id, f'asset {e.asset_id}')} "
                           f"({e.reason})" for e in result.stale[:10])
        messages.error(request, f"Skipped {len(result.stale)} stale asset"
                                f"{'s' if len(result.stale) != 1 else ''}: {listed}. "
                                "Approve them one by one, or tick “also approve stale "
                                "assets”.")
    for problem in result.problems[:10]:
        messages.error(request, problem)
    approved = {event.asset_id for event in result.approved}
    return queue_back(request, membership, [i for i in ids if i not in approved])


@require_POST
@workspace_view("campaign.generate")
def slot_regenerate(request, membership, campaign_id, slot_id):
    """One more variant for one slot."""
    campaign = get_object_or_404(Campaign, pk=campaign_id, workspace=membership.workspace)
    slot = get_object_or_404(Slot.objects.select_related("product", "format"), pk=slot_id,
                             campaign=campaign)
    try:
        services.campaign_generate(campaign=campaign, user=request.user, slots=[slot],
                                   variants=1)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Rendering a new variant of {slot.product.name} · "
                                  f"{slot.format.name}.")
    return redirect("campaign-detail", ws=membership.workspace.slug, campaign_id=campaign.pk)


@require_POST
@workspace_view("campaign.export")
def campaign_export(request, membership, campaign_id):
    """Make a signed, expiring download link for the approved assets and follow it."""
    campaign = get_object_or_404(Campaign.objects.select_related("workspace"), pk=campaign_id,
                                 workspace=membership.workspace)
    try:
        link = export.campaign_export_link(
            campaign=campaign, user=request.user,
            include_stale=request.POST.get("include_stale") == "yes",
            layers=request.POST.get("layers") == "yes")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("campaign-detail", ws=membership.workspace.slug,
                        campaign_id=campaign.pk)
    return redirect(link)


def campaign_export_download(request, token):
    """The ZIP behind a signed link (no session needed: the link is the permission)."""
    try:
        grant = export.export_grant_check(token=token)
    except PermissionDenied as exc:
        return render(request, "campaigns/export_denied.html", {"reason": str(exc)},
                      status=403)
    response = StreamingHttpResponse(
        export.campaign_export_stream(grant.campaign, include_stale=grant.include_stale,
                                      layers=grant.layers, slots=grant.slots),
        content_type="application/zip")
    response["Content-Disposition"] = (
        f'attachment; filename="{export.export_zip_name(grant.campaign)}"')
    response["Cache-Control"] = "private, no-store"
    return response
