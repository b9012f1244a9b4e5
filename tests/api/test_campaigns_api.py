"""Campaigns, generate (Idempotency-Key), jobs, assets, review, export, schedules, audit."""

import pytest
from django.test import Client

from api.models import IdempotentRequest
from brands.models import Role
from campaigns.models import Campaign, RefreshSchedule
from rendering.models import Asset, JobStatus, RenderJob
from tests.api.conftest import api_for
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(catalog):
    """A marketer and an approver in the catalog's workspace, and a campaign body."""
    workspace, brand, products, formats = catalog
    marketer = api_for(MembershipFactory(workspace=workspace, role=Role.MARKETER))
    approver = api_for(MembershipFactory(workspace=workspace, role=Role.APPROVER))
    body = {"name": "Launch", "brand": brand.pk, "products": [p.pk for p in products],
            "formats": [f.pk for f in formats[:2]], "variants_per_slot": 1}
    return marketer, approver, body


def _campaign(marketer, body) -> dict:
    response = marketer.post("campaigns/", body)
    assert response.status_code == 201, response.json()
    return response.json()


def test_campaign_create_list_and_detail(team):
    marketer, _, body = team
    campaign = _campaign(marketer, body)
    assert len(campaign["slots"]) == 2 * 2 and campaign["status"] == "draft"
    assert sorted(campaign["products"]) == sorted(body["products"])
    assert marketer.get("campaigns/").json()["count"] == 1
    assert marketer.get("campaigns/", {"status": "active"}).json()["count"] == 0
    assert marketer.get(f"campaigns/{campaign['id']}/").json()["name"] == "Launch"
    again = marketer.post("campaigns/", body)
    assert again.status_code == 400 and "name" in again.json()["errors"]


def test_campaign_refuses_ids_of_another_workspace(team):
    marketer, _, body = team
    from tests.factories import ProductFactory

    foreign = ProductFactory()
    response = marketer.post("campaigns/", {**body, "products": [foreign.pk]})
    assert response.status_code == 400
    assert response.json()["errors"]["products"] == [
        f"No such object in this workspace (id {foreign.pk})."]
    assert not Campaign.objects.exists()


