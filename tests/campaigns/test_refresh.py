"""Scheduled refreshes: periods in time zones across DST, beat entries, and F12."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection

from campaigns.models import CampaignRefresh, RefreshSchedule
from campaigns.refresh import (
    preset_cron,
    refresh_schedule_save,
    schedule_period,
)
from campaigns.refresh_run import campaign_refresh
from campaigns.services import campaign_create
from rendering.models import RenderJob

BERLIN_MONDAY_9 = "0 9 * * 1"


@pytest.fixture
def campaign(catalog):
    workspace, brand, products, formats = catalog
    return campaign_create(workspace=workspace, user=None, name="Weekly", brand=brand,
                           products=products, formats=formats[:2])


@pytest.mark.django_db
@pytest.mark.parametrize(("now", "period"), [
    # Winter (CET, UTC+1): Monday 9:00 Berlin is 08:00 UTC.
    (datetime(2026, 3, 23, 12, 0, tzinfo=UTC), datetime(2026, 3, 23, 8, 0, tzinfo=UTC)),
    # The Sunday DST starts (29 March 2026): the last tick is still last Monday 08:00 UTC.
    (datetime(2026, 3, 29, 12, 0, tzinfo=UTC), datetime(2026, 3, 23, 8, 0, tzinfo=UTC)),
    # Summer (CEST, UTC+2): Monday 9:00 Berlin is 07:00 UTC.
    (datetime(2026, 3, 30, 7, 0, tzinfo=UTC), datetime(2026, 3, 30, 7, 0, tzinfo=UTC)),
    (datetime(2026, 3, 30, 6, 59, tzinfo=UTC), datetime(2026, 3, 23, 8, 0, tzinfo=UTC)),
    # And back in autumn (25 October 2026).
    (datetime(2026, 10, 26, 8, 30, tzinfo=UTC), datetime(2026, 10, 26, 8, 0, tzinfo=UTC)),
])
def test_cron_period_follows_the_time_zone_across_daylight_saving(campaign, now, period):
    schedule = refresh_schedule_save(user=None, campaign=campaign, kind="cron",
                                     cron=BERLIN_MONDAY_9,
                                     tz="Europe/Berlin")
    assert schedule_period(schedule, now) == period


@pytest.mark.django_db
def test_beat_entry_fires_at_local_time_after_the_dst_change(campaign):
    schedule = refresh_schedule_save(user=None, campaign=campaign, kind="cron",
                                     cron=BERLIN_MONDAY_9,
                                     tz="Europe/Berlin")
    task = schedule.periodic_task
    assert (task.task, task.args, task.queue) == ("campaigns.refresh_campaign",
                                                  f"[{campaign.pk}]", "default")
    assert task.expire_seconds == 7 * 24 * 3600  # a missed week is dropped, not piled up
    beat_schedule = task.crontab.schedule
    last_run = datetime(2026, 3, 23, 8, 0, tzinfo=UTC)  # last Monday, in winter time
    with time_machine.travel(datetime(2026, 3, 30, 6, 59, tzinfo=UTC), tick=False):
        assert not beat_schedule.is_due(last_run).is_due
    with time_machine.travel(datetime(2026, 3, 30, 7, 0, 30, tzinfo=UTC), tick=False):
        assert beat_schedule.is_due(last_run).is_due  # 9:00 in Berlin, summer time


@pytest.mark.django_db
def test_presets_and_bad_rules(campaign):
    assert preset_cron("daily", hour=8, minute=30) == "30 8 * * *"
    assert preset_cron("weekly", hour=9, weekday="mon") == "0 9 * * 1"
    assert preset_cron("weekly", hour=9, weekday="sun") == "0 9 * * 0"
    with pytest.raises(ValidationError, match="not a cron expression"):
        refresh_schedule_save(user=None, campaign=campaign, kind="cron", cron="every monday")
    with pytest.raises(ValidationError, match="not a time zone"):
        refresh_schedule_save(user=None, campaign=campaign, kind="cron", cron="0 9 * * 1",
                              tz="Mars/Base")
    assert not RefreshSchedule.objects.exists()


@pytest.mark.django_db
def test_a_refresh_makes_new_variants_for_the_chosen_slots_once_per_period(
        campaign, queued_broker):
    only = campaign.formats.order_by("id").first()
    refresh_schedule_save(user=None, campaign=campaign, kind="cron", cron=BERLIN_MONDAY_9,
                          tz="Europe/Berlin", formats=[only], variants=2)
    monday = datetime(2026, 3, 30, 7, 5, tzinfo=UTC)
    refresh = campaign_refresh(campaign_id=campaign.pk, now=monday)
    jobs = RenderJob.objects.filter(refresh=refresh)
    assert refresh.jobs_created == jobs.count() == 2 * 2  # 2 products x 1 format x 2
    assert set(jobs.values_list("slot__format", flat=True)) == {only.pk}
    # A duplicate beat, a retry, and "refresh now" later in the same period: nothing more.
    assert campaign_refresh(campaign_id=campaign.pk, now=monday) is None
    assert campaign_refresh(campaign_id=campaign.pk, trigger="manual",
                            now=monday + timedelta(days=2)) is None
    assert RenderJob.objects.count() == 4
    # The next Monday is a new period.
    assert campaign_refresh(campaign_id=campaign.pk, now=monday + timedelta(days=7))
    assert CampaignRefresh.objects.count() == 2


@pytest.mark.django_db
def test_disabled_schedule_ticks_do_nothing(campaign, queued_broker):
    refresh_schedule_save(user=None, campaign=campaign, kind="interval", interval_seconds=60,
                          enabled=False)
    assert campaign_refresh(campaign_id=campaign.pk) is None
    assert not RenderJob.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_F12_two_schedulers_ticking_at_once_make_one_refresh(campaign, queued_broker):
    refresh_schedule_save(user=None, campaign=campaign, kind="interval", interval_seconds=3600)
    now = datetime(2026, 11, 29, 10, 15, tzinfo=UTC)
    barrier = threading.Barrier(2)
    results = []

    def beat():
        barrier.wait()
        try:
            results.append(campaign_refresh(campaign_id=campaign.pk, now=now))
        finally:
            connection.close()

    threads = [threading.Thread(target=beat) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r is None for r in results) == [False, True]
    [refresh] = CampaignRefresh.objects.all()
    assert refresh.period == datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
    assert RenderJob.objects.count() == refresh.jobs_created == 4
