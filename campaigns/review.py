"""Review and approval: a guarded state machine over asset versions, with an audit trail.

Every transition checks the current state (an illegal move raises), runs in one transaction
with the asset row locked, writes a review event bound to the SHA-256 of the file the reviewer
saw and an audit row, and notifies on commit. An approval is for one file: if the file changes,
the approval is void (P3). Nobody approves their own asset; only admins and approvers review.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import transaction

from brands.access import can, require
from brands.audit import audit_record
from brands.models import Membership
from campaigns.models import ReviewAction, ReviewEvent, Slot
from core.broker import task_publish
from core.events import event_announce
from rendering.jobs.enqueue import edit_job_create
from rendering.models import Asset, RenderJob, ReviewState

logger = logging.getLogger(__name__)

# (state, action) -> new state. Anything else is an illegal move.
TRANSITIONS: dict[tuple[str, str], str] = {
    (ReviewState.IN_REVIEW, ReviewAction.APPROVE): ReviewState.APPROVED,
    (ReviewState.IN_REVIEW, ReviewAction.REQUEST_CHANGES): ReviewState.CHANGES_REQUESTED,
    (ReviewState.IN_REVIEW, ReviewAction.REJECT): ReviewState.REJECTED,
    # A live asset can be withdrawn; the slot then has no live asset until one is approved.
    (ReviewState.APPROVED, ReviewAction.REJECT): ReviewState.REJECTED,
    (ReviewState.APPROVED, ReviewAction.VOID): ReviewState.IN_REVIEW,
}
# Audit verbs of the actions, in the webhook events' tense (asset.approved).
AUDIT_VERBS = {ReviewAction.APPROVE: "asset.approved",
               ReviewAction.REQUEST_CHANGES: "asset.changes_requested",
               ReviewAction.REJECT: "asset.rejected", ReviewAction.VOID: "asset.voided",
               ReviewAction.REPLACED: "asset.replaced"}
MAX_COMMENT = 2000
MAX_INSTRUCTION = 1000
MAX_CHAINED_INSTRUCTIONS = 5


def file_sha256(name: str) -> str:
    """The SHA-256 of a stored file as it is now (read back from storage)."""
    digest = hashlib.sha256()
    with default_storage.open(name, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def asset_author_id(asset: Asset) -> int | None:
    """Who made the asset: the user whose generate or edit request produced it."""
    job = getattr(asset, "job", None)
    return job.created_by_id if job is not None else None


def asset_may_approve(*, asset: Asset, membership: Membership) -> bool:
    """A reviewer's role, and not the asset's author (P2)."""
    return can(membership, "asset.review") and asset_author_id(asset) != membership.user_id


def _membership(user, asset: Asset) -> Membership:
    membership = Membership.objects.filter(user=user, workspace_id=asset.workspace_id).first()
    if membership is None:
        raise PermissionDenied("You are not a member of this workspace.")
    return membership


def _locked(asset: Asset) -> Asset:
    # Lock only the asset row: PostgreSQL cannot lock the nullable side of the job join.
    return Asset.objects.select_for_update(of=("self",)).select_related("job").get(pk=asset.pk)


def _target(asset: Asset, action: str) -> str:
    """The state ``action`` leads to from the asset's state; an illegal move raises."""
    to_state = TRANSITIONS.get((asset.review_state, action))
    if to_state is None:
        raise ValidationError(
            f"This asset is {asset.get_review_state_display().lower()}, so it cannot be "
            f"{ReviewAction(action).label.lower()} now.", code="illegal_transition")
    return to_state


