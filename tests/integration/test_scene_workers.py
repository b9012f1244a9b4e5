"""Scene ads through real workers and a real redis-server: a gpu worker paints the master
(and the outpaint) with the tiny model's QwenImageInpaintPipeline, and only when it has
stored a background do the compositions it waits for get their doorbells, which a cpu
worker answers. Nothing is composed before its scene exists."""

import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from brands.services import product_photo_add
from campaigns.services import campaign_create, campaign_generate
from rendering.models import Asset, BackgroundLayer, Format, JobKind, JobStatus, RenderJob
from rendering.templates import prompt_template_save
from tests.services import CeleryWorker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


def test_a_gpu_worker_paints_the_scene_and_a_cpu_worker_composes_after_it(
        catalog, worker_env, tmp_path):
    workspace, brand, products, _ = catalog
    cpu = CeleryWorker(env=worker_env, log=tmp_path / "cpu.log", beat=False,
                       queues="cpu,default", name="cpu@test").start()
    gpu = None
    try:
        photo = product_photo_add(product=products[0], user=None, uploaded=SimpleUploadedFile(
            "coffee.jpg", (ROOT / "campaigns" / "sample_photos" / "coffee.jpg").read_bytes()))
        wait_for(lambda: type(photo).objects.get(pk=photo.pk).cutout_made_at, timeout=90,
                 what="the cut-out, made by the cpu worker")
        template = prompt_template_save(
            user=None, workspace=workspace, name="Scene", kind="banner",
            body="a cup on a cafe table", headline="{{ product.name }}", cta="Shop now",
            show_price=True, text_mode="overlay", background="scene")
        formats = list(Format.objects.filter(
            workspace=None, key__in=["gdn-medium-rectangle", "gdn-leaderboard"]))
        campaign = campaign_create(user=None, workspace=workspace, name="Cups", brand=brand,
                                   products=[products[0]], formats=formats,
                                   templates=[template])
        jobs = campaign_generate(campaign=campaign, user=None).jobs
        composes = [j.pk for j in jobs if j.kind == JobKind.COMPOSE]
        # No gpu worker yet: the compositions wait for their scene, whatever the cpu worker
        # is asked (a reconciler doorbell would find nothing to claim).
        time.sleep(2)
        assert set(RenderJob.objects.filter(pk__in=composes).values_list(
            "status", flat=True)) == {JobStatus.QUEUED}
        gpu = CeleryWorker(env=worker_env, log=tmp_path / "gpu.log", beat=False,
                           queues="gpu", name="gpu@test").start()
        done = wait_for(lambda: all(j.is_finished for j in RenderJob.objects.filter(
            pk__in=[j.pk for j in jobs])) and list(RenderJob.objects.filter(
                pk__in=[j.pk for j in jobs])), timeout=180, what="the scene and compositions")
        assert {j.status for j in done} == {JobStatus.SUCCEEDED}, [j.error for j in done]
        backgrounds = [j for j in done if j.kind == JobKind.BACKGROUND]
        assert {j.recipe["derive"] for j in backgrounds} == {"scene", "outpaint"}
        assert BackgroundLayer.objects.filter(job__in=backgrounds).count() == len(backgrounds)
        # Every composition started after the background it waited for was stored.
        for job in (j for j in done if j.kind == JobKind.COMPOSE):
            assert job.started_at >= job.waits_for.finished_at
        assets = Asset.objects.filter(job_id__in=composes)
        assert assets.count() == 2 and all(a.recipe["scene"]["aligned"] for a in assets)
        assert "rendering.compose_job" in cpu.log.read_text()
        cpu.assert_running()
        gpu.assert_running()
    finally:
        cpu.stop()
        if gpu is not None:
            gpu.stop()
