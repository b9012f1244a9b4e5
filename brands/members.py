"""Members and roles of a workspace, and each member's email preferences.

New members come by invitation (brands/invitations.py). Removing a member, or lowering a role
below what one of their API tokens may do, revokes those tokens in the same transaction: a
member who comes back does not get them back (P12).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from brands.audit import audit_record
from brands.models import Membership, Role
from brands.signals import membership_narrowed


def _other_admins(membership: Membership) -> bool:
    return (Membership.objects.filter(workspace_id=membership.workspace_id, role=Role.ADMIN)
            .exclude(pk=membership.pk).exists())


def membership_role_change(*, membership: Membership, actor, role: str) -> Membership:
    """Give a member another role; the workspace always keeps at least one admin."""
    if role not in Role.values:
        raise ValidationError(f"Unknown role “{role}”.", code="role_invalid")
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        if membership.role == Role.ADMIN and role != Role.ADMIN and not _other_admins(membership):
            raise ValidationError("A workspace needs at least one admin: make someone else "
                                  "admin first.", code="last_admin")
        old = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        audit_record(workspace_id=membership.workspace_id, actor=actor,
                     verb="member.role_changed", obj=membership,
                     data={"user": membership.user.username, "from": old, "to": role})
        membership_narrowed.send(sender=Membership, membership=membership, actor=actor,
                                 reason="role lowered", role=role)
    return membership


def membership_remove(*, membership: Membership, actor) -> None:
    """Remove a member (never the last admin)."""
    with transaction.atomic():
        membership = Membership.objects.select_for_update(of=("self",)).select_related("user").get(
            pk=membership.pk)
        if membership.role == Role.ADMIN and not _other_admins(membership):
            raise ValidationError("A workspace needs at least one admin.", code="last_admin")
        audit_record(workspace_id=membership.workspace_id, actor=actor, verb="member.removed",
                     obj=membership, data={"user": membership.user.username})
        membership_narrowed.send(sender=Membership, membership=membership, actor=actor,
                                 reason="member removed", role=None)
        membership.delete()


def membership_notifications_save(*, membership: Membership, review_waiting: bool,
                                  reviewed: bool) -> Membership:
    """Which emails this member gets: the review digest, and reviews of their own assets."""
    Membership.objects.filter(pk=membership.pk).update(
        notify_review_waiting=review_waiting, notify_reviewed=reviewed)
    membership.notify_review_waiting, membership.notify_reviewed = review_waiting, reviewed
    return membership
