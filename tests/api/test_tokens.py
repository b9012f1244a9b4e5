"""API tokens: stored hashed, scoped to one workspace and a role, revocable, expiring."""

import hashlib
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from api.models import ApiToken
from api.tokens import api_token_create
from brands.models import AuditEvent, Role
from tests.api.conftest import ApiClient, api_for
from tests.factories import MembershipFactory, ProductFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


def test_token_is_stored_only_as_its_sha256(admin):
    token = ApiToken.objects.get()
    assert token.token_sha256 == hashlib.sha256(admin.secret.encode()).hexdigest()
    assert admin.secret.startswith(f"ads_{token.prefix}_")
    stored = [str(getattr(token, f.attname)) for f in ApiToken._meta.fields]
    assert not any(admin.secret in value for value in stored)
    assert admin.get("brands/").status_code == 200


@pytest.mark.parametrize("header", [
    None, "Bearer ads_nope_nope", "Bearer not-a-token", "Bearer",
])
def test_requests_without_a_valid_token_are_401(admin, header):
    client = ApiClient(None, admin.ws)
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.get("brands/", **extra)
    assert response.status_code == 401
    assert set(response.json()) == {"detail"}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_token_with_the_right_prefix_but_wrong_secret_is_refused(admin):
    forged = admin.secret[:-4] + ("AAAA" if not admin.secret.endswith("AAAA") else "BBBB")
    response = ApiClient(forged, admin.ws).get("brands/")
    assert response.status_code == 401 and response.json()["detail"] == "Unknown API token."


def test_revoked_token_stops_working_at_once(admin):
    assert admin.get("brands/").status_code == 200
    token = ApiToken.objects.get()
    response = admin.post(f"tokens/{token.pk}/revoke/")
    assert response.status_code == 200 and response.json()["revoked_at"]
    response = admin.get("brands/")
    assert response.status_code == 401 and "revoked" in response.json()["detail"]
    assert AuditEvent.objects.filter(verb="api_token.revoked", object_id=token.pk).exists()


def test_expired_token_is_refused(admin):
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = admin.get("brands/")
    assert response.status_code == 401 and "expired" in response.json()["detail"]


def test_last_used_is_recorded(admin):
    assert ApiToken.objects.get().last_used_at is None
    admin.get("brands/")
    assert ApiToken.objects.get().last_used_at is not None


def test_token_role_cannot_exceed_the_members_role():
    marketer = MembershipFactory(role=Role.MARKETER)
    with pytest.raises(ValidationError, match="cannot do more than you"):
        api_token_create(membership=marketer, name="x", role=Role.ADMIN)
    approver = MembershipFactory(role=Role.APPROVER)
    with pytest.raises(ValidationError):
        api_token_create(membership=approver, name="x", role=Role.MARKETER)
    assert api_token_create(membership=approver, name="x", role=Role.VIEWER).token.role == "viewer"
    assert ApiToken.objects.count() == 1


def test_create_token_through_the_api_shows_the_secret_once(marketer):
    response = marketer.post("tokens/", {"name": "CI", "role": "viewer"})
    assert response.status_code == 201
    body = response.json()
    assert body["role"] == "viewer" and body["token"].startswith("ads_")
    listed = marketer.get("tokens/").json()
    assert listed["count"] == 2 and all("token" not in t for t in listed["results"])
    viewer = ApiClient(body["token"], marketer.ws)
    assert viewer.get("products/").status_code == 200
    assert viewer.post("products/", {"sku": "A", "name": "A", "price": "1",
                                     "currency": "USD"}).status_code == 403


def test_api_refuses_a_token_stronger_than_the_member(marketer):
    response = marketer.post("tokens/", {"name": "x", "role": "admin"})
    assert response.status_code == 400
    assert "role" in response.json()["errors"]


def test_a_viewer_token_cannot_mint_a_marketer_token(marketer):
    viewer_token = marketer.post("tokens/", {"name": "v", "role": "viewer"}).json()["token"]
    response = ApiClient(viewer_token, marketer.ws).post("tokens/", {"name": "x",
                                                                     "role": "marketer"})
    assert response.status_code == 400 and ApiToken.objects.count() == 2


def test_token_role_limits_an_admin_user(workspace):
    membership = MembershipFactory(workspace=workspace, role=Role.ADMIN)
    viewer = api_for(membership, role=Role.VIEWER)
    response = viewer.post("brands/", {"name": "New"})
    assert response.status_code == 403
    assert response.json() == {"detail": "Your role (viewer) cannot do this (brand.edit)."}


def test_token_only_works_in_its_own_workspace():
    membership = MembershipFactory(role=Role.ADMIN)
    other = MembershipFactory(user=membership.user, role=Role.ADMIN,
                              workspace=WorkspaceFactory())
    ProductFactory(workspace=other.workspace)
    client = api_for(membership)
    assert client.get("products/").json()["count"] == 0
    assert ApiClient(client.secret, other.workspace.slug).get("products/").status_code == 404


def test_demoted_member_loses_the_rights_of_their_token(admin):
    admin.membership.role = Role.VIEWER
    admin.membership.save()
    assert admin.post("brands/", {"name": "New"}).status_code == 403


def test_dashboard_page_creates_shows_once_and_revokes(client, workspace):
    membership = MembershipFactory(workspace=workspace, role=Role.MARKETER)
    client.force_login(membership.user)
    url = reverse("api-tokens", kwargs={"ws": workspace.slug})
    page = client.get(url)
    assert page.status_code == 200 and "No API tokens yet" in page.content.decode()
    response = client.post(url, {"name": "Zapier", "role": "viewer", "expires_in_days": "30"})
    assert response.status_code == 201
    token = ApiToken.objects.get()
    html = response.content.decode()
    secret = html.split("<pre>")[1].split("</pre>")[0]
    assert hashlib.sha256(secret.encode()).hexdigest() == token.token_sha256
    assert token.expires_at > timezone.now() + timedelta(days=29)
    assert secret not in client.get(url).content.decode()  # shown once
    refused = client.post(url, {"name": "x", "role": "admin"})
    assert refused.status_code == 400 and ApiToken.objects.count() == 1
    client.post(url, {"revoke": token.pk})
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_dashboard_page_is_404_for_another_workspace(client, workspace):
    membership = MembershipFactory(role=Role.ADMIN)
    client.force_login(membership.user)
    assert client.get(reverse("api-tokens", kwargs={"ws": workspace.slug})).status_code == 404
