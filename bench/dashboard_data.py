"""The dashboard benchmark's data: N assets seeded with bulk inserts over campaigns and
workspaces (version chains, live and approved assets with their review events, a big review
queue), and the placeholder files the export ZIP reads."""

from __future__ import annotations

import contextlib
import hashlib
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

BATCH = 2000
PLACEHOLDER = hashlib.sha256(b"adstudio-bench").digest() * 512  # 16 KiB of file body


def file_body(uid: int) -> bytes:
    """A placeholder file body, unique per asset (its sha256 is the asset's)."""
    return PLACEHOLDER + uid.to_bytes(8, "big")


@dataclass
class Seeded:
    """What the measurements need: who signs in where, and which campaigns to open."""

    workspaces: list = field(default_factory=list)  # Workspace rows
    admins: dict = field(default_factory=dict)  # workspace id -> admin User
    campaigns: list = field(default_factory=list)  # sampled Campaign rows (each has a live asset)
    assets: int = 0
    in_review: int = 0
    live: int = 0
    events: int = 0
    seconds: float = 0.0


@contextlib.contextmanager
def explicit_timestamps(*models) -> Iterator[None]:
    """Let bulk_create keep the created_at we set (auto_now_add would stamp them all 'now')."""
    fields = [m._meta.get_field("created_at") for m in models]
    for f in fields:
        f.auto_now_add = False
    try:
        yield
    finally:
        for f in fields:
            f.auto_now_add = True


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    """``total`` split into ``parts`` positive-ish counts that vary a little (sum exact)."""
    base = [total // parts] * parts
    for i in range(total % parts):
        base[i] += 1
    for _ in range(parts):  # move one here and there, keep each at least 1
        a, b = rng.randrange(parts), rng.randrange(parts)
        if base[a] > 1:
            base[a] -= 1
            base[b] += 1
    return base


def seed(n_assets: int, n_campaigns: int, n_workspaces: int, *, tag: str = "b",
         products_per_workspace: int = 50, sample_per_workspace: int = 2,
         rng_seed: int = 7) -> Seeded:
    """Seed ``n_assets`` assets over ``n_campaigns`` campaigns in ``n_workspaces`` workspaces
    with bulk inserts. Per slot: a chain of versions (v1 <- v2 <- ...: earlier ones had changes
    requested), whose newest is approved and live (about half the slots), in review or
    rejected, plus fresh variants waiting for review. Every decision has its review event."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from brands.models import BrandKit, Membership, Product, Role, Workspace
    from campaigns.models import Campaign, ReviewEvent, Slot
    from rendering.models import Asset, Format, JobKind, JobStatus, RenderJob, ReviewState

    started = time.perf_counter()
    rng = random.Random(rng_seed)
    user_model = get_user_model()
    out = Seeded()
    formats = list(Format.objects.filter(workspace=None).order_by("id"))
    assert formats, "no format presets: run migrate first"
    per_ws_campaigns = _split(n_campaigns, n_workspaces, rng)
    per_campaign_assets = _split(n_assets, n_campaigns, rng)
    slots_per_campaign = max(1, round(n_assets / n_campaigns / 4))  # ~4 assets per slot
    t0 = datetime.now(UTC) - timedelta(days=120)

    workspaces = Workspace.objects.bulk_create(
        [Workspace(name=f"Bench {tag}{i}", slug=f"bench-{tag}{i}") for i in range(n_workspaces)])
    users = user_model.objects.bulk_create(
        [user_model(username=f"bench-{tag}{i}-{role}", password="!")
         for i in range(n_workspaces) for role in ("admin", "marketer", "approver")])
    Membership.objects.bulk_create(
        [Membership(workspace=ws, user=users[3 * i + k], role=role)
         for i, ws in enumerate(workspaces)
         for k, role in enumerate((Role.ADMIN, Role.MARKETER, Role.APPROVER))])
    brands = BrandKit.objects.bulk_create(
        [BrandKit(workspace=ws, name="Brand", palette=[{"name": "Ink", "hex": "#111111",
                                                        "role": "primary"}])
         for ws in workspaces])
    products = Product.objects.bulk_create(
        [Product(workspace=ws, sku=f"SKU-{j:05d}", name=f"Product {j}", price="19.90",
                 currency="USD") for ws in workspaces for j in range(products_per_workspace)],
        batch_size=BATCH)

    campaigns = []
    with explicit_timestamps(Campaign):
        for i, ws in enumerate(workspaces):
            for j in range(per_ws_campaigns[i]):
                campaigns.append(Campaign(
                    workspace=ws, brand=brands[i], name=f"Campaign {j}", status="active",
                    created_by=users[3 * i + 1],
                    created_at=t0 + timedelta(hours=len(campaigns) * 2)))
        campaigns = Campaign.objects.bulk_create(campaigns, batch_size=BATCH)
    ws_index = {ws.pk: i for i, ws in enumerate(workspaces)}

    slots = []
    slot_pairs = {}
    for ci, campaign in enumerate(campaigns):
        i = ws_index[campaign.workspace_id]
        ws_products = products[i * products_per_workspace:(i + 1) * products_per_workspace]
        n_formats = min(len(formats), max(1, round(slots_per_campaign ** 0.5)))
        n_products = min(len(ws_products), -(-slots_per_campaign // n_formats))
        chosen_formats = rng.sample(formats, n_formats)
        start = rng.randrange(len(ws_products))
        chosen_products = [ws_products[(start + k) % len(ws_products)] for k in range(n_products)]
        pairs = [(p, f) for p in chosen_products for f in chosen_formats][:slots_per_campaign]
        slot_pairs[ci] = (chosen_products, chosen_formats)
        slots += [Slot(campaign=campaign, product=p, format=f) for p, f in pairs]
    slots = Slot.objects.bulk_create(slots, batch_size=BATCH)
    through_p, through_f = Campaign.products.through, Campaign.formats.through
    through_p.objects.bulk_create(
        [through_p(campaign_id=campaigns[ci].pk, product_id=p.pk)
         for ci, (ps, _) in slot_pairs.items() for p in ps], batch_size=BATCH)
    through_f.objects.bulk_create(
        [through_f(campaign_id=campaigns[ci].pk, format_id=f.pk)
         for ci, (_, fs) in slot_pairs.items() for f in fs], batch_size=BATCH)
    by_campaign: dict[int, list] = {}
    for slot in slots:
        by_campaign.setdefault(slot.campaign_id, []).append(slot)

    # Plan every asset: (slot, level, parent plan index, state, live, created_at).
    plans: list[dict] = []
    for ci, campaign in enumerate(campaigns):
        i = ws_index[campaign.workspace_id]
        campaign_slots = by_campaign[campaign.pk]
        counts = _split(per_campaign_assets[ci], len(campaign_slots), rng) \
            if per_campaign_assets[ci] >= len(campaign_slots) \
            else [1] * per_campaign_assets[ci] + [0] * (len(campaign_slots)
                                                       - per_campaign_assets[ci])
        when = campaign.created_at
        for slot, count in zip(campaign_slots, counts, strict=True):
            if not count:
                continue
            chain = min(count, rng.choice((1, 2, 2, 3, 3, 4, 5)))
            last = rng.random()
            parent = None
            for level in range(chain):
                when += timedelta(minutes=rng.randint(5, 90))
                if level < chain - 1:
                    state, live = ReviewState.CHANGES_REQUESTED, False
                elif last < 0.5:
                    state, live = ReviewState.APPROVED, True
                elif last < 0.85:
                    state, live = ReviewState.IN_REVIEW, False
                else:
                    state, live = ReviewState.REJECTED, False
                plans.append({"ws": i, "slot": slot, "level": level, "parent": parent,
                              "state": state, "live": live, "at": when})
                parent = len(plans) - 1
            for _ in range(count - chain):  # fresh variants from later refreshes
                when += timedelta(minutes=rng.randint(5, 600))
                state = ReviewState.IN_REVIEW if rng.random() < 0.8 else ReviewState.REJECTED
                plans.append({"ws": i, "slot": slot, "level": 0, "parent": None,
                              "state": state, "live": False, "at": when})

    # Insert level by level: a version's parent (and its edit job's source) exists first.
    rows: list = [None] * len(plans)
    with explicit_timestamps(Asset, RenderJob):
        for level in range(max(p["level"] for p in plans) + 1):
            idx = [k for k, p in enumerate(plans) if p["level"] == level]
            jobs = []
            for k in idx:
                p = plans[k]
                recipe = {"seed": k, "model": "Qwen/Qwen-Image", "steps": 50, "cfg": 4.0,
                          "prompt": f"A banner for product {p['slot'].product_id}",
                          "width": p["slot"].format.width, "height": p["slot"].format.height}
                parent = rows[p["parent"]] if p["parent"] is not None else None
                jobs.append(RenderJob(
                    workspace=workspaces[p["ws"]], slot=p["slot"],
                    created_by=users[3 * p["ws"] + 1],
                    kind=JobKind.EDIT if parent else JobKind.GENERATE, source_asset=parent,
                    recipe=recipe, status=JobStatus.SUCCEEDED, attempt=1,
                    published_at=p["at"] - timedelta(seconds=40), gpu_seconds=30.0,
                    created_at=p["at"] - timedelta(seconds=45),
                    started_at=p["at"] - timedelta(seconds=35), finished_at=p["at"]))
            jobs = RenderJob.objects.bulk_create(jobs, batch_size=BATCH)
            assets = []
            for k, job in zip(idx, jobs, strict=True):
                p = plans[k]
                ws = workspaces[p["ws"]]
                fmt = p["slot"].format
                name = f"assets/{ws.slug}/{p['slot'].campaign_id}/{k}.png"
                stale = rng.random() < 0.05
                assets.append(Asset(
                    workspace=ws, slot=p["slot"], job=job,
                    parent=rows[p["parent"]] if p["parent"] is not None else None,
                    version=level + 1, review_state=p["state"], is_live=p["live"],
                    file=name, thumbnail=name.replace(".png", "-thumb.webp"),
                    width=fmt.width, height=fmt.height,
                    sha256=hashlib.sha256(file_body(k)).hexdigest(), recipe=job.recipe,
                    stale_reason="The product changed since." if stale else "",
                    stale_at=p["at"] + timedelta(days=1) if stale else None,
                    created_at=p["at"]))
            for k, asset in zip(idx, Asset.objects.bulk_create(assets, batch_size=BATCH),
                                strict=True):
                rows[k] = asset

    events = []
    actions = {ReviewState.APPROVED: "approve", ReviewState.CHANGES_REQUESTED: "request_changes",
               ReviewState.REJECTED: "reject"}
    with explicit_timestamps(ReviewEvent):
        for k, p in enumerate(plans):
            if p["state"] == ReviewState.IN_REVIEW:
                continue
            asset = rows[k]
            events.append(ReviewEvent(
                workspace_id=asset.workspace_id, asset=asset, action=actions[p["state"]],
                from_state=ReviewState.IN_REVIEW, to_state=p["state"],
                comment="" if p["state"] == ReviewState.APPROVED else "Make the logo larger.",
                sha256=asset.sha256, user=users[3 * p["ws"] + 2],
                created_at=p["at"] + timedelta(minutes=rng.randint(10, 300))))
        ReviewEvent.objects.bulk_create(events, batch_size=BATCH)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # what autovacuum would have done by now

    out.workspaces = workspaces
    out.admins = {ws.pk: users[3 * i] for i, ws in enumerate(workspaces)}
    live_by_campaign: dict[int, list[int]] = {}
    for k, p in enumerate(plans):
        if p["live"]:
            live_by_campaign.setdefault(p["slot"].campaign_id, []).append(k)
    for ws in workspaces:
        mine = [c for c in campaigns if c.workspace_id == ws.pk and c.pk in live_by_campaign]
        out.campaigns += rng.sample(mine, min(sample_per_workspace, len(mine)))
    write_files = [k for c in out.campaigns for k in live_by_campaign[c.pk]]
    for k in write_files:  # the ZIP reads (and checks) the live files of sampled campaigns
        _write_file(rows[k].file.name, file_body(k))
    out.assets = len(plans)
    out.in_review = sum(p["state"] == ReviewState.IN_REVIEW for p in plans)
    out.live = sum(p["live"] for p in plans)
    out.events = len(events)
    out.seconds = time.perf_counter() - started
    return out


def _write_file(name: str, body: bytes) -> None:
    from django.core.files.storage import default_storage

    path = Path(default_storage.path(name))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
