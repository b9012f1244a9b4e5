"""The issue's picture end to end: a real worker renders while the dashboard, in Chromium,
shows progress bars that move; a cancelled job stops and the other finishes."""

import pytest

from brands.models import Role
from rendering.models import Asset, Format, JobStatus, PromptTemplate, RenderJob
from tests.factories import PASSWORD, BrandKitFactory, MembershipFactory, ProductFactory
from tests.services import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_progress_bars_move_and_cancel_stops_one_job(live_server, page, start_worker,
                                                     settings, tiny_model):
    worker = start_worker()
    membership = MembershipFactory(role=Role.MARKETER)
    ws = membership.workspace
    brand = BrandKitFactory(workspace=ws, name="Northwind")
    ProductFactory(workspace=ws, name="Trail Tent")
    PromptTemplate.objects.create(workspace=ws, kind="banner", name="Banner",
                                  body="{{ product.name }}")
    worker.wait_healthy()
    settings.ADSTUDIO_DEFAULT_STEPS = 1500

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", membership.user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/w/{ws.slug}/campaigns/new/")
    page.fill("#id_name", "Live")
    page.select_option("#id_brand", label=brand.name)
    page.check("text=Trail Tent")
    page.check(f"input[name=formats][value='{Format.objects.get(key='meta-link').pk}']")
    page.fill("#id_variants_per_slot", "2")
    page.click("main button[type=submit]")
    page.click("button:has-text('Generate')")
    first, second = RenderJob.objects.order_by("id")

    # The first job's bar moves while it renders; the second shows its place in the queue.
    bar = page.locator(f"[data-job='{first.pk}'] progress")
    seen = wait_for(lambda: bar.evaluate("b => b.value") or None, timeout=60,
                    what="the progress bar to start")
    wait_for(lambda: bar.evaluate("b => b.value") > seen, timeout=30,
             what="the progress bar to move")
    assert "in the queue" in page.locator(f"[data-job='{second.pk}'] .detail").inner_text()

    page.locator(f"[data-job='{first.pk}'] button:has-text('Cancel')").click()
    wait_for(lambda: RenderJob.objects.get(pk=first.pk).status == JobStatus.CANCELLED,
             timeout=30, what="the cancel to take effect")
    RenderJob.objects.filter(pk=second.pk).update(recipe={
        **second.recipe, "steps": 3})  # let the second one finish quickly
    wait_for(lambda: RenderJob.objects.get(pk=second.pk).status == JobStatus.SUCCEEDED,
             timeout=60, what="the second job")
    page.wait_for_selector(".slot img.thumb", timeout=30_000)  # the page reloaded by itself
    assert not Asset.objects.filter(job_id=first.pk).exists()
    assert Asset.objects.filter(job_id=second.pk).count() == 1
