"""What operators are told about the GPU workers, and the reconciler's doorbell top-up, in one
process (the real-worker versions are F14 and F16 in tests/integration/test_faults.py)."""

import socket
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from campaigns.services import campaign_create, campaign_generate
from core.broker import broker_queue_depth
from rendering.jobs.reconcile import jobs_reconcile
from rendering.jobs.worker import workers_mark_lost
from rendering.models import JobStatus, RenderJob, Worker

pytestmark = pytest.mark.django_db

HOST = socket.gethostname()


def _worker(name, status, *, seen_ago=0.0, load_seconds=None):
    return Worker.objects.create(
        name=name, queues="gpu", status=status, load_seconds=load_seconds,
        last_seen_at=timezone.now() - timedelta(seconds=seen_ago))


def test_F14_a_silent_healthy_worker_is_lost_and_nothing_can_render(admin_client,
                                                                    queued_broker):
    _worker(f"{HOST}:10", "healthy", seen_ago=120, load_seconds=3.0)
    _worker(f"{HOST}:11", "loading", seen_ago=1)
    status = admin_client.get("/ops/status.json").json()
    states = {w["name"]: w["status"] for w in status["workers"]}
    assert states == {f"{HOST}:10": "lost", f"{HOST}:11": "loading"}
    assert status["render"]["can_render"] is False
    assert status["render"]["summary"] == ("no GPU worker can render yet: 1 loading the model, "
                                           "1 lost (no heartbeat)")
    page = admin_client.get("/ops/").content.decode()
    assert "cannot render" in page and "Loading the model" in page
    assert admin_client.get("/healthz?require=render").status_code == 503
    assert admin_client.get("/healthz").status_code == 200
    assert workers_mark_lost() == 1
    assert Worker.objects.get(name=f"{HOST}:10").status == "lost"


def test_F14_a_ready_worker_can_render(admin_client, queued_broker):
    _worker(f"{HOST}:12", "healthy", seen_ago=1, load_seconds=2.5)
    _worker(f"{HOST}:13", "lost", seen_ago=300)
    status = admin_client.get("/ops/status.json").json()
    assert status["render"]["can_render"] is True
    assert status["render"]["summary"] == "1 GPU worker process ready; 1 lost (no heartbeat)"
    assert admin_client.get("/healthz?require=render").status_code == 200
    assert workers_mark_lost() == 0  # a fresh heartbeat is not lost


def test_F14_worker_health_command_asks_the_children_not_the_parent(queued_broker, capsys):
    _worker(f"{HOST}:20", "loading", seen_ago=1)
    with pytest.raises(SystemExit) as exit_:
        call_command("worker_health")
    assert exit_.value.code == 1
    assert "loading the model" in capsys.readouterr().err
    _worker(f"{HOST}:21", "healthy", seen_ago=1, load_seconds=4)
    call_command("worker_health")
    assert f"{HOST}:21" in capsys.readouterr().out


def _generate(catalog, n):
    workspace, brand, products, formats = catalog
    campaign = campaign_create(workspace=workspace, user=None, name="c", brand=brand,
                               products=products[:1], formats=formats[:1], variants_per_slot=n)
    return campaign_generate(campaign=campaign, user=None).jobs


def test_F16_reconciler_tops_the_queue_up_to_one_doorbell_per_queued_job(
        catalog, settings, queued_broker, django_capture_on_commit_callbacks):
    settings.ADSTUDIO_PUBLISH_GRACE_SECONDS = 0
    with queued_broker.connection_for_write() as connection:
        connection.default_channel.queue_purge("gpu")  # doorbells of earlier tests
    with django_capture_on_commit_callbacks(execute=True):
        jobs = _generate(catalog, 3)
    assert broker_queue_depth("gpu") == 3
    assert jobs_reconcile().published == 0  # nothing missing: no duplicates in a deep queue
    with queued_broker.connection_for_write() as connection:
        connection.default_channel.basic_get("gpu", no_ack=True)  # a doorbell lost
    assert broker_queue_depth("gpu") == 2
    assert jobs_reconcile().published == 1
    assert broker_queue_depth("gpu") == 3
    # A job whose doorbell is still within the grace is not rung for again.
    settings.ADSTUDIO_PUBLISH_GRACE_SECONDS = 60
    with queued_broker.connection_for_write() as connection:
        connection.default_channel.queue_purge("gpu")
    assert jobs_reconcile().published == 0
    assert RenderJob.objects.filter(pk__in=[j.pk for j in jobs],
                                    status=JobStatus.QUEUED).count() == 3
