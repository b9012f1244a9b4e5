"""The operator page in a real browser while a GPU worker cannot render (F14)."""

import socket
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from rendering.models import Worker
from tests.factories import PASSWORD

SHOTS = Path(__file__).resolve().parents[2] / "var" / "test-output" / "screenshots"


@pytest.mark.django_db(transaction=True)
def test_F14_ops_page_says_when_no_gpu_worker_can_render(live_server, page, queued_broker):
    SHOTS.mkdir(parents=True, exist_ok=True)
    User.objects.create_user("operator", password=PASSWORD, is_staff=True)
    host, now = socket.gethostname(), timezone.now()
    Worker.objects.create(name=f"{host}:4101", queues="gpu", status="healthy",
                          device="cuda:0 NVIDIA H200 (139 GiB)", model="/models/qwen-image",
                          load_seconds=48.2, jobs_done=37, last_seen_at=now - timedelta(minutes=2))
    Worker.objects.create(name=f"{host}:4188", queues="gpu", status="loading",
                          model="/models/qwen-image", last_seen_at=now)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/ops/")
    alert = page.locator("[role=alert]")
    assert "cannot render" in alert.inner_text()
    assert "loading the model" in alert.inner_text()
    rows = page.locator("table tr", has_text=host)
    assert "Lost (no heartbeat)" in rows.nth(0).inner_text() + rows.nth(1).inner_text()
    page.screenshot(path=str(SHOTS / "ops-cannot-render.png"), full_page=True)

    Worker.objects.filter(name=f"{host}:4188").update(
        status="healthy", load_seconds=51.0, device="cuda:0 NVIDIA H200 (139 GiB)",
        last_seen_at=timezone.now())
    page.reload()
    assert "can render" in page.locator("main").inner_text()
    assert page.locator("[role=alert]").count() == 0
    page.screenshot(path=str(SHOTS / "ops-can-render.png"), full_page=True)
