"""Webhooks delivered to a real local HTTP server: signature, retries on 500, the log."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.admin.sites import site
from django.test import Client

from api.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from api.tasks import deliver_webhook
from api.webhooks import retry_countdown, webhook_emit
from brands.models import Role
from campaigns.refresh_run import campaign_refresh
from campaigns.services import campaign_create
from rendering.jobs.reconcile import jobs_reconcile
from rendering.jobs.states import Claim, job_claim_next, job_fail
from rendering.models import RenderJob
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def local_receivers_allowed(settings):
    """The receivers here listen on 127.0.0.1, which production refuses by default."""
    settings.ADSTUDIO_WEBHOOK_ALLOW_PRIVATE_NETWORKS = True


class Receiver:
    """A local HTTP endpoint that records requests and answers with queued status codes."""

    def __init__(self, statuses=()):
        self.requests: list[dict] = []
        self.statuses = list(statuses)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": self.headers, "body": body})  # any case
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status < 400 else b"server trouble")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def verify(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """What a receiver does (docs/api.md): check the timestamp, then the HMAC."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    timestamp = int(parts["t"])
    if abs(time.time() - timestamp) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body,
                        hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


def _endpoint(workspace, url, events=("job.failed",)) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(workspace=workspace, url=url, secret="whsec_test",
                                          events=list(events))


def test_delivery_is_signed_with_hmac_and_timestamp(workspace, django_capture_on_commit_callbacks):
    with Receiver() as receiver:
        endpoint = _endpoint(workspace, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            webhook_emit(workspace_id=workspace.pk, event="job.failed", payload={"job": 7})
    [request] = receiver.requests
    headers = request["headers"]
    assert headers["X-AdStudio-Event"] == "job.failed"
    assert verify(endpoint.secret, headers["X-AdStudio-Signature"], request["body"])
    assert not verify("another-secret", headers["X-AdStudio-Signature"], request["body"])
    assert not verify(endpoint.secret, headers["X-AdStudio-Signature"], request["body"] + b" ")
    body = json.loads(request["body"])
    assert body["event"] == "job.failed" and body["data"] == {"job": 7}
    assert body["workspace"] == workspace.slug
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status) == (
        DeliveryStatus.SUCCEEDED, 1, 200)
    assert delivery.response_excerpt == "ok" and delivery.delivered_at


def test_a_replayed_old_signature_fails_verification(workspace):
    from api.webhooks import sign

    old = sign("whsec_test", int(time.time()) - 3600, b"{}")
    assert not verify("whsec_test", old, b"{}")


def test_500_is_retried_and_every_attempt_is_logged(workspace, django_capture_on_commit_callbacks):
    with Receiver(statuses=[500, 503]) as receiver:
        _endpoint(workspace, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            webhook_emit(workspace_id=workspace.pk, event="job.failed", payload={"job": 1})
    assert len(receiver.requests) == 3
    assert len({r["body"] for r in receiver.requests}) == 1  # the same body every time
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status) == (
        DeliveryStatus.SUCCEEDED, 3, 200)


def test_attempts_are_capped_and_4xx_is_final(settings, workspace,
                                              django_capture_on_commit_callbacks):
    settings.ADSTUDIO_WEBHOOK_MAX_ATTEMPTS = 3
    with Receiver(statuses=[500] * 10) as failing, Receiver(statuses=[410]) as gone:
        _endpoint(workspace, failing.url)
        _endpoint(workspace, gone.url)
        with django_capture_on_commit_callbacks(execute=True):
            webhook_emit(workspace_id=workspace.pk, event="job.failed", payload={})
    assert len(failing.requests) == 3 and len(gone.requests) == 1
    to_failing, to_gone = WebhookDelivery.objects.order_by("endpoint_id")
    assert (to_failing.status, to_failing.attempts) == (DeliveryStatus.FAILED, 3)
    assert to_failing.response_excerpt == "server trouble"
    assert (to_gone.status, to_gone.attempts, to_gone.response_status) == (
        DeliveryStatus.FAILED, 1, 410)
    assert "answered 410" in to_gone.error


def test_connection_refused_is_retried_then_logged(settings, workspace,
                                                   django_capture_on_commit_callbacks):
    settings.ADSTUDIO_WEBHOOK_MAX_ATTEMPTS = 2
    with Receiver() as receiver:
        url = receiver.url
    _endpoint(workspace, url)  # the server is gone: nothing listens on its port
    with django_capture_on_commit_callbacks(execute=True):
        webhook_emit(workspace_id=workspace.pk, event="job.failed", payload={})
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status) == (
        DeliveryStatus.FAILED, 2, None)
    assert "Could not reach the endpoint" in delivery.error


def test_backoff_grows_and_never_exceeds_the_visibility_timeout(settings):
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 600}
    waits = [retry_countdown(n) for n in range(1, 10)]
    assert waits[:3] == [30, 60, 120]
    assert max(waits) == 540 and waits == sorted(waits)


def test_nothing_is_sent_for_a_change_that_rolled_back(workspace):
    from django.db import transaction

    with Receiver() as receiver:
        _endpoint(workspace, receiver.url)
        with pytest.raises(RuntimeError), transaction.atomic():
            webhook_emit(workspace_id=workspace.pk, event="job.failed", payload={})
            raise RuntimeError("the change failed")
    assert receiver.requests == [] and not WebhookDelivery.objects.exists()


