"""The review workflow: guarded transitions, approvals bound to file hashes, audit (P2, P3, P8)."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from brands.models import AuditEvent, Role
from campaigns import review
from campaigns.models import ReviewAction, ReviewEvent
from campaigns.notifications import review_digests_send
from rendering.models import Asset, JobKind, RenderJob, ReviewState
from tests.factories import CampaignFactory, MembershipFactory, SlotFactory, asset_make


@pytest.fixture
def team(db):
    """A workspace with a marketer, two approvers, a viewer and one campaign slot."""
    marketer = MembershipFactory(role=Role.MARKETER)
    ws = marketer.workspace
    approver = MembershipFactory(workspace=ws, role=Role.APPROVER)
    other_approver = MembershipFactory(workspace=ws, role=Role.APPROVER)
    viewer = MembershipFactory(workspace=ws, role=Role.VIEWER)
    campaign = CampaignFactory(workspace=ws)
    slot = SlotFactory(campaign=campaign)
    return {"ws": ws, "marketer": marketer.user, "approver": approver.user,
            "other_approver": other_approver.user, "viewer": viewer.user, "slot": slot,
            "campaign": campaign}


def test_approval_makes_the_asset_live_with_an_event_bound_to_its_hash(team):
    asset = asset_make(slot=team["slot"], author=team["marketer"])
    event = review.asset_approve(asset=asset, user=team["approver"], sha256=asset.sha256)
    asset.refresh_from_db()
    assert asset.review_state == ReviewState.APPROVED and asset.is_live
    assert event.action == ReviewAction.APPROVE and event.sha256 == asset.sha256
    assert event.from_state == ReviewState.IN_REVIEW and event.user == team["approver"]


def test_P2_marketer_cannot_approve(team):
    asset = asset_make(slot=team["slot"], author=team["approver"])
    with pytest.raises(PermissionDenied):
        review.asset_approve(asset=asset, user=team["marketer"])
    asset.refresh_from_db()
    assert asset.review_state == ReviewState.IN_REVIEW and not asset.is_live


def test_P2_viewer_cannot_review(team):
    asset = asset_make(slot=team["slot"], author=team["marketer"])
    for action in (lambda: review.asset_approve(asset=asset, user=team["viewer"]),
                   lambda: review.asset_reject(asset=asset, user=team["viewer"], comment="no")):
        with pytest.raises(PermissionDenied):
            action()
    assert not ReviewEvent.objects.exists()


def test_P2_approver_cannot_approve_own_asset(team):
    asset = asset_make(slot=team["slot"], author=team["approver"])
    with pytest.raises(PermissionDenied, match="someone else"):
        review.asset_approve(asset=asset, user=team["approver"])
    review.asset_approve(asset=asset, user=team["other_approver"])
    asset.refresh_from_db()
    assert asset.is_live


def test_approving_a_replacement_swaps_the_live_asset(team):
    first = asset_make(slot=team["slot"], author=team["marketer"])
    second = asset_make(slot=team["slot"], author=team["marketer"], color=(0, 90, 200))
    review.asset_approve(asset=first, user=team["approver"])
    review.asset_approve(asset=second, user=team["approver"])
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.is_live and not first.is_live
    assert first.review_state == ReviewState.APPROVED  # still approved, no longer shipping
    assert first.review_events.filter(action=ReviewAction.REPLACED).count() == 1
    assert Asset.objects.filter(slot=team["slot"], is_live=True).count() == 1


def test_one_live_asset_per_slot_is_a_database_constraint(team):
    first = asset_make(slot=team["slot"], author=team["marketer"],
                       review_state=ReviewState.APPROVED, is_live=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        asset_make(slot=team["slot"], author=team["marketer"],
                   review_state=ReviewState.APPROVED, is_live=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Asset.objects.filter(pk=first.pk).update(review_state=ReviewState.REJECTED)


@pytest.mark.parametrize("first, second", [
    ("approve", "approve"), ("reject", "approve"), ("reject", "request_changes"),
    ("approve", "request_changes"),
])
def test_illegal_moves_raise_and_change_nothing(team, first, second, queued_broker):
    asset = asset_make(slot=team["slot"], author=team["marketer"])
    actions = {
        "approve": lambda: review.asset_approve(asset=asset, user=team["approver"]),
        "reject": lambda: review.asset_reject(asset=asset, user=team["approver"],
                                              comment="Off brand"),
        "request_changes": lambda: review.asset_request_changes(
            asset=asset, user=team["approver"], comment="Bluer sky"),
    }
    actions[first]()
    asset.refresh_from_db()
    state, events, jobs = asset.review_state, ReviewEvent.objects.count(), RenderJob.objects.count()
    with pytest.raises(ValidationError, match="cannot be"):
        actions[second]()
    asset.refresh_from_db()
    assert asset.review_state == state
    assert (ReviewEvent.objects.count(), RenderJob.objects.count()) == (events, jobs)


def test_approve_refuses_when_the_asset_changed_since_the_reviewer_looked(team):
    asset = asset_make(slot=team["slot"], author=team["marketer"])
    with pytest.raises(ValidationError, match="changed since you opened it"):
        review.asset_approve(asset=asset, user=team["approver"], sha256="0" * 64)
    asset.refresh_from_db()
    assert asset.review_state == ReviewState.IN_REVIEW


def _overwrite(asset, content=b"not the approved image"):
    path = asset.file.name
    default_storage.delete(path)
    assert default_storage.save(path, ContentFile(content)) == path


def test_P3_approval_refused_when_the_stored_file_changed(team):
    asset = asset_make(slot=team["slot"], author=team["marketer"])
    _overwrite(asset)
    with pytest.raises(ValidationError, match="no longer matches"):
        review.asset_approve(asset=asset, user=team["approver"])
    assert not Asset.objects.get(pk=asset.pk).is_live


def test_P3_approval_is_void_after_the_file_changed(team):
    asset = asset_make(slot=team["slot"], author=team["marketer"])
    review.asset_approve(asset=asset, user=team["approver"])
    assert review.asset_approval_verify(asset=Asset.objects.get(pk=asset.pk)) is True
    _overwrite(asset)
    assert review.asset_approval_verify(asset=Asset.objects.get(pk=asset.pk)) is False
    asset.refresh_from_db()
    assert asset.review_state == ReviewState.IN_REVIEW and not asset.is_live
    void = asset.review_events.get(action=ReviewAction.VOID)
    assert void.sha256 != asset.sha256
    assert AuditEvent.objects.filter(verb="asset.voided", object_id=asset.pk).count() == 1


def test_P8_audit_row_exists_exactly_when_the_change_committed(team):
    asset = asset_make(slot=team["slot"], author=team["marketer"])
    # A refused change writes nothing.
    with pytest.raises(PermissionDenied):
        review.asset_approve(asset=asset, user=team["marketer"])
    assert not AuditEvent.objects.exists()
    # A change rolled back with its surrounding transaction leaves no audit row either.
    with pytest.raises(RuntimeError), transaction.atomic():
        review.asset_approve(asset=asset, user=team["approver"])
        assert AuditEvent.objects.filter(verb="asset.approved").count() == 1
        raise RuntimeError("the request failed after the approval")
    assert not AuditEvent.objects.exists()
    assert Asset.objects.get(pk=asset.pk).review_state == ReviewState.IN_REVIEW
    # A committed change has exactly one.
    review.asset_approve(asset=asset, user=team["approver"])
    audit = AuditEvent.objects.get()
    assert (audit.verb, audit.object_id, audit.actor) == ("asset.approved", asset.pk,
                                                         team["approver"])
    assert audit.data["sha256"] == asset.sha256


@pytest.mark.django_db(transaction=True)
def test_audit_record_refuses_to_run_outside_a_transaction(team):
    from brands.audit import audit_record

    with pytest.raises(RuntimeError, match="inside the change's transaction"):
        audit_record(workspace_id=team["ws"].pk, actor=None, verb="x", obj=team["campaign"])


def test_request_changes_queues_an_edit_on_behalf_of_the_author(team, queued_broker):
    asset = asset_make(slot=team["slot"], author=team["marketer"])
    event = review.asset_request_changes(asset=asset, user=team["approver"],
                                         comment="Make the sky bluer", region=[0, 0, 0.5, 0.5])
    job = event.edit_job
    assert job.kind == JobKind.EDIT and job.source_asset == asset
    assert job.created_by == team["marketer"]  # so the approver may approve the result
    assert job.recipe["instruction"] == "Make the sky bluer"
    assert job.recipe["region"] == [0, 0, 0.5, 0.5]
    assert job.recipe["source"]["sha256"] == asset.sha256
    assert Asset.objects.get(pk=asset.pk).review_state == ReviewState.CHANGES_REQUESTED


@pytest.mark.parametrize("comment", ["", "   "])
def test_request_changes_needs_a_comment(team, comment, queued_broker):
    asset = asset_make(slot=team["slot"], author=team["marketer"])
    with pytest.raises(ValidationError, match="comment is required"):
        review.asset_request_changes(asset=asset, user=team["approver"], comment=comment)
    assert not RenderJob.objects.filter(kind=JobKind.EDIT).exists()


@pytest.mark.parametrize("region", [[0, 0, 2, 1], [0.9, 0, 0.5, 0.5], ["a", 1, 1, 1], [0, 0, 0]])
def test_edit_region_outside_the_image_is_refused(team, region, queued_broker):
    asset = asset_make(slot=team["slot"], author=team["marketer"])
    with pytest.raises(ValidationError, match="region"):
        review.asset_edit(asset=asset, user=team["marketer"], instruction="x", region=region)
    assert not RenderJob.objects.filter(kind=JobKind.EDIT).exists()


def test_chained_instructions_queue_the_first_and_carry_the_rest(team, queued_broker):
    asset = asset_make(slot=team["slot"], author=team["marketer"])
    job = review.asset_edit(asset=asset, user=team["marketer"],
                            instruction="make it night\n\nadd a neon sign")
    assert job.recipe["instruction"] == "make it night"
    assert job.recipe["then"] == ["add a neon sign"]
    with pytest.raises(PermissionDenied):
        review.asset_edit(asset=asset, user=team["approver"], instruction="x")


def test_marketer_gets_an_email_when_their_asset_is_reviewed(team,
                                                             django_capture_on_commit_callbacks):
    asset = asset_make(slot=team["slot"], author=team["marketer"])
    with django_capture_on_commit_callbacks(execute=True):
        review.asset_reject(asset=asset, user=team["approver"], comment="Logo too small")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [team["marketer"].email]
    assert "rejected" in mail.outbox[0].subject and "Logo too small" in mail.outbox[0].body


def test_marketer_can_turn_review_emails_off(team, django_capture_on_commit_callbacks):
    team["marketer"].memberships.update(notify_reviewed=False)
    asset = asset_make(slot=team["slot"], author=team["marketer"])
    with django_capture_on_commit_callbacks(execute=True):
        review.asset_approve(asset=asset, user=team["approver"])
    assert mail.outbox == []


def test_approvers_get_one_digest_for_many_waiting_assets(team):
    for n in range(5):
        asset_make(slot=team["slot"], author=team["marketer"], color=(n, n, n))
    own = asset_make(slot=team["slot"], author=team["approver"])
    assert review_digests_send() == 2  # each approver once, not once per asset
    to_approver = [m for m in mail.outbox if m.to == [team["approver"].email]]
    assert len(to_approver) == 1 and "5 new assets" in to_approver[0].body
    to_other = [m for m in mail.outbox if m.to == [team["other_approver"].email]]
    assert "6 new assets" in to_other[0].body  # the approver's own asset waits for others
    # still in review (waiting for the other approver), by the approver who made it
    assert Asset.objects.filter(pk=own.pk, review_state=ReviewState.IN_REVIEW,
                                job__created_by=team["approver"]).exists()
    mail.outbox.clear()
    assert review_digests_send() == 0  # nothing new since
    team["other_approver"].memberships.update(notify_review_waiting=False)
    asset_make(slot=team["slot"], author=team["marketer"])
    assert review_digests_send() == 1
    assert mail.outbox[0].to == [team["approver"].email]


def test_requested_changes_come_back_as_a_child_version_the_reviewer_can_approve(
        team, tiny_edit_model, django_capture_on_commit_callbacks):
    source = asset_make(slot=team["slot"], author=team["marketer"], size=(96, 64))
    with django_capture_on_commit_callbacks(execute=True):
        event = review.asset_request_changes(asset=source, user=team["approver"],
                                             comment="Make the sky bluer",
                                             region=[0.25, 0.25, 0.5, 0.5])
    event.edit_job.refresh_from_db()
    assert event.edit_job.status == "succeeded", event.edit_job.error
    child = Asset.objects.get(parent=source)
    assert (child.version, child.review_state, child.slot) == (2, ReviewState.IN_REVIEW,
                                                               team["slot"])
    assert (child.width, child.height) == (96, 64)
    assert child.recipe["instruction"] == "Make the sky bluer"
    assert child.recipe["source"]["sha256"] == source.sha256 and child.recipe["model"]
    assert review.asset_author_id(child) == team["marketer"].pk
    with django_capture_on_commit_callbacks(execute=True):
        review.asset_approve(asset=child, user=team["approver"])
    assert Asset.objects.get(pk=child.pk).is_live


def test_chained_instructions_make_one_version_each(team, tiny_edit_model,
                                                   django_capture_on_commit_callbacks):
    source = asset_make(slot=team["slot"], author=team["marketer"])
    with django_capture_on_commit_callbacks(execute=True):
        review.asset_edit(asset=source, user=team["marketer"],
                          instruction="make it night\nadd a neon sign")
    chain = list(Asset.objects.filter(slot=team["slot"]).order_by("version"))
    assert [a.version for a in chain] == [1, 2, 3]
    assert chain[1].parent == source and chain[2].parent == chain[1]
    assert [a.recipe.get("instruction") for a in chain[1:]] == ["make it night",
                                                                "add a neon sign"]


def test_an_edit_of_a_changed_source_fails_with_a_reason(team, tiny_edit_model,
                                                         django_capture_on_commit_callbacks):
    source = asset_make(slot=team["slot"], author=team["marketer"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = review.asset_edit(asset=source, user=team["marketer"], instruction="brighter")
    Asset.objects.filter(pk=source.pk).update(sha256="f" * 64)  # re-rendered meanwhile
    for callback in callbacks:
        callback()
    job.refresh_from_db()
    assert job.status == "failed" and "changed since the edit was asked for" in job.error
    assert not Asset.objects.filter(parent=source).exists()


def test_approval_queues_an_asset_approved_webhook_only_when_it_commits(team, queued_broker):
    import json

    from api.models import WebhookDelivery, WebhookEndpoint

    WebhookEndpoint.objects.create(workspace=team["ws"], url="http://127.0.0.1:9/hook",
                                   secret="s" * 32, events=["asset.approved"])
    asset = asset_make(slot=team["slot"], author=team["marketer"])
    with pytest.raises(RuntimeError), transaction.atomic():
        review.asset_approve(asset=asset, user=team["approver"])
        raise RuntimeError("rolled back")
    assert not WebhookDelivery.objects.exists()
    review.asset_approve(asset=asset, user=team["approver"])
    delivery = WebhookDelivery.objects.get()
    body = json.loads(delivery.body)
    assert delivery.event == "asset.approved"
    assert json.dumps(body).count(asset.sha256) == 1
    assert str(team["slot"].format.key) in json.dumps(body)
