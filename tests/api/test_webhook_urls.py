"""P13: webhook URLs into AdStudio's own network are refused when saved and again on every
attempt (DNS rebinding); every delivery ends delivered or failed, never stuck pending."""

from __future__ import annotations

import socket
import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from api.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from api.webhook_targets import TargetRefused, address_is_internal, webhook_target_check
from api.webhooks import webhook_deliver, webhook_endpoint_create, webhooks_reconcile
from brands.models import Role
from tests.api.test_webhooks import Receiver
from tests.services import free_port

pytestmark = pytest.mark.django_db

PUBLIC = "93.184.215.14"  # a public address; nothing here connects to it

INTERNAL = [
    "http://127.0.0.1/hook", "http://localhost:8000/", "http://[::1]/", "http://0.0.0.0/",
    "http://[::]/", "http://10.1.2.3/", "http://172.16.0.1/", "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/", "http://100.64.0.1/",
    "http://224.0.0.1/", "http://240.0.0.1/", "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:a9fe:a9fe]/", "http://[2002:7f00:1::]/", "http://[64:ff9b::a00:1]/",
    "http://[fc00::1]/",
]
MALFORMED = [
    "http://127.0.0.1:8199\\@1.2.3.4/x", f"http://user:pass@{PUBLIC}/", f"http://token@{PUBLIC}/",
    "http://2130706433/", "http://0x7f.1/", "http://0177.0.0.1/", "http://127.1/",
    f"ftp://{PUBLIC}/", f"http://{PUBLIC}/a b", f"http://{PUBLIC}/\r\nX-Injected: 1",
    "javascript:alert(1)", f"http://{PUBLIC}:0/", "http:///nohost",
]


@pytest.fixture
def private_refused(settings):
    settings.ADSTUDIO_WEBHOOK_ALLOW_PRIVATE_NETWORKS = False


def _create(client, url):
    return client.post("webhooks/", {"url": url, "events": ["job.failed"]})


@pytest.mark.parametrize("url", INTERNAL + MALFORMED)
def test_P13_bad_urls_are_refused_at_create_naming_the_field(private_refused, admin, url):
    response = _create(admin, url)
    assert response.status_code == 400, response.json()
    assert set(response.json()["errors"]) == {"url"}
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("url", INTERNAL + MALFORMED)
def test_P13_bad_urls_are_refused_at_update(private_refused, admin, url):
    hook = _create(admin, f"https://{PUBLIC}/hook")
    assert hook.status_code == 201, hook.json()
    response = admin.patch(f"webhooks/{hook.json()['id']}/", {"url": url})
    assert response.status_code == 400 and set(response.json()["errors"]) == {"url"}
    assert WebhookEndpoint.objects.get().url == f"https://{PUBLIC}/hook"


def test_P13_the_services_refuse_too(private_refused, workspace):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        webhook_endpoint_create(workspace=workspace, user=None, url="http://10.0.0.1/",
                                events=["job.failed"])
    assert "inside AdStudio's own network" in refused.value.message_dict["url"][0]


@pytest.mark.parametrize("url", MALFORMED[:7])
def test_P13_allowing_private_networks_never_allows_malformed_urls(settings, admin, url):
    settings.ADSTUDIO_WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    assert _create(admin, url).status_code == 400
    assert _create(admin, "http://127.0.0.1:9/ok").status_code == 201  # the setting still works


def test_P13_a_host_whose_addresses_include_an_internal_one_is_refused(private_refused):
    def resolver(host, port):
        return [PUBLIC, "10.0.0.7"]

    with pytest.raises(TargetRefused, match="10.0.0.7"):
        webhook_target_check("https://hooks.example.test/", resolver=resolver)
    target = webhook_target_check("https://hooks.example.test/x?y=1",
                                  resolver=lambda host, port: [PUBLIC])
    assert (target.host, target.port, target.path, target.address) == (
        "hooks.example.test", 443, "/x?y=1", PUBLIC)


def test_P13_unwrapped_forms_are_classified_by_their_ipv4(private_refused):
    assert address_is_internal("::ffff:10.0.0.1") and address_is_internal("2002:a00:1::")
    assert address_is_internal("64:ff9b::7f00:1")
    assert not address_is_internal(PUBLIC) and not address_is_internal("2606:4700::1111")


def test_P13_a_host_that_turns_private_after_saving_is_refused_at_delivery(
        private_refused, workspace):
    endpoint = webhook_endpoint_create(  # resolved public when the admin saved it
        workspace=workspace, user=None, url="http://hooks.customer.test/in",
        events=["job.failed"], resolver=lambda host, port: [PUBLIC])
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event="job.failed", body="{}")
    with Receiver() as receiver:  # the rebinding answer points at a real local server
        port = receiver.server.server_address[1]
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            url=f"http://hooks.customer.test:{port}/in")
        webhook_deliver(delivery_id=delivery.pk, resolver=lambda host, port: ["127.0.0.1"])
    delivery.refresh_from_db()
    assert receiver.requests == []
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1
    assert "inside AdStudio's own network" in delivery.error


