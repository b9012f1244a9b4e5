"""Dashboard pages for campaigns."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from brands.access import can, workspace_view
from campaigns import refresh, refresh_run, services, staleness
from campaigns.forms import CampaignEditForm, CampaignForm, RefreshScheduleForm
from campaigns.generate_estimate import generate_estimate
from campaigns.matrix import STATUSES, campaign_matrix, matrix_filters
from campaigns.models import Campaign, RefreshSchedule
from campaigns.selectors import (
    campaign_refresh_history,
    campaign_slots,
    campaign_stale_summary,
    campaigns_with_coverage,
)
from core.confirm import delete_confirmed


@workspace_view("workspace.view")
def campaign_list(request, membership):
    page = Paginator(campaigns_with_coverage(membership.workspace), 50).get_page(
        request.GET.get("page"))
    return render(request, "campaigns/campaign_list.html", {
        "page": page, "can_edit": can(membership, "campaign.edit"),
    })


@workspace_view("campaign.edit")
def campaign_create(request, membership):
    workspace = membership.workspace
    form = CampaignForm(request.POST or None, workspace=workspace)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_create(workspace=workspace, user=request.user,
                                                **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Created {campaign.name} with "
                                      f"{campaign.slots.count()} slots.")
            return redirect("campaign-detail", ws=workspace.slug, campaign_id=campaign.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "campaigns/campaign_form.html",
                  {"form": form, **form.format_context()}, status=status)


@workspace_view("workspace.view")
def campaign_detail(request, membership, campaign_id):
    campaign = get_object_or_404(
        Campaign.objects.select_related("brand"), pk=campaign_id, workspace=membership.workspace
    )
    return _detail_page(request, membership, campaign)


def _schedule_initial(campaign) -> dict:
    schedule = RefreshSchedule.objects.filter(campaign=campaign).first()
    initial = {"auto_rerender_stale": campaign.auto_rerender_stale}
    if schedule is not None:
        initial.update({
            "mode": "cron" if schedule.kind == "cron" else "interval", "cron": schedule.cron,
            "interval_minutes": (schedule.interval_seconds or 0) // 60 or None,
            "timezone": schedule.timezone, "formats": list(schedule.formats.all()),
            "variants": schedule.variants, "enabled": schedule.enabled,
        })
    return initial


def _detail_page(request, membership, campaign, schedule_form=None, status=200):
    schedule = RefreshSchedule.objects.filter(campaign=campaign).first()
    slots = campaign_slots(campaign)
    coverage = {"total": len(slots), "live": sum(1 for s in slots if s.live),
                "waiting": sum(len(s.waiting) for s in slots)}
    filters = matrix_filters(request.GET)
    stale = campaign_stale_summary(slots)
    products = {s.slot.product_id for s in slots}
    formats = list({s.slot.format_id: s.slot.format for s in slots}.values())
    return render(request, "campaigns/campaign_detail.html", {
        "campaign": campaign, "slots": slots, "coverage": coverage,
        "matrix": campaign_matrix(slots, filters=filters) if slots else None,
        "filters": filters, "statuses": STATUSES,
        "filter_items": [(k, request.GET[k]) for k in ("channel", "status", "stale", "check")
                         if request.GET.get(k)],
        "selected": {v for v in request.GET.get("selected", "").split(",") if v.isdigit()},
        "estimate": generate_estimate(
            workspace=membership.workspace, brand=campaign.brand, products=len(products),
            formats=formats, variants=campaign.variants_per_slot,
            templates=campaign.templates.all()),
        "can_generate": can(membership, "campaign.generate"),
        "can_edit": can(membership, "campaign.edit"),
        "can_review": can(membership, "asset.review"),
        "schedule": schedule,
        "schedule_form": schedule_form or RefreshScheduleForm(
            initial=_schedule_initial(campaign), campaign=campaign),
        "refreshes": campaign_refresh_history(campaign),
        "stale": stale,
        "stale_products": {view.slot.product_id for view in stale.to_rerender},
    }, status=status)


@require_POST
@workspace_view("campaign.edit")
def campaign_schedule(request, membership, campaign_id):
    campaign = get_object_or_404(Campaign, pk=campaign_id, workspace=membership.workspace)
    form = RefreshScheduleForm(request.POST, campaign=campaign)
    if form.is_valid():
        data = form.cleaned_data
        try:
            refresh.refresh_schedule_save(
                campaign=campaign, user=request.user, kind=data["kind"],
                cron=data.get("cron", ""),
                interval_seconds=data["interval_seconds"], tz=data["timezone"],
                formats=data["formats"], variants=data["variants"], enabled=data["enabled"],
                auto_rerender_stale=data["auto_rerender_stale"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Saved the refresh schedule.")
            return redirect("campaign-detail", ws=membership.workspace.slug,
                            campaign_id=campaign.pk)
    return _detail_page(request, membership, campaign, schedule_form=form, status=400)


@require_POST
@workspace_view("campaign.generate")
def campaign_refresh_now(request, membership, campaign_id):
    campaign = get_object_or_404(Campaign, pk=campaign_id, workspace=membership.workspace)
    try:
        done = refresh_run.campaign_refresh(campaign_id=campaign.pk, trigger="manual")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if done is None:
            messages.info(request, "This campaign was already refreshed for the current period.")
        else:
            messages.success(request, f"Refreshing: queued {done.jobs_created} renders.")
    return redirect("campaign-detail", ws=membership.workspace.slug, campaign_id=campaign.pk)


@require_POST
@workspace_view("campaign.generate")
def campaign_rerender_stale(request, membership, campaign_id):
    """Render all stale slots again (or one product's): one new render per slot."""
    campaign = get_object_or_404(Campaign, pk=campaign_id, workspace=membership.workspace)
    product = None
    if request.POST.get("product", "").isdigit():
        product = get_object_or_404(campaign.products, pk=int(request.POST["product"]))
    try:
        result = staleness.campaign_rerender_stale(campaign=campaign, user=request.user,
                                                   product=product)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        pending = (f" {result.already_pending} stale slot"
                   f"{'s' if result.already_pending != 1 else ''} already "
                   f"{'have' if result.already_pending != 1 else 'has'} a fresh render on the "
                   "way." if result.already_pending else "")
        if result.jobs:
            count = len(result.jobs)
            messages.success(request, f"Queued {count} render{'s' if count != 1 else ''} of "
                                      f"stale slots.{pending}")
        else:
            messages.info(request, f"Nothing to render again.{pending}")
    return redirect("campaign-detail", ws=membership.workspace.slug, campaign_id=campaign.pk)


@require_POST
@workspace_view("campaign.generate")
def campaign_generate(request, membership, campaign_id):
    campaign = get_object_or_404(Campaign, pk=campaign_id, workspace=membership.workspace)
    try:
        result = services.campaign_generate(campaign=campaign, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Queued {len(result.jobs)} renders.")
    return redirect("campaign-detail", ws=membership.workspace.slug, campaign_id=campaign.pk)


@workspace_view("campaign.edit")
def campaign_edit(request, membership, campaign_id):
    workspace = membership.workspace
    campaign = get_object_or_404(Campaign, pk=campaign_id, workspace=workspace)
    if request.method != "POST":
        form = CampaignEditForm(initial=CampaignEditForm.initial_for(campaign),
                                workspace=workspace)
        return render(request, "campaigns/campaign_form.html",
                      {"form": form, "campaign": campaign, **form.format_context()})
    form = CampaignEditForm(request.POST, workspace=workspace)
    if form.is_valid():
        try:
            campaign = services.campaign_update(campaign=campaign, user=request.user,
                                                **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Saved {campaign.name}: {campaign.slots.count()} slots.")
            return redirect("campaign-detail", ws=workspace.slug, campaign_id=campaign.pk)
    return render(request, "campaigns/campaign_form.html",
                  {"form": form, "campaign": campaign, **form.format_context()}, status=400)


@require_POST
@workspace_view("campaign.edit")
def campaign_archive(request, membership, campaign_id, archived: bool):
    campaign = get_object_or_404(Campaign, pk=campaign_id, workspace=membership.workspace)
    service = services.campaign_archive if archived else services.campaign_unarchive
    try:
        service(campaign=campaign, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{'Archived' if archived else 'Unarchived'} {campaign.name}.")
    return redirect("campaign-detail", ws=membership.workspace.slug, campaign_id=campaign.pk)


@require_POST
@workspace_view("campaign.edit")
def campaign_delete(request, membership, campaign_id):
    campaign = get_object_or_404(Campaign, pk=campaign_id, workspace=membership.workspace)
    ws = membership.workspace.slug
    return delete_confirmed(
        request, delete=lambda: services.campaign_delete(campaign=campaign, user=request.user),
        back=reverse("campaign-detail", kwargs={"ws": ws, "campaign_id": campaign.pk}),
        done=reverse("campaign-list", kwargs={"ws": ws}),
        message=f"Deleted the campaign {campaign.name}.")
