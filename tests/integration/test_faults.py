"""RELIABILITY.md fault tests with a real redis-server and real celery worker processes.

Each asserts on rows and files: one asset per job, attempts as expected, nothing lost.
"""

import os
import signal
import time

import pytest
from django.core.files.storage import default_storage
from django.db import transaction

from adstudio.celery import app
from campaigns.services import campaign_create, campaign_generate
from rendering.jobs.states import job_cancel
from rendering.models import Asset, JobStatus, RenderJob, Worker
from rendering.tasks import render_job
from tests.services import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def generate(catalog, settings, tiny_model):
    """Queue renders for ``n`` slots with ``steps`` denoising steps each."""
    workspace, brand, products, formats = catalog

    def generate(n: int = 1, *, steps: int = 2) -> list[RenderJob]:
        settings.ADSTUDIO_DEFAULT_STEPS = steps
        campaign = campaign_create(
            workspace=workspace, user=None, name=f"c{time.time_ns()}", brand=brand,
            products=products[:1], formats=formats[:1], variants_per_slot=n)
        return campaign_generate(campaign=campaign, user=None).jobs

    return generate


def job_of(job) -> RenderJob:
    return RenderJob.objects.get(pk=job.pk)


def finished(job, timeout=60) -> RenderJob:
    return wait_for(lambda: (j := job_of(job)).is_finished and j, timeout=timeout,
                    what=f"job {job.pk} to finish")


def rendering_now(job, timeout=60) -> RenderJob:
    return wait_for(lambda: (j := job_of(job)).status == JobStatus.RUNNING
                    and j.progress_step > 0 and j, timeout=timeout,
                    what=f"job {job.pk} to be mid-render")


def doorbell_waiting(job) -> bool:
    """The job was published and its doorbell (a render_job message) still waits in Redis's
    gpu list: no worker has taken it."""
    import json

    with app.connection_for_read() as connection:
        messages = connection.default_channel.client.lrange("gpu", 0, -1)
    return job_of(job).published_at is not None and any(
        json.loads(message)["headers"].get("argsrepr") == f"[{job.pk}]"
        for message in messages)


def assert_one_asset_with_its_files(job) -> Asset:
    [asset] = Asset.objects.filter(job_id=job.pk)
    assert default_storage.exists(asset.file.name)
    assert default_storage.exists(asset.thumbnail.name)
    # No stray files from other attempts: exactly the asset's PNG and thumbnail remain.
    root = f"ws/{job.workspace_id}/assets/{job.pk}"
    stored = [f"{root}/{attempt}/{name}" for attempt in default_storage.listdir(root)[0]
              for name in default_storage.listdir(f"{root}/{attempt}")[1]]
    assert sorted(stored) == sorted([asset.file.name, asset.thumbnail.name])
    return asset


def test_jobs_flow_through_redis_and_a_worker(generate, start_worker):
    worker = start_worker()
    worker.wait_healthy()
    jobs = generate(3)
    for job in jobs:
        done = finished(job)
        assert (done.status, done.attempt) == (JobStatus.SUCCEEDED, 1)
        assert done.worker.split(":")[1].isdigit()  # claimed by a worker process
        assert_one_asset_with_its_files(job)
    healthy = Worker.objects.get(status="healthy")
    assert "cpu" in healthy.device and healthy.model.endswith("tiny-qwen-image")


def test_F1_worker_child_killed_mid_render_is_redelivered_and_finishes_once(
        generate, start_worker):
    worker = start_worker()
    worker.wait_healthy()
    [job] = generate(1, steps=400)
    running = rendering_now(job)
    os.kill(int(running.worker.split(":")[1]), signal.SIGKILL)
    done = finished(job, timeout=90)
    assert (done.status, done.attempt) == (JobStatus.SUCCEEDED, 2)
    assert_one_asset_with_its_files(job)


