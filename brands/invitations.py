"""Invitations: an admin invites an email address; its owner accepts and becomes a member (P10).

Inviting never looks at the installation's users: the answer is the same whoever the address
belongs to (a member of another workspace, a user of none, nobody), so members cannot be
found, revealed or enlisted. Only the person who reads the email, signed in as a user with
that address (or creating one through the link), joins.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import smtplib
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from brands.access import require
from brands.audit import audit_record
from brands.models import Invitation, Membership, Role, Workspace

logger = logging.getLogger(__name__)

INVITATION_VALID_FOR = timedelta(days=7)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def email_normalise(email: str) -> str:
    """The address as invitations store and compare it (stripped, lower case), or a
    ValidationError for something that is not an email address."""
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ValidationError({"email": ["Enter a valid email address."]}) from exc
    return email


def invitation_sent_message(email: str) -> str:
    """What every invite answers, whoever the address belongs to."""
    return f"Invitation sent to {email}."


def invitation_link(token: str) -> str:
    return settings.ADSTUDIO_SITE_URL + reverse("invitation-accept", kwargs={"token": token})


def _send(invitation: Invitation, token: str) -> None:
    inviter = invitation.invited_by
    who = (inviter.get_full_name() or inviter.username) if inviter else "An admin"
    lines = [
        f"{who} invited you to join the workspace “{invitation.workspace.name}” on AdStudio "
        f"as {invitation.get_role_display().lower()}.", "",
        "Accept the invitation (the link works once, until "
        f"{invitation.expires_at:%Y-%m-%d %H:%M} UTC):", invitation_link(token), "",
        "If you did not expect this, ignore this email: nothing happens until you accept.",
    ]
    try:
        send_mail(f"[AdStudio] Join {invitation.workspace.name}", "\n".join(lines), None,
                  [invitation.email])
    except (OSError, smtplib.SMTPException):
        # The invitation stands; the admin can resend it once mail works again.
        logger.exception("could not send the invitation email of invitation %s", invitation.pk)


def _fresh_token(invitation: Invitation) -> str:
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    invitation.token_sha256 = _digest(token)
    invitation.sent_at = now
    invitation.expires_at = now + INVITATION_VALID_FOR
    return token


def member_invite(*, membership: Membership, email: str, role: str) -> str:
    """Invite ``email`` to the acting admin's workspace with ``role`` and email the link.

    Returns the message to show, the same for every address that is not already a member
    here. Inviting an address again replaces its pending invitation (a new link, new expiry,
    the new role); the old link stops working."""
    require(membership, "member.manage")
    if role not in Role.values:
        raise ValidationError({"role": [f"Unknown role “{role}”."]})
    email = email_normalise(email)
    workspace, actor = membership.workspace, membership.user
    with transaction.atomic():
        # Members of this workspace are listed with their addresses on the members page.
        if Membership.objects.filter(workspace=workspace, user__email__iexact=email).exists():
            raise ValidationError({"email": [f"{email} is already a member of this workspace."]})
        invitation = (Invitation.objects.select_for_update()
                      .filter(workspace=workspace, email=email, accepted_at__isnull=True,
                              revoked_at__isnull=True).first())
        verb = "invitation.resent" if invitation else "invitation.sent"
        if invitation is None:
            invitation = Invitation(workspace=workspace, email=email)
        invitation.role, invitation.invited_by = role, actor
        token = _fresh_token(invitation)
        try:
            with transaction.atomic():
                invitation.save()
        except IntegrityError as exc:  # a concurrent invite of the same address won
            raise ValidationError({"email": [f"{email} was invited a moment ago; see the "
                                             "pending invitations."]}) from exc
        audit_record(workspace_id=workspace.pk, actor=actor, verb=verb, obj=invitation,
                     data={"email": email, "role": role})
        transaction.on_commit(lambda: _send(invitation, token))
    return invitation_sent_message(email)


def _pending(invitation: Invitation) -> Invitation:
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        raise ValidationError("This invitation was already used or revoked.",
                              code="invitation_closed")
    return invitation


def invitation_resend(*, membership: Membership, invitation: Invitation) -> str:
    """Send a pending invitation again with a new link (the old one stops working)."""
    require(membership, "member.manage")
    with transaction.atomic():
        invitation = _pending(Invitation.objects.select_for_update().get(
            pk=invitation.pk, workspace=membership.workspace))
        token = _fresh_token(invitation)
        invitation.invited_by = membership.user
        invitation.save(update_fields=["token_sha256", "sent_at", "expires_at", "invited_by"])
        audit_record(workspace_id=invitation.workspace_id, actor=membership.user,
                     verb="invitation.resent", obj=invitation,
                     data={"email": invitation.email, "role": invitation.role})
        transaction.on_commit(lambda: _send(invitation, token))
    return invitation_sent_message(invitation.email)


def invitation_revoke(*, membership: Membership, invitation: Invitation) -> Invitation:
    """Withdraw a pending invitation: its link stops working."""
    require(membership, "member.manage")
    with transaction.atomic():
        invitation = _pending(Invitation.objects.select_for_update().get(
            pk=invitation.pk, workspace=membership.workspace))
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit_record(workspace_id=invitation.workspace_id, actor=membership.user,
                     verb="invitation.revoked", obj=invitation,
                     data={"email": invitation.email})
    return invitation


class InvitationRefused(Exception):
    """The link is unknown, used, revoked or expired (``str`` says which, for the invitee)."""


def invitation_by_token(token: str) -> Invitation:
    """The pending, unexpired invitation of a link, or InvitationRefused."""
    invitation = (Invitation.objects.select_related("workspace", "invited_by")
                  .filter(token_sha256=_digest(token or "")).first())
    if invitation is None:
        raise InvitationRefused("This invitation link is not valid. Ask the workspace's admin "
                                "for a new one.")
    if invitation.accepted_at is not None:
        raise InvitationRefused("This invitation was already accepted.")
    if invitation.revoked_at is not None:
        raise InvitationRefused("This invitation was withdrawn by the workspace's admin.")
    if invitation.expires_at <= timezone.now():
        raise InvitationRefused("This invitation has expired. Ask the workspace's admin to "
                                "send it again.")
    return invitation


def invitation_is_for(invitation: Invitation, user) -> bool:
    return bool(user.is_authenticated and user.email
                and user.email.strip().lower() == invitation.email)


def invitation_account_exists(invitation: Invitation) -> bool:
    """Whether the invitee must sign in (an account has the address) or may create one."""
    return get_user_model().objects.filter(email__iexact=invitation.email).exists()


@dataclass(frozen=True)
class Accepted:
    membership: Membership
    joined: bool  # False: the invitee was a member already (the role is left as it was)


def invitation_accept(*, token: str, user) -> Accepted:
    """Make ``user`` a member with the invitation's role. Only a signed-in user whose email
    is the invited address may accept; a link works once."""
    with transaction.atomic():
        invitation = invitation_by_token(token)
        invitation = Invitation.objects.select_for_update().select_related("workspace").get(
            pk=invitation.pk)
        if invitation.accepted_at is not None or invitation.revoked_at is not None:
            raise InvitationRefused("This invitation was already used or revoked.")
        if not invitation_is_for(invitation, user):
            raise PermissionDenied(f"This invitation is for {invitation.email}. Sign in as "
                                   "that user to accept it.")
        membership, created = Membership.objects.get_or_create(
            workspace=invitation.workspace, user=user, defaults={"role": invitation.role})
        invitation.accepted_at, invitation.accepted_by = timezone.now(), user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        audit_record(workspace_id=invitation.workspace_id, actor=user,
                     verb="invitation.accepted", obj=invitation,
                     data={"email": invitation.email, "user": user.username,
                           "role": membership.role, "joined": created})
    return Accepted(membership=membership, joined=created)


def invitation_accept_new_user(*, token: str, username: str, password: str) -> Accepted:
    """Create the invitee's account (with the invited address) and accept, in one transaction.
    Refused when an account already has the address: its owner signs in instead."""
    user_model = get_user_model()
    with transaction.atomic():
        invitation = invitation_by_token(token)
        if invitation_account_exists(invitation):
            raise PermissionDenied("An account already has this address: sign in to accept.")
        if user_model.objects.filter(username__iexact=username).exists():
            raise ValidationError({"username": ["That username is taken; choose another."]})
        user = user_model.objects.create_user(username=username, email=invitation.email,
                                              password=password)
        return invitation_accept(token=token, user=user)


def invitations_pending(*, workspace: Workspace):
    """The workspace's invitations that are neither accepted nor revoked (expired included)."""
    return (Invitation.objects.filter(workspace=workspace, accepted_at__isnull=True,
                                      revoked_at__isnull=True)
            .select_related("invited_by").order_by("email"))
