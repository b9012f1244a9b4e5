"""Reads for the campaign pages, in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q

from rendering.models import Asset, RenderJob, ReviewState

from .models import Campaign, CampaignRefresh, Slot


@dataclass
class SlotView:
    slot: Slot
    assets: list[Asset] = field(default_factory=list)
    jobs: list[RenderJob] = field(default_factory=list)

    @property
    def live(self) -> Asset | None:
        return next((a for a in self.assets if a.is_live), None)

    @property
    def waiting(self) -> list[Asset]:
        return [a for a in self.assets if a.review_state == ReviewState.IN_REVIEW]

    @property
    def others(self) -> list[Asset]:
        """Earlier and declined versions: neither live nor waiting."""
        return [a for a in self.assets
                if not a.is_live and a.review_state != ReviewState.IN_REVIEW]


def campaign_slots(campaign: Campaign) -> list[SlotView]:
    """Every slot of the campaign with its assets and unfinished or failed jobs (3 queries,
    however many slots and assets)."""
    slots = list(campaign.slots.select_related("product", "format")
                 .order_by("product__name", "format__width"))
    views = {slot.pk: SlotView(slot) for slot in slots}
    by_slot_assets: dict[int, list[Asset]] = defaultdict(list)
    for asset in (Asset.objects.filter(slot__campaign=campaign)
                  .defer("recipe").order_by("-created_at")):
        by_slot_assets[asset.slot_id].append(asset)
    for job in (RenderJob.objects.filter(slot__campaign=campaign)
                .exclude(status="succeeded").order_by("-created_at")):
        views[job.slot_id].jobs.append(job)
    for slot_id, assets in by_slot_assets.items():
        views[slot_id].assets = assets
    return list(views.values())


def campaigns_with_coverage(workspace):
    """The workspace's campaigns with slots total, slots with a live asset, and assets waiting
    for review (one query)."""
    return (Campaign.objects.filter(workspace=workspace).select_related("brand")
            .annotate(
                slots_total=Count("slots", distinct=True),
                slots_live=Count("slots__assets", filter=Q(slots__assets__is_live=True),
                                 distinct=True),
                waiting=Count("slots__assets",
                              filter=Q(slots__assets__review_state=ReviewState.IN_REVIEW),
                              distinct=True))
            .order_by("-created_at"))


def review_queue(workspace):
    """Assets waiting for review, oldest first, with what the queue shows (a fixed number of
    queries: the assets, their checks, jobs and parents)."""
    from django.db.models import Prefetch

    from rendering.models import QualityCheck

    return (Asset.objects.filter(workspace=workspace, review_state=ReviewState.IN_REVIEW,
                                 slot__isnull=False)
            .select_related("slot__product", "slot__format", "slot__campaign")
            # Prefetched, not joined: an eight-table join costs more to plan than to run.
            .prefetch_related(
                Prefetch("checks", queryset=QualityCheck.objects.only(
                    "asset_id", "kind", "status", "reason").order_by("kind")),
                Prefetch("job", queryset=RenderJob.objects.select_related("created_by")
                         .only("id", "created_by__username", "created_by_id")),
                Prefetch("parent", queryset=Asset.objects.only("id", "version")))
            .defer("recipe")
            .order_by("created_at", "id"))


@dataclass
class Lineage:
    """An asset's version chain: its ancestors (oldest first) and every descendant."""

    ancestors: list[Asset]
    descendants: list[Asset]

    @property
    def all(self) -> list[Asset]:
        return sorted({a.pk: a for a in self.ancestors + self.descendants}.values(),
                      key=lambda a: (a.version, a.created_at))


def asset_lineage(asset: Asset) -> Lineage:
    """Parent/child chain of ``asset`` within its slot (one query)."""
    family = {a.pk: a for a in Asset.objects.filter(
        workspace_id=asset.workspace_id, slot_id=asset.slot_id).defer("recipe")}
    family[asset.pk] = asset
    ancestors, node = [], asset
    while node.parent_id and node.parent_id in family and len(ancestors) < 1000:
        node = family[node.parent_id]
        ancestors.append(node)
    children = defaultdict(list)
    for member in family.values():
        if member.parent_id:
            children[member.parent_id].append(member)
    descendants, frontier = [], [asset]
    while frontier:
        node = frontier.pop()
        for child in children[node.pk]:
            descendants.append(child)
            frontier.append(child)
    return Lineage(ancestors=ancestors[::-1] + [asset], descendants=descendants)


def campaign_refresh_history(campaign: Campaign, limit: int = 20):
    """The latest refreshes with what they produced (one query)."""
    return (CampaignRefresh.objects.filter(campaign=campaign)
            .annotate(assets_made=Count("jobs__asset"),
                      failed=Count("jobs", filter=Q(jobs__status="failed")))
            .order_by("-period")[:limit])
