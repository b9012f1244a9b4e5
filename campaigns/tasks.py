"""Campaign tasks: thin (ids in, one service call), with stable names."""

from celery import shared_task

from . import refresh


@shared_task(name="campaigns.refresh_campaign", ignore_result=True)
def refresh_campaign(campaign_id: int) -> None:
    refresh.campaign_refresh(campaign_id=campaign_id)
