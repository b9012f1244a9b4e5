"""Reads for the campaign pages, in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q

from campaigns.models import Campaign, CampaignRefresh, Slot
from rendering.models import Asset, JobKind, RenderJob, ReviewState


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
    def stale_live(self) -> Asset | None:
        live = self.live
        return live if live is not None and live.is_stale else None

    @property
    def stale_waiting(self) -> list[Asset]:
        return [a for a in self.waiting if a.is_stale]

    @property
    def rerender_pending(self) -> bool:
        """A fresh render is on its way: a fresh candidate waits for review, or a render queued
        after the slot went stale has not finished."""
        since = max((a.stale_at for a in self.assets if a.is_stale), default=None)
        return any(not a.is_stale for a in self.waiting) or any(
            job.kind == JobKind.GENERATE and not job.is_finished
            and (since is None or job.created_at >= since) for job in self.jobs)

    @property
    def stale(self) -> bool:
        """The slot ships old values, or (with nothing live) can only ship old values."""
        return self.stale_live is not None or (self.live is None and bool(self.stale_waiting))

    @property
    def needs_rerender(self) -> bool:
        """Stale, and nothing fresh is on its way."""
        return self.stale and not self.rerender_pending

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
        for asset in assets:  # the slot (with product and format) is already here
            asset.slot = views[slot_id].slot
    return list(views.values())


@dataclass(frozen=True)
class StaleSummary:
    """What is stale in a campaign: live assets, candidates, and the slots to render again."""

    live: list[Asset]
    waiting: list[Asset]
    to_rerender: list[SlotView]

    @property
    def total(self) -> int:
        return len(self.live) + len(self.waiting)


def campaign_stale_summary(slots: list[SlotView]) -> StaleSummary:
    """The stale parts of a campaign from its slot views (no queries)."""
    return StaleSummary(
        live=[s.stale_live for s in slots if s.stale_live is not None],
        waiting=[a for s in slots for a in s.stale_waiting],
        to_rerender=[s for s in slots if s.needs_rerender])


def campaigns_with_coverage(workspace):
    """The workspace's campaigns with slots total, slots with a live asset, live assets that are
    stale, and assets waiting for review (one query)."""
    return (Campaign.objects.filter(workspace=workspace).select_related("brand")
            .annotate(
                slots_total=Count("slots", distinct=True),
                slots_live=Count("slots__assets", filter=Q(slots__assets__is_live=True),
                                 distinct=True),
                waiting=Count("slots__assets",
                              filter=Q(slots__assets__review_state=ReviewState.IN_REVIEW),
                              distinct=True),
                stale_live=Count("slots__assets", filter=Q(slots__assets__is_live=True,
                                                           slots__assets__stale_at__isnull=False),
                                 distinct=True))
            .order_by("-created_at"))


def review_queue(workspace, filters: dict | None = None):
    """Assets waiting for review, oldest first, with what the queue shows (a fixed number of
    queries: the assets, their checks, jobs and parents); ``filters`` narrows them by
    campaign id, channel, failing check and staleness."""
    from django.db.models import Exists, OuterRef, Prefetch

    from rendering.models import QualityCheck

    filters = filters or {}
    assets = Asset.objects.filter(workspace=workspace, review_state=ReviewState.IN_REVIEW,
                                  slot__isnull=False)
    if filters.get("campaign"):
        assets = assets.filter(slot__campaign_id=filters["campaign"])
    if filters.get("channel"):
        assets = assets.filter(slot__format__channel=filters["channel"])
    if filters.get("stale"):
        assets = assets.filter(stale_at__isnull=False)
    if filters.get("check"):
        assets = assets.filter(Exists(QualityCheck.objects.filter(
            asset_id=OuterRef("pk"), status="fail")))
    return (assets
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
