"""Stale detection: an asset made from a product, brand kit or template that has changed since
is flagged with the reason ("price 12.99 -> 9.99"), its campaign's marketer is told, and,
where the campaign says so, the slot is rendered again. ``campaign_rerender_stale`` is the
campaign page's "Render all stale again": one new render per stale slot, never twice.

Called by the services that change those things, inside their transaction, in a number of
queries that does not grow with the catalog: a feed re-import that changes one price among
1,000 products touches only that product's assets.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from brands.access import require
from brands.audit import audit_record
from brands.models import Membership, Product
from campaigns.models import Campaign, CampaignStatus
from campaigns.scene_reuse import scenes_to_repaint
from campaigns.selectors import campaign_slots
from rendering.compose.recipes import product_snapshot
from rendering.design.recipe import product_cutout_photo
from rendering.models import Asset

logger = logging.getLogger(__name__)


def _short(value) -> str:
    text = ", ".join(value) if isinstance(value, list) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def describe_changes(recorded: dict, current: dict) -> str:
    """'price 12.99 -> 9.99; slogan "Old" -> "New"' for the fields that differ."""
    parts = []
    for field, now in current.items():
        if field not in recorded:
            continue  # recorded before the field existed: nothing to compare it with
        before = recorded.get(field)
        if before != now:
            if field in ("price", "currency", "sale_price"):
                parts.append(f"{field} {_short(before)} -> {_short(now)}")
            else:
                parts.append(f'{field} "{_short(before)}" -> "{_short(now)}"')
    return "; ".join(parts)


# A composed asset (a layered design) is brought up to date by composing it again on the
# CPU; a picture the model drew must be rendered again on a GPU.
RECOMPOSE_NOTE = " (recompose: no GPU)"
# A scene ad whose scene would be painted differently now (prompt, product photo) needs one.
RERENDER_NOTE = " (re-render: new scene on a GPU)"


def _flag(groups: dict[str, list[int]]) -> list[int]:
    """Flag assets with their reasons (one UPDATE per distinct reason and kind); returns
    their ids. A composed asset's reason says it is recomposed."""
    now = timezone.now()
    flagged = []
    every = [i for ids in groups.values() for i in ids]
    composed = set(Asset.objects.filter(pk__in=every, recipe__engine="compose")
                   .values_list("id", flat=True)) if groups else set()
    repaint = scenes_to_repaint(composed) if composed else set()
    for reason, asset_ids in groups.items():
        for ids, note in (([i for i in asset_ids if i not in composed], ""),
                          ([i for i in asset_ids if i in composed and i not in repaint],
                           RECOMPOSE_NOTE),
                          ([i for i in asset_ids if i in repaint], RERENDER_NOTE)):
            if ids:
                Asset.objects.filter(pk__in=ids, stale_at__isnull=True).update(
                    stale_reason=reason[:500 - len(note)] + note, stale_at=now)
        flagged += asset_ids
    if flagged:
        transaction.on_commit(lambda: _follow_up(flagged))
    return flagged


def assets_flag_stale_for_products(product_ids) -> list[int]:
    """Flag the assets of these products whose recorded product fields no longer match."""
    product_ids = list(product_ids)
    if not product_ids:
        return []
    current = {p.pk: product_snapshot(p) for p in Product.objects.filter(pk__in=product_ids)}
    groups: dict[str, list[int]] = defaultdict(list)
    candidates = Asset.objects.filter(
        slot__product_id__in=product_ids, stale_at__isnull=True
    ).values_list("id", "slot__product_id", "recipe")
    for asset_id, product_id, recipe in candidates:
        recorded = (recipe.get("product") or {}).get("fields") or {}
        reason = describe_changes(recorded, current[product_id])
        if reason:
            groups[reason].append(asset_id)
    return _flag(groups)


def assets_flag_stale_for_cutout(product_id: int) -> list[int]:
    """Flag the ads that show another cut-out of this product than its current one."""
    photo = product_cutout_photo(Product.objects.get(pk=product_id))
    now_sha = photo.cutout_sha256 if photo else ""
    groups: dict[str, list[int]] = defaultdict(list)
    for asset_id, recipe in Asset.objects.filter(
            slot__product_id=product_id, stale_at__isnull=True,
            recipe__cutout__isnull=False).values_list("id", "recipe"):
        shown = (recipe.get("cutout") or {}).get("sha256", "")
        if shown != now_sha:
            groups[f"product photo changed (cut-out {shown[:8] or 'none'} -> "
                   f"{now_sha[:8] or 'none'})"].append(asset_id)
    return _flag(groups)


def stale_when_a_cutout_changes(*, product_id, **kwargs) -> None:
    """brands.signals.product_cutout_changed: a product layer or scene shows the old one."""
    assets_flag_stale_for_cutout(product_id)


def stale_when_products_change(*, product_ids, **kwargs) -> None:
    """brands.signals.products_changed: flag what was made from the old values."""
    assets_flag_stale_for_products(product_ids)


