"""P12: a removed member's API tokens die with the membership and stay dead when the member
comes back; admins list and revoke every token of the workspace."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from api.models import ApiToken
from brands.members import membership_remove, membership_role_change
from brands.models import AuditEvent, Membership, Role
from tests.api.conftest import ApiClient, api_for
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(workspace):
    admin = api_for(MembershipFactory(workspace=workspace, role=Role.ADMIN))
    marketer = api_for(MembershipFactory(workspace=workspace, role=Role.MARKETER))
    return admin, marketer


def test_P12_a_removed_members_token_is_401_and_revoked_in_the_database(team):
    admin, marketer = team
    assert marketer.get("products/").status_code == 200
    assert admin.delete(f"members/{marketer.membership.pk}/").status_code == 204
    response = marketer.get("products/")
    assert response.status_code == 401 and "revoked" in response.json()["detail"]
    token = ApiToken.objects.get(user=marketer.membership.user)
    assert token.revoked_at is not None  # revoked by the removal, not only checked per request
    audit = AuditEvent.objects.get(verb="api_token.revoked", object_id=token.pk)
    assert audit.actor == admin.membership.user and audit.data["reason"] == "member removed"


def test_P12_the_old_token_stays_dead_when_the_member_is_added_again(team, workspace):
    admin, marketer = team
    user = marketer.membership.user
    admin.delete(f"members/{marketer.membership.pk}/")
    Membership.objects.create(workspace=workspace, user=user, role=Role.MARKETER)
    assert marketer.get("products/").status_code == 401
    fresh = api_for(Membership.objects.get(workspace=workspace, user=user))
    assert fresh.get("products/").status_code == 200  # a new token works


def test_P12_removal_from_the_dashboard_revokes_too(client, team, workspace):
    admin, marketer = team
    client.force_login(admin.membership.user)
    client.post(reverse("member-change", kwargs={"ws": workspace.slug,
                                                 "member_id": marketer.membership.pk}),
                {"remove": "1"})
    assert not Membership.objects.filter(pk=marketer.membership.pk).exists()
    assert marketer.get("products/").status_code == 401


def test_P12_a_token_whose_membership_vanished_otherwise_is_401(team):
    _, marketer = team
    Membership.objects.filter(pk=marketer.membership.pk).delete()  # e.g. in the admin site
    response = marketer.get("products/")
    assert response.status_code == 401 and "no longer a member" in response.json()["detail"]


def test_P12_a_refused_removal_revokes_nothing(team):
    admin, _ = team
    with pytest.raises(ValidationError, match="at least one admin"):
        membership_remove(membership=admin.membership, actor=admin.membership.user)
    assert admin.get("products/").status_code == 200
    assert not ApiToken.objects.filter(revoked_at__isnull=False).exists()


def test_P12_lowering_a_role_revokes_the_tokens_that_could_do_more(team, workspace):
    admin, marketer = team
    viewer_token = api_for(marketer.membership, role=Role.VIEWER)
    membership_role_change(membership=marketer.membership, actor=admin.membership.user,
                           role=Role.VIEWER)
    assert marketer.get("products/").status_code == 401  # a marketer token on a viewer
    assert viewer_token.get("products/").status_code == 200  # within the new role: kept
    membership_role_change(membership=marketer.membership, actor=admin.membership.user,
                           role=Role.MARKETER)
    assert marketer.get("products/").status_code == 401  # promotion does not revive it


def test_P12_admins_list_every_token_of_the_workspace_with_its_owner(team):
    admin, marketer = team
    outsider = api_for(MembershipFactory(role=Role.ADMIN))  # another workspace's token
    listed = admin.get("tokens/").json()
    owners = {t["owner"] for t in listed["results"]}
    assert listed["count"] == 2 and owners == {admin.membership.user.username,
                                               marketer.membership.user.username}
    assert set(listed["results"][0]) >= {"owner", "name", "role", "prefix", "created_at",
                                         "last_used_at", "revoked_at"}
    assert outsider.membership.user.username not in str(listed)


def test_P12_an_admin_revokes_another_members_token(team):
    admin, marketer = team
    theirs = ApiToken.objects.get(user=marketer.membership.user)
    response = admin.post(f"tokens/{theirs.pk}/revoke/")
    assert response.status_code == 200 and response.json()["revoked_at"]
    assert marketer.get("products/").status_code == 401
    audit = AuditEvent.objects.get(verb="api_token.revoked", object_id=theirs.pk)
    assert audit.actor == admin.membership.user
    assert audit.data["owner"] == marketer.membership.user.username


def test_P12_non_admins_see_and_revoke_only_their_own_tokens(team):
    admin, marketer = team
    listed = marketer.get("tokens/").json()
    assert [t["owner"] for t in listed["results"]] == [marketer.membership.user.username]
    admins = ApiToken.objects.get(user=admin.membership.user)
    assert marketer.get(f"tokens/{admins.pk}/").status_code == 404
    assert marketer.post(f"tokens/{admins.pk}/revoke/").status_code == 404
    assert admin.get("products/").status_code == 200


def test_P12_an_admins_viewer_token_cannot_manage_other_tokens(team):
    admin, marketer = team
    weak = api_for(admin.membership, role=Role.VIEWER)
    owners = {t["owner"] for t in weak.get("tokens/").json()["results"]}
    assert owners == {admin.membership.user.username}
    theirs = ApiToken.objects.get(user=marketer.membership.user)
    assert weak.post(f"tokens/{theirs.pk}/revoke/").status_code == 404


def test_P12_dashboard_admin_sees_and_revokes_every_token(client, team, workspace):
    admin, marketer = team
    url = reverse("api-tokens", kwargs={"ws": workspace.slug})
    theirs = ApiToken.objects.get(user=marketer.membership.user)
    client.force_login(marketer.membership.user)
    page = client.get(url).content.decode()
    assert "workspace-tokens" not in page and admin.membership.user.username not in page
    assert client.post(url, {"revoke": ApiToken.objects.get(
        user=admin.membership.user).pk}).status_code == 404
    assert client.post(url, {"revoke": "x"}).status_code == 404
    client.force_login(admin.membership.user)
    page = client.get(url).content.decode()
    assert 'id="workspace-tokens"' in page and marketer.membership.user.username in page
    assert theirs.prefix in page
    client.post(url, {"revoke": theirs.pk})
    theirs.refresh_from_db()
    assert theirs.revoked_at is not None
    assert ApiClient(marketer.secret, workspace.slug).get("products/").status_code == 401
