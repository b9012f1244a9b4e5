"""Scheduled refreshes with real beat processes: new variants appear at the scheduled time,
and two beats ticking at once make one refresh per period (F12)."""

import re
import time

import pytest

from campaigns.models import CampaignRefresh
from campaigns.refresh import refresh_schedule_save
from campaigns.services import campaign_create
from rendering.models import Asset, JobStatus, RenderJob
from tests.services import CeleryBeat, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_F12_two_beats_refresh_once_per_period_and_variants_appear(
        catalog, settings, tiny_model, start_worker, worker_env, tmp_path):
    workspace, brand, products, formats = catalog
    campaign = campaign_create(workspace=workspace, user=None, name="Every 2 s", brand=brand,
                               products=products[:1], formats=formats[:1])
    refresh_schedule_save(campaign=campaign, kind="interval", interval_seconds=2, variants=1)
    worker = start_worker(beat=False)
    worker.wait_healthy()
    beats = [CeleryBeat(env=worker_env, log=tmp_path / f"beat{i}.log").start() for i in (1, 2)]
    try:
        # Three refreshes, and both beats have rung (a beat can start late on a busy machine).
        wait_for(lambda: CampaignRefresh.objects.filter(campaign=campaign).count() >= 3
                 and all("Sending due task refresh campaign" in b.log.read_text()
                         for b in beats),
                 timeout=90, interval=0.2, what="three refreshes, rung by both beats")
    finally:
        for beat in beats:
            beat.stop()
    time.sleep(1)
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
    done = wait_for(lambda: not RenderJob.objects.filter(
        refresh__campaign=campaign, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).exists(),
        timeout=60, what="the refresh renders")
    assert done
    jobs = RenderJob.objects.filter(refresh__campaign=campaign)
    assert set(jobs.values_list("status", flat=True)) == {JobStatus.SUCCEEDED}
    assert Asset.objects.filter(job__refresh__campaign=campaign).count() == len(refreshes)