def stale_when_an_asset_lands_late(*, product_id, **kwargs) -> None:
    """rendering.signals.asset_stored: a render or edit queued before its product changed is
    stale from the start, with the reason."""
    if product_id:
        assets_flag_stale_for_products([product_id])


def stale_when_the_brand_changes(*, brand, changed, old_version, **kwargs) -> None:
    """brands.signals.brand_kit_changed: flag what was made with the old kit."""
    assets_flag_stale_for_brand(brand, changed=changed, old_version=old_version)


def stale_when_a_template_changes(*, template, old_version, **kwargs) -> None:
    """rendering.signals.template_changed: flag what was rendered from the old version."""
    assets_flag_stale_for_template(template, old_version=old_version)


def assets_flag_stale_for_brand(brand, *, changed: list[str], old_version: int) -> list[int]:
    """Every asset made with this brand kit predates the change that is being saved."""
    ids = list(Asset.objects.filter(slot__campaign__brand=brand, stale_at__isnull=True)
               .values_list("id", flat=True))
    reason = (f'brand kit "{brand.name}" changed ({", ".join(changed)}): '
              f"v{old_version} -> v{brand.version}")
    return _flag({reason: ids}) if ids else []


def assets_flag_stale_for_template(template, *, old_version: int) -> list[int]:
    ids = list(Asset.objects.filter(workspace_id=template.workspace_id,
                                    recipe__template__id=template.pk, stale_at__isnull=True)
               .values_list("id", flat=True))
    reason = f'template "{template.name}" changed: v{old_version} -> v{template.version}'
    return _flag({reason: ids}) if ids else []


def _follow_up(asset_ids: list[int]) -> None:
    """After the change commits: tell each campaign's marketer, and re-render where wanted."""
    from campaigns.services import campaign_generate

    by_campaign = defaultdict(list)
    for asset in Asset.objects.filter(pk__in=asset_ids).select_related(
            "slot__campaign__created_by", "slot__product", "slot__format"):
        by_campaign[asset.slot.campaign].append(asset)
    for campaign, assets in by_campaign.items():
        reasons = sorted({a.stale_reason for a in assets})
        # An archived campaign renders nothing new (campaigns.services.campaign_generate).
        rerender = campaign.auto_rerender_stale and campaign.status != CampaignStatus.ARCHIVED
        creator = campaign.created_by
        if creator is not None and creator.email:
            send_mail(
                subject=f"{len(assets)} asset(s) of {campaign.name} are out of date",
                message="These assets no longer match their inputs:\n"
                        + "\n".join(f"- {r}" for r in reasons)
                        + ("\nThey are being rendered again." if rerender
                           else "\nOpen the campaign to render them again."),
                from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=[creator.email],
                fail_silently=True,
            )
        if rerender:
            slots = list({a.slot_id: a.slot for a in assets}.values())
            try:
                campaign_generate(campaign=campaign, user=None, slots=slots, variants=1,
                                  reuse_scenes=True)
            except ValidationError as exc:  # e.g. over quota: the email already went out
                logger.warning("could not re-render stale assets of %s: %s", campaign, exc)


@dataclass(frozen=True)
class RerenderResult:
    jobs: list  # the render jobs queued, one per stale slot
    already_pending: int  # stale slots skipped: a fresh render is queued or waiting for review


def campaign_rerender_stale(*, campaign, user, product=None, slots=None) -> RerenderResult:
    """Render every stale slot of the campaign again (or only ``product``'s, or only those
    among ``slots``): one new render per slot whose live asset is stale (or whose only
    candidates are), through ``campaign_generate``. A slot with a fresh render queued or
    waiting for review is skipped, so a second click before the renders finish queues
    nothing. Marketers and admins."""
    from campaigns.services import campaign_generate

    membership = Membership.objects.filter(user=user, workspace_id=campaign.workspace_id).first()
    if membership is None:
        raise PermissionDenied("You are not a member of this workspace.")
    require(membership, "campaign.generate")
    with transaction.atomic():
        # One click at a time per campaign: the second one sees the first one's jobs.
        campaign = (Campaign.objects.select_for_update(of=("self",))
                    .select_related("workspace", "brand").get(pk=campaign.pk))
        chosen = None if slots is None else {slot.pk for slot in slots}
        views = [v for v in campaign_slots(campaign)
                 if (product is None or v.slot.product_id == product.pk)
                 and (chosen is None or v.slot.pk in chosen)]
        stale = [v for v in views if v.stale]
        slots = [v.slot for v in stale if not v.rerender_pending]
        jobs = []
        if slots:
            jobs = campaign_generate(campaign=campaign, user=user, slots=slots, variants=1,
                                     reuse_scenes=True).jobs
            audit_record(workspace_id=campaign.workspace_id, actor=user,
                         verb="campaign.rerender_requested", obj=campaign,
                         data={"jobs": [job.pk for job in jobs], "slots": [s.pk for s in slots],
                               "product": product.pk if product else None})
    return RerenderResult(jobs=jobs, already_pending=len(stale) - len(slots))
