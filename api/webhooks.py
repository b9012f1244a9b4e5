"""Webhooks: tell a workspace's own systems when something happened.

``webhook_emit`` records one delivery per subscribed endpoint and rings the cpu queue after
the change commits. Each attempt POSTs the same JSON body, signed with HMAC-SHA256 over
``"<timestamp>.<body>"`` in ``X-AdStudio-Signature: t=<timestamp>,v1=<hex>`` (receivers refuse
old timestamps: no replay). Connection errors, timeouts, 429 and 5xx are retried with
exponential backoff up to ADSTUDIO_WEBHOOK_MAX_ATTEMPTS; other answers are final. Every
delivery ends ``succeeded`` or ``failed``: whatever goes wrong in an attempt is logged as that
attempt's failure, and ``webhooks_reconcile`` (beat) picks up deliveries whose next attempt
is overdue (a lost message, a killed worker). Delivery is at least once: receivers
deduplicate on the body's ``id``.

Targets are checked by api.webhook_targets when an endpoint is saved and again on every
attempt, which connects only to the address that check resolved (P13).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import secrets
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from api.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent
from api.webhook_targets import (
    Resolver,
    Target,
    TargetRefused,
    TargetUnresolved,
    outbound_connection,
    webhook_target_check,
)
from brands.audit import audit_record
from brands.models import Workspace
from core.broker import task_publish

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-AdStudio-Signature"
BACKOFF_BASE_SECONDS = 30
EXCERPT_CHARS = 500


def webhook_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp`` (Unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def webhook_url_validate(url: str, *, resolver: Resolver | None = None) -> str:
    """``url`` if AdStudio may send webhooks to it, else a ValidationError on ``url``."""
    try:
        webhook_target_check(url, purpose="save", resolver=resolver)
    except TargetRefused as exc:
        raise ValidationError({"url": [str(exc)]}) from exc
    return url


def webhook_endpoint_create(*, workspace: Workspace, user, url: str, events: list[str],
                            active: bool = True, resolver: Resolver | None = None
                            ) -> WebhookEndpoint:
    """A new endpoint with a fresh signing secret (returned on the object, shown once).
    URLs inside AdStudio's own network are refused (see api.webhook_targets)."""
    webhook_url_validate(url, resolver=resolver)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            workspace=workspace, url=url, events=sorted(set(events)), active=active,
            secret=webhook_secret())
        audit_record(workspace_id=workspace.pk, actor=user, verb="webhook.created",
                     obj=endpoint, data={"url": url, "events": endpoint.events})
    return endpoint


def webhook_endpoint_update(*, endpoint: WebhookEndpoint, user,
                            resolver: Resolver | None = None, **fields) -> WebhookEndpoint:
    """Change an endpoint's url, events or active flag."""
    unknown = set(fields) - {"url", "events", "active"}
    if unknown:
        raise TypeError(f"unknown webhook endpoint fields: {sorted(unknown)}")
    if "url" in fields:
        webhook_url_validate(fields["url"], resolver=resolver)
    if "events" in fields:
        fields["events"] = sorted(set(fields["events"]))
    with transaction.atomic():
        for key, value in fields.items():
            setattr(endpoint, key, value)
        endpoint.save()
        audit_record(workspace_id=endpoint.workspace_id, actor=user, verb="webhook.changed",
                     obj=endpoint, data=fields)
    return endpoint


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint, user) -> None:
    """Remove an endpoint with its delivery log."""
    with transaction.atomic():
        audit_record(workspace_id=endpoint.workspace_id, actor=user, verb="webhook.deleted",
                     obj=endpoint, data={"url": endpoint.url})
        endpoint.delete()


def webhook_emit(*, workspace_id: int, event: str, payload: dict) -> list[int]:
    """Queue ``event`` with ``payload`` for every active endpoint of the workspace that wants
    it. Call it inside the transaction of the change: deliveries start after it commits and
    never for a change that rolled back. Returns the delivery ids."""
    if event not in WebhookEvent.values:
        raise ValueError(f"unknown webhook event {event!r}")
    endpoints = [e for e in WebhookEndpoint.objects.filter(workspace_id=workspace_id,
                                                           active=True)
                 if event in e.events]
    if not endpoints:
        return []
    body = json.dumps({
        "id": str(uuid.uuid4()), "event": event, "created_at": timezone.now().isoformat(),
        "workspace": Workspace.objects.values_list("slug", flat=True).get(pk=workspace_id),
        "data": payload,
    }, cls=DjangoJSONEncoder, sort_keys=True)
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(endpoint=endpoint, event=event, body=body) for endpoint in endpoints)
    ids = [d.pk for d in deliveries]
    transaction.on_commit(lambda: _enqueue(ids))
    return ids


def _enqueue(delivery_ids: list[int], countdown: int | None = None) -> None:
    for delivery_id in delivery_ids:
        task_publish("api.deliver_webhook", args=[delivery_id], countdown=countdown)


def webhook_emit_event(*, workspace_id: int, event: str, payload: dict, **kwargs) -> None:
    """Receiver of core.events.event_happened: every announced event is a webhook event."""
    webhook_emit(workspace_id=workspace_id, event=event, payload=payload)


def retry_countdown(attempts: int) -> int:
    """Seconds before the next attempt: 30 s, 1 min, 2 min, ... never beyond the broker's
    visibility timeout (Redis would deliver a longer-waiting message twice)."""
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
    return int(min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), visibility - 60))


def _retryable(status: int | None) -> bool:
    return status is None or status == 429 or status >= 500


