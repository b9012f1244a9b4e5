"""The review pages: actions through the dashboard, roles, CSRF, members, and query counts."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from brands.models import AuditEvent, Membership, Role
from campaigns.models import ReviewEvent
from rendering.models import Asset, ReviewState
from tests.factories import (
    CampaignFactory,
    MembershipFactory,
    SlotFactory,
    UserFactory,
    asset_make,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk():
    marketer = MembershipFactory(role=Role.MARKETER)
    ws = marketer.workspace
    approver = MembershipFactory(workspace=ws, role=Role.APPROVER)
    campaign = CampaignFactory(workspace=ws)
    slot = SlotFactory(campaign=campaign)
    return {"ws": ws, "marketer": marketer, "approver": approver, "campaign": campaign,
            "slot": slot}


def _url(name, ws, **kwargs):
    return reverse(name, kwargs={"ws": ws.slug, **kwargs})


def test_approver_approves_from_the_asset_page(client, desk):
    asset = asset_make(slot=desk["slot"], author=desk["marketer"].user)
    client.force_login(desk["approver"].user)
    page = client.get(_url("asset-detail", desk["ws"], asset_id=asset.pk)).content.decode()
    assert 'id="approve"' in page and asset.sha256 in page
    response = client.post(_url("asset-approve", desk["ws"], asset_id=asset.pk),
                           {"sha256": asset.sha256}, follow=True)
    assert "Approved." in response.content.decode()
    assert Asset.objects.get(pk=asset.pk).is_live


def test_P2_marketer_gets_403_from_the_approve_url(client, desk):
    asset = asset_make(slot=desk["slot"], author=desk["approver"].user)
    client.force_login(desk["marketer"].user)
    page = client.get(_url("asset-detail", desk["ws"], asset_id=asset.pk)).content.decode()
    assert 'id="approve"' not in page
    response = client.post(_url("asset-approve", desk["ws"], asset_id=asset.pk),
                           {"sha256": asset.sha256})
    assert response.status_code == 403
    assert Asset.objects.get(pk=asset.pk).review_state == ReviewState.IN_REVIEW


def test_P2_approver_sees_no_approve_button_on_own_asset_and_is_refused(client, desk):
    asset = asset_make(slot=desk["slot"], author=desk["approver"].user)
    client.force_login(desk["approver"].user)
    page = client.get(_url("asset-detail", desk["ws"], asset_id=asset.pk)).content.decode()
    assert 'id="approve"' not in page and "another approver reviews it" in page
    response = client.post(_url("asset-approve", desk["ws"], asset_id=asset.pk))
    assert response.status_code == 403
    assert not ReviewEvent.objects.exists()


def test_P4_review_post_without_csrf_token_is_403(desk):
    asset = asset_make(slot=desk["slot"], author=desk["marketer"].user)
    client = Client(enforce_csrf_checks=True)
    client.force_login(desk["approver"].user)
    assert client.post(_url("asset-approve", desk["ws"], asset_id=asset.pk)).status_code == 403
    assert Asset.objects.get(pk=asset.pk).review_state == ReviewState.IN_REVIEW


def test_bulk_approve_needs_confirmation_and_reports_refusals(client, desk):
    theirs = [asset_make(slot=desk["slot"], author=desk["marketer"].user, color=(n, 0, 0))
              for n in range(2)]
    mine = asset_make(slot=desk["slot"], author=desk["approver"].user)
    client.force_login(desk["approver"].user)
    url = _url("review-bulk-approve", desk["ws"])
    ids = [a.pk for a in [*theirs, mine]]
    unconfirmed = client.post(url, {"asset": ids}, follow=True).content.decode()
    assert "Confirm the bulk approval first" in unconfirmed
    assert not ReviewEvent.objects.exists()
    done = client.post(url, {"asset": ids, "confirm": "yes"}, follow=True).content.decode()
    assert "Approved 2 assets." in done and "someone else must approve" in done
    # The slot has one live asset: the later approval replaced the first.
    assert Asset.objects.filter(slot=desk["slot"], is_live=True).count() == 1
    assert Asset.objects.get(pk=mine.pk).review_state == ReviewState.IN_REVIEW


def test_request_changes_from_the_queue_needs_a_comment(client, desk, queued_broker):
    asset = asset_make(slot=desk["slot"], author=desk["marketer"].user)
    client.force_login(desk["approver"].user)
    url = _url("asset-request-changes", desk["ws"], asset_id=asset.pk)
    page = client.post(url, {"comment": " "}, follow=True).content.decode()
    assert "comment is required" in page
    client.post(url, {"comment": "Warmer light", "region_x": "0.1", "region_y": "0.1",
                      "region_w": "0.5", "region_h": "0.5"})
    event = ReviewEvent.objects.get()
    assert event.edit_job.recipe["region"] == [0.1, 0.1, 0.5, 0.5]


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


def _fill(desk, n):
    for i in range(n):
        slot = SlotFactory(campaign=desk["campaign"], format=desk["slot"].format)
        first = asset_make(slot=slot, author=desk["marketer"].user, color=(i, 0, 0))
        asset_make(slot=slot, author=desk["marketer"].user, parent=first)
        if i % 2:
            Asset.objects.filter(pk=first.pk).update(review_state=ReviewState.APPROVED,
                                                     is_live=True)


def test_pages_run_a_fixed_number_of_queries_however_many_assets(client, desk):
    client.force_login(desk["approver"].user)
    urls = [_url("campaign-detail", desk["ws"], campaign_id=desk["campaign"].pk),
            _url("review-queue", desk["ws"]), _url("campaign-list", desk["ws"])]
    _fill(desk, 3)
    small = [_queries(client, u) for u in urls]
    _fill(desk, 12)
    assert [_queries(client, u) for u in urls] == small
    asset = Asset.objects.filter(parent__isnull=False).first()
    few = _queries(client, _url("asset-detail", desk["ws"], asset_id=asset.pk))
    for _ in range(5):
        asset = asset_make(slot=asset.slot, author=desk["marketer"].user, parent=asset)
    assert _queries(client, _url("asset-detail", desk["ws"], asset_id=asset.pk)) == few


def test_campaign_list_shows_coverage(client, desk):
    asset = asset_make(slot=desk["slot"], author=desk["marketer"].user)
    SlotFactory(campaign=desk["campaign"], format=desk["slot"].format)
    client.force_login(desk["marketer"].user)
    assert "0/2 approved" in client.get(_url("campaign-list", desk["ws"])).content.decode()
    Asset.objects.filter(pk=asset.pk).update(review_state=ReviewState.APPROVED, is_live=True)
    page = client.get(_url("campaign-list", desk["ws"])).content.decode()
    assert "1/2 approved" in page


def test_admin_manages_members_and_keeps_one_admin(client, desk):
    admin = MembershipFactory(workspace=desk["ws"], role=Role.ADMIN)
    UserFactory(email="new@example.com")
    client.force_login(admin.user)
    url = _url("member-list", desk["ws"])
    invited = client.post(url, {"email": "NEW@example.com", "role": "approver"}, follow=True)
    assert "Invitation sent to new@example.com." in invited.content.decode()
    not_an_email = client.post(url, {"email": "nobody", "role": "viewer"})
    assert not_an_email.status_code == 400
    last = client.post(_url("member-change", desk["ws"], member_id=admin.pk),
                       {"role": "viewer"}, follow=True)
    assert "at least one admin" in last.content.decode()
    assert Membership.objects.get(pk=admin.pk).role == Role.ADMIN
    assert set(AuditEvent.objects.values_list("verb", flat=True)) == {"invitation.sent"}


def test_marketer_cannot_manage_members(client, desk):
    client.force_login(desk["marketer"].user)
    url = _url("member-list", desk["ws"])
    assert client.get(url).status_code == 200  # everyone sees who is in the workspace
    assert client.post(url, {"email": desk["approver"].user.email, "role": "admin"}
                       ).status_code == 403
    assert client.post(_url("member-change", desk["ws"], member_id=desk["approver"].pk),
                       {"role": "admin"}).status_code == 403
    assert Membership.objects.get(pk=desk["approver"].pk).role == Role.APPROVER


def test_each_member_turns_emails_off(client, desk):
    client.force_login(desk["approver"].user)
    client.post(_url("notification-settings", desk["ws"]), {"reviewed": "on"})
    membership = Membership.objects.get(pk=desk["approver"].pk)
    assert (membership.notify_review_waiting, membership.notify_reviewed) == (False, True)


def test_queue_actions_over_htmx_answer_with_the_outcome_card(client, desk):
    asset = asset_make(slot=desk["slot"], author=desk["marketer"].user)
    mine = asset_make(slot=desk["slot"], author=desk["approver"].user)
    client.force_login(desk["approver"].user)
    done = client.post(_url("asset-approve", desk["ws"], asset_id=asset.pk),
                       {"sha256": asset.sha256}, HTTP_HX_REQUEST="true")
    assert done.status_code == 200 and 'class="card queue-outcome reviewed"' in done.text
    assert "Approved." in done.text and "<html" not in done.text
    refused = client.post(_url("asset-reject", desk["ws"], asset_id=mine.pk),
                          {"comment": ""}, HTTP_HX_REQUEST="true")
    assert "queue-outcome refused" in refused.text and "comment is required" in refused.text
