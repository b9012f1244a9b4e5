"""Changing, archiving and deleting campaigns: slots follow products and formats, assets are
never lost by accident, archived campaigns render nothing, every change is audited."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django_celery_beat.models import PeriodicTask

from brands.models import AuditEvent
from campaigns import review
from campaigns.models import Campaign, CampaignStatus, Slot
from campaigns.refresh import refresh_schedule_save
from campaigns.refresh_run import campaign_refresh
from campaigns.services import (
    campaign_archive,
    campaign_create,
    campaign_delete,
    campaign_generate,
    campaign_unarchive,
    campaign_update,
)
from rendering.models import Asset, AssetKind, JobStatus, RenderJob
from tests.factories import MembershipFactory, ProductFactory, RenderJobFactory, asset_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(catalog):
    workspace, brand, products, formats = catalog
    return campaign_create(workspace=workspace, user=None, name="Spring", brand=brand,
                           products=products[:1], formats=formats[:1])


def _pairs(campaign) -> set:
    return set(campaign.slots.values_list("product_id", "format_id"))


def test_adding_products_and_formats_adds_their_slots(campaign, catalog):
    _, _, products, formats = catalog
    campaign_update(campaign=campaign, user=None, products=products[:2], formats=formats[:2],
                    name="Spring sale", variants_per_slot=3)
    campaign.refresh_from_db()
    assert _pairs(campaign) == {(p.pk, f.pk) for p in products[:2] for f in formats[:2]}
    assert (campaign.name, campaign.variants_per_slot) == ("Spring sale", 3)
    event = AuditEvent.objects.get(verb="campaign.changed")
    assert event.data["slots_added"] == 3 and "name" in event.data["changed"]


def test_removing_a_format_removes_its_empty_slots_and_cancels_their_renders(campaign, catalog):
    _, _, products, formats = catalog
    campaign_update(campaign=campaign, user=None, formats=formats[:2])
    leaving = campaign.slots.get(format=formats[1])
    job = RenderJobFactory(slot=leaving)  # queued, in the campaign's workspace
    campaign_update(campaign=campaign, user=None, formats=formats[:1])
    assert _pairs(campaign) == {(products[0].pk, formats[0].pk)}
    assert not RenderJob.objects.filter(pk=job.pk).exists()


def test_removing_a_product_whose_slot_has_assets_is_refused_and_changes_nothing(
        campaign, catalog):
    _, _, products, formats = catalog
    campaign_update(campaign=campaign, user=None, products=products[:2])
    asset_make(slot=campaign.slots.get(product=products[1]))
    with pytest.raises(ValidationError, match="already have assets") as refused:
        campaign_update(campaign=campaign, user=None, products=products[:1], name="Renamed")
    assert f"{products[1].name} × {formats[0].name} (1 asset)" in refused.value.messages[0]
    campaign.refresh_from_db()
    assert campaign.name == "Spring" and campaign.products.count() == 2
    assert campaign.slots.count() == 2


def test_update_checks_dates_names_and_workspace(campaign, catalog):
    workspace = catalog[0]
    campaign_create(workspace=workspace, user=None, name="Taken", brand=catalog[1],
                    products=catalog[2][:1], formats=catalog[3][:1])
    with pytest.raises(ValidationError, match="already exists"):
        campaign_update(campaign=campaign, user=None, name="Taken")
    import datetime

    with pytest.raises(ValidationError, match="cannot end before it starts"):
        campaign_update(campaign=campaign, user=None, starts_on=datetime.date(2026, 5, 2),
                        ends_on=datetime.date(2026, 5, 1))
    with pytest.raises(ValidationError, match="must be in this workspace"):
        campaign_update(campaign=campaign, user=None, products=[ProductFactory()])
    with pytest.raises(ValidationError, match="at least one product"):
        campaign_update(campaign=campaign, user=None, products=[])


def test_an_archived_campaign_cannot_generate_and_is_not_refreshed(campaign):
    refresh_schedule_save(user=None, campaign=campaign, kind="interval", interval_seconds=60)
    campaign_archive(campaign=campaign, user=None)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ARCHIVED
    assert PeriodicTask.objects.get(name=f"refresh campaign {campaign.pk}").enabled is False
    with pytest.raises(ValidationError, match="Spring is archived"):
        campaign_generate(campaign=campaign, user=None)
    assert campaign_refresh(campaign_id=campaign.pk) is None  # the scheduled tick
    with pytest.raises(ValidationError, match="is archived"):
        campaign_refresh(campaign_id=campaign.pk, trigger="manual")
    assert not RenderJob.objects.exists() and not campaign.refreshes.exists()
    # Saving the schedule while archived keeps it off.
    refresh_schedule_save(user=None, campaign=campaign, kind="interval", interval_seconds=120)
    assert PeriodicTask.objects.get(name=f"refresh campaign {campaign.pk}").enabled is False


def test_unarchive_resumes_the_schedule_and_generating(campaign,
                                                       django_capture_on_commit_callbacks):
    refresh_schedule_save(user=None, campaign=campaign, kind="interval", interval_seconds=60)
    campaign_archive(campaign=campaign, user=None)
    with pytest.raises(ValidationError, match="already archived"):
        campaign_archive(campaign=campaign, user=None)
    campaign_unarchive(campaign=campaign, user=None)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT  # it never rendered
    assert PeriodicTask.objects.get(name=f"refresh campaign {campaign.pk}").enabled is True
    with pytest.raises(ValidationError, match="not archived"):
        campaign_unarchive(campaign=campaign, user=None)
    with django_capture_on_commit_callbacks(execute=False):
        assert len(campaign_generate(campaign=campaign, user=None).jobs) == 1
    verbs = list(AuditEvent.objects.order_by("id").values_list("verb", flat=True))
    assert verbs == [*["template.created"] * len(AssetKind.values), "campaign.created",
                     "refresh_schedule.created", "campaign.archived", "campaign.unarchived"]


def test_deleting_a_campaign_removes_slots_jobs_assets_and_their_files(
        campaign, django_capture_on_commit_callbacks):
    slot = campaign.slots.get()
    asset = asset_make(slot=slot)
    queued = RenderJobFactory(slot=slot)
    refresh_schedule_save(user=None, campaign=campaign, kind="interval", interval_seconds=60)
    user = MembershipFactory(workspace=campaign.workspace).user
    with django_capture_on_commit_callbacks(execute=True):
        campaign_delete(campaign=campaign, user=user)
    assert not Campaign.objects.exists() and not Slot.objects.exists()
    assert not Asset.objects.exists() and not RenderJob.objects.filter(pk=queued.pk).exists()
    assert not default_storage.exists(asset.file.name)
    assert not default_storage.exists(asset.thumbnail.name)
    assert not PeriodicTask.objects.filter(name=f"refresh campaign {campaign.pk}").exists()
    event = AuditEvent.objects.get(verb="campaign.deleted")
    assert (event.object_id, event.actor, event.data["assets"]) == (campaign.pk, user, 1)
    assert campaign_refresh(campaign_id=campaign.pk) is None  # a tick sent before the delete


def test_a_campaign_with_approved_assets_must_be_archived_before_deleting(
        campaign, django_capture_on_commit_callbacks):
    slot = campaign.slots.get()
    approver = MembershipFactory(workspace=campaign.workspace, role="approver").user
    asset = asset_make(slot=slot)
    review.asset_approve(asset=asset, user=approver)
    running = RenderJobFactory(slot=slot, status=JobStatus.RUNNING)
    with pytest.raises(ValidationError, match="Archive the campaign first"):
        campaign_delete(campaign=campaign, user=None)
    assert Asset.objects.filter(pk=asset.pk).exists() and default_storage.exists(
        asset.file.name)
    running.refresh_from_db()
    assert running.status == JobStatus.RUNNING and not running.cancel_requested  # rolled back
    campaign_archive(campaign=campaign, user=None)
    with django_capture_on_commit_callbacks(execute=True):
        campaign_delete(campaign=campaign, user=None)
    assert not Campaign.objects.exists() and not default_storage.exists(asset.file.name)


def test_a_render_finishing_after_its_campaign_was_deleted_stores_nothing(
        campaign, django_capture_on_commit_callbacks):
    from rendering.jobs.states import job_claim_next
    from rendering.jobs.store import store_asset

    with django_capture_on_commit_callbacks(execute=False):
        campaign_generate(campaign=campaign, user=None)
    (claim,) = job_claim_next(worker="test")
    campaign_delete(campaign=campaign, user=None)
    from PIL import Image

    stored = store_asset(claim, Image.new("RGB", (300, 250)), {"format": {"dpi": None}},
                          gpu_seconds=0)
    assert stored is None and not Asset.objects.exists()