def _post(target: Target, body: bytes, headers: dict) -> tuple[int | None, str, str]:
    """POST once: the status (None if no answer), a response excerpt and an error."""
    # Never follows redirects: a 3xx is the endpoint's (final) answer.
    conn = outbound_connection(target, timeout=settings.ADSTUDIO_WEBHOOK_TIMEOUT)
    try:
        conn.request("POST", target.path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read(EXCERPT_CHARS).decode("utf-8", "replace"), ""
    except (OSError, http.client.HTTPException) as exc:  # refused, reset, timeout, TLS
        return None, "", f"Could not reach the endpoint: {exc or type(exc).__name__}"[
            :EXCERPT_CHARS]
    finally:
        conn.close()


def _attempt(delivery: WebhookDelivery, resolver: Resolver | None
             ) -> tuple[int | None, str, str, bool]:
    """One attempt: (status, excerpt, error, final). ``final``: do not retry whatever the
    status (the target is refused)."""
    endpoint = delivery.endpoint
    try:
        target = webhook_target_check(endpoint.url, resolver=resolver)
    except TargetUnresolved as exc:  # DNS may be back later: retried like a refused connection
        return None, "", str(exc)[:EXCERPT_CHARS], False
    except TargetRefused as exc:
        return None, "", f"Refused to send: {exc}"[:EXCERPT_CHARS], True
    body = delivery.body.encode()
    timestamp = int(time.time())
    status, excerpt, error = _post(target, body, {
        "Content-Type": "application/json",
        "User-Agent": "AdStudio-Webhooks/1",
        "X-AdStudio-Event": delivery.event,
        "X-AdStudio-Delivery": str(delivery.pk),
        SIGNATURE_HEADER: sign(endpoint.secret, timestamp, body),
    })
    return status, excerpt, error, False


def webhook_deliver(*, delivery_id: int, resolver: Resolver | None = None
                    ) -> WebhookDelivery | None:
    """Make one attempt at a delivery and log it; schedules the next attempt when the failure
    is transient and attempts remain. Finished deliveries are left alone (a duplicate
    message sends nothing twice). ``resolver`` replaces DNS (tests)."""
    delivery = (WebhookDelivery.objects.select_related("endpoint")
                .filter(pk=delivery_id).first())
    if delivery is None or delivery.status in (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED):
        return delivery
    try:
        status, excerpt, error, final = _attempt(delivery, resolver)
    except Exception as exc:  # noqa: BLE001 - a delivery must end delivered or failed, never stuck
        logger.exception("webhook delivery %s: the attempt crashed", delivery.pk)
        status, excerpt, error, final = (
            None, "", f"The attempt failed: {type(exc).__name__}: {exc}"[:EXCERPT_CHARS], False)
    delivery.attempts += 1
    delivery.response_status, delivery.response_excerpt, delivery.error = status, excerpt, error
    retry_in = None
    if status is not None and 200 <= status < 300:
        delivery.status, delivery.delivered_at, delivery.next_retry_at = (
            DeliveryStatus.SUCCEEDED, timezone.now(), None)
    elif (not final and _retryable(status)
          and delivery.attempts < settings.ADSTUDIO_WEBHOOK_MAX_ATTEMPTS):
        retry_in = retry_countdown(delivery.attempts)
        delivery.status = DeliveryStatus.RETRYING
        delivery.next_retry_at = timezone.now() + timedelta(seconds=retry_in)
    else:
        delivery.status, delivery.next_retry_at = DeliveryStatus.FAILED, None
        if not error:
            delivery.error = f"The endpoint answered {status}; gave up after " \
                             f"{delivery.attempts} attempt(s)."
    delivery.save(update_fields=["attempts", "response_status", "response_excerpt", "error",
                                 "status", "next_retry_at", "delivered_at"])
    if retry_in is not None:
        logger.info("webhook delivery %s: attempt %s failed (%s); retrying in %s s",
                    delivery.pk, delivery.attempts, status or error, retry_in)
        _enqueue([delivery.pk], countdown=retry_in)
    return delivery


# A delivery whose attempt is this overdue lost its message (or its worker): ring again.
OVERDUE_AFTER = timedelta(minutes=5)
# Older than this and still not delivered: give up (the receiver has long missed the event).
GIVE_UP_AFTER = timedelta(days=1)
RECONCILE_BATCH = 200


def webhooks_reconcile(*, now=None) -> dict[str, int]:
    """Bring every unfinished delivery to an end: re-enqueue those whose attempt is overdue
    (at most RECONCILE_BATCH a run), fail those out of attempts or older than GIVE_UP_AFTER.
    Returns the counts {"requeued": n, "failed": n}."""
    now = now or timezone.now()
    unfinished = WebhookDelivery.objects.filter(
        status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING])
    failed = unfinished.filter(
        Q(created_at__lt=now - GIVE_UP_AFTER)
        | Q(attempts__gte=settings.ADSTUDIO_WEBHOOK_MAX_ATTEMPTS)
    ).update(status=DeliveryStatus.FAILED, next_retry_at=None,
             error="Not delivered in time; AdStudio gave up on this event.")
    overdue = list(unfinished.filter(
        Q(status=DeliveryStatus.PENDING, created_at__lt=now - OVERDUE_AFTER)
        | Q(status=DeliveryStatus.RETRYING, next_retry_at__lt=now - OVERDUE_AFTER)
    ).order_by("created_at").values_list("pk", flat=True)[:RECONCILE_BATCH])
    if overdue:
        logger.warning("webhooks: %s overdue deliveries enqueued again", len(overdue))
        _enqueue(overdue)
    return {"requeued": len(overdue), "failed": failed}
