"""The campaign pages as a design tool, in a real browser (Debian's Chromium via Playwright): a
marketer builds a campaign with a channel pack and sees the slot count and GPU estimate, opens
the matrix and walks the lightbox by keyboard; an approver bulk-approves on the matrix, undoes
one decision in the queue and filters the queue.

Screenshots land in var/test-output/screenshots/campaign/ (look at them).
"""

from pathlib import Path

import pytest
from django.utils import timezone

from brands.models import Role
from rendering.models import Asset, QualityCheck, ReviewState
from rendering.templates import prompt_template_save
from tests.browser.axe import axe_check
from tests.browser.test_review_browser import _login
from tests.factories import BrandKitFactory, MembershipFactory, ProductFactory, asset_make

SHOTS = Path(__file__).resolve().parents[2] / "var" / "test-output" / "screenshots" / "campaign"
COLORS = [(214, 90, 49), (40, 110, 180), (60, 150, 90), (230, 180, 40), (150, 70, 160),
          (30, 160, 170)]


def _shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_function("() => [...document.images].every(i => i.complete)")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _render_slots(campaign, author):
    """A candidate per slot in the format's proportions (as a render would leave it), one
    with a failing text check and one stale."""
    assets = []
    for n, slot in enumerate(campaign.slots.select_related("format", "product")
                             .order_by("product__name", "format__width", "format__height")):
        scale = 240 / max(slot.format.width, slot.format.height)
        size = (round(slot.format.width * scale), round(slot.format.height * scale))
        assets.append(asset_make(slot=slot, author=author, color=COLORS[n % 6], size=size))
    QualityCheck.objects.create(asset=assets[1], kind="text", status="fail",
                                reason="OCR read 'Trai Tent'")
    Asset.objects.filter(pk=assets[2].pk).update(stale_at=timezone.now(),
                                                 stale_reason="price 19.99 -> 9.99")
    return assets


@pytest.mark.django_db(transaction=True)
def test_marketer_builds_with_a_pack_uses_the_lightbox_approver_bulk_approves_and_undoes(
        live_server, browser):
    marketer = MembershipFactory(role=Role.MARKETER)
    ws = marketer.workspace
    approver = MembershipFactory(workspace=ws, role=Role.APPROVER)
    BrandKitFactory(workspace=ws, name="Northwind")
    ProductFactory(workspace=ws, name="Trail Tent", sku="TENT-1")
    ProductFactory(workspace=ws, name="Summit Pack", sku="PACK-2")
    for kind in ("social", "story"):
        prompt_template_save(user=None, workspace=ws, kind=kind, name=f"{kind} look",
                             body="{{ product.name }} on a mountain at dawn")
    base = f"{live_server.url}/w/{ws.slug}"

    # The marketer picks two products and the Meta pack: the estimate follows live.
    page = _login(browser, live_server, marketer.user)
    page.goto(f"{base}/campaigns/new/")
    page.fill("#id_name", "Summer Peaks")
    page.select_option("#id_brand", label="Northwind")
    page.check("text=Trail Tent")
    page.check("text=Summit Pack")
    page.click("button.pack[data-pack=meta]")
    page.wait_for_selector("#estimate-slots:has-text('6 slots')")
    assert page.locator("input[name=formats]:checked").count() == 3
    assert "6 GPU jobs" in page.locator("#estimate").inner_text()
    assert "min of GPU time" in page.locator("#estimate").inner_text()
    assert page.locator("button.pack[data-pack=meta]").get_attribute("aria-pressed") == "true"
    _shot(page, "01-campaign-form-meta-pack")
    axe_check(page, "campaign-form")
    page.click("#save-campaign")
    page.wait_for_selector("text=Created Summer Peaks with 6 slots")
    assert "6 GPU jobs" in page.locator("#generate-estimate").inner_text()

    campaign = ws.campaigns.get(name="Summer Peaks")
    assets = _render_slots(campaign, marketer.user)
    page.reload()
    page.wait_for_selector("#slot-matrix .cell-thumb img")
    assert page.locator("#slot-matrix a.cell-thumb").count() == 6
    assert page.locator("#slot-matrix .badge.check").count() == 1
    assert page.locator("#slot-matrix .badge.stale").count() == 1
    story = page.locator("#slot-matrix a.cell-thumb").nth(2).bounding_box()
    assert story["height"] > 200 and story["width"] < story["height"] * 0.6  # 9:16, large
    _shot(page, "02-campaign-matrix")
    axe_check(page, "campaign-matrix")

    # The lightbox by keyboard: Enter opens, arrows move, Tab stays inside, Esc gives the
    # focus back to the thumbnail last shown.
    page.locator("#slot-matrix a.cell-thumb").first.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#lightbox[open]")
    page.keyboard.press("ArrowRight")
    assert page.locator("#lightbox-position").inner_text() == "2 of 6"
    page.wait_for_function("() => document.getElementById('lightbox-image').complete")
    _shot(page, "03-lightbox")
    axe_check(page, "campaign-lightbox")
    for _ in range(6):
        page.keyboard.press("Tab")
        assert page.evaluate("() => !!document.activeElement.closest('#lightbox')")
    page.keyboard.press("Escape")
    page.wait_for_selector("#lightbox", state="hidden")
    assert page.evaluate("() => document.activeElement.dataset.asset") == str(assets[1].pk)

    # The approver selects two slots on the matrix and approves them at once.
    reviewer = _login(browser, live_server, approver.user)
    reviewer.goto(f"{base}/campaigns/{campaign.pk}/")
    picks = reviewer.locator(".slot-pick")
    picks.nth(0).check()
    picks.nth(3).check()
    assert reviewer.locator("#matrix-selected").inner_text() == "2"
    reviewer.click("#bulk-approve-slots")
    reviewer.wait_for_selector("text=Approved 2 assets.")
    assert reviewer.locator("#slot-matrix .badge.live").count() == 2
    _shot(reviewer, "04-matrix-bulk-approved")

    # In the queue: approve one by key, undo it, then filter to the failing check.
    reviewer.goto(f"{base}/review/")
    assert reviewer.locator(".queue-item").count() == 4
    _shot(reviewer, "05-review-queue")
    axe_check(reviewer, "review-queue")
    first = reviewer.locator(".queue-item").first.get_attribute("data-asset")
    reviewer.keyboard.press("a")
    reviewer.wait_for_selector(".queue-outcome >> text=Approved.")
    _shot(reviewer, "06-review-undo-offered")
    reviewer.click("button.undo")
    reviewer.wait_for_selector(f".queue-item[data-asset='{first}']")
    assert reviewer.locator(".queue-item").count() == 4
    assert Asset.objects.get(pk=first).review_state == ReviewState.IN_REVIEW
    reviewer.check("#queue-filters input[name=check]")
    reviewer.click("#queue-filters button[type=submit]")
    reviewer.wait_for_url("**check=fail**")
    assert reviewer.locator(".queue-item").count() == 1
    assert "next=" in reviewer.locator(".queue-item a").first.get_attribute("href")
    _shot(reviewer, "07-review-queue-failing-check")
