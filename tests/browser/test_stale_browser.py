"""Stale safety in a real browser: a price change makes an asset stale, the queue says so,
approving it asks first, the campaign renders it again, and the export leaves it out.

Screenshots land in var/test-output/screenshots/stale-*.png (look at them).
"""

import csv
import io
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from brands.models import Role
from campaigns.models import ReviewAction, Slot
from campaigns.services import campaign_create
from rendering.compose.recipes import product_snapshot
from rendering.models import Asset, Format, JobStatus, PromptTemplate, RenderJob, ReviewState
from tests.browser.test_review_browser import _login, _shot
from tests.factories import BrandKitFactory, MembershipFactory, ProductFactory, asset_make

REASON = "price 12.99 -> 9.99"


def _candidate(slot, author, color):
    """A rendered candidate (without the model) whose recipe records the product as it is."""
    asset = asset_make(slot=slot, author=author, color=color, size=(300, 250))
    recipe = {**asset.recipe, "product": {"fields": product_snapshot(slot.product)}}
    Asset.objects.filter(pk=asset.pk).update(recipe=recipe)
    return asset


@pytest.mark.django_db(transaction=True)
def test_stale_asset_is_flagged_confirmed_rendered_again_and_left_out_of_the_export(
        live_server, browser, queued_broker):
    marketer = MembershipFactory(role=Role.MARKETER)
    ws = marketer.workspace
    approver = MembershipFactory(workspace=ws, role=Role.APPROVER)
    brand = BrandKitFactory(workspace=ws, name="Northwind")
    tent = ProductFactory(workspace=ws, name="Trail Tent", sku="TENT-1", price=Decimal("12.99"))
    stove = ProductFactory(workspace=ws, name="Camp Stove", sku="STOVE-1")
    PromptTemplate.objects.create(workspace=ws, kind="banner", name="Banner",
                                  body="{{ product.name }} by {{ brand.name }}")
    fmt = Format.objects.get(key="gdn-medium-rectangle")
    campaign = campaign_create(workspace=ws, user=marketer.user, name="Spring Sale",
                               brand=brand, products=[tent, stove], formats=[fmt])
    tent_slot = Slot.objects.get(campaign=campaign, product=tent)
    stove_slot = Slot.objects.get(campaign=campaign, product=stove)
    # Waiting for review, oldest first: the tent, the stove, a second tent variant.
    first = _candidate(tent_slot, marketer.user, (200, 60, 40))
    fresh = _candidate(stove_slot, marketer.user, (40, 120, 200))
    second = _candidate(tent_slot, marketer.user, (220, 160, 40))
    base = f"{live_server.url}/w/{ws.slug}"

    # The marketer drops the tent's price: its assets go stale.
    page = _login(browser, live_server, marketer.user)
    page.goto(f"{base}/products/{tent.pk}/")
    page.fill("#id_price", "9.99")
    page.locator("form:has(#id_price) button[type=submit]").click()
    page.wait_for_selector("text=Saved Trail Tent")
    assert set(Asset.objects.filter(stale_at__isnull=False).values_list("pk", flat=True)) == {
        first.pk, second.pk}

    # The queue shows the badge with the reason on both tent cards, none on the stove.
    reviewer = _login(browser, live_server, approver.user)
    reviewer.goto(f"{base}/review/")
    cards = reviewer.locator(".queue-item")
    assert cards.count() == 3
    assert [int(cards.nth(i).get_attribute("data-asset")) for i in range(3)] == [
        first.pk, fresh.pk, second.pk]
    for i, stale in ((0, True), (1, False), (2, True)):
        card = cards.nth(i)
        assert (card.locator(".badge.stale").count() == 1) is stale
        if stale:
            assert REASON in card.locator(".stale-reason").inner_text()
    _shot(reviewer, "stale-01-queue-badge")

    # Pressing `a` opens the confirmation naming the reason; Cancel leaves it in review.
    reviewer.keyboard.press("a")
    dialog = reviewer.locator("#stale-confirm")
    dialog.wait_for(state="visible")
    assert f"This asset is stale: {REASON}. Approve anyway?" in dialog.inner_text()
    _shot(reviewer, "stale-02-queue-confirm")
    reviewer.click("#stale-confirm-cancel")
    dialog.wait_for(state="hidden")
    assert reviewer.locator(".queue-item").count() == 3
    assert Asset.objects.get(pk=first.pk).review_state == ReviewState.IN_REVIEW

    # Again, and "Approve anyway": approved, live, and the decision says what was acknowledged.
    reviewer.keyboard.press("a")
    dialog.wait_for(state="visible")
    reviewer.click("#stale-confirm-approve")
    reviewer.wait_for_selector(f".queue-outcome[data-asset='{first.pk}'] >> text=Approved.")
    first.refresh_from_db()
    assert first.review_state == ReviewState.APPROVED and first.is_live
    event = first.review_events.get(action=ReviewAction.APPROVE)
    assert event.comment == f"Approved although stale ({REASON})."

    # The fresh stove is next: `a` approves it at once, no question asked.
    reviewer.keyboard.press("a")
    reviewer.wait_for_selector(f".queue-outcome[data-asset='{fresh.pk}'] >> text=Approved.")
    assert not dialog.is_visible()
    assert Asset.objects.get(pk=fresh.pk).is_live
    _shot(reviewer, "stale-03-queue-after")

    # The asset page of the other stale variant warns, and asks before approving.
    reviewer.goto(f"{base}/assets/{second.pk}/")
    assert REASON in reviewer.locator("#stale-warning").inner_text()
    reviewer.click("#approve")
    dialog.wait_for(state="visible")
    assert REASON in reviewer.locator("#stale-confirm-question").inner_text()
    _shot(reviewer, "stale-04-asset-confirm")
    reviewer.click("#stale-confirm-cancel")
    dialog.wait_for(state="hidden")
    assert Asset.objects.get(pk=second.pk).review_state == ReviewState.IN_REVIEW

    # The campaign page counts what is stale and renders it again, once.
    page.goto(f"{base}/campaigns/{campaign.pk}/")
    summary = page.locator("#stale-summary")
    assert "1 live asset" in summary.inner_text() and "1 waiting for review" in summary.inner_text()
    assert "Trail Tent" in page.locator("#export-stale-note").inner_text()
    _shot(page, "stale-05-campaign-stale")
    before = set(RenderJob.objects.values_list("pk", flat=True))
    page.click("#rerender-stale")
    page.wait_for_selector("text=Queued 1 render of stale slots.")
    queued = RenderJob.objects.exclude(pk__in=before)
    assert [(j.slot_id, j.status) for j in queued] == [(tent_slot.pk, JobStatus.QUEUED)]
    assert queued.get().recipe["product"]["fields"]["price"] == "9.99"
    assert page.locator("#rerender-stale").count() == 0  # nothing more to queue
    assert "fresh renders are on their way" in summary.inner_text()
    _shot(page, "stale-06-campaign-rerender-queued")

    # The export leaves the stale live asset out and lists it in stale.csv.
    with page.expect_download() as download_info:
        page.click("#export")
    archive = zipfile.ZipFile(io.BytesIO(Path(download_info.value.path()).read_bytes()))
    assert sorted(archive.namelist()) == [
        "manifest.csv", "spring-sale_stove-1_gdn-medium-rectangle_300x250_v1.png", "stale.csv"]
    [left_out] = csv.DictReader(io.StringIO(archive.read("stale.csv").decode()))
    assert (left_out["sku"], left_out["asset_id"], left_out["stale_reason"]) == (
        "TENT-1", str(first.pk), REASON)
    # The campaign list flags the campaign's stale live asset too.
    page.goto(f"{base}/campaigns/")
    assert "1 stale" in page.locator("#campaigns").inner_text()
    _shot(page, "stale-07-campaign-list")
    for p in (page, reviewer):
        p.context.close()