def _move(asset: Asset, action: str, *, user, comment: str = "", edit_job=None,
          sha256: str | None = None, stale_acknowledged: str = "") -> ReviewEvent:
    """Apply ``action`` to the locked ``asset``."""
    to_state = _target(asset, action)
    from_state = asset.review_state
    asset.review_state = to_state
    if to_state != ReviewState.APPROVED:
        asset.is_live = False
    asset.save(update_fields=["review_state", "is_live"])
    event = ReviewEvent.objects.create(
        workspace_id=asset.workspace_id, asset=asset, action=action, from_state=from_state,
        to_state=to_state, comment=comment, sha256=sha256 or asset.sha256, user=user,
        edit_job=edit_job,
    )
    data = {"from": from_state, "to": to_state, "sha256": event.sha256, "comment": comment[:200]}
    if stale_acknowledged:
        data["stale_acknowledged"] = stale_acknowledged
    audit_record(workspace_id=asset.workspace_id, actor=user, verb=AUDIT_VERBS[action],
                 obj=asset, data=data)
    return event


def _clean_comment(comment: str, *, required: bool) -> str:
    comment = (comment or "").strip()
    if required and not comment:
        raise ValidationError("Say what should change: the comment is required.",
                              code="comment_required")
    if len(comment) > MAX_COMMENT:
        raise ValidationError(f"Keep the comment under {MAX_COMMENT} characters.",
                              code="comment_too_long")
    return comment


class StaleAssetError(ValidationError):
    """Approving a stale asset needs the approver's explicit confirmation (``confirm_stale``)."""

    def __init__(self, asset: Asset):
        self.asset_id = asset.pk
        self.reason = asset.stale_reason
        self.reasons = stale_reasons(asset)
        super().__init__(stale_question(asset), code="asset_stale")


def stale_reasons(asset: Asset) -> list[str]:
    """What changed since the asset was made, one entry per change ("price 12.99 -> 9.99")."""
    if not asset.is_stale:
        return []
    return [part for part in (asset.stale_reason or "").split("; ") if part] or [
        "its product, brand kit or template changed"]


def stale_question(asset: Asset) -> str:
    """The question an approver answers before approving a stale asset, naming the reasons."""
    return (f"This asset is stale: {'; '.join(stale_reasons(asset))}. Approve anyway? "
            "It goes live with the old values.")


def asset_approve(*, asset: Asset, user, sha256: str | None = None, comment: str = "",
                  confirm_stale: bool = False) -> ReviewEvent:
    """Approve this asset version; it becomes its slot's live asset, replacing the previous one
    in the same transaction.

    ``sha256`` is the hash of the file the approver looked at: if the asset changed since,
    nothing is approved. The stored file is read back and must still match. A stale asset
    (its product, brand kit or template changed since it was made) is approved only with
    ``confirm_stale=True``; the review event and the audit row record what was acknowledged.
    """
    comment = _clean_comment(comment, required=False)
    with transaction.atomic():
        asset = _locked(asset)
        membership = _membership(user, asset)
        require(membership, "asset.review")
        if not asset_may_approve(asset=asset, membership=membership):
            raise PermissionDenied("You made this asset, so someone else must approve it.")
        if sha256 is not None and sha256 != asset.sha256:
            raise ValidationError("This asset changed since you opened it. Look at it again "
                                  "before approving.", code="stale_view")
        _target(asset, ReviewAction.APPROVE)  # an illegal move says so before staleness does
        acknowledged = ""
        if asset.is_stale:
            if not confirm_stale:
                raise StaleAssetError(asset)
            acknowledged = "; ".join(stale_reasons(asset))
        if file_sha256(asset.file.name) != asset.sha256:
            raise ValidationError("The stored file no longer matches what was rendered, so "
                                  "it cannot be approved. Render it again.",
                                  code="file_changed")
        if acknowledged:  # kept with the decision itself, where the timeline shows it
            note = f"Approved although stale ({acknowledged})."
            comment = f"{note} {comment}".strip()[:MAX_COMMENT]
        event = _move(asset, ReviewAction.APPROVE, user=user, comment=comment,
                      stale_acknowledged=acknowledged)
        if asset.slot_id is not None:
            # Unset the old live asset first: the one-live-per-slot constraint is immediate.
            previous = list(Asset.objects.select_for_update()
                            .filter(slot_id=asset.slot_id, is_live=True).exclude(pk=asset.pk))
            for old in previous:
                Asset.objects.filter(pk=old.pk).update(is_live=False)
                ReviewEvent.objects.create(
                    workspace_id=old.workspace_id, asset=old, action=ReviewAction.REPLACED,
                    from_state=old.review_state, to_state=old.review_state, sha256=old.sha256,
                    user=user, comment=f"Replaced by version {asset.version} (asset {asset.pk}).",
                )
            asset.is_live = True
            asset.save(update_fields=["is_live"])
        _emit_approved(asset)  # in the transaction: delivered only if the approval commits
        transaction.on_commit(lambda: _after_review(event.pk))
    return event


