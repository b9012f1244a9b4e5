"""Scheduled refreshes with real beat processes: new variants appear at the scheduled time,
and two beats ticking at once make one refresh per period (F12)."""

import re

import pytest

from campaigns.models import CampaignRefresh
from campaigns.refresh import refresh_schedule_save
from campaigns.services import campaign_create
from core.broker import broker_queue_depth
from rendering.models import Asset, JobStatus, RenderJob
from tests.services import CeleryBeat, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_F12_two_beats_refresh_once_per_period_and_variants_appear(
        catalog, settings, tiny_model, start_worker, worker_env, tmp_path):
    workspace, brand, products, formats = catalog
    campaign = campaign_create(workspace=workspace, user=None, name="Every 2 s", brand=brand,
                               products=products[:1], formats=formats[:1])
    refresh_schedule_save(user=None, campaign=campaign, kind="interval", interval_seconds=2,
                          variants=1)
    worker = start_worker(beat=False)
    worker.wait_healthy()
    beats = [CeleryBeat(env=worker_env, log=tmp_path / f"beat{i}.log").start() for i in (1, 2)]
    try:
        # Three refreshes, both beats have rung (a beat can start late on a busy machine), and
        # at least one tick of the second beat fell in a period the first had refreshed (out of
        # phase, the two can alternate for a while without meeting in one period).
        wait_for(lambda: CampaignRefresh.objects.filter(campaign=campaign).count() >= 3
                 and all("Sending due task refresh campaign" in b.log.read_text()
                         for b in beats)
                 and "already refreshed" in worker.log.read_text(),
                 timeout=120, interval=0.2,
                 what="three refreshes, rung by both beats, one tick a duplicate")
    finally:
        for beat in beats:
            beat.stop()
    # Every tick the beats sent has reached the worker (the default queue is drained) and
    # every refresh it received has run: only then can duplicates be counted as absent.
    wait_for(lambda: broker_queue_depth("default") == 0
             and not worker.tasks_unfinished("campaigns.refresh_campaign"),
             timeout=60, interval=0.1, what="the worker to run every tick the beats sent")
    refreshes = list(CampaignRefresh.objects.filter(campaign=campaign).order_by("period"))
    periods = [r.period for r in refreshes]
    assert len(periods) == len(set(periods))  # one refresh per period
    assert all(r.jobs_created == 1 for r in refreshes)
    assert RenderJob.objects.filter(refresh__campaign=campaign).count() == len(refreshes)
    # Both beats rang: the duplicate ticks reached the worker and did nothing.
    sent = sum(len(re.findall(r"Sending due task refresh campaign", b.log.read_text()))
               for b in beats)
    assert sent > len(refreshes)
    assert "already refreshed" in worker.log.read_text()
    # The variants were rendered: new assets for the refreshed slot.
    wait_for(lambda: not RenderJob.objects.filter(
        refresh__campaign=campaign, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).exists(),
        timeout=60, what="the refresh renders")
    jobs = RenderJob.objects.filter(refresh__campaign=campaign)
    assert set(jobs.values_list("status", flat=True)) == {JobStatus.SUCCEEDED}
    assert Asset.objects.filter(job__refresh__campaign=campaign).count() == len(refreshes)
