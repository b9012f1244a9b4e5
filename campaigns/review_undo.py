"""Undo a review decision for a few seconds after it was made (the review queue's "Undo").

Guarded like every transition: only the reviewer who decided, only within UNDO_SECONDS, only
an approval or a rejection (a change request has already queued its edit), and only when
nothing happened to the asset since (no later review event; an approval still live). The asset
goes back to review; an approval that replaced a live asset makes that one live again. The
undo is a review event of its own and an audit row.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from brands.audit import audit_record
from campaigns.models import ReviewAction, ReviewEvent
from core.events import event_announce
from rendering.models import Asset, ReviewState

UNDO_SECONDS = 10
UNDOABLE = (ReviewAction.APPROVE, ReviewAction.REJECT)


def review_undo_deadline(event: ReviewEvent):
    return event.created_at + timedelta(seconds=UNDO_SECONDS)


def asset_review_undo(*, event: ReviewEvent, user) -> ReviewEvent:
    """Take back ``event`` (an approval or rejection ``user`` just made): the asset is in
    review again and, for an approval, the asset it replaced is live again."""
    with transaction.atomic():
        asset = Asset.objects.select_for_update().get(pk=event.asset_id)
        event = ReviewEvent.objects.get(pk=event.pk)
        if event.user_id != user.pk:
            raise PermissionDenied("Only the reviewer who made this decision can undo it.")
        if event.action not in UNDOABLE:
            raise ValidationError("Only an approval or a rejection can be undone.",
                                  code="not_undoable")
        if timezone.now() > review_undo_deadline(event):
            raise ValidationError(f"Too late to undo: a decision can be undone for "
                                  f"{UNDO_SECONDS} seconds. Review the asset again instead.",
                                  code="undo_expired")
        later = ReviewEvent.objects.filter(asset_id=asset.pk, pk__gt=event.pk)
        if later.exists() or asset.review_state != event.to_state or (
                event.action == ReviewAction.APPROVE and not asset.is_live):
            raise ValidationError("Something happened to this asset since, so the decision "
                                  "stays. Review it again instead.", code="undo_overtaken")
        restored = None
        if event.action == ReviewAction.APPROVE and asset.slot_id is not None:
            restored = _replaced_by(event, asset)
        asset.review_state, asset.is_live = ReviewState.IN_REVIEW, False
        asset.save(update_fields=["review_state", "is_live"])
        undo = ReviewEvent.objects.create(
            workspace_id=asset.workspace_id, asset=asset, action=ReviewAction.UNDO,
            from_state=event.to_state, to_state=ReviewState.IN_REVIEW, sha256=asset.sha256,
            user=user, comment=f"Undid “{event.get_action_display().lower()}” "
                               f"(review event {event.pk}).")
        if restored is not None:
            Asset.objects.filter(pk=restored.pk).update(is_live=True)
            ReviewEvent.objects.create(
                workspace_id=restored.workspace_id, asset=restored, action=ReviewAction.UNDO,
                from_state=restored.review_state, to_state=restored.review_state,
                sha256=restored.sha256, user=user,
                comment=f"Live again: the approval of version {asset.version} was undone.")
        if event.action == ReviewAction.APPROVE:  # integrators heard of the approval
            event_announce(workspace_id=asset.workspace_id, event="asset.approval_undone",
                           payload={"asset": asset.pk, "version": asset.version,
                                    "sha256": asset.sha256,
                                    "live_again": restored.pk if restored else None})
        audit_record(workspace_id=asset.workspace_id, actor=user, verb="asset.review_undone",
                     obj=asset, data={"event": event.pk, "action": event.action,
                                      "from": event.to_state, "to": ReviewState.IN_REVIEW,
                                      "live_again": restored.pk if restored else None})
    return undo


def _replaced_by(event: ReviewEvent, asset: Asset) -> Asset | None:
    """The asset this approval took the slot from, if it is still approved and not live."""
    replaced = (ReviewEvent.objects.filter(action=ReviewAction.REPLACED, user_id=event.user_id,
                                           asset__slot_id=asset.slot_id,
                                           created_at__gte=event.created_at,
                                           comment__contains=f"(asset {asset.pk})")
                .order_by("-id").first())
    if replaced is None:
        return None
    old = Asset.objects.select_for_update().get(pk=replaced.asset_id)
    if old.review_state != ReviewState.APPROVED or old.is_live:
        return None
    return old