def test_unsubscribed_and_inactive_endpoints_get_nothing(workspace):
    _endpoint(workspace, "http://127.0.0.1:9/", events=["asset.approved"])
    WebhookEndpoint.objects.create(workspace=workspace, url="http://127.0.0.1:9/", secret="s",
                                   events=["job.failed"], active=False)
    assert webhook_emit(workspace_id=workspace.pk, event="job.failed", payload={}) == []


def test_task_has_a_stable_name_and_the_cpu_queue(settings):
    assert deliver_webhook.name == "api.deliver_webhook"
    assert settings.CELERY_TASK_ROUTES["api.deliver_webhook"] == {"queue": "cpu"}


def test_job_failed_is_emitted_when_a_job_fails(workspace, django_capture_on_commit_callbacks):
    with Receiver() as receiver:
        _endpoint(workspace, receiver.url)
        RenderJob.objects.create(workspace=workspace, recipe={"steps": 1})
        [claim] = job_claim_next(worker="test")
        with django_capture_on_commit_callbacks(execute=True):
            assert job_fail(claim, "Rendering failed: out of ink")
            job_fail(Claim(claim.job_id, claim.attempt), "again")  # already failed: no event
    [request] = receiver.requests
    body = json.loads(request["body"])
    assert body["data"]["job"] == claim.job_id and body["data"]["error"].endswith("out of ink")


def test_job_failed_is_emitted_when_the_reconciler_gives_up(workspace,
                                                             django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    with Receiver() as receiver:
        _endpoint(workspace, receiver.url)
        job = RenderJob.objects.create(
            workspace=workspace, recipe={}, status="running", attempt=3, attempt_limit=3,
            lease_expires_at=timezone.now() - timedelta(minutes=5))
        with django_capture_on_commit_callbacks(execute=True):
            assert jobs_reconcile().failed == 1
    assert [json.loads(r["body"])["data"]["job"] for r in receiver.requests] == [job.pk]


def test_campaign_refreshed_is_emitted(catalog, django_capture_on_commit_callbacks):
    workspace, brand, products, formats = catalog
    campaign = campaign_create(workspace=workspace, user=None, name="C", brand=brand,
                               products=products[:1], formats=formats[:1])
    with Receiver() as receiver:
        _endpoint(workspace, receiver.url, events=["campaign.refreshed"])
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            refresh = campaign_refresh(campaign_id=campaign.pk, trigger="manual")
        for callback in callbacks:  # deliver; leave the render jobs queued
            if getattr(callback, "__qualname__", "").startswith("webhook_emit"):
                callback()
    [request] = receiver.requests
    data = json.loads(request["body"])["data"]
    assert data["campaign"] == campaign.pk and data["refresh"] == refresh.pk
    assert len(data["jobs"]) == 1 and data["trigger"] == "manual"


def test_endpoints_are_managed_through_the_api_by_admins(workspace, member):
    admin, marketer = member(Role.ADMIN), member(Role.MARKETER)
    created = admin.post("webhooks/", {"url": "https://example.test/hook",
                                       "events": ["asset.approved", "job.failed"]})
    assert created.status_code == 201, created.json()
    assert created.json()["secret"].startswith("whsec_")
    hook = created.json()["id"]
    assert "secret" not in admin.get(f"webhooks/{hook}/").json()
    changed = admin.patch(f"webhooks/{hook}/", {"active": False})
    assert changed.status_code == 200 and changed.json()["active"] is False
    bad = admin.post("webhooks/", {"url": "ftp://x.test/", "events": ["nope"]})
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"url", "events"}
    assert marketer.get("webhooks/").status_code == 403
    assert admin.get(f"webhooks/{hook}/deliveries/").json()["count"] == 0
    assert admin.delete(f"webhooks/{hook}/").status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_delivery_log_is_visible_to_the_admin_site(workspace):
    endpoint = _endpoint(workspace, "http://127.0.0.1:9/")
    WebhookDelivery.objects.create(endpoint=endpoint, event="job.failed", body="{}",
                                   status="failed", attempts=6, response_status=502)
    assert WebhookDelivery in site._registry
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = client.get("/admin/api/webhookdelivery/")
    assert page.status_code == 200 and "job.failed" in page.content.decode()


@pytest.mark.parametrize("host", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "[::1]",
                                  "localhost"])
def test_addresses_inside_our_network_are_refused_by_default(settings, workspace, host,
                                                             django_capture_on_commit_callbacks):
    settings.ADSTUDIO_WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    _endpoint(workspace, f"http://{host}:9/hook")
    with django_capture_on_commit_callbacks(execute=True):
        webhook_emit(workspace_id=workspace.pk, event="job.failed", payload={})
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 1)
    assert "inside AdStudio's own network" in delivery.error


def test_redirects_are_not_followed(workspace, django_capture_on_commit_callbacks):
    with Receiver(statuses=[302]) as receiver:
        _endpoint(workspace, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            webhook_emit(workspace_id=workspace.pk, event="job.failed", payload={})
    assert len(receiver.requests) == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.response_status) == (DeliveryStatus.FAILED, 302)