class BulkApproval(NamedTuple):
    approved: list[ReviewEvent]
    problems: list[str]  # why each refused asset was not approved (stale ones aside)
    stale: list[StaleAssetError]  # stale assets skipped for want of confirm_stale


def assets_approve_bulk(*, assets: Iterable[Asset], user,
                        confirm_stale: bool = False) -> BulkApproval:
    """Approve several assets, each in its own transaction; returns the approvals, and for
    the ones refused, why (an asset of one's own, one already reviewed, ...). Stale assets are
    skipped and listed unless ``confirm_stale`` acknowledges them all."""
    result = BulkApproval([], [], [])
    for asset in assets:
        try:
            result.approved.append(asset_approve(asset=asset, user=user,
                                                 confirm_stale=confirm_stale))
        except StaleAssetError as exc:
            result.stale.append(exc)
        except (ValidationError, PermissionDenied) as exc:
            reason = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            result.problems.append(f"Asset {asset.pk}: {reason}")
    return result


def asset_reject(*, asset: Asset, user, comment: str) -> ReviewEvent:
    """Reject this version (a live one is withdrawn from its slot). The comment says why."""
    comment = _clean_comment(comment, required=True)
    with transaction.atomic():
        asset = _locked(asset)
        require(_membership(user, asset), "asset.review")
        event = _move(asset, ReviewAction.REJECT, user=user, comment=comment)
        transaction.on_commit(lambda: _after_review(event.pk))
    return event


def asset_request_changes(*, asset: Asset, user, comment: str,
                          region: Sequence[float] | None = None) -> ReviewEvent:
    """Send the asset back: the comment becomes a Qwen-Image-Edit instruction, and the edited
    version (a child of this one) comes back for review. The edit is made on behalf of the
    asset's author, so the reviewer may approve the result."""
    comment = _clean_comment(comment, required=True)
    instruction = comment[:MAX_INSTRUCTION]
    region = region_clean(region)
    with transaction.atomic():
        asset = _locked(asset)
        require(_membership(user, asset), "asset.review")
        _target(asset, ReviewAction.REQUEST_CHANGES)  # before queuing any edit
        author = asset.job.created_by if asset.job_id else None
        job = edit_job_create(source=asset, instructions=[instruction], region=region,
                               created_by=author)
        event = _move(asset, ReviewAction.REQUEST_CHANGES, user=user, comment=comment,
                      edit_job=job)
        transaction.on_commit(lambda: _after_review(event.pk))
    return event