def test_F1_after_the_attempt_cap_the_job_fails_without_looping(generate, start_worker):
    worker = start_worker()
    worker.wait_healthy()
    [job] = generate(1, steps=5000)
    for attempt in (1, 2, 3):
        running = wait_for(lambda a=attempt: (j := rendering_now(job)).attempt == a and j,
                           timeout=90, what=f"attempt {attempt}")
        os.kill(int(running.worker.split(":")[1]), signal.SIGKILL)
    done = finished(job, timeout=90)
    assert (done.status, done.attempt) == (JobStatus.FAILED, 3)
    assert "Gave up" in done.error
    worker.wait_ticks("rendering.reconcile_jobs", 3)  # several ticks: nothing picks it up again
    assert (job_of(job).status, job_of(job).attempt) == (JobStatus.FAILED, 3)
    assert not Asset.objects.filter(job_id=job.pk).exists()


def test_F2_sigterm_during_render_finishes_the_job_once(generate, start_worker):
    worker = start_worker()
    worker.wait_healthy()
    [job] = generate(1, steps=300)
    rendering_now(job)
    os.kill(worker.process.pid, signal.SIGTERM)  # warm shutdown of the parent
    done = finished(job)
    assert (done.status, done.attempt) == (JobStatus.SUCCEEDED, 1)
    assert worker.process.wait(timeout=30) == 0
    assert_one_asset_with_its_files(job)


def test_F3_redis_restart_mid_render_loses_nothing(generate, start_worker, broker):
    worker = start_worker()
    worker.wait_healthy()
    [job] = generate(1, steps=300)
    rendering_now(job)
    broker.stop()
    broker.start()
    done = finished(job)
    assert done.status == JobStatus.SUCCEEDED
    assert_one_asset_with_its_files(job)
    # New jobs still flow after the worker reconnects.
    [later] = generate(1)
    assert finished(later, timeout=60).status == JobStatus.SUCCEEDED
    worker.assert_running()


def test_F4_redis_down_at_submit_keeps_the_job_queued_until_it_is_back(
        generate, start_worker, broker):
    worker = start_worker()
    worker.wait_healthy()
    broker.stop()
    [job] = generate(1)  # the web request still succeeds
    queued = job_of(job)
    assert (queued.status, queued.published_at) == (JobStatus.QUEUED, None)
    broker.start()  # the reconciler publishes it once Redis is back
    done = finished(job, timeout=60)
    assert (done.status, done.attempt) == (JobStatus.SUCCEEDED, 1)
    assert_one_asset_with_its_files(job)


def test_F5_the_same_job_delivered_twice_at_once_is_claimed_once(generate, start_worker):
    worker = start_worker(concurrency=2)
    worker.wait_healthy(count=2)
    [job] = generate(1, steps=50)
    render_job.apply_async(args=[job.pk])  # a duplicate doorbell for the same job
    render_job.apply_async(args=[job.pk])
    done = finished(job)
    assert (done.status, done.attempt) == (JobStatus.SUCCEEDED, 1)
    assert_one_asset_with_its_files(job)


def test_F7_soft_time_limit_fails_the_job_with_timeout(generate, start_worker):
    worker = start_worker(ADSTUDIO_RENDER_SOFT_TIME_LIMIT=2)
    worker.wait_healthy()
    [job] = generate(1, steps=5000)
    done = finished(job, timeout=60)
    assert done.status == JobStatus.FAILED and done.error.startswith("timeout")
    assert done.attempt == 1
    worker.wait_ticks("rendering.reconcile_jobs", 3)  # several reconciler ticks after it
    assert job_of(job).attempt == 1  # not redelivered
    assert not Asset.objects.filter(job_id=job.pk).exists()


def test_F9_cancel_mid_denoise_stops_within_a_step(generate, start_worker):
    worker = start_worker()
    worker.wait_healthy()
    [job] = generate(1, steps=2000)
    running = rendering_now(job)
    job_cancel(job=running)
    done = finished(job)
    assert done.status == JobStatus.CANCELLED
    assert done.progress_step < 2000
    assert not Asset.objects.filter(job_id=job.pk).exists()
    assert not default_storage.exists(f"ws/{job.workspace_id}/assets/{job.pk}")


