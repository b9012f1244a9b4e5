"""Composed ads through a real cpu worker and a real redis-server: the photo's cut-out and
every composition run on the cpu queue; nothing ever reaches the gpu queue."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from brands.services import product_photo_add
from campaigns.services import campaign_create, campaign_generate
from core.broker import broker_queue_depth
from rendering.models import Asset, Format, JobQueue, JobStatus, RenderJob
from rendering.templates import prompt_template_save
from tests.services import CeleryWorker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


def test_a_cpu_worker_composes_a_campaign_with_no_gpu_message(catalog, worker_env, tmp_path):
    workspace, brand, products, _ = catalog
    worker = CeleryWorker(env=worker_env, log=tmp_path / "cpu.log", beat=False,
                          queues="cpu,default", name="cpu@test").start()
    try:
        photo = product_photo_add(product=products[0], user=None, uploaded=SimpleUploadedFile(
            "coffee.jpg", (ROOT / "campaigns" / "sample_photos" / "coffee.jpg").read_bytes()))
        wait_for(lambda: type(photo).objects.get(pk=photo.pk).cutout_made_at, timeout=90,
                 what="the cut-out, made by the cpu worker")
        template = prompt_template_save(
            user=None, workspace=workspace, name="Fill", kind="banner",
            body="{{ product.name }}", headline="{{ product.name }}", cta="Shop now",
            show_price=True, text_mode="overlay", background="fill")
        formats = list(Format.objects.filter(
            workspace=None, key__in=["gdn-medium-rectangle", "responsive-landscape"]))
        campaign = campaign_create(user=None, workspace=workspace, name="Cups", brand=brand,
                                   products=[products[0]], formats=formats,
                                   templates=[template])
        jobs = campaign_generate(campaign=campaign, user=None).jobs
        done = wait_for(lambda: all(j.is_finished for j in RenderJob.objects.filter(
            pk__in=[j.pk for j in jobs])) and list(RenderJob.objects.filter(
                pk__in=[j.pk for j in jobs])), timeout=90, what="the compositions")
        assert {(j.status, j.queue, j.gpu_seconds) for j in done} == {
            (JobStatus.SUCCEEDED, JobQueue.CPU, 0.0)}
        assets = Asset.objects.filter(job_id__in=[j.pk for j in jobs])
        assert assets.count() == 2 and all(a.design_sha256 for a in assets)
        assert broker_queue_depth("gpu") == 0  # no doorbell ever rang for a GPU worker
        assert "rendering.compose_job" in worker.log.read_text()
        worker.assert_running()
    finally:
        worker.stop()
