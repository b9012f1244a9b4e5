"""Webhooks: tell a workspace's own systems when something happened.

``webhook_emit`` records one delivery per subscribed endpoint and rings the cpu queue after
the change commits. Each attempt POSTs the same JSON body, signed with HMAC-SHA256 over
``"<timestamp>.<body>"`` in ``X-AdStudio-Signature: t=<timestamp>,v1=<hex>`` (receivers refuse
old timestamps: no replay). Connection errors, timeouts, 429 and 5xx are retried with
exponential backoff up to ADSTUDIO_WEBHOOK_MAX_ATTEMPTS; other answers are final.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from brands.audit import audit_record
from brands.models import Workspace

from .models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent

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


def webhook_endpoint_create(*, workspace: Workspace, user, url: str, events: list[str],
                            active: bool = True) -> WebhookEndpoint:
    """A new endpoint with a fresh signing secret (returned on the object, shown once)."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            workspace=workspace, url=url, events=sorted(set(events)), active=active,
            secret=webhook_secret())
        audit_record(workspace_id=workspace.pk, actor=user, verb="webhook.created",
                     obj=endpoint, data={"url": url, "events": endpoint.events})
    return endpoint


def webhook_endpoint_update(*, endpoint: WebhookEndpoint, user, **fields) -> WebhookEndpoint:
    """Change an endpoint's url, events or active flag."""
    unknown = set(fields) - {"url", "events", "active"}
    if unknown:
        raise TypeError(f"unknown webhook endpoint fields: {sorted(unknown)}")
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
    from .tasks import deliver_webhook

    for delivery_id in delivery_ids:
        deliver_webhook.apply_async(args=[delivery_id], countdown=countdown)


def retry_countdown(attempts: int) -> int:
    """Seconds before the next attempt: 30 s, 1 min, 2 min, ... never beyond the broker's
    visibility timeout (Redis would deliver a longer-waiting message twice)."""
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
    return int(min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), visibility - 60))


def _retryable(status: int | None) -> bool:
    return status is None or status == 429 or status >= 500


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is the endpoint's answer (logged, final), never followed: it could point
    anywhere, including inside our own network."""

    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def address_refusal(url: str) -> str | None:
    """Why AdStudio will not call ``url`` (an address inside its own network), or None.

    Loopback, private and link-local addresses (cloud metadata services) are refused unless
    ADSTUDIO_WEBHOOK_ALLOW_PRIVATE_NETWORKS is on; checked on every attempt, after DNS."""
    if settings.ADSTUDIO_WEBHOOK_ALLOW_PRIVATE_NETWORKS:
        return None
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (socket.gaierror, UnicodeError):
        return None  # unresolvable: the attempt fails as a connection error and is retried
    for address in addresses:
        if not ipaddress.ip_address(address.split("%", 1)[0]).is_global:
            return (f"The endpoint's address {address} is inside AdStudio's own network. "
                    "Use a public address, or set ADSTUDIO_WEBHOOK_ALLOW_PRIVATE_NETWORKS=1.")
    return None


def _post(url: str, body: bytes, headers: dict) -> tuple[int | None, str, str]:
    """POST once: the status (None if no answer), a response excerpt and an error."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _OPENER.open(request, timeout=settings.ADSTUDIO_WEBHOOK_TIMEOUT) as resp:
            return resp.status, resp.read(EXCERPT_CHARS).decode("utf-8", "replace"), ""
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(EXCERPT_CHARS).decode("utf-8", "replace"), ""
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, "", f"Could not reach the endpoint: {reason}"[:EXCERPT_CHARS]


def webhook_deliver(*, delivery_id: int) -> WebhookDelivery | None:
    """Make one attempt at a delivery and log it; schedules the next attempt when the failure
    is transient and attempts remain. Finished deliveries are left alone (a duplicate
    message sends nothing twice)."""
    delivery = (WebhookDelivery.objects.select_related("endpoint")
                .filter(pk=delivery_id).first())
    if delivery is None or delivery.status in (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED):
        return delivery
    endpoint = delivery.endpoint
    refusal = address_refusal(endpoint.url)
    if refusal:
        delivery.attempts += 1
        delivery.status, delivery.error, delivery.next_retry_at = (
            DeliveryStatus.FAILED, refusal, None)
        delivery.save(update_fields=["attempts", "status", "error", "next_retry_at"])
        return delivery
    body = delivery.body.encode()
    timestamp = int(time.time())
    status, excerpt, error = _post(endpoint.url, body, {
        "Content-Type": "application/json",
        "User-Agent": "AdStudio-Webhooks/1",
        "X-AdStudio-Event": delivery.event,
        "X-AdStudio-Delivery": str(delivery.pk),
        SIGNATURE_HEADER: sign(endpoint.secret, timestamp, body),
    })
    delivery.attempts += 1
    delivery.response_status, delivery.response_excerpt, delivery.error = status, excerpt, error
    retry_in = None
    if status is not None and 200 <= status < 300:
        delivery.status, delivery.delivered_at, delivery.next_retry_at = (
            DeliveryStatus.SUCCEEDED, timezone.now(), None)
    elif _retryable(status) and delivery.attempts < settings.ADSTUDIO_WEBHOOK_MAX_ATTEMPTS:
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
