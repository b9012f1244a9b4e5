"""Feed sources through the API: CRUD, run, cancel, imports with progress."""

import pytest

from brands.models import FeedImport, FeedSource, ImportStatus, Product, Role
from tests.feed_server import FeedServer

pytestmark = pytest.mark.django_db

FEED = b"id,title,price\nSKU-1,Trail Shoe,89.00 USD\nSKU-2,Rain Jacket,oops\n"


@pytest.fixture(autouse=True)
def private_feeds(settings):
    settings.ADSTUDIO_FEED_ALLOW_PRIVATE_NETWORKS = True  # the test server is on 127.0.0.1


@pytest.fixture
def server():
    with FeedServer() as feed_server:
        feed_server.serve("/feed.csv", FEED)
        yield feed_server


def test_a_marketer_adds_a_feed_runs_it_and_reads_its_imports(
        marketer, server, django_capture_on_commit_callbacks):
    created = marketer.post("products/feeds/", {
        "name": "Shop", "url": server.url("/feed.csv"), "schedule": "daily",
        "schedule_timezone": "Europe/Berlin", "auth": "header",
        "auth_header_name": "X-Api-Key", "auth_secret_ref": "env:NO_SUCH_FEED_VAR"})
    assert created.status_code == 201, created.json()
    source = created.json()
    assert (source["kind"], source["schedule"], source["last_import"]) == ("url", "daily", None)
    changed = marketer.patch(f"products/feeds/{source['id']}/", {"auth": "none"})
    assert changed.status_code == 200 and changed.json()["auth_secret_ref"] == ""

    with django_capture_on_commit_callbacks(execute=True):
        run = marketer.post(f"products/feeds/{source['id']}/run/")
    assert run.status_code == 202 and run.json()["status"] == "queued"

    imports = marketer.get(f"products/feeds/{source['id']}/imports/").json()
    assert imports["count"] == 1
    done = imports["results"][0]
    assert (done["status"], done["rows_created"], done["rows_failed"]) == (
        ImportStatus.SUCCEEDED, 1, 1)
    assert marketer.get(f"products/feeds/{source['id']}/").json()["last_import"]["id"] == \
        done["id"]
    assert Product.objects.get(sku="SKU-1").feed_source_id == source["id"]


def test_a_feed_url_that_is_not_allowed_is_a_400(marketer, settings):
    settings.ADSTUDIO_FEED_ALLOW_PRIVATE_NETWORKS = False
    response = marketer.post("products/feeds/", {"name": "Lan",
                                                 "url": "http://127.0.0.1/feed.csv"})
    assert response.status_code == 400 and "url" in response.json()["errors"]
    assert not FeedSource.objects.exists()


def test_cancel_a_queued_import(marketer, server):
    source = marketer.post("products/feeds/", {"name": "Shop",
                                               "url": server.url("/feed.csv")}).json()
    queued = marketer.post(f"products/feeds/{source['id']}/run/").json()  # no worker ran it

    cancelled = marketer.post(f"products/imports/{queued['id']}/cancel/")

    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    FeedImport.objects.filter(pk=queued["id"]).update(status=ImportStatus.SUCCEEDED)
    finished = marketer.post(f"products/imports/{queued['id']}/cancel/")
    assert finished.status_code == 400 and "nothing to cancel" in finished.json()["detail"]


def test_viewers_read_feeds_but_cannot_change_or_run_them(member, server):
    marketer = member(Role.MARKETER)
    source = marketer.post("products/feeds/", {"name": "Shop",
                                               "url": server.url("/feed.csv")}).json()
    viewer = member(Role.VIEWER)
    assert viewer.get("products/feeds/").json()["count"] == 1
    assert viewer.post(f"products/feeds/{source['id']}/run/").status_code == 403
    assert viewer.patch(f"products/feeds/{source['id']}/", {"name": "X"}).status_code == 403
    assert viewer.delete(f"products/feeds/{source['id']}/").status_code == 403
    assert not FeedImport.objects.exists()
    assert marketer.delete(f"products/feeds/{source['id']}/").status_code == 204
