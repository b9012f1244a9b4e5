import hashlib

import numpy as np
import pytest
from django.core.files.storage import default_storage
from PIL import Image

from campaigns.services import campaign_create, campaign_generate
from rendering.design.compositor import encode_png
from rendering.jobs.output import render_recipe
from rendering.jobs.run import render_next
from rendering.models import Asset, JobStatus, RenderJob

pytestmark = pytest.mark.django_db


def render_job_run(*, job_id):
    """Ring once in-process; the asset of ``job_id`` if that render stored one."""
    return next((a for a in render_next() if a.job_id == job_id), None)


@pytest.fixture
def queued_job(catalog, tiny_model):
    workspace, brand, products, formats = catalog
    campaign = campaign_create(workspace=workspace, user=None, name="c", brand=brand,
                               products=products[:1], formats=formats[:1])
    return campaign_generate(campaign=campaign, user=None, seed=1234).jobs[0]


def test_rendering_a_stored_recipe_again_gives_the_same_pixels(queued_job):
    asset = render_job_run(job_id=queued_job.pk)
    again, recipe = render_recipe(asset.recipe)
    with default_storage.open(asset.file.name) as fh, Image.open(fh) as stored:
        assert np.array_equal(np.asarray(stored.convert("RGB")), np.asarray(again))
    assert hashlib.sha256(encode_png(again, dpi=recipe["format"]["dpi"])).hexdigest() == \
        asset.sha256
    assert recipe == asset.recipe


def test_a_different_seed_gives_different_pixels(queued_job):
    asset = render_job_run(job_id=queued_job.pk)
    other, _ = render_recipe({**asset.recipe, "seed": asset.recipe["seed"] + 1})
    with default_storage.open(asset.file.name) as fh, Image.open(fh) as stored:
        assert not np.array_equal(np.asarray(stored.convert("RGB")), np.asarray(other))


def test_job_records_progress_and_attempt(queued_job):
    render_job_run(job_id=queued_job.pk)
    job = RenderJob.objects.get(pk=queued_job.pk)
    assert job.status == JobStatus.SUCCEEDED
    assert (job.progress_step, job.progress_total, job.attempt) == (2, 2, 1)
    assert job.started_at <= job.finished_at


def test_a_job_that_is_not_queued_is_left_alone(queued_job):
    first = render_job_run(job_id=queued_job.pk)
    assert first is not None
    assert render_job_run(job_id=queued_job.pk) is None  # delivered twice: one asset
    assert Asset.objects.filter(job=queued_job).count() == 1


def test_a_failing_render_marks_the_job_failed_and_stores_nothing(queued_job):
    RenderJob.objects.filter(pk=queued_job.pk).update(
        recipe={**queued_job.recipe, "render_scale": 7.0})
    assert render_job_run(job_id=queued_job.pk) is None
    job = RenderJob.objects.get(pk=queued_job.pk)
    assert job.status == JobStatus.FAILED
    assert "ADSTUDIO_RENDER_SCALE" in job.error
    assert not Asset.objects.exists()


def test_F6_an_old_attempt_finishing_late_is_fenced_out(queued_job, monkeypatch):
    from rendering.jobs import run as services

    real = services.render_with_ladder

    def render_then_lose_the_job(renderer, requests, on_step):
        result = real(renderer, requests, on_step)
        # Meanwhile the lease expired and another worker claimed attempt 2.
        RenderJob.objects.filter(pk=queued_job.pk).update(attempt=2)
        return result

    monkeypatch.setattr(services, "render_with_ladder", render_then_lose_the_job)
    assert render_job_run(job_id=queued_job.pk) is None
    assert not Asset.objects.exists()
    assert RenderJob.objects.get(pk=queued_job.pk).status == JobStatus.RUNNING  # attempt 2's
    # Its files were removed too: no file without a row.
    folder = f"ws/{queued_job.workspace_id}/assets/{queued_job.pk}/1"
    assert not default_storage.exists(folder) or default_storage.listdir(folder)[1] == []
