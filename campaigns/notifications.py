"""Email: marketers hear when their assets are reviewed; approvers get a digest of what waits.

Each member can turn either off (Membership.notify_reviewed / notify_review_waiting). Approvers
get at most one email per digest interval however many assets arrive (never one per asset).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse

from brands.models import Membership, Role
from campaigns.models import ReviewAction, ReviewEvent
from rendering.models import Asset, ReviewState

logger = logging.getLogger(__name__)

REVIEWERS = (Role.ADMIN, Role.APPROVER)
_VERDICTS = {
    ReviewAction.APPROVE: "approved",
    ReviewAction.REJECT: "rejected",
    ReviewAction.REQUEST_CHANGES: "sent back with changes",
}


def _link(name: str, **kwargs) -> str:
    return settings.ADSTUDIO_SITE_URL + reverse(name, kwargs=kwargs)


def review_notify_author(*, event_id: int) -> bool:
    """Tell the asset's author what the reviewer decided (unless they turned it off)."""
    event = (ReviewEvent.objects.select_related(
        "asset__job__created_by", "asset__slot__product", "asset__slot__format",
        "asset__workspace", "user").filter(pk=event_id).first())
    if event is None or event.action not in _VERDICTS:
        return False
    asset = event.asset
    author = asset.job.created_by if asset.job_id else None
    if author is None or not author.email or author.pk == event.user_id:
        return False
    wants = Membership.objects.filter(user=author, workspace_id=asset.workspace_id,
                                      notify_reviewed=True).exists()
    if not wants:
        return False
    what = (f"{asset.slot.product.name} · {asset.slot.format.name}" if asset.slot_id
            else f"asset {asset.pk}")
    reviewer = event.user.get_full_name() or event.user.username if event.user else "AdStudio"
    lines = [f"{reviewer} {_VERDICTS[event.action]} {what} (version {asset.version})."]
    if event.comment:
        lines += ["", f"“{event.comment}”"]
    if event.action == ReviewAction.REQUEST_CHANGES:
        lines += ["", "AdStudio is making the edit now; the new version comes back for review."]
    lines += ["", _link("asset-detail", ws=asset.workspace.slug, asset_id=asset.pk), "",
              "Turn these emails off on your notification settings page."]
    send_mail(f"[AdStudio] {what}: {_VERDICTS[event.action]}", "\n".join(lines),
              None, [author.email])
    return True


def review_digests_send() -> int:
    """Send each reviewer who wants it one email about the assets that entered review since
    their last digest (not their own). Returns the number of emails sent."""
    sent = 0
    members = (Membership.objects.filter(role__in=REVIEWERS, notify_review_waiting=True)
               .exclude(user__email="").select_related("user", "workspace"))
    for membership in members:
        sent += _digest_one(membership.pk)
    return sent


def _digest_one(membership_id: int) -> int:
    with transaction.atomic():
        membership = (Membership.objects.select_for_update(of=("self",))
                      .select_related("user", "workspace").get(pk=membership_id))
        waiting = (Asset.objects.filter(workspace_id=membership.workspace_id,
                                        review_state=ReviewState.IN_REVIEW)
                   .exclude(job__created_by=membership.user))
        if membership.review_digest_until is not None:
            waiting = waiting.filter(created_at__gt=membership.review_digest_until)
        waiting = waiting.filter(Q(slot__isnull=False)).order_by("created_at")
        newest = waiting.values_list("created_at", flat=True).last()
        count = waiting.count()
        if not count:
            return 0
        membership.review_digest_until = newest
        membership.save(update_fields=["review_digest_until"])
        workspace = membership.workspace
        body = (f"{count} new asset{'s' if count != 1 else ''} in {workspace.name} "
                f"{'are' if count != 1 else 'is'} waiting for your review.\n\n"
                f"{_link('review-queue', ws=workspace.slug)}\n\n"
                "Turn these emails off on your notification settings page.")
        # Sent inside the transaction: if the mail server fails, the digest is sent next time.
        send_mail(f"[AdStudio] {count} asset{'s' if count != 1 else ''} waiting for review",
                  body, None, [membership.user.email])
    return 1
