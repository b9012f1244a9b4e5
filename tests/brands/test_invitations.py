"""P10: members join by an invitation that the invitee accepts; inviting reveals nothing about
the installation's other users or workspaces."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from brands.invitations import invitation_accept, member_invite
from brands.models import AuditEvent, Invitation, Membership, Role
from tests.api.conftest import api_for
from tests.factories import PASSWORD, MembershipFactory, UserFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return MembershipFactory(role=Role.ADMIN)


@pytest.fixture
def outsiders():
    """A user of another workspace, a user of no workspace, and an address nobody has."""
    elsewhere = MembershipFactory(role=Role.ADMIN, workspace=WorkspaceFactory(name="Rival Co"),
                                  user=UserFactory(username="r-ceo", email="Rival@Example.com"))
    loner = UserFactory(username="lone-wolf", email="loner@example.com")
    return {"other_workspace": elsewhere.user.email, "no_workspace": loner.email,
            "unknown": "nobody@example.com"}


def _link(message) -> str:
    return re.search(r"https?://\S+/invitations/(\S+)/", message.body).group(0)


def _token(message) -> str:
    return re.search(r"/invitations/([^/\s]+)/", message.body).group(1)


def _path(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def _invite(admin, email, role=Role.VIEWER):
    return member_invite(membership=admin, email=email, role=role)


def test_P10_api_invite_answers_the_same_for_every_kind_of_address(
        admin, outsiders, django_capture_on_commit_callbacks):
    client = api_for(admin)
    answers = {}
    for kind, email in outsiders.items():
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("invitations/", {"email": f"  {email.upper()} ",
                                                    "role": "viewer"})
        body = response.json()
        normalised = email.lower()
        assert body["email"] == normalised
        answers[kind] = (response.status_code,
                         {k: v.replace(normalised, "<email>") if isinstance(v, str) else v
                          for k, v in body.items()})
    assert answers["other_workspace"] == answers["no_workspace"] == answers["unknown"]
    assert answers["unknown"] == (202, {"detail": "Invitation sent to <email>.",
                                        "email": "<email>", "role": "viewer"})
    # The old member-add endpoint invites too, with the same answer.
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post("members/", {"email": "someone@example.com", "role": "viewer"})
    assert again.status_code == 202 and again.json()["detail"] == (
        "Invitation sent to someone@example.com.")
    assert len(mail.outbox) == 4
    assert not Membership.objects.filter(workspace=admin.workspace).exclude(pk=admin.pk).exists()


def test_P10_dashboard_invite_answers_the_same_for_every_kind_of_address(
        client, admin, outsiders, django_capture_on_commit_callbacks):
    client.force_login(admin.user)
    url = reverse("member-list", kwargs={"ws": admin.workspace.slug})
    pages = {}
    for kind, email in outsiders.items():
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url, {"email": email, "role": "marketer"}, follow=True)
        assert response.status_code == 200
        html = response.content.decode()
        assert f"Invitation sent to {email.lower()}." in html
        pages[kind] = html.count("Invitation sent to")
    assert set(pages.values()) == {1}
    page = client.get(url).content.decode()
    assert "r-ceo" not in page and "Rival Co" not in page and "lone-wolf" not in page
    assert "rival@example.com" in page  # the pending invitation, as the admin typed it


def test_P10_the_user_of_another_workspace_appears_nowhere(
        admin, outsiders, django_capture_on_commit_callbacks):
    client = api_for(admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("invitations/", {"email": outsiders["other_workspace"], "role": "admin"})
    everything = "".join(client.get(path).content.decode()
                         for path in ("members/", "invitations/", "audit-events/", ""))
    assert "rival@example.com" in everything  # the address the admin typed, nothing more
    assert "r-ceo" not in everything and "Rival Co" not in everything
    [message] = mail.outbox
    assert message.to == ["rival@example.com"] and "Rival Co" not in message.body


def test_P10_no_membership_until_the_invitee_accepts(admin, django_capture_on_commit_callbacks):
    invitee = UserFactory(email="Kim@Example.com")
    with django_capture_on_commit_callbacks(execute=True):
        _invite(admin, "kim@example.com", role=Role.APPROVER)
    assert not Membership.objects.filter(user=invitee).exists()
    [message] = mail.outbox
    assert message.to == ["kim@example.com"] and admin.workspace.name in message.body
    client = Client()
    link = _path(_link(message))
    signed_out = client.get(link)
    assert signed_out.status_code == 200 and "Sign in" in signed_out.content.decode()
    assert client.post(reverse("login"), {"username": invitee.username,
                                          "password": PASSWORD}).status_code == 302
    page = client.get(link).content.decode()
    assert admin.workspace.name in page and "approver" in page
    assert not Membership.objects.filter(user=invitee).exists()  # looking is not accepting
    accepted = client.post(link)
    assert accepted.status_code == 302 and accepted.url == reverse(
        "workspace", kwargs={"ws": admin.workspace.slug})
    membership = Membership.objects.get(user=invitee)
    assert (membership.workspace, membership.role) == (admin.workspace, Role.APPROVER)
    assert client.get(reverse("workspace", kwargs={"ws": admin.workspace.slug})).status_code == 200
    assert client.post(link).status_code == 410  # a link works once
    verbs = list(AuditEvent.objects.order_by("id").values_list("verb", "actor"))
    assert verbs == [("invitation.sent", admin.user.pk), ("invitation.accepted", invitee.pk)]


def test_P10_a_wrong_user_cannot_accept(admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _invite(admin, "kim@example.com")
    token = _token(mail.outbox[0])
    intruder = MembershipFactory(role=Role.ADMIN).user  # an admin elsewhere, another address
    client = Client()
    client.force_login(intruder)
    link = reverse("invitation-accept", kwargs={"token": token})
    assert client.get(link).status_code == 403
    assert client.post(link).status_code == 403
    with pytest.raises(PermissionDenied):
        invitation_accept(token=token, user=intruder)
    assert not Membership.objects.filter(workspace=admin.workspace, user=intruder).exists()
    assert Invitation.objects.get().accepted_at is None


def test_P10_a_new_person_creates_an_account_with_the_invited_address(
        admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _invite(admin, "new.person@example.com", role=Role.MARKETER)
    link = _path(_link(mail.outbox[0]))
    client = Client()
    assert "Create account and join" in client.get(link).content.decode()
    mismatch = client.post(link, {"username": "newbie", "password1": "a-Long-passphrase-7",
                                  "password2": "different-passphrase-7"})
    assert mismatch.status_code == 400 and not Membership.objects.exclude(pk=admin.pk).exists()
    taken = client.post(link, {"username": admin.user.username,
                               "password1": "a-Long-passphrase-7",
                               "password2": "a-Long-passphrase-7"})
    assert taken.status_code == 400 and "taken" in taken.content.decode()
    joined = client.post(link, {"username": "newbie", "password1": "a-Long-passphrase-7",
                                "password2": "a-Long-passphrase-7"})
    assert joined.status_code == 302
    membership = Membership.objects.get(user__username="newbie")
    assert membership.user.email == "new.person@example.com" and membership.role == "marketer"
    assert membership.user.check_password("a-Long-passphrase-7")
    assert client.post(link, {"username": "again", "password1": "a-Long-passphrase-7",
                              "password2": "a-Long-passphrase-7"}).status_code == 410


def test_P10_expired_revoked_and_unknown_links_are_refused(
        admin, django_capture_on_commit_callbacks):
    invitee = UserFactory(email="kim@example.com")
    client = Client()
    client.force_login(invitee)
    with django_capture_on_commit_callbacks(execute=True):
        _invite(admin, "kim@example.com")
    expired_link = _path(_link(mail.outbox[-1]))
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.post(expired_link)
    assert response.status_code == 410 and "expired" in response.content.decode()

    with django_capture_on_commit_callbacks(execute=True):  # resending makes a new link
        api_for(admin).post(f"invitations/{Invitation.objects.get().pk}/resend/")
    assert client.get(expired_link).status_code == 410  # the old link died with it
    fresh_link = _path(_link(mail.outbox[-1]))
    assert fresh_link != expired_link and client.get(fresh_link).status_code == 200

    revoked = api_for(admin).post(f"invitations/{Invitation.objects.get().pk}/revoke/")
    assert revoked.status_code == 200
    response = client.post(fresh_link)
    assert response.status_code == 410 and "withdrawn" in response.content.decode()
    assert client.get("/invitations/not-a-token/").status_code == 410
    assert not Membership.objects.filter(user=invitee).exists()
    verbs = list(AuditEvent.objects.filter(object_type="invitation").order_by("id")
                 .values_list("verb", flat=True))
    assert verbs == ["invitation.sent", "invitation.resent", "invitation.revoked"]


def test_P10_the_token_is_stored_only_as_its_sha256(admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _invite(admin, "kim@example.com")
    token = _token(mail.outbox[0])
    invitation = Invitation.objects.get()
    assert invitation.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    assert not any(token in str(getattr(invitation, f.attname))
                   for f in Invitation._meta.fields)


def test_P10_one_pending_invitation_per_address_is_a_database_constraint(admin):
    now = timezone.now()
    fields = {"workspace": admin.workspace, "email": "kim@example.com", "role": Role.VIEWER,
              "sent_at": now, "expires_at": now + timedelta(days=1)}
    first = Invitation.objects.create(token_sha256="a" * 64, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Invitation.objects.create(token_sha256="b" * 64, **fields)
    Invitation.objects.filter(pk=first.pk).update(revoked_at=now)
    Invitation.objects.create(token_sha256="c" * 64, **fields)  # a new one once it is closed


def test_P10_inviting_again_replaces_the_pending_invitation(
        admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _invite(admin, "kim@example.com", role=Role.VIEWER)
        _invite(admin, "KIM@example.com", role=Role.APPROVER)
    invitation = Invitation.objects.get()
    assert invitation.role == Role.APPROVER
    first, second = (_token(m) for m in mail.outbox)
    assert Client().get(f"/invitations/{first}/").status_code == 410
    assert Client().get(f"/invitations/{second}/").status_code == 200


def test_P10_only_admins_invite_list_and_revoke(admin, django_capture_on_commit_callbacks):
    marketer = api_for(MembershipFactory(workspace=admin.workspace, role=Role.MARKETER))
    assert marketer.post("invitations/", {"email": "x@example.com",
                                          "role": "viewer"}).status_code == 403
    assert marketer.post("members/", {"email": "x@example.com",
                                      "role": "viewer"}).status_code == 403
    assert marketer.get("invitations/").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        _invite(admin, "kim@example.com")
    pk = Invitation.objects.get().pk
    assert marketer.post(f"invitations/{pk}/revoke/").status_code == 403
    listed = api_for(admin).get("invitations/").json()
    assert [(i["email"], i["role"], i["expired"]) for i in listed["results"]] == [
        ("kim@example.com", "viewer", False)]
    assert Invitation.objects.get().revoked_at is None and not Invitation.objects.filter(
        accepted_at__isnull=False).exists()


def test_P10_bad_input_is_a_field_error(admin):
    client = api_for(admin)
    bad_email = client.post("invitations/", {"email": "not an email", "role": "viewer"})
    assert bad_email.status_code == 400 and set(bad_email.json()["errors"]) == {"email"}
    bad_role = client.post("invitations/", {"email": "a@example.com", "role": "owner"})
    assert bad_role.status_code == 400 and set(bad_role.json()["errors"]) == {"role"}
    member = client.post("invitations/", {"email": admin.user.email, "role": "viewer"})
    assert member.status_code == 400 and "already a member" in member.json()["detail"]
    assert not Invitation.objects.exists()


def test_P1_invitations_of_another_workspace_are_404(client, admin,
                                                     django_capture_on_commit_callbacks):
    theirs = MembershipFactory(role=Role.ADMIN)
    with django_capture_on_commit_callbacks(execute=True):
        _invite(theirs, "kim@example.com")
    pk = Invitation.objects.get().pk
    mine = api_for(admin)
    for path in (f"invitations/{pk}/", f"invitations/{pk}/revoke/",
                 f"invitations/{pk}/resend/"):
        call = mine.get if path.endswith(f"{pk}/") else mine.post
        assert call(path).status_code == 404, path
    assert mine.get("invitations/").json()["count"] == 0
    client.force_login(admin.user)
    url = reverse("invitation-change", kwargs={"ws": admin.workspace.slug, "invitation_id": pk})
    assert client.post(url, {"revoke": "1"}).status_code == 404
    assert Invitation.objects.get().revoked_at is None and len(mail.outbox) == 1


def test_dashboard_admin_resends_and_revokes(client, admin, django_capture_on_commit_callbacks):
    client.force_login(admin.user)
    with django_capture_on_commit_callbacks(execute=True):
        _invite(admin, "kim@example.com")
    pk = Invitation.objects.get().pk
    url = reverse("invitation-change", kwargs={"ws": admin.workspace.slug, "invitation_id": pk})
    with django_capture_on_commit_callbacks(execute=True):
        resent = client.post(url, follow=True)
    assert "Invitation sent to kim@example.com." in resent.content.decode()
    assert len(mail.outbox) == 2
    revoked = client.post(url, {"revoke": "1"}, follow=True)
    assert "Withdrew the invitation of kim@example.com" in revoked.content.decode()
    assert Invitation.objects.get().revoked_at is not None
    assert "No pending invitations" in revoked.content.decode()
