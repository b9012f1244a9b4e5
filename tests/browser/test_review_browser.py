"""A marketer's and an approver's day in a real browser (Debian's Chromium via Playwright).

Screenshots of every page land in var/test-output/screenshots/ (look at them).
"""

import io
import zipfile
from pathlib import Path

import pytest

from brands.models import Role
from rendering.models import Asset, Format, PromptTemplate, ReviewState
from tests.factories import PASSWORD, BrandKitFactory, MembershipFactory, ProductFactory

SHOTS = Path(__file__).resolve().parents[2] / "var" / "test-output" / "screenshots"


def _login(browser, live_server, user):
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/w/**")
    return page


def _shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_function("() => [...document.images].every(i => i.complete)")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_marketer_generates_approver_reviews_edit_comes_back_and_export_downloads(
        live_server, browser, tiny_model, tiny_edit_model):
    marketer = MembershipFactory(role=Role.MARKETER)
    ws = marketer.workspace
    approver = MembershipFactory(workspace=ws, role=Role.APPROVER)
    MembershipFactory(workspace=ws, role=Role.ADMIN)
    BrandKitFactory(workspace=ws, name="Northwind")
    ProductFactory(workspace=ws, name="Trail Tent", sku="TENT-1")
    PromptTemplate.objects.create(workspace=ws, kind="banner", name="Banner",
                                  body="{{ product.name }} by {{ brand.name }}")
    base = f"{live_server.url}/w/{ws.slug}"

    # The marketer creates a campaign with two formats and generates it.
    page = _login(browser, live_server, marketer.user)
    page.goto(f"{base}/campaigns/")
    _shot(page, "01-campaigns-empty")
    page.goto(f"{base}/campaigns/new/")
    page.fill("#id_name", "Spring Sale")
    page.select_option("#id_brand", label="Northwind")
    page.check("text=Trail Tent")
    for key in ("responsive-landscape", "gdn-medium-rectangle"):
        page.check(f"input[name=formats][value='{Format.objects.get(key=key).pk}']")
    page.click("main button[type=submit]")
    page.wait_for_selector("text=Created Spring Sale with 2 slots")
    page.click("button:has-text('Generate')")
    page.wait_for_selector("text=Queued 2 renders")
    # Progress reaches done: both slots show a candidate waiting for review.
    page.wait_for_function("() => document.querySelectorAll('.candidate img').length === 2"
                           " && ![...document.querySelectorAll('[data-job]')].some("
                           "el => ['queued', 'running'].includes(el.dataset.status))")
    assert "0 of 2" in page.locator("#coverage").inner_text()
    _shot(page, "02-campaign-generated")

    # The approver works the queue: approves the first with the keyboard...
    reviewer = _login(browser, live_server, approver.user)
    reviewer.goto(f"{base}/review/")
    assert reviewer.locator(".queue-item").count() == 2
    _shot(reviewer, "03-review-queue")
    first = int(reviewer.locator(".queue-item").first.get_attribute("data-asset"))
    reviewer.keyboard.press("a")
    reviewer.wait_for_selector("text=Approved.")
    assert reviewer.locator(".queue-item").count() == 1
    # ...and requests changes on the other from its page, marking a region.
    reviewer.locator(".queue-item a").first.click()
    reviewer.wait_for_selector("#review-panel")
    second = int(reviewer.url.split("/assets/")[1].split("/")[0])
    # Measure the image only once it has loaded (before that it has no height).
    reviewer.wait_for_function("() => { const i = document.getElementById('asset-image');"
                               " return i.complete && i.naturalWidth > 0; }")
    box = reviewer.locator("#asset-image").bounding_box()
    reviewer.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.2)
    reviewer.mouse.down()
    reviewer.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.8)
    reviewer.mouse.up()
    assert reviewer.locator("#review-panel .region-w").input_value() != ""
    _shot(reviewer, "04-asset-review-region")
    reviewer.fill("#changes-comment", "Make the sky a deeper blue")
    reviewer.click("#request-changes")
    reviewer.wait_for_selector("text=Sent back")
    assert Asset.objects.get(pk=first).is_live
    assert Asset.objects.get(pk=second).review_state == ReviewState.CHANGES_REQUESTED

    # The edited version is back in the queue as v2; its page compares it with v1.
    reviewer.goto(f"{base}/review/")
    assert reviewer.locator(".queue-item").count() == 1
    assert "edit of v1" in reviewer.locator(".queue-item").inner_text()
    reviewer.locator(".queue-item a").first.click()
    reviewer.wait_for_selector("#compare")
    edited = Asset.objects.get(parent_id=second)
    assert edited.recipe["region"] and edited.version == 2
    assert reviewer.locator("#versions tr").count() == 2
    reviewer.fill("#slider-range", "20")
    _shot(reviewer, "05-asset-compare")
    reviewer.click("#approve")
    # Back to the queue (the next asset), which is now empty.
    reviewer.wait_for_selector("text=Approved.")
    reviewer.wait_for_selector("text=Nothing waiting for review")
    _shot(reviewer, "06-review-queue-empty")
    reviewer.goto(f"{base}/assets/{edited.pk}/")
    assert reviewer.locator("#review-state").inner_text() == "Approved"
    assert "Approved by" in reviewer.locator("#timeline").inner_text()
    _shot(reviewer, "07-asset-approved")

    # Coverage on the marketer's campaign page, then the export.
    page.reload()
    assert "2 of 2" in page.locator("#coverage").inner_text()
    assert page.locator(".badge.live").count() == 2
    _shot(page, "08-campaign-covered")
    with page.expect_download() as download_info:
        page.click("#export")
    download = download_info.value
    archive = zipfile.ZipFile(io.BytesIO(Path(download.path()).read_bytes()))
    assert "manifest.csv" in archive.namelist()
    names = set(archive.namelist()) - {"manifest.csv"}
    assert names == {
        f"spring-sale_tent-1_{a.slot.format.key}_{a.width}x{a.height}_v{a.version}.png"
        for a in Asset.objects.filter(is_live=True)}
    assert {a.version for a in Asset.objects.filter(is_live=True)} == {1, 2}

    # The pages around the day: list with coverage, members, email settings.
    page.goto(f"{base}/campaigns/")
    assert "2/2 approved" in page.locator("#campaigns").inner_text()
    _shot(page, "09-campaign-list")
    page.goto(f"{base}/members/")
    _shot(page, "10-members")
    page.goto(f"{base}/settings/notifications/")
    _shot(page, "11-email-settings")
    for p in (page, reviewer):
        p.context.close()
