"""Members and roles of a workspace, and each member's email preferences."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from .audit import audit_record
from .models import Membership, Role, Workspace


def _other_admins(membership: Membership) -> bool:
    return (Membership.objects.filter(workspace_id=membership.workspace_id, role=Role.ADMIN)
            .exclude(pk=membership.pk).exists())


def membership_add(*, workspace: Workspace, actor, who: str, role: str) -> Membership:
    """Add an existing user (by username or email) to the workspace with ``role``."""
    if role not in Role.values:
        raise ValidationError(f"Unknown role “{role}”.", code="role_invalid")
    who = (who or "").strip()
    user = get_user_model().objects.filter(Q(username__iexact=who) | Q(email__iexact=who)).first()
    if not who or user is None:
        raise ValidationError("No user has that username or email. Ask your operator to "
                              "create the account first.", code="user_unknown")
    with transaction.atomic():
        if Membership.objects.filter(workspace=workspace, user=user).exists():
            raise ValidationError(f"{user.username} is already a member.", code="duplicate")
        membership = Membership.objects.create(workspace=workspace, user=user, role=role)
        audit_record(workspace_id=workspace.pk, actor=actor, verb="member.added",
                     obj=membership, data={"user": user.username, "role": role})
    return membership


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
        membership.delete()


def membership_notifications_save(*, membership: Membership, review_waiting: bool,
                                  reviewed: bool) -> Membership:
    """Which emails this member gets: the review digest, and reviews of their own assets."""
    Membership.objects.filter(pk=membership.pk).update(
        notify_review_waiting=review_waiting, notify_reviewed=reviewed)
    membership.notify_review_waiting, membership.notify_reviewed = review_waiting, reviewed
    return membership
