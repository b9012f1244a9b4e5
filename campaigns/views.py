"""Dashboard pages for campaigns."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from brands.access import can, workspace_view

from . import services
from .forms import CampaignForm
from .models import Campaign
from .selectors import campaign_slots


@workspace_view("workspace.view")
def campaign_list(request, membership):
    campaigns = membership.workspace.campaigns.select_related("brand")
    return render(request, "campaigns/campaign_list.html", {
        "campaigns": campaigns, "can_edit": can(membership, "campaign.edit"),
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
    return render(request, "campaigns/campaign_form.html", {"form": form}, status=status)


@workspace_view("workspace.view")
def campaign_detail(request, membership, campaign_id):
    campaign = get_object_or_404(
        Campaign.objects.select_related("brand"), pk=campaign_id, workspace=membership.workspace
    )
    return render(request, "campaigns/campaign_detail.html", {
        "campaign": campaign, "slots": campaign_slots(campaign),
        "can_generate": can(membership, "campaign.generate"),
    })


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
