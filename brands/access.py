"""Who may do what in a workspace: roles, actions, and workspace-scoped lookups.

Every dashboard view resolves its workspace through ``membership_for`` (not a member: 404) and
checks an action with ``require`` (not allowed: 403). Unknown actions are denied.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from brands.models import Membership, Role

_ALL = frozenset(Role.values)
_EDITORS = frozenset({Role.ADMIN, Role.MARKETER})

PERMISSIONS: dict[str, frozenset[str]] = {
    "workspace.view": _ALL,
    "brand.edit": frozenset({Role.ADMIN}),
    "product.edit": _EDITORS,
    "product.import": _EDITORS,
    "template.edit": _EDITORS,
    "campaign.edit": _EDITORS,
    "campaign.generate": _EDITORS,
    "campaign.export": _ALL,  # approved assets only; viewers (agency partners) may download
    "asset.edit": _EDITORS,  # Qwen-Image-Edit by instruction
    "asset.review": frozenset({Role.ADMIN, Role.APPROVER}),  # never one's own asset (services)
    "member.manage": frozenset({Role.ADMIN}),
    "webhook.manage": frozenset({Role.ADMIN}),
}


def can(membership: Membership, action: str) -> bool:
    return membership.role in PERMISSIONS.get(action, frozenset())


def require(membership: Membership, action: str) -> None:
    if not can(membership, action):
        raise PermissionDenied(f"Your role ({membership.role}) cannot do this.")


def membership_for(user, workspace_slug: str) -> Membership:
    """The user's membership in the workspace; 404 when there is none (no existence leak)."""
    if not user.is_authenticated:
        raise Http404
    membership = (
        Membership.objects.select_related("workspace")
        .filter(user=user, workspace__slug=workspace_slug)
        .first()
    )
    if membership is None:
        raise Http404("No such workspace.")
    return membership


def workspace_view(action: str):
    """Decorate a dashboard view taking ``(request, membership, ...)`` from URL ``ws``.

    Anonymous users go to login; non-members get 404; members without ``action`` get 403.
    """
    from functools import wraps

    from django.contrib.auth.decorators import login_required

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, ws: str, *args, **kwargs):
            membership = membership_for(request.user, ws)
            require(membership, action)
            request.membership = membership
            return view(request, membership, *args, **kwargs)

        return wrapper

    return decorator