def test_F10_malformed_task_arguments_are_acknowledged_and_fail_nothing_else(
        generate, start_worker):
    worker = start_worker()
    worker.wait_healthy()
    app.send_task("rendering.render_job", args=["not-a-job", 7], kwargs={"x": 1})
    app.send_task("rendering.render_job", args=[])
    with transaction.atomic():  # broken before its doorbell rings (published on commit)
        [broken, good] = generate(2)
        RenderJob.objects.filter(pk=broken.pk).update(recipe={"prompt": "no size"})
    assert finished(good).status == JobStatus.SUCCEEDED
    failed = finished(broken)
    assert failed.status == JobStatus.FAILED and "the recipe lacks" in failed.error
    worker.assert_running()


def test_F11_a_worker_whose_model_folder_is_missing_exits_non_zero(generate, start_worker,
                                                                   tmp_path):
    worker = start_worker(ADSTUDIO_QWEN_IMAGE_MODEL=tmp_path / "no-such-model")
    assert worker.process.wait(timeout=60) != 0
    assert "ADSTUDIO_QWEN_IMAGE_MODEL" in worker.tail()
    [job] = generate(1)
    wait_for(lambda: doorbell_waiting(job), timeout=10, what="the job's doorbell in Redis")
    assert job_of(job).status == JobStatus.QUEUED  # waits for a healthy worker


def test_F11_a_worker_whose_weights_cannot_load_exits_non_zero(generate, start_worker,
                                                              tiny_model_dir, tmp_path):
    import shutil

    broken = tmp_path / "broken-model"
    shutil.copytree(tiny_model_dir, broken)
    for weights in (broken / "transformer").glob("*.safetensors"):
        weights.write_bytes(b"not safetensors")
    worker = start_worker(ADSTUDIO_QWEN_IMAGE_MODEL=broken)
    assert worker.process.wait(timeout=90) != 0
    assert not Worker.objects.filter(status="healthy").exists()
    [job] = generate(1)
    wait_for(lambda: doorbell_waiting(job), timeout=10, what="the job's doorbell in Redis")
    assert job_of(job).status == JobStatus.QUEUED


def test_health_checks_the_real_broker_and_reports_it_down(client, broker):
    from django.urls import reverse

    assert client.get(reverse("healthz")).json()["broker"] == "ok"
    broker.stop()
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["broker"].startswith("failed")
    broker.start()


def _ops_status(client) -> dict:
    return client.get("/ops/status.json").json()


def test_F14_a_killed_child_comes_back_when_loading_the_model_outlasts_celerys_timeout(
        generate, start_worker, admin_client, settings):
    # Each model load takes 5 s more than it does: longer than Celery's 4 s default for a
    # respawned child to report up, which used to kill every respawn (a loop, no renders).
    settings.ADSTUDIO_WORKER_HEARTBEAT_SECONDS = 0.5  # as the worker's (one env in production)
    worker = start_worker(ADSTUDIO_FAULT_INJECTION="slow_load:5",
                          ADSTUDIO_WORKER_HEARTBEAT_SECONDS="0.5")
    worker.wait_healthy(timeout=120)
    assert _ops_status(admin_client)["render"]["can_render"] is True
    [job] = generate(1, steps=400)
    running = rendering_now(job)
    os.kill(int(running.worker.split(":")[1]), signal.SIGKILL)

    # While the new child loads, /ops/ and /healthz say that nothing can render.
    def reloading():
        status = _ops_status(admin_client)
        states = {w["name"]: w["status"] for w in status["workers"]}
        return (not status["render"]["can_render"] and states.get(running.worker) == "lost"
                and "loading" in states.values() and status)

    status = wait_for(reloading, timeout=30, interval=0.1, what="ops to show the reload")
    assert "loading the model" in status["render"]["summary"]
    health = admin_client.get("/healthz?require=render")
    assert health.status_code == 503 and "loading the model" in health.json()["render"]
    assert admin_client.get("/healthz").status_code == 200  # the web itself is fine

    done = finished(job, timeout=120)
    assert (done.status, done.attempt) == (JobStatus.SUCCEEDED, 2)
    assert done.worker != running.worker
    assert_one_asset_with_its_files(job)
    log = worker.log.read_text(errors="replace")
    assert "Timed out waiting for UP message" not in log
    assert log.count("model loaded and warmed up") == 2  # one load per child life
    reborn = Worker.objects.get(name=done.worker)
    assert reborn.status == "healthy" and reborn.load_seconds >= 5
    assert _ops_status(admin_client)["render"]["can_render"] is True
    # The reconciler wrote down the dead child, so the row no longer says healthy.
    wait_for(lambda: Worker.objects.get(name=running.worker).status == "lost", timeout=30,
             what="the killed child to be marked lost")
    worker.assert_running()


