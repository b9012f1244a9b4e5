"""Workspace scope and roles for API views (P1: not a member -> 404, P2: role lacks -> 403).

The workspace comes from the URL (``/api/v1/workspaces/<ws>/...``). A token only works in its
own workspace (elsewhere: 404, as for a non-member) and only for actions that both its role
and its owner's current membership allow.
"""

from __future__ import annotations

from functools import cached_property

from django.http import Http404
from rest_framework import permissions
from rest_framework.exceptions import NotFound

from api.models import ApiToken
from brands.access import PERMISSIONS, can, membership_for
from brands.models import Membership


def api_can(request, membership: Membership, action: str) -> bool:
    token = request.auth if isinstance(request.auth, ApiToken) else None
    if token is not None and token.role not in PERMISSIONS.get(action, frozenset()):
        return False
    return can(membership, action)


class WorkspaceAction(permissions.BasePermission):
    """Resolves ``view.membership`` and checks ``view.required_action()``."""

    message = "Your role cannot do this in this workspace."

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        membership = view.membership  # 404 for a non-member or a foreign token
        action = view.required_action()
        if not api_can(request, membership, action):
            token = request.auth if isinstance(request.auth, ApiToken) else None
            role = token.role if token is not None else membership.role
            self.message = f"Your role ({role}) cannot do this ({action})."
            return False
        return True


class WorkspaceScoped:
    """Mixin for views under ``workspaces/<ws>/``: ``self.membership``, ``self.workspace``,
    and ``actions``, the permission each view action needs ("action" or "action:method";
    anything not listed needs only workspace.view)."""

    permission_classes = [permissions.IsAuthenticated, WorkspaceAction]
    lookup_value_converter = "id"  # api.converters: 1 to 2**63-1, else 404
    actions: dict[str, str] = {}

    @cached_property
    def membership(self) -> Membership:
        request = self.request
        token = request.auth if isinstance(request.auth, ApiToken) else None
        if token is not None and token.workspace.slug != self.kwargs["ws"]:
            raise NotFound("No such workspace.")
        try:
            return membership_for(request.user, self.kwargs["ws"])
        except Http404 as exc:
            raise NotFound("No such workspace.") from exc

    @property
    def workspace(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator's dry run
            return None
        return self.membership.workspace

    @classmethod
    def permission_for(cls, action: str, method: str) -> str:
        """The permission ``action`` needs via ``method`` ("schedule:put" before "schedule")."""
        return cls.actions.get(f"{action}:{method}", cls.actions.get(action, "workspace.view"))

    def required_action(self) -> str:
        method = self.request.method.lower()
        return self.permission_for(getattr(self, "action", None) or method, method)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "workspace": self.workspace}
