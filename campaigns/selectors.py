"""Reads for the campaign pages, in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q

from rendering.models import Asset, RenderJob

from .models import Campaign, CampaignRefresh, Slot


@dataclass
class SlotView:
    slot: Slot
    assets: list[Asset] = field(default_factory=list)
    jobs: list[RenderJob] = field(default_factory=list)


def campaign_slots(campaign: Campaign) -> list[SlotView]:
    """Every slot of the campaign with its assets and unfinished or failed jobs (3 queries)."""
    slots = list(campaign.slots.select_related("product", "format")
                 .order_by("product__name", "format__width"))
    views = {slot.pk: SlotView(slot) for slot in slots}
    by_slot_assets: dict[int, list[Asset]] = defaultdict(list)
    for asset in Asset.objects.filter(slot__campaign=campaign).order_by("-created_at"):
        by_slot_assets[asset.slot_id].append(asset)
    for job in (RenderJob.objects.filter(slot__campaign=campaign)
                .exclude(status="succeeded").order_by("-created_at")):
        views[job.slot_id].jobs.append(job)
    for slot_id, assets in by_slot_assets.items():
        views[slot_id].assets = assets
    return list(views.values())


def campaign_refresh_history(campaign: Campaign, limit: int = 20):
    """The latest refreshes with what they produced (one query)."""
    return (CampaignRefresh.objects.filter(campaign=campaign)
            .annotate(assets_made=Count("jobs__asset"),
                      failed=Count("jobs", filter=Q(jobs__status="failed")))
            .order_by("-period")[:limit])
