"""Task names are a contract with the messages already waiting in a user's Redis: they stay
as they are, every route and beat entry names a registered task, and every name a service
publishes by (core.broker.task_publish) is one."""

import re
from pathlib import Path

from celery import current_app
from django.conf import settings

from rendering.jobs.enqueue import DOORBELLS

ROOT = Path(__file__).resolve().parents[1]
STABLE = {
    "adstudio.sweep_orphan_files", "api.deliver_webhook", "api.reconcile_webhooks",
    "brands.fetch_product_photo", "brands.make_cutout", "brands.reconcile_feed_imports",
    "brands.run_feed_import", "brands.run_feed_source", "campaigns.notify_review",
    "campaigns.refresh_campaign", "campaigns.send_review_digests", "rendering.check_asset",
    "rendering.compose_job", "rendering.reconcile_jobs", "rendering.render_job",
}


def _registered() -> set[str]:
    current_app.loader.import_default_modules()
    return {name for name in current_app.tasks if not name.startswith("celery.")}


def test_every_task_keeps_its_name():
    assert _registered() == STABLE


def test_routes_beat_entries_and_published_names_are_registered_tasks():
    registered = _registered()
    assert set(settings.CELERY_TASK_ROUTES) <= registered
    assert {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} <= registered
    published = set()
    for path in ROOT.glob("[abcr]*/**/*.py"):
        if ".venv" in path.parts:
            continue
        published |= set(re.findall(r'task_publish\(\s*"([\w.]+)"', path.read_text()))
    assert "api.deliver_webhook" in published  # the scan finds the calls
    published |= set(DOORBELLS.values())  # the job queues' doorbells, published by queue
    assert "rendering.render_job" in published
    assert published <= registered, published - registered
