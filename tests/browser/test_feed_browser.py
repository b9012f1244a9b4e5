"""Catalog sync in a real browser: a marketer adds a feed at a URL, runs it, watches the import's
progress update live (htmx polling every second), and the finished report replaces it.

Screenshots land in var/test-output/screenshots/feed-*.png (look at them).
"""

import pytest

from brands.models import FeedImport, FeedSource, ImportStatus, Role
from tests.browser.test_review_browser import _login, _shot
from tests.factories import MembershipFactory
from tests.feed_server import FeedServer


@pytest.mark.django_db(transaction=True)
def test_marketer_adds_a_feed_runs_it_and_sees_live_progress_then_the_report(
        live_server, browser, queued_broker, settings):
    settings.ADSTUDIO_FEED_ALLOW_PRIVATE_NETWORKS = True  # the feed server is on 127.0.0.1
    marketer = MembershipFactory(role=Role.MARKETER)
    base = f"{live_server.url}/w/{marketer.workspace.slug}"
    with FeedServer() as server:
        server.serve("/feed.csv", b"id,title,price\nA-1,Mug,3.00 EUR\n")
        page = _login(browser, live_server, marketer.user)
        page.goto(f"{base}/products/")
        page.click("text=Feeds")
        page.click("text=Add a feed")
        page.fill("#id_name", "Shop")
        page.fill("#id_url", server.url("/feed.csv"))
        page.select_option("#id_schedule", "daily")
        page.fill("#id_schedule_timezone", "Europe/Berlin")
        _shot(page, "feed-form")
        page.click("button:has-text('Save')")
        page.wait_for_selector("text=Saved the feed Shop.")
        _shot(page, "feed-list")
        page.click("button:has-text('Run now')")  # queued: no worker reads this broker

        page.wait_for_selector("#feed-import-progress progress")
        feed_import = FeedImport.objects.get(source=FeedSource.objects.get(name="Shop"))
        FeedImport.objects.filter(pk=feed_import.pk).update(
            status=ImportStatus.RUNNING, rows_total=1200, rows_created=1000)
        page.wait_for_function(
            "() => document.querySelector('.rows-read').textContent.trim() === '1200'",
            timeout=5_000)  # the page polled, nobody reloaded it
        _shot(page, "feed-running")

        FeedImport.objects.filter(pk=feed_import.pk).update(
            status=ImportStatus.SUCCEEDED, rows_created=1199, rows_failed=1,
            errors=[{"row": 7, "sku": "B-7",
                                                    "errors": {"price": ["Bad price."]}}])
        page.wait_for_selector("text=Rows that were not imported", timeout=5_000)
        assert page.locator("#feed-import-progress progress").count() == 0
        assert "1 failed" in " ".join(page.locator("main").inner_text().split())
        _shot(page, "feed-done")