def test_generate_renders_and_jobs_assets_show_progress(
        team, tiny_model, django_capture_on_commit_callbacks):
    marketer, _, body = team
    campaign = _campaign(marketer, body)
    with django_capture_on_commit_callbacks(execute=True):
        response = marketer.post(f"campaigns/{campaign['id']}/generate/", {})
    assert response.status_code == 202, response.json()
    job_ids = response.json()["jobs"]
    assert response.json()["count"] == 4 == len(job_ids)
    jobs = marketer.get("jobs/", {"campaign": campaign["id"]}).json()
    assert jobs["count"] == 4
    assert {j["status"] for j in jobs["results"]} == {"succeeded"}
    assert all(j["progress"] == 1.0 and j["asset"] for j in jobs["results"])
    detail = marketer.get(f"jobs/{job_ids[0]}/").json()
    assert detail["recipe"]["steps"] == 2 and detail["queue_position"] is None
    assets = marketer.get("assets/", {"campaign": campaign["id"]}).json()
    assert assets["count"] == 4
    asset = marketer.get(f"assets/{assets['results'][0]['id']}/").json()
    assert asset["review_state"] == "in_review" and asset["recipe"]["model"] == str(tiny_model)
    assert [v["id"] for v in asset["versions"]] == [asset["id"]]
    assert asset["quality_checks"] == [] or "status" in asset["quality_checks"][0]
    assert asset["file_url"].endswith(f"/assets/{asset['id']}/file/")
    download = marketer.get(f"assets/{asset['id']}/download/")
    assert download.status_code == 302  # to a signed link; the web process streams nothing
    signed = Client().get(download["Location"])
    assert signed.status_code == 200 and signed["Content-Type"] == "image/png"
    assert b"".join(signed.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"
    slot = asset["slot"]
    assert marketer.get("assets/", {"slot": slot}).json()["count"] == 1
    assert marketer.get("assets/", {"review_state": "approved"}).json()["count"] == 0
    assert Campaign.objects.get().status == "active"


def test_queued_jobs_show_their_position_and_cancel_and_retry(
        team, django_capture_on_commit_callbacks):
    marketer, _, body = team
    campaign = _campaign(marketer, body)
    with django_capture_on_commit_callbacks(execute=False):  # nothing renders: all queued
        job_ids = marketer.post(f"campaigns/{campaign['id']}/generate/", {}).json()["jobs"]
    listed = marketer.get("jobs/", {"status": "queued"}).json()["results"]
    positions = sorted(j["queue_position"] for j in listed)
    assert positions == [1, 2, 3, 4]
    cancelled = marketer.post(f"jobs/{job_ids[0]}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    RenderJob.objects.filter(pk=job_ids[1]).update(status=JobStatus.SUCCEEDED)
    done = marketer.post(f"jobs/{job_ids[1]}/cancel/")
    assert done.status_code == 400 and "already succeeded" in done.json()["detail"]
    with django_capture_on_commit_callbacks(execute=False):
        retried = marketer.post(f"jobs/{job_ids[0]}/retry/")
    assert retried.status_code == 200 and retried.json()["status"] == "queued"
    refused = marketer.post(f"jobs/{job_ids[1]}/retry/")
    assert refused.status_code == 400
    assert refused.json() == {"detail": "Only failed or cancelled jobs can be retried.",
                              "errors": {"non_field_errors": [
                                  "Only failed or cancelled jobs can be retried."]}}


def test_idempotency_key_returns_the_first_response_without_queuing_again(
        team, django_capture_on_commit_callbacks):
    marketer, _, body = team
    campaign = _campaign(marketer, body)
    url = f"campaigns/{campaign['id']}/generate/"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = marketer.post(url, {"variants": 2}, HTTP_IDEMPOTENCY_KEY="key-1")
        second = marketer.post(url, {"variants": 2}, HTTP_IDEMPOTENCY_KEY="key-1")
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json() and first.json()["count"] == 8
    assert second["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert RenderJob.objects.count() == 8 and len(callbacks) == 1
    reused = marketer.post(url, {"variants": 1}, HTTP_IDEMPOTENCY_KEY="key-1")
    assert reused.status_code == 422 and "different request body" in reused.json()["detail"]
    with django_capture_on_commit_callbacks(execute=False):
        other = marketer.post(url, {"variants": 1}, HTTP_IDEMPOTENCY_KEY="key-2")
    assert other.status_code == 202 and RenderJob.objects.count() == 12
    assert IdempotentRequest.objects.count() == 2


def test_a_failed_generate_keeps_no_idempotency_record(team):
    marketer, _, body = team
    campaign = _campaign(marketer, body)
    from rendering.models import PromptTemplate

    PromptTemplate.objects.all().delete()
    response = marketer.post(f"campaigns/{campaign['id']}/generate/", {},
                             HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 400 and "No prompt template" in response.json()["detail"]
    assert not IdempotentRequest.objects.exists() and not RenderJob.objects.exists()


def test_generate_one_more_variant_of_one_slot(team, django_capture_on_commit_callbacks):
    marketer, _, body = team
    campaign = _campaign(marketer, body)
    slot = campaign["slots"][0]["id"]
    with django_capture_on_commit_callbacks(execute=False):
        response = marketer.post(f"campaigns/{campaign['id']}/generate/",
                                 {"slots": [slot], "variants": 1, "seed": 7})
    assert response.json()["count"] == 1
    job = RenderJob.objects.get()
    assert job.slot_id == slot and job.recipe["seed"] == 7
    bad = marketer.post(f"campaigns/{campaign['id']}/generate/", {"slots": [999999]})
    assert bad.status_code == 400 and "slots" in bad.json()["errors"]


def test_review_approve_request_changes_reject_and_export(
        team, tiny_model, django_capture_on_commit_callbacks):
    marketer, approver, body = team
    campaign = _campaign(marketer, {**body, "formats": body["formats"][:1]})
    with django_capture_on_commit_callbacks(execute=True):
        marketer.post(f"campaigns/{campaign['id']}/generate/", {})
    first, second = Asset.objects.order_by("id")
    own = marketer.post(f"assets/{first.pk}/approve/", {})
    assert own.status_code == 403  # a marketer cannot review at all (P2)
    stale = approver.post(f"assets/{first.pk}/approve/", {"sha256": "0" * 64})
    assert stale.status_code == 400 and "changed since you opened it" in stale.json()["detail"]
    with django_capture_on_commit_callbacks(execute=True):
        approved = approver.post(f"assets/{first.pk}/approve/", {"sha256": first.sha256})
    assert approved.status_code == 200, approved.json()
    assert approved.json()["to_state"] == "approved"
    assert marketer.get("assets/", {"live": "true"}).json()["count"] == 1
    rejected = approver.post(f"assets/{second.pk}/reject/", {"comment": "Off brand"})
    assert rejected.status_code == 200 and rejected.json()["to_state"] == "rejected"
    no_comment = approver.post(f"assets/{second.pk}/reject/", {})
    assert no_comment.status_code == 400 and "comment" in no_comment.json()["errors"]
    reviews = marketer.get(f"assets/{first.pk}/reviews/").json()
    assert [r["action"] for r in reviews] == ["approve"]
    export = marketer.post(f"campaigns/{campaign['id']}/export/")
    assert export.status_code == 200, export.json()
    url = export.json()["url"]
    assert url.startswith("http://testserver/")  # absolute, signed, no session needed
    download = Client().get(url)
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    queue = approver.get("assets/review-queue/").json()
    assert queue["count"] == 0


def test_request_changes_and_edit_queue_edit_jobs(
        team, tiny_model, django_capture_on_commit_callbacks):
    marketer, approver, body = team
    campaign = _campaign(marketer, {**body, "formats": body["formats"][:1]})
    with django_capture_on_commit_callbacks(execute=True):
        marketer.post(f"campaigns/{campaign['id']}/generate/", {})
    first, second = Asset.objects.order_by("id")
    with django_capture_on_commit_callbacks(execute=False):
        changes = approver.post(f"assets/{first.pk}/request-changes/",
                                {"comment": "Make the background blue",
                                 "region": [0, 0, 0.5, 0.5]})
        edit = marketer.post(f"assets/{second.pk}/edit/", {"instruction": "Add a red ribbon"})
    assert changes.status_code == 200, changes.json()
    assert changes.json()["to_state"] == "changes_requested" and changes.json()["edit_job"]
    assert edit.status_code == 202, edit.json()
    assert edit.json()["kind"] == "edit" and edit.json()["source_asset"] == second.pk
    assert RenderJob.objects.filter(kind="edit").count() == 2
    assert approver.post(f"assets/{second.pk}/edit/", {"instruction": "x"}).status_code == 403


def test_bulk_approve_reports_what_it_could_not_approve(
        team, tiny_model, django_capture_on_commit_callbacks):
    marketer, approver, body = team
    campaign = _campaign(marketer, {**body, "formats": body["formats"][:1]})
    with django_capture_on_commit_callbacks(execute=True):
        marketer.post(f"campaigns/{campaign['id']}/generate/", {})
    ids = list(Asset.objects.order_by("id").values_list("id", flat=True))
    queue = approver.get("assets/review-queue/").json()
    assert sorted(a["id"] for a in queue["results"]) == ids
    with django_capture_on_commit_callbacks(execute=True):
        approver.post(f"assets/{ids[0]}/reject/", {"comment": "no"})
        result = approver.post("assets/bulk-approve/", {"assets": ids}).json()
    assert result["approved"] == ids[1:] and len(result["problems"]) == 1


def test_export_without_approved_assets_says_so(team):
    marketer, _, body = team
    campaign = _campaign(marketer, body)
    response = marketer.post(f"campaigns/{campaign['id']}/export/")
    assert response.status_code == 400 and "approve at least one" in response.json()["detail"]


def test_refresh_schedule_get_put_and_refresh_now(team, django_capture_on_commit_callbacks):
    marketer, approver, body = team
    campaign = _campaign(marketer, body)
    url = f"campaigns/{campaign['id']}/schedule/"
    assert marketer.get(url).status_code == 404
    bad = marketer.put(url, {"kind": "cron", "cron": "every monday", "timezone": "UTC"})
    assert bad.status_code == 400 and "cron expression" in bad.json()["detail"]
    response = marketer.put(url, {"kind": "cron", "cron": "0 9 * * 1",
                                  "timezone": "Europe/Berlin", "variants": 2,
                                  "formats": [body["formats"][0]], "auto_rerender_stale": True})
    assert response.status_code == 200, response.json()
    assert response.json()["formats"] == [body["formats"][0]]
    schedule = RefreshSchedule.objects.get()
    assert schedule.periodic_task.enabled and schedule.variants == 2
    assert marketer.get(url).json()["auto_rerender_stale"] is True
    assert approver.put(url, {"kind": "interval", "interval_seconds": 60}).status_code == 403
    with django_capture_on_commit_callbacks(execute=False):
        refreshed = marketer.post(f"campaigns/{campaign['id']}/refresh/")
    assert refreshed.json()["refreshed"] is True and refreshed.json()["jobs_created"] == 4
    again = marketer.post(f"campaigns/{campaign['id']}/refresh/").json()
    assert again == {"refreshed": False, "period": None, "jobs_created": 0}
    history = marketer.get(f"campaigns/{campaign['id']}/refreshes/").json()
    assert len(history) == 1 and history[0]["trigger"] == "manual"


def test_audit_log_is_for_admins(team, member):
    marketer, _, _ = team
    admin = api_for(MembershipFactory(workspace=marketer.membership.workspace, role=Role.ADMIN))
    events = admin.get("audit-events/", {"verb": "api_token.created"}).json()
    assert events["count"] == 3 and events["results"][0]["actor"]
    assert marketer.get("audit-events/").status_code == 403


def test_members_are_managed_by_admins(team):
    marketer, approver, _ = team
    admin = api_for(MembershipFactory(workspace=marketer.membership.workspace, role=Role.ADMIN))
    listed = admin.get("members/").json()
    assert listed["count"] == 3
    from tests.factories import UserFactory

    newcomer = UserFactory()
    invited = admin.post("members/", {"email": newcomer.email, "role": "viewer"})
    assert invited.status_code == 202 and invited.json()["role"] == "viewer"
    assert admin.get("members/").json()["count"] == 3  # a member only once they accept
    added = MembershipFactory(workspace=admin.membership.workspace, user=newcomer,
                              role=Role.VIEWER)
    changed = admin.patch(f"members/{added.pk}/", {"role": "approver"})
    assert changed.status_code == 200 and changed.json()["role"] == "approver"
    assert marketer.patch(f"members/{added.pk}/", {"role": "admin"}).status_code == 403
    assert admin.delete(f"members/{added.pk}/").status_code == 204
    last_admin = admin.delete(f"members/{admin.membership.pk}/")
    assert last_admin.status_code == 400


def test_members_choose_their_own_notifications(member):
    viewer = member(Role.VIEWER)
    assert viewer.get("members/me/notifications/").json() == {
        "notify_review_waiting": True, "notify_reviewed": True}
    changed = viewer.put("members/me/notifications/", {"notify_review_waiting": False})
    assert changed.status_code == 200 and changed.json()["notify_review_waiting"] is False
    viewer.membership.refresh_from_db()
    assert viewer.membership.notify_review_waiting is False
    assert viewer.membership.notify_reviewed is True


def test_campaign_patch_put_add_and_remove_slots(team, catalog):
    marketer, _, body = team
    formats = catalog[3]
    campaign = _campaign(marketer, body)
    patched = marketer.patch(f"campaigns/{campaign['id']}/", {
        "name": "Launch 2", "formats": [f.pk for f in formats[:3]], "variants_per_slot": 2})
    assert patched.status_code == 200, patched.json()
    assert patched.json()["name"] == "Launch 2" and len(patched.json()["slots"]) == 2 * 3
    replaced = marketer.put(f"campaigns/{campaign['id']}/", {
        "name": "Launch 3", "products": body["products"][:1], "formats": [formats[0].pk],
        "starts_on": "2026-05-01", "ends_on": "2026-05-31"})
    assert replaced.status_code == 200, replaced.json()
    assert len(replaced.json()["slots"]) == 1 and replaced.json()["starts_on"] == "2026-05-01"
    incomplete = marketer.put(f"campaigns/{campaign['id']}/", {"name": "Only a name"})
    assert incomplete.status_code == 400
    assert set(incomplete.json()["errors"]) == {"products", "formats"}
    rebrand = marketer.patch(f"campaigns/{campaign['id']}/", {"brand": catalog[1].pk + 1})
    assert rebrand.status_code == 400 and "brand kit cannot change" in rebrand.json()["detail"]


def test_campaign_update_refuses_removing_slots_with_assets(team):
    from tests.factories import asset_make

    marketer, _, body = team
    campaign = _campaign(marketer, body)
    slot = Campaign.objects.get().slots.get(product_id=body["products"][1],
                                            format_id=body["formats"][0])
    asset_make(slot=slot)
    response = marketer.patch(f"campaigns/{campaign['id']}/",
                              {"products": body["products"][:1]})
    assert response.status_code == 400
    assert "already have assets" in response.json()["detail"]
    assert Campaign.objects.get().slots.count() == 4


def test_archive_stops_generating_and_delete_needs_archiving_when_assets_are_approved(
        team, django_capture_on_commit_callbacks):
    from brands.models import AuditEvent
    from campaigns import review
    from tests.factories import asset_make

    marketer, approver, body = team
    campaign = _campaign(marketer, body)
    asset = asset_make(slot=Campaign.objects.get().slots.first())
    review.asset_approve(asset=asset, user=approver.membership.user)
    archived = marketer.post(f"campaigns/{campaign['id']}/archive/")
    assert archived.status_code == 200 and archived.json()["status"] == "archived"
    refused = marketer.post(f"campaigns/{campaign['id']}/generate/", {})
    assert refused.status_code == 400 and "archived" in refused.json()["detail"]
    assert marketer.post(f"campaigns/{campaign['id']}/archive/").status_code == 400
    assert marketer.post(f"campaigns/{campaign['id']}/unarchive/").json()["status"] == "active"
    kept = marketer.delete(f"campaigns/{campaign['id']}/")
    assert kept.status_code == 400 and "Archive the campaign first" in kept.json()["detail"]
    assert approver.delete(f"campaigns/{campaign['id']}/").status_code == 403
    marketer.post(f"campaigns/{campaign['id']}/archive/")
    with django_capture_on_commit_callbacks(execute=True):
        assert marketer.delete(f"campaigns/{campaign['id']}/").status_code == 204
    assert not Campaign.objects.exists() and not Asset.objects.exists()
    assert marketer.get(f"campaigns/{campaign['id']}/").status_code == 404
    assert AuditEvent.objects.filter(verb="campaign.deleted").count() == 1
