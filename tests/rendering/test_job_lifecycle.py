"""The job state machine in one process: claims, fencing, faults that need no broker."""

from datetime import timedelta

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.utils import timezone

from campaigns.services import campaign_create, campaign_generate
from rendering.engine import faults
from rendering.jobs.enqueue import queue_positions
from rendering.jobs.output import render_recipe
from rendering.jobs.reconcile import jobs_reconcile
from rendering.jobs.run import render_next
from rendering.jobs.states import job_cancel, job_claim_next, job_retry
from rendering.models import Asset, JobStatus, RenderJob
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def _generate(catalog, *, n_products=1, n_formats=1, variants=1, workspace=None, brand=None):
    ws, default_brand, products, formats = catalog
    ws = workspace or ws
    brand = brand or default_brand
    if workspace is not None:
        products = [ProductFactory(workspace=ws) for _ in range(n_products)]
    campaign = campaign_create(workspace=ws, user=None, name=f"c{RenderJob.objects.count()}",
                               brand=brand, products=products[:n_products],
                               formats=formats[:n_formats], variants_per_slot=variants)
    return campaign_generate(campaign=campaign, user=None).jobs


def test_F5_the_same_job_claimed_twice_is_claimed_once(catalog):
    [job] = _generate(catalog)
    first = job_claim_next(worker="a")
    second = job_claim_next(worker="b")
    assert [c.job_id for c in first] == [job.pk] and second == []
    job.refresh_from_db()
    assert (job.status, job.attempt, job.worker) == (JobStatus.RUNNING, 1, "a")
    assert job.lease_expires_at > timezone.now()


def test_F8_one_out_of_memory_is_absorbed_by_the_ladder(catalog, tiny_model, settings):
    settings.ADSTUDIO_FAULT_INJECTION = "oom:1"
    faults.reset()
    [job] = _generate(catalog)
    [asset] = render_next()
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and asset.job_id == job.pk


def test_F8_persistent_out_of_memory_fails_cleanly_and_the_next_job_runs(
        catalog, tiny_model, settings):
    settings.ADSTUDIO_FAULT_INJECTION = "oom:3"  # normal, then both ladder steps
    faults.reset()
    first, second = _generate(catalog, n_formats=2)
    assert render_next() == []
    first.refresh_from_db()
    assert first.status == JobStatus.FAILED
    assert "Out of GPU memory, even with VAE tiling and CPU offload" in first.error
    [asset] = render_next()
    assert asset.job_id == second.pk
    from rendering.engine.generate import get_renderer
    assert get_renderer().memory_mode == "normal"


def test_F10_a_malformed_recipe_fails_the_job_with_a_reason(catalog, tiny_model):
    [job] = _generate(catalog)
    RenderJob.objects.filter(pk=job.pk).update(recipe={"prompt": "x"})
    assert render_next() == []
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "the recipe lacks" in job.error
    assert render_next() == []  # nothing loops


