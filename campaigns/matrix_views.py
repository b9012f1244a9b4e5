"""The campaign page's bulk actions on selected slots, and the live generate estimate of the
campaign form."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from brands.access import require, workspace_view
from campaigns import export, review, services, staleness
from campaigns.generate_estimate import generate_estimate
from campaigns.matrix import waiting_for_review
from campaigns.models import Campaign
from campaigns.selectors import campaign_slots
from rendering.models import Format

BULK_ACTIONS = {"approve": "asset.review", "regenerate": "campaign.generate",
                "recompose": "campaign.generate", "export": "campaign.export"}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _back(membership, campaign, request, keep_selection: bool):
    """The campaign page with its filters, and the selection when the action failed."""
    query = {k: v for k, v in request.POST.items()
             if k in ("channel", "status", "stale", "check") and v}
    if keep_selection:
        query["selected"] = ",".join(request.POST.getlist("slot"))
    url = reverse("campaign-detail", kwargs={"ws": membership.workspace.slug,
                                             "campaign_id": campaign.pk})
    return redirect(f"{url}?{urlencode(query)}#slot-matrix" if query else url)


@require_POST
@workspace_view("workspace.view")
def campaign_bulk(request, membership, campaign_id):
    """Approve, regenerate, recompose (stale) or export the selected slots."""
    campaign = get_object_or_404(Campaign.objects.select_related("brand", "workspace"),
                                 pk=campaign_id, workspace=membership.workspace)
    action = request.POST.get("action", "")
    if action not in BULK_ACTIONS:
        raise PermissionDenied("Unknown action.")
    require(membership, BULK_ACTIONS[action])
    ids = {int(v) for v in request.POST.getlist("slot") if v.isdigit()}
    views = [v for v in campaign_slots(campaign) if v.slot.pk in ids]
    if action == "export":  # the selected slots' approved assets (none selected: all)
        try:
            return redirect(export.campaign_export_link(
                campaign=campaign, user=request.user,
                slots=[v.slot.pk for v in views] if views else None))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return _back(membership, campaign, request, keep_selection=True)
    if not views:
        messages.error(request, "Select the slots first (the boxes on the thumbnails).")
        return _back(membership, campaign, request, keep_selection=True)
    try:
        ok = _run(action, request, campaign, views)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        ok = False
    return _back(membership, campaign, request, keep_selection=not ok)


def _run(action: str, request, campaign, views) -> bool:
    user = request.user
    if action == "approve":
        waiting = waiting_for_review(views)
        if not waiting:
            messages.error(request, "None of the selected slots has an asset waiting for "
                                    "review.")
            return False
        result = review.assets_approve_bulk(assets=waiting, user=user)
        if result.approved:
            messages.success(request, f"Approved {_plural(len(result.approved), 'asset')}.")
        if result.stale:
            messages.error(request, f"Skipped {_plural(len(result.stale), 'stale asset')}: "
                                    "approve those one by one on their page.")
        for problem in result.problems[:10]:
            messages.error(request, problem)
        return not (result.stale or result.problems)
    if action == "regenerate":
        jobs = services.campaign_generate(campaign=campaign, user=user,
                                          slots=[v.slot for v in views], variants=1).jobs
        messages.success(request, f"Queued {_plural(len(jobs), 'render')} for "
                                  f"{_plural(len(views), 'slot')}.")
        return True
    # recompose: the stale ones among the selection (on their scene where it still fits)
    stale = [v.slot for v in views if v.stale]
    if not stale:
        messages.info(request, "None of the selected slots is stale.")
        return False
    count = len(staleness.campaign_rerender_stale(campaign=campaign, user=user,
                                                  slots=stale).jobs)
    messages.success(request, f"Queued {_plural(count, 'render')} of stale slots.")
    return True


@workspace_view("campaign.edit")  # first: a non-member gets 404 whatever the method
@require_GET
def campaign_estimate(request, membership):
    """The slot count and estimated GPU time of the form's current choice (an htmx part)."""
    workspace = membership.workspace
    ids = [v for v in request.GET.getlist("formats") if v.isdigit()]
    formats = list(Format.objects.filter(Q(workspace=None) | Q(workspace=workspace),
                                         pk__in=ids))
    products = workspace.products.filter(
        pk__in=[v for v in request.GET.getlist("products") if v.isdigit()]).count()
    template_ids = [request.GET[k] for k in request.GET if k.startswith("template_")
                    and request.GET[k].isdigit()]
    brand = request.GET.get("brand", "")
    variants = request.GET.get("variants_per_slot", "1")
    estimate = generate_estimate(
        workspace=workspace,
        brand=workspace.brand_kits.filter(pk=brand).first() if brand.isdigit() else None,
        products=products, formats=formats,
        variants=min(max(int(variants), 1), 8) if variants.isdigit() else 1,
        templates=workspace.prompt_templates.filter(pk__in=template_ids))
    return render(request, "campaigns/_generate_estimate.html",
                  {"estimate": estimate, "products": products, "formats": formats})