@pytest.mark.parametrize("allow_private", [True, False])
def test_P13_a_stored_backslash_url_ends_failed_with_a_reason(settings, workspace,
                                                             allow_private):
    settings.ADSTUDIO_WEBHOOK_ALLOW_PRIVATE_NETWORKS = allow_private
    endpoint = WebhookEndpoint.objects.create(  # from before this check existed
        workspace=workspace, url="http://127.0.0.1:8199\\@1.2.3.4/x", secret="s",
        events=["job.failed"])
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event="job.failed", body="{}")
    webhook_deliver(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1
    assert delivery.error.startswith("Refused to send:") and "backslash" in delivery.error


def test_P13_delivery_connects_to_the_checked_address_only(settings, workspace):
    """The host name exists nowhere in DNS: the request reaches the local server only because
    the connection goes to the address the check resolved, with the name as Host."""
    settings.ADSTUDIO_WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    with Receiver() as receiver:
        port = receiver.server.server_address[1]
        endpoint = WebhookEndpoint.objects.create(
            workspace=workspace, url=f"http://hooks.customer.test:{port}/in?src=ad",
            secret="s", events=["job.failed"])
        delivery = WebhookDelivery.objects.create(endpoint=endpoint, event="job.failed",
                                                  body='{"id": "1"}')
        webhook_deliver(delivery_id=delivery.pk, resolver=lambda host, port: ["127.0.0.1"])
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.response_status == 200
    [request] = receiver.requests
    assert request["headers"]["Host"] == f"hooks.customer.test:{port}"
    assert request["body"] == b'{"id": "1"}'


class _Garbage:
    """A local TCP server that answers every connection with ``reply`` (b"" closes at once)."""

    def __init__(self, reply: bytes):
        self.port = free_port()
        self.sock = socket.create_server(("127.0.0.1", self.port))
        self.reply = reply
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                conn.sendall(self.reply)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.sock.close()


@pytest.mark.parametrize(("scheme", "reply", "reason"), [
    ("http", b"", "Could not reach the endpoint"),  # closed without an answer
    ("http", b"NOT HTTP AT ALL\r\n\r\n", "Could not reach the endpoint"),
    ("https", b"HTTP/1.1 200 OK\r\n\r\n", "Could not reach the endpoint"),  # TLS fails
])
def test_P13_any_failure_of_an_attempt_is_retried_then_failed(
        settings, workspace, django_capture_on_commit_callbacks, scheme, reply, reason):
    settings.ADSTUDIO_WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    settings.ADSTUDIO_WEBHOOK_MAX_ATTEMPTS = 2
    with _Garbage(reply) as server:
        endpoint = WebhookEndpoint.objects.create(
            workspace=workspace, url=f"{scheme}://127.0.0.1:{server.port}/", secret="s",
            events=["job.failed"])
        delivery = WebhookDelivery.objects.create(endpoint=endpoint, event="job.failed",
                                                  body="{}")
        webhook_deliver(delivery_id=delivery.pk)  # the retry runs eagerly, as in tests
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 2)
    assert delivery.error.startswith(reason)


def test_P13_an_unexpected_error_in_an_attempt_is_a_failed_attempt(settings, workspace):
    settings.ADSTUDIO_WEBHOOK_MAX_ATTEMPTS = 1

    def broken_resolver(host, port):
        raise RuntimeError("resolver exploded")

    endpoint = WebhookEndpoint.objects.create(workspace=workspace, url="https://h.test/",
                                              secret="s", events=["job.failed"])
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event="job.failed", body="{}")
    webhook_deliver(delivery_id=delivery.pk, resolver=broken_resolver)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert "RuntimeError: resolver exploded" in delivery.error


def test_P13_the_reconciler_sends_overdue_deliveries_and_gives_up_on_old_ones(settings,
                                                                           workspace):
    settings.ADSTUDIO_WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    now = timezone.now()
    with Receiver() as receiver:
        endpoint = WebhookEndpoint.objects.create(workspace=workspace, url=receiver.url,
                                                  secret="s", events=["job.failed"])
        lost = WebhookDelivery.objects.create(endpoint=endpoint, event="job.failed", body="{}")
        fresh = WebhookDelivery.objects.create(endpoint=endpoint, event="job.failed",
                                               body="{}")
        ancient = WebhookDelivery.objects.create(endpoint=endpoint, event="job.failed",
                                                 body="{}")
        WebhookDelivery.objects.filter(pk=lost.pk).update(created_at=now - timedelta(hours=1))
        WebhookDelivery.objects.filter(pk=ancient.pk).update(created_at=now - timedelta(days=2))
        assert webhooks_reconcile() == {"requeued": 1, "failed": 1}
    statuses = dict(WebhookDelivery.objects.values_list("pk", "status"))
    assert statuses == {lost.pk: DeliveryStatus.SUCCEEDED, fresh.pk: DeliveryStatus.PENDING,
                        ancient.pk: DeliveryStatus.FAILED}
    assert len(receiver.requests) == 1
    assert webhooks_reconcile() == {"requeued": 0, "failed": 0}


def test_P13_reconciler_task_is_scheduled_on_the_cpu_queue(settings):
    from api.tasks import reconcile_webhooks

    assert reconcile_webhooks.name == "api.reconcile_webhooks"
    assert settings.CELERY_TASK_ROUTES["api.reconcile_webhooks"] == {"queue": "cpu"}
    assert any(entry["task"] == "api.reconcile_webhooks"
               for entry in settings.CELERY_BEAT_SCHEDULE.values())


def test_P13_only_admins_manage_endpoints(member):
    assert _create(member(Role.MARKETER), f"https://{PUBLIC}/").status_code == 403