def test_F13_storage_failure_requeues_and_leaves_no_orphans(
        catalog, tiny_model, monkeypatch, django_capture_on_commit_callbacks):
    [job] = _generate(catalog)
    real_save = default_storage.save
    calls = {"n": 0}

    def flaky_save(name, content, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # the PNG is written, the thumbnail write fails
            raise OSError("disk full")
        return real_save(name, content, **kwargs)

    monkeypatch.setattr(default_storage, "save", flaky_save)
    assert render_next() == []
    job.refresh_from_db()
    assert (job.status, job.attempt) == (JobStatus.QUEUED, 1)
    assert "disk full" in job.error
    folder = f"ws/{job.workspace_id}/assets/{job.pk}/1"
    assert not default_storage.exists(folder) or default_storage.listdir(folder)[1] == []
    [asset] = render_next()
    job.refresh_from_db()
    assert (job.status, job.attempt, asset.job_id) == (JobStatus.SUCCEEDED, 2, job.pk)
    assert default_storage.exists(asset.file.name)


def test_F9_a_job_cancelled_before_it_starts_never_starts(catalog, tiny_model):
    [job] = _generate(catalog)
    job_cancel(job=job)
    assert render_next() == []
    job.refresh_from_db()
    assert (job.status, job.attempt) == (JobStatus.CANCELLED, 0)
    assert not Asset.objects.exists()


def test_F9_a_job_cancelled_mid_render_stores_nothing(catalog, tiny_model, monkeypatch):
    from rendering.jobs.states import ProgressReporter

    [job] = _generate(catalog)
    real_call = ProgressReporter.__call__
    steps_seen = []

    def cancel_at_first_step(self, step, total):
        steps_seen.append(step)
        if step == 1:
            RenderJob.objects.filter(pk=job.pk).update(cancel_requested=True)
        return real_call(self, step, total)

    monkeypatch.setattr(ProgressReporter, "__call__", cancel_at_first_step)
    assert render_next() == []
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and not Asset.objects.exists()
    assert steps_seen == [1]  # stopped within one denoising step


def test_cancel_of_a_finished_job_is_refused(catalog, tiny_model):
    [job] = _generate(catalog)
    render_next()
    job.refresh_from_db()
    with pytest.raises(ValidationError, match="already succeeded"):
        job_cancel(job=job)


def test_expired_lease_is_requeued_and_the_attempt_cap_fails_the_job(catalog, settings,
                                                                      queued_broker):
    [job] = _generate(catalog)
    for attempt in range(1, settings.ADSTUDIO_JOB_MAX_ATTEMPTS + 1):
        [claim] = job_claim_next(worker=f"w{attempt}")
        assert claim.attempt == attempt
        RenderJob.objects.filter(pk=job.pk).update(
            lease_expires_at=timezone.now() - timedelta(seconds=1))  # the worker died
        report = jobs_reconcile()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and report.failed == 1
    assert "Gave up" in job.error
    assert job_claim_next(worker="again") == []  # no loop


def test_retry_gives_a_failed_job_a_fresh_allowance(catalog, tiny_model, settings):
    [job] = _generate(catalog)
    RenderJob.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, attempt=3,
                                              error="boom")
    job.refresh_from_db()
    job_retry(job=job)
    job.refresh_from_db()
    assert (job.status, job.attempt_limit, job.error) == (JobStatus.QUEUED, 6, "")
    [asset] = render_next()
    job.refresh_from_db()
    assert (job.status, job.attempt) == (JobStatus.SUCCEEDED, 4)
    with pytest.raises(ValidationError, match="Only failed or cancelled"):
        job_retry(job=job)


def test_reconciler_publishes_jobs_that_were_never_published(catalog, settings,
                                                             queued_broker):
    settings.ADSTUDIO_PUBLISH_GRACE_SECONDS = 0
    jobs = _generate(catalog, n_formats=2)  # on_commit never ran: nothing published
    assert RenderJob.objects.filter(published_at__isnull=True).count() == 2
    report = jobs_reconcile()
    assert report.published == 2
    assert not RenderJob.objects.filter(published_at__isnull=True).exists()
    assert len(jobs) == 2


def test_fair_order_serves_a_small_workspace_between_a_big_ones_jobs(catalog):
    from tests.factories import BrandKitFactory, WorkspaceFactory

    big = _generate(catalog, n_formats=4, variants=5)  # 20 jobs queued first
    small_ws = WorkspaceFactory()
    from rendering.templates import prompt_template_save
    for kind in ("banner", "poster", "story", "social"):
        prompt_template_save(user=None, workspace=small_ws, name=kind, kind=kind,
                             body="x {{ product.name }}")
    small = _generate(catalog, workspace=small_ws, brand=BrandKitFactory(workspace=small_ws),
                      n_formats=1, variants=3)
    order = []
    while claims := job_claim_next(worker="w"):
        order.append(claims[0].job_id)
    small_ids = {j.pk for j in small}
    # The small workspace's 3 jobs are all served within the first 6 claims, not after 20.
    assert small_ids <= set(order[:6])
    assert len(order) == len(big) + len(small)