def asset_edit(*, asset: Asset, user, instruction: str,
               region: Sequence[float] | None = None) -> RenderJob:
    """Edit an asset by instruction ("change the sign to 'Qwen Cafe'"). Several instructions,
    one per line, run as a chain: each makes a new version from the one before. An optional
    region (x, y, width, height as fractions of the image) limits the edit to that area."""
    instructions = [line.strip() for line in (instruction or "").splitlines() if line.strip()]
    if not instructions:
        raise ValidationError("Write an instruction, e.g. “make the background dark blue”.",
                              code="instruction_required")
    if len(instructions) > MAX_CHAINED_INSTRUCTIONS:
        raise ValidationError(f"Chain at most {MAX_CHAINED_INSTRUCTIONS} instructions at once.",
                              code="too_many_instructions")
    if any(len(line) > MAX_INSTRUCTION for line in instructions):
        raise ValidationError(f"Keep each instruction under {MAX_INSTRUCTION} characters.",
                              code="instruction_too_long")
    region = region_clean(region)
    from rendering.jobs.enqueue import quota_check

    with transaction.atomic():
        asset = Asset.objects.select_related("workspace").get(pk=asset.pk)
        require(_membership(user, asset), "asset.edit")
        quota_check(asset.workspace)
        job = edit_job_create(source=asset, instructions=instructions, region=region,
                               created_by=user)
        audit_record(workspace_id=asset.workspace_id, actor=user, verb="asset.edit_requested",
                     obj=asset, data={"job": job.pk, "instructions": instructions})
    return job


def region_clean(region: Sequence[float] | None) -> tuple[float, float, float, float] | None:
    """A region as (x, y, width, height) fractions inside the image, or None (whole image)."""
    if region is None or region == "" or region == []:
        return None
    try:
        x, y, w, h = (float(v) for v in region)
    except (TypeError, ValueError):
        raise ValidationError("A region is four numbers: x, y, width, height (0 to 1).",
                              code="region_invalid") from None
    if not (0 <= x < 1 and 0 <= y < 1 and 0 < w <= 1 and 0 < h <= 1
            and x + w <= 1.0001 and y + h <= 1.0001):
        raise ValidationError("The region must lie inside the image (x, y, width, height "
                              "between 0 and 1).", code="region_invalid")
    return (round(x, 4), round(y, 4), round(w, 4), round(h, 4))


def approved_hashes(asset_ids) -> dict[int, str]:
    """The file hash each asset's latest approval was bound to (one query)."""
    hashes: dict[int, str] = {}
    for asset_id, sha256 in (ReviewEvent.objects.filter(asset_id__in=list(asset_ids),
                                                        action=ReviewAction.APPROVE)
                             .order_by("created_at", "id").values_list("asset_id", "sha256")):
        hashes[asset_id] = sha256  # the latest wins
    return hashes


def asset_approval_verify(*, asset: Asset, approved_sha256: str | None = None) -> bool:
    """Is this approved asset's file still the one that was approved? If not, the approval is
    void (P3): the asset leaves its slot and goes back to review. Returns whether it holds.
    ``approved_sha256`` saves the lookup when the caller fetched it (approved_hashes)."""
    if asset.review_state != ReviewState.APPROVED:
        return False
    if approved_sha256 is None:
        approved_sha256 = approved_hashes([asset.pk]).get(asset.pk, "")
    try:
        current = file_sha256(asset.file.name)
    except OSError:
        current = ""
    if current == approved_sha256 == asset.sha256:
        return True
    with transaction.atomic():
        locked = _locked(asset)
        if locked.review_state == ReviewState.APPROVED:
            _move(locked, ReviewAction.VOID, user=None, sha256=current or "missing",
                  comment="The file changed after approval, so the approval is void.")
    logger.warning("approval of asset %s is void: its file changed", asset.pk)
    return False


def _after_review(event_id: int) -> None:
    from kombu.exceptions import OperationalError

    try:
        task_publish("campaigns.notify_review", args=[event_id])
    except OperationalError as exc:  # an email is not worth failing a committed review
        logger.warning("could not queue the review email for event %s: %s", event_id, exc)


def _emit_approved(asset: Asset) -> None:
    slot = (Slot.objects.select_related("product", "format").get(pk=asset.slot_id)
            if asset.slot_id else None)
    event_announce(workspace_id=asset.workspace_id, event="asset.approved", payload={
        "asset": asset.pk, "version": asset.version, "sha256": asset.sha256,
        "campaign": slot.campaign_id if slot else None,
        "product": slot.product.sku if slot else None,
        "format": slot.format.key if slot else None,
    })
