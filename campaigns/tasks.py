"""Campaign tasks: thin (ids in, one service call), with stable names."""

from celery import shared_task

from campaigns import refresh_run


@shared_task(name="campaigns.refresh_campaign", ignore_result=True)
def refresh_campaign(campaign_id: int) -> None:
    refresh_run.campaign_refresh(campaign_id=campaign_id)


@shared_task(name="campaigns.notify_review", ignore_result=True)
def notify_review(event_id: int) -> None:
    from campaigns.notifications import review_notify_author

    review_notify_author(event_id=event_id)


@shared_task(name="campaigns.send_review_digests", ignore_result=True)
def send_review_digests() -> None:
    from campaigns.notifications import review_digests_send

    review_digests_send()
