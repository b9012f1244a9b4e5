"""API tasks: thin (ids in, one service call), with stable names and queues."""

from celery import shared_task

from api import webhooks


@shared_task(name="api.deliver_webhook", ignore_result=True, acks_late=True)
def deliver_webhook(delivery_id: int) -> None:
    """One attempt at a webhook delivery; the service schedules the next one if needed."""
    webhooks.webhook_deliver(delivery_id=delivery_id)


@shared_task(name="api.reconcile_webhooks", ignore_result=True)
def reconcile_webhooks() -> None:
    """Beat: ring again for overdue deliveries; fail those out of time or attempts."""
    webhooks.webhooks_reconcile()
