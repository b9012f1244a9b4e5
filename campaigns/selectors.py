"""Reads for the campaign pages, in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from rendering.models import Asset, RenderJob

from .models import Campaign, Slot


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
