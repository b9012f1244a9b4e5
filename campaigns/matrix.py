"""The campaign page's products x formats matrix: one cell per slot with the asset it shows,
its state, versions and failing checks, filtered by channel, status, staleness and checks
(two queries on top of campaign_slots, however many slots)."""

from __future__ import annotations

from dataclasses import dataclass, field

from campaigns.selectors import SlotView
from rendering.models import CheckStatus, JobStatus, QualityCheck, ReviewState

THUMB_PX = 220  # the longer side of a matrix thumbnail
STATUSES = {"live": "Approved", "waiting": "Waiting for review", "failed": "Failed render",
            "rendering": "Rendering", "empty": "Nothing yet", "declined": "Declined"}


@dataclass
class Cell:
    view: SlotView
    state: str
    shown: object = None  # the asset the cell shows: live, else the newest candidate or other
    failing: list[str] = field(default_factory=list)  # failing checks of the shown asset

    @property
    def slot(self):
        return self.view.slot

    @property
    def stale(self) -> bool:
        return self.view.stale


@dataclass
class Column:
    format: object
    thumb_w: int
    thumb_h: int


@dataclass
class Matrix:
    columns: list[Column]
    rows: list[tuple[object, list[tuple[Column, Cell | None]]]]
    channels: list[str]
    shown: int  # cells that pass the filters
    total: int


def thumb_box(width: int, height: int, longest: int = THUMB_PX) -> tuple[int, int]:
    """The thumbnail's box in the matrix: the format's real proportions."""
    if width >= height:
        return longest, max(12, round(longest * height / width))
    return max(12, round(longest * width / height)), longest


def _state(view: SlotView) -> tuple[str, object]:
    if view.live is not None:
        return "live", view.live
    if view.waiting:
        return "waiting", view.waiting[0]
    if any(not job.is_finished for job in view.jobs):
        return "rendering", None
    if any(job.status == JobStatus.FAILED for job in view.jobs):
        return "failed", view.assets[0] if view.assets else None
    if view.assets:
        return "declined", view.assets[0]
    return "empty", None


def _matches(cell: Cell, filters: dict) -> bool:
    if filters.get("status") and cell.state != filters["status"]:
        return False
    if filters.get("stale") and not cell.stale:
        return False
    return not (filters.get("check") and not cell.failing)


def campaign_matrix(slots: list[SlotView], *, filters: dict) -> Matrix:
    """Products down, formats across; a cell that does not pass ``filters`` is None, and a
    product row with no cell left is dropped."""
    asset_ids = [a.pk for v in slots for a in v.assets]
    failing: dict[int, list[str]] = {}
    if asset_ids:
        for asset_id, label in _failing_checks(slots):
            failing.setdefault(asset_id, []).append(label)
    formats = list({v.slot.format_id: v.slot.format for v in slots}.values())
    formats.sort(key=lambda f: (f.channel, f.width * f.height))
    channels = sorted({f.channel for f in formats})
    if filters.get("channel"):
        formats = [f for f in formats if f.channel == filters["channel"]]
    cells: dict[int, dict[int, Cell]] = {}
    products = {}
    shown = 0
    for view in slots:
        state, asset = _state(view)
        cell = Cell(view, state, asset, failing.get(asset.pk, []) if asset else [])
        products[view.slot.product_id] = view.slot.product
        if _matches(cell, filters):
            cells.setdefault(view.slot.product_id, {})[view.slot.format_id] = cell
    columns = [Column(f, *thumb_box(f.width, f.height)) for f in formats]
    rows = []
    for pid, product in products.items():
        row = [(col, cells.get(pid, {}).get(col.format.pk)) for col in columns]
        if any(cell for _col, cell in row):
            rows.append((product, row))
            shown += sum(1 for _col, cell in row if cell)
    return Matrix(columns, rows, channels, shown, len(slots))


def _failing_checks(slots: list[SlotView]):
    """(asset id, check label) of every failing check of the campaign's assets (one query)."""
    campaign_id = slots[0].slot.campaign_id
    labels = dict(QualityCheck._meta.get_field("kind").choices)
    for asset_id, kind in (QualityCheck.objects.filter(
            asset__slot__campaign_id=campaign_id, status=CheckStatus.FAIL)
            .values_list("asset_id", "kind").order_by("asset_id", "kind")):
        yield asset_id, labels.get(kind, kind)


def matrix_filters(query) -> dict:
    """The filters the query string asks for (unknown values are ignored)."""
    status = query.get("status", "")
    return {"channel": query.get("channel", "")[:60],
            "status": status if status in STATUSES else "",
            "stale": query.get("stale") == "1", "check": query.get("check") == "fail"}


def waiting_for_review(views: list[SlotView]) -> list:
    """The candidates of these slots that wait for review, oldest first."""
    return sorted((a for v in views for a in v.assets if a.review_state == ReviewState.IN_REVIEW),
                  key=lambda a: (a.created_at, a.pk))