def test_queue_position_counts_other_workspaces_turns(catalog):
    jobs = _generate(catalog, n_formats=2, variants=2)
    positions = queue_positions(jobs[0].workspace_id, [j.pk for j in jobs])
    assert sorted(positions.values()) == [1, 2, 3, 4]


def test_quota_refuses_new_renders_with_a_clear_message(catalog):
    [job] = _generate(catalog)
    ws = job.workspace
    RenderJob.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED, gpu_seconds=120,
                                              finished_at=timezone.now())
    ws.gpu_quota_seconds = 100
    ws.save()
    with pytest.raises(ValidationError, match="used 120 of its 100 GPU-seconds"):
        _generate(catalog)
    assert RenderJob.objects.count() == 1


def test_progress_is_written_at_most_every_interval(catalog, tiny_model, settings,
                                                    django_assert_max_num_queries):
    from rendering.jobs.states import ProgressReporter

    settings.ADSTUDIO_PROGRESS_INTERVAL = 3600
    [job] = _generate(catalog)
    [claim] = job_claim_next(worker="w")
    reporter = ProgressReporter([claim])
    with django_assert_max_num_queries(2):  # the first step and the last
        for step in range(1, 51):
            assert reporter(step, 50) is True
    job.refresh_from_db()
    assert (job.progress_step, job.progress_total) == (50, 50)


def test_micro_batch_renders_each_job_with_its_own_seed(catalog, tiny_model, settings):
    settings.ADSTUDIO_MAX_BATCH = 4
    jobs = _generate(catalog, n_formats=1, variants=3)
    assets = render_next()
    assert sorted(a.job_id for a in assets) == sorted(j.pk for j in jobs)
    assert {a.recipe["batch_size"] for a in assets} == {3}
    # Each image is its own seed's: close to a solo render of the same recipe.
    for asset in assets:
        solo, _ = render_recipe(asset.recipe)
        with default_storage.open(asset.file.name) as fh:
            from PIL import Image
            batched = np.asarray(Image.open(fh).convert("RGB"), dtype=np.float32)
        assert np.abs(batched - np.asarray(solo, dtype=np.float32)).mean() < 2.0
    pixels = [default_storage.open(a.file.name).read() for a in assets]
    assert len(set(pixels)) == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_take_each_job_exactly_once(catalog, queued_broker):
    """Eight workers race for 40 queued jobs (real concurrent transactions; PostgreSQL in CI)."""
    import threading

    from django.db import connection

    jobs = _generate(catalog, n_formats=4, variants=5) + _generate(catalog, n_formats=4,
                                                                   variants=5)
    barrier = threading.Barrier(8)
    claimed: list[int] = []
    lock = threading.Lock()

    def worker(name):
        barrier.wait()
        try:
            while claims := job_claim_next(worker=name):
                with lock:
                    claimed.extend(c.job_id for c in claims)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == sorted(j.pk for j in jobs)  # all of them, none twice
    assert set(RenderJob.objects.values_list("attempt", flat=True)) == {1}


def test_the_memory_ladder_steps_down_from_the_configured_base_mode():
    from rendering.engine.memory import _ladder

    assert _ladder(1) == [("vae_tiling", 1), ("cpu_offload", 1)]
    assert _ladder(4) == [("normal", 1), ("vae_tiling", 1)]  # split the batch first
    assert _ladder(1, "cpu_offload") == [("group_offload", 1)]
    assert _ladder(1, "group_offload") == []


def test_a_renderer_starts_in_the_configured_memory_mode_and_renders(tiny_model, settings):
    from rendering.engine.generate import QwenImageRenderer, RenderRequest

    settings.ADSTUDIO_MEMORY_MODE = "group_offload"  # how a 24 GB card runs Qwen-Image
    renderer = QwenImageRenderer(str(tiny_model), device="cpu", dtype_name="float32")
    assert renderer.base_memory_mode == renderer.memory_mode == "group_offload"
    image = renderer.render(RenderRequest(prompt="a tent", negative_prompt=" ", seed=1, steps=2,
                                          true_cfg_scale=4.0, width=64, height=64))
    assert image.size == (64, 64)
