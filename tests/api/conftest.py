"""API test helpers: members with tokens, and a client that sends the token."""

from __future__ import annotations

import pytest
from django.test import Client

from api.tokens import api_token_create
from brands.models import Role
from tests.factories import MembershipFactory, WorkspaceFactory


class ApiClient:
    """A Django test client that sends ``Authorization: Bearer <token>`` and JSON bodies."""

    def __init__(self, secret: str | None, ws: str):
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        self.client = Client(headers=headers)
        self.ws = ws

    def url(self, path: str) -> str:
        return f"/api/v1/workspaces/{self.ws}/{path.lstrip('/')}"

    def get(self, path: str, params=None, **extra):
        return self.client.get(self.url(path), params or {}, **extra)

    def post(self, path: str, data=None, *, files: bool = False, **extra):
        if files:
            return self.client.post(self.url(path), data or {}, **extra)
        return self.client.post(self.url(path), data or {}, content_type="application/json",
                                **extra)

    def patch(self, path: str, data, **extra):
        return self.client.patch(self.url(path), data, content_type="application/json", **extra)

    def put(self, path: str, data, **extra):
        return self.client.put(self.url(path), data, content_type="application/json", **extra)

    def delete(self, path: str, **extra):
        return self.client.delete(self.url(path), **extra)


def api_for(membership, role: str | None = None) -> ApiClient:
    new = api_token_create(membership=membership, name="tests", role=role)
    client = ApiClient(new.secret, membership.workspace.slug)
    client.membership, client.secret = membership, new.secret
    return client


@pytest.fixture
def workspace(db):
    return WorkspaceFactory()


@pytest.fixture
def member(workspace):
    """``member(role)``: an API client for a new member of ``workspace`` with that role."""

    def make(role: str = Role.ADMIN) -> ApiClient:
        return api_for(MembershipFactory(workspace=workspace, role=role))

    return make


@pytest.fixture
def admin(member):
    return member(Role.ADMIN)


@pytest.fixture
def marketer(member):
    return member(Role.MARKETER)