def test_F14_child_start_up_timeout_follows_the_measured_load_time(db, settings):
    import socket

    from django.utils import timezone

    from rendering.jobs.worker import model_load_timeout

    settings.ADSTUDIO_MODEL_LOAD_TIMEOUT = 60
    assert model_load_timeout() == 60
    host = socket.gethostname()
    Worker.objects.create(name=f"{host}:1", queues="gpu", status="stopped", load_seconds=95,
                          last_seen_at=timezone.now())
    Worker.objects.create(name="elsewhere:1", queues="gpu", status="stopped",
                          load_seconds=900, last_seen_at=timezone.now())
    assert model_load_timeout() == 3 * 95  # this host's disk, not another machine's


def _doorbells(broker) -> int:
    from core.broker import broker_queue_depth

    return broker_queue_depth("gpu")


def _purge_doorbells() -> None:
    """Surplus doorbells of earlier tests (they are harmless, but these tests count them)."""
    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge("gpu")


def test_F16_a_doorbell_lost_in_a_redis_crash_still_starts_the_job(generate, start_worker,
                                                                   broker, settings):
    # What the disk holds at the last fsync: the AOF without the doorbell's LPUSH. Redis is
    # killed and restarted on that, as after a power loss between two fsyncs.
    assert settings.ADSTUDIO_REPUBLISH_AFTER_SECONDS == 900  # the default: no help in a test
    _purge_doorbells()
    [aof] = (broker.directory / "appendonlydir").glob("*.incr.aof")
    synced = aof.stat().st_size
    [job] = generate(1)
    assert job_of(job).published_at is not None and _doorbells(broker) == 1
    broker.process.send_signal(signal.SIGKILL)
    broker.process.wait()
    with aof.open("r+b") as fh:
        fh.truncate(synced)
    broker.start()
    assert _doorbells(broker) == 0  # the doorbell is gone; the row still says published
    started = time.monotonic()
    worker = start_worker()  # its beat runs the reconciler every second, grace 0
    done = finished(job, timeout=90)
    assert (done.status, done.attempt) == (JobStatus.SUCCEEDED, 1)
    assert_one_asset_with_its_files(job)
    assert time.monotonic() - started < 90  # not the 900 s republish, nor the 26 min timeout
    worker.assert_running()


_HOLD_ONE_DOORBELL = """
import sys, time
from kombu import Connection
with Connection(sys.argv[1]) as conn:
    channel = conn.default_channel
    message = None
    while message is None:
        message = channel.basic_get("gpu", no_ack=False)
        time.sleep(0.05)
    print("holding", flush=True)
    time.sleep(600)
"""


def test_F16_a_doorbell_held_unacked_by_a_killed_worker_still_starts_the_job(
        generate, start_worker, broker):
    import subprocess
    import sys

    _purge_doorbells()
    [job] = generate(1)
    # A consumer takes the doorbell without acknowledging it and is killed: Redis keeps the
    # message in its unacked set until the visibility timeout (26 min by default).
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_ONE_DOORBELL, broker.url],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "holding"
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert _doorbells(broker) == 0 and job_of(job).status == JobStatus.QUEUED
    started = time.monotonic()
    worker = start_worker()
    done = finished(job, timeout=90)
    assert (done.status, done.attempt) == (JobStatus.SUCCEEDED, 1)
    assert_one_asset_with_its_files(job)
    assert time.monotonic() - started < 90
    worker.assert_running()
