"""Running a refresh: bring a campaign up to now, once per period of its schedule (beat, a
product change, or a user's "refresh now"), as new variants of its scheduled slots."""

from __future__ import annotations

import logging
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from campaigns.models import (
    Campaign,
    CampaignRefresh,
    CampaignStatus,
    RefreshSchedule,
    RefreshTrigger,
)
from campaigns.refresh import schedule_period
from campaigns.services import campaign_generate
from core.events import event_announce

logger = logging.getLogger(__name__)


def campaign_refresh(*, campaign_id: int, trigger: str = RefreshTrigger.SCHEDULE,
                     now: datetime | None = None) -> CampaignRefresh | None:
    """Bring the campaign up to now: new variants for its scheduled slots, once per period.

    Returns the refresh, or None when this period was already refreshed (or there is no
    enabled schedule for a scheduled tick). New variants go to review; live assets stay.
    """
    campaign = Campaign.objects.select_related("workspace", "brand").filter(
        pk=campaign_id).first()
    if campaign is None:  # deleted after the tick was sent
        logger.info("campaign %s no longer exists; nothing to refresh", campaign_id)
        return None
    if campaign.status == CampaignStatus.ARCHIVED:
        if trigger == RefreshTrigger.SCHEDULE:
            return None
        raise ValidationError(f"{campaign.name} is archived, so it is not refreshed. "
                              "Unarchive it first.", code="campaign_archived")
    schedule = RefreshSchedule.objects.filter(campaign=campaign).first()
    if schedule is None or (trigger == RefreshTrigger.SCHEDULE and not schedule.enabled):
        if trigger == RefreshTrigger.SCHEDULE:
            return None
        period = (now or timezone.now()).replace(second=0, microsecond=0)
        variants, formats = 1, []
    else:
        period = schedule_period(schedule, now)
        variants, formats = schedule.variants, list(schedule.formats.values_list("pk",
                                                                                  flat=True))
    slots = campaign.slots.select_related("product", "format").order_by("id")
    if formats:
        slots = slots.filter(format_id__in=formats)
    try:
        with transaction.atomic():
            refresh = CampaignRefresh.objects.create(campaign=campaign, period=period,
                                                     trigger=trigger)
            result = campaign_generate(campaign=campaign, user=None, slots=list(slots),
                                       variants=variants, refresh=refresh)
            CampaignRefresh.objects.filter(pk=refresh.pk).update(jobs_created=len(result.jobs))
            event_announce(workspace_id=campaign.workspace_id, event="campaign.refreshed",
                           payload={"campaign": campaign.pk, "refresh": refresh.pk,
                                    "period": period.isoformat(), "trigger": trigger,
                                    "jobs": [job.pk for job in result.jobs]})
    except IntegrityError:
        logger.info("campaign %s already refreshed for %s", campaign_id, period)
        return None
    refresh.jobs_created = len(result.jobs)
    return refresh
