"""API tokens: create (the secret is shown once), authenticate, revoke.

A token reads ``ads_<prefix>_<secret>``. The prefix finds the row; only the SHA-256 of the
whole token is stored, so a database leak reveals no usable token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from api.models import ApiToken
from brands.access import PERMISSIONS
from brands.audit import audit_record
from brands.models import Membership

TOKEN_PREFIX = "ads"
# last_used_at is written at most this often per token (not on every request).
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def role_grants(role: str) -> frozenset[str]:
    return frozenset(action for action, roles in PERMISSIONS.items() if role in roles)


def role_within(role: str, ceiling: str) -> bool:
    """Whether ``role`` may do nothing that ``ceiling`` may not (a token's role against its
    owner's membership)."""
    return role_grants(role) <= role_grants(ceiling)


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # the whole token, shown once


def api_token_create(*, membership: Membership, name: str, role: str | None = None,
                     expires_at: datetime | None = None) -> NewToken:
    """A new token for the member's workspace. Its role defaults to the member's and may not
    exceed it; the returned ``secret`` is the only time the token is readable."""
    role = role or membership.role
    if not role_within(role, membership.role):
        raise ValidationError({"role": [
            f"A token cannot do more than you: your role is {membership.role}, so choose "
            f"{membership.role} or a role with fewer rights (viewer)."]})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": ["Choose an expiry date in the future."]})
    prefix = secrets.token_hex(6)
    secret = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=membership.user, workspace=membership.workspace, role=role,
            name=name.strip() or "API token", prefix=prefix, token_sha256=_digest(secret),
            expires_at=expires_at,
        )
        audit_record(workspace_id=membership.workspace_id, actor=membership.user,
                     verb="api_token.created", obj=token,
                     data={"name": token.name, "role": role})
    return NewToken(token=token, secret=secret)


def api_tokens_manageable(*, membership: Membership, can_manage: bool):
    """The tokens a member may see and revoke: every token of the workspace for an admin
    (``can_manage``: the member, and the token in use if any, may manage members), else
    their own."""
    tokens = ApiToken.objects.filter(workspace_id=membership.workspace_id).select_related("user")
    return tokens if can_manage else tokens.filter(user_id=membership.user_id)


def api_token_revoke(*, token: ApiToken, user) -> ApiToken:
    """Revoke a token now; requests with it are refused from then on. Callers choose the
    token from ``api_tokens_manageable`` (one's own, or any of the workspace for admins)."""
    with transaction.atomic():
        revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now())
        if revoked:
            audit_record(workspace_id=token.workspace_id, actor=user, verb="api_token.revoked",
                         obj=token, data={"name": token.name, "owner": token.user.username})
    token.refresh_from_db()
    return token


def api_tokens_revoke_of_member(*, membership: Membership, actor, reason: str,
                                beyond_role: str | None = None) -> int:
    """Revoke the member's live tokens in their workspace (only those that may do more than
    ``beyond_role`` when given), inside the caller's transaction. Returns how many."""
    tokens = list(ApiToken.objects.select_for_update()
                  .filter(user_id=membership.user_id, workspace_id=membership.workspace_id,
                          revoked_at__isnull=True))
    if beyond_role is not None:
        tokens = [t for t in tokens if not role_within(t.role, beyond_role)]
    now = timezone.now()
    for token in tokens:
        ApiToken.objects.filter(pk=token.pk).update(revoked_at=now)
        audit_record(workspace_id=membership.workspace_id, actor=actor,
                     verb="api_token.revoked", obj=token,
                     data={"name": token.name, "owner": membership.user.username,
                           "reason": reason})
    return len(tokens)


def tokens_revoke_when_membership_narrows(*, membership, actor, reason: str, role=None,
                                          **kwargs) -> None:
    """brands.signals.membership_narrowed: removed (role None) or lowered to ``role``."""
    api_tokens_revoke_of_member(membership=membership, actor=actor, reason=reason,
                                beyond_role=role)


class TokenRefused(Exception):
    """The presented token is unknown, revoked or expired (``str`` says which)."""


def api_token_authenticate(raw: str) -> ApiToken:
    """The live token ``raw`` names, or TokenRefused."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        raise TokenRefused("This is not an AdStudio API token.")
    token = (ApiToken.objects.select_related("user", "workspace")
             .filter(prefix=parts[1]).first())
    if token is None or not hmac.compare_digest(token.token_sha256, _digest(raw)):
        raise TokenRefused("Unknown API token.")
    now = timezone.now()
    if token.revoked_at is not None:
        raise TokenRefused("This API token was revoked.")
    if token.expires_at is not None and token.expires_at <= now:
        raise TokenRefused("This API token has expired; create a new one.")
    if not token.user.is_active:
        raise TokenRefused("The user of this API token is inactive.")
    if not Membership.objects.filter(user_id=token.user_id,
                                     workspace_id=token.workspace_id).exists():
        raise TokenRefused("The owner of this API token is no longer a member of its "
                           "workspace.")
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
