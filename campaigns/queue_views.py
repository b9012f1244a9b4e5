"""The review queue's page state (filters, selection kept after a failed bulk approval) and
the few seconds' undo of a decision made there."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from brands.access import can, workspace_view
from campaigns import review
from campaigns.models import Campaign, ReviewEvent
from campaigns.review_undo import asset_review_undo
from campaigns.selectors import review_queue
from rendering.models import Format

QUEUE_PAGE_SIZE = 24
FILTER_KEYS = ("campaign", "channel", "check", "stale")


def queue_filters(query) -> dict:
    campaign = query.get("campaign", "")
    return {"campaign": int(campaign) if campaign.isdigit() else None,
            "channel": query.get("channel", "")[:60], "check": query.get("check") == "fail",
            "stale": query.get("stale") == "1"}


def queue_context(request, membership) -> dict:
    """The queue page: one page of waiting assets under the filters, the filter choices, and
    the asset ids to show checked (``selected``)."""
    workspace = membership.workspace
    filters = queue_filters(request.GET)
    page = Paginator(review_queue(workspace, filters), QUEUE_PAGE_SIZE).get_page(
        request.GET.get("page"))
    page.object_list = list(page.object_list)
    for asset in page.object_list:  # what the approve confirmation asks
        asset.stale_question = review.stale_question(asset) if asset.is_stale else ""
    selected = {int(v) for v in request.GET.get("selected", "").split(",") if v.isdigit()}
    query = {k: request.GET[k] for k in FILTER_KEYS if request.GET.get(k)}
    return {
        "page": page, "can_review": can(membership, "asset.review"), "filters": filters,
        "filter_query": urlencode(query), "filter_items": query.items(),
        "selected": selected,
        "campaigns": Campaign.objects.filter(workspace=workspace).exclude(status="archived")
        .only("id", "name").order_by("name"),
        "channels": sorted(set(Format.objects.filter(slots__campaign__workspace=workspace)
                               .values_list("channel", flat=True))),
    }


def queue_back(request, membership, selected: list[int]):
    """Back to the queue with its filters, ``selected`` still checked."""
    query = {k: request.POST[k] for k in FILTER_KEYS if request.POST.get(k)}
    if selected:
        query["selected"] = ",".join(str(i) for i in selected)
    url = reverse("review-queue", kwargs={"ws": membership.workspace.slug})
    return redirect(f"{url}?{urlencode(query)}" if query else url)


@require_POST
@workspace_view("asset.review")
def review_undo(request, membership, event_id):
    """Take back an approval or rejection made seconds ago; over htmx the asset's queue card
    comes back."""
    event = get_object_or_404(ReviewEvent.objects.select_related("asset"), pk=event_id,
                              workspace=membership.workspace)
    try:
        asset_review_undo(event=event, user=request.user)
    except (ValidationError, PermissionDenied) as exc:
        problem = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    else:
        problem = ""
    fallback = reverse("review-queue", kwargs={"ws": membership.workspace.slug})
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
        target = fallback
    if request.htmx:
        if problem:
            return render(request, "campaigns/_queue_outcome.html",
                          {"asset": event.asset, "problem": problem, "done": ""})
        asset = review_queue(membership.workspace).get(pk=event.asset_id)
        asset.stale_question = review.stale_question(asset) if asset.is_stale else ""
        return render(request, "campaigns/_queue_card.html",
                      {"a": asset, "can_review": True, "next_url": target,
                       "selected": set()})
    if problem:
        messages.error(request, problem)
    else:
        messages.success(request, "Undone: the asset is waiting for review again.")
    return redirect(target)
