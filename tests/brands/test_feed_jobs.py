"""Catalog sync: feed imports run as jobs (claim, lease, progress, cancel, reconcile) against a
real HTTP server on 127.0.0.1."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.utils import timezone

from brands.feed_import import feed_import_run
from brands.feed_jobs import (
    feed_import_cancel,
    feed_import_claim,
    feed_imports_reconcile,
)
from brands.feed_run import feed_import_execute
from brands.feed_sources import feed_source_run, feed_source_save, feed_upload_import
from brands.models import Availability, FeedImport, ImportStatus, Product
from tests.factories import UserFactory, WorkspaceFactory
from tests.feed_server import FeedServer

pytestmark = pytest.mark.django_db

HEADER = "id,title,price,availability,sale_price,brand,gtin,condition\n"
FEED = (HEADER + "MUG-1,Ocean mug,12.99 USD,in stock,9.99 USD,Acme,0012345678905,new\n"
        + "MUG-2,Tea mug,8.00 USD,out_of_stock,,Acme,,used\n"
        + "MUG-3,Bad,-1 USD,in stock,,,,\n").encode()


@pytest.fixture(autouse=True)
def private_feeds(settings):
    settings.ADSTUDIO_FEED_ALLOW_PRIVATE_NETWORKS = True  # the test server is on 127.0.0.1


@pytest.fixture
def server():
    with FeedServer() as feed_server:
        yield feed_server


def serve_with_etag(server, path, body, etag='"v1"'):
    server.serve(path, body, headers={"ETag": etag}, when=lambda h: (
        (304, b"") if h.headers.get("If-None-Match") == etag else None))


def url_source(workspace, server, path="/feed.csv", **fields):
    return feed_source_save(workspace=workspace, user=UserFactory(), name=fields.pop(
        "name", "Shop"), kind="url", url=server.url(path), **fields)


def run(source, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        feed_import = feed_source_run(source=source, user=None)
    feed_import.refresh_from_db()
    return feed_import


def test_a_url_feed_imports_as_a_job_and_an_unchanged_feed_answers_304(
        server, django_capture_on_commit_callbacks):
    workspace = WorkspaceFactory()
    serve_with_etag(server, "/feed.csv", FEED)
    source = url_source(workspace, server)

    first = run(source, django_capture_on_commit_callbacks)

    assert (first.status, first.attempt, first.not_modified) == (ImportStatus.SUCCEEDED, 1, False)
    assert (first.rows_total, first.rows_created, first.rows_failed) == (3, 2, 1)
    assert first.errors[0]["row"] == 4 and "price" in first.errors[0]["errors"]
    mug = Product.objects.get(workspace=workspace, sku="MUG-1")
    assert (mug.availability, mug.sale_price, mug.brand_name, mug.gtin) == (
        Availability.IN_STOCK, Decimal("9.99"), "Acme", "0012345678905")
    assert mug.extra == {"condition": "new"} and mug.feed_source == source
    source.refresh_from_db()
    assert (source.last_etag, source.last_import) == ('"v1"', first)

    second = run(source, django_capture_on_commit_callbacks)

    assert (second.status, second.not_modified, second.rows_total) == (
        ImportStatus.SUCCEEDED, True, 0)
    assert server.requests[-1]["headers"]["If-None-Match"] == '"v1"'
    assert Product.objects.filter(workspace=workspace).count() == 2


def test_an_unreachable_feed_fails_the_import_with_a_readable_reason(
        server, django_capture_on_commit_callbacks):
    source = url_source(WorkspaceFactory(), server, path="/missing.csv")

    feed_import = run(source, django_capture_on_commit_callbacks)

    assert feed_import.status == ImportStatus.FAILED
    assert "404" in feed_import.fatal_error


def test_a_cancelled_running_import_stops_within_its_batch(server):
    workspace = WorkspaceFactory()
    serve_with_etag(server, "/feed.csv", FEED)
    source = url_source(workspace, server)
    feed_import = feed_source_run(source=source, user=None)
    claim = feed_import_claim(import_id=feed_import.pk)
    feed_import_cancel(feed_import=feed_import)  # the worker is running it: flag only

    result = feed_import_execute(claim=claim)

    assert result.status == ImportStatus.CANCELLED
    assert not Product.objects.filter(workspace=workspace).exists()  # its batch rolled back


def test_a_queued_import_cancelled_never_starts(server):
    source = url_source(WorkspaceFactory(), server)
    feed_import = feed_source_run(source=source, user=None)

    feed_import_cancel(feed_import=feed_import)

    assert feed_import.status == ImportStatus.CANCELLED
    assert feed_import_claim(import_id=feed_import.pk) is None


def test_an_expired_lease_is_queued_again_and_fails_at_the_attempt_cap(
        server, settings, django_capture_on_commit_callbacks):
    settings.ADSTUDIO_FEED_MAX_ATTEMPTS = 2
    workspace = WorkspaceFactory()
    serve_with_etag(server, "/feed.csv", FEED)
    source = url_source(workspace, server)
    feed_import = feed_source_run(source=source, user=None)
    first = feed_import_claim(import_id=feed_import.pk)  # then the worker is killed
    FeedImport.objects.filter(pk=feed_import.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1))

    with django_capture_on_commit_callbacks(execute=True):
        report = feed_imports_reconcile()

    feed_import.refresh_from_db()
    assert (report.requeued, feed_import.status, feed_import.attempt) == (
        1, ImportStatus.SUCCEEDED, 2)
    assert Product.objects.filter(workspace=workspace).count() == 2
    assert feed_import_execute(claim=first).status == ImportStatus.SUCCEEDED  # a late worker:
    assert FeedImport.objects.get(pk=feed_import.pk).attempt == 2             # fenced off

    again = feed_source_run(source=source, user=None)
    feed_import_claim(import_id=again.pk)
    FeedImport.objects.filter(pk=again.pk).update(
        attempt=2, lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert feed_imports_reconcile().failed == 1
    again.refresh_from_db()
    assert again.status == ImportStatus.FAILED and "2 times" in again.fatal_error


def test_run_now_twice_gives_one_active_import(server):
    source = url_source(WorkspaceFactory(), server)

    first = feed_source_run(source=source, user=None)
    second = feed_source_run(source=source, user=None)

    assert first.pk == second.pk
    assert FeedImport.objects.filter(source=source).count() == 1


def test_a_full_feed_marks_products_it_no_longer_lists_unavailable_not_deleted(
        server, django_capture_on_commit_callbacks):
    workspace = WorkspaceFactory()
    server.serve("/feed.csv", FEED)
    source = url_source(workspace, server, full_feed=True)
    run(source, django_capture_on_commit_callbacks)
    server.serve("/feed.csv", (HEADER + "MUG-1,Ocean mug,12.99 USD,in stock,,,,\n").encode())

    feed_import = run(source, django_capture_on_commit_callbacks)

    assert feed_import.rows_unavailable == 1
    availability = dict(Product.objects.filter(workspace=workspace).values_list(
        "sku", "availability"))
    assert availability == {"MUG-1": Availability.IN_STOCK, "MUG-2": Availability.UNAVAILABLE}

    server.serve("/feed.csv", FEED)
    run(source, django_capture_on_commit_callbacks)
    assert Product.objects.get(workspace=workspace, sku="MUG-2").availability == \
        Availability.OUT_OF_STOCK  # listed again: what the feed says


def test_a_price_change_in_the_served_feed_flags_assets_stale_with_the_reason(
        server, catalog, queued_broker):
    from campaigns.services import campaign_create, campaign_generate
    from rendering.models import Asset

    workspace, brand, products, formats = catalog
    product = products[0]
    Product.objects.filter(pk=product.pk).update(price=Decimal("12.99"), currency="USD")
    product.refresh_from_db()
    campaign = campaign_create(workspace=workspace, user=UserFactory(), name="Launch",
                               brand=brand, products=[product], formats=formats[:1])
    for job in campaign_generate(campaign=campaign, user=None).jobs:
        Asset.objects.create(workspace=workspace, slot=job.slot, job=job, file="a.png",
                             thumbnail="a.webp", width=1, height=1, sha256="0",
                             recipe=job.recipe)
    server.serve("/feed.csv", (f"id,title,price\n{product.sku},{product.name},9.99 USD\n"
                               ).encode())
    source = url_source(workspace, server)
    queued = feed_source_run(source=source, user=None)  # as a cpu worker runs it:

    feed_import = feed_import_execute(claim=feed_import_claim(import_id=queued.pk))

    assert feed_import.rows_updated == 1
    asset = Asset.objects.get(slot__product=product)
    assert asset.stale_at is not None and asset.stale_reason == "price 12.99 -> 9.99"


def test_a_file_uploaded_by_hand_is_stored_and_imported_by_a_job(
        django_capture_on_commit_callbacks):
    workspace = WorkspaceFactory()
    uploaded = SimpleUploadedFile("feed.csv", FEED, content_type="text/csv")

    with django_capture_on_commit_callbacks(execute=True):
        feed_import = feed_upload_import(workspace=workspace, user=None, uploaded=uploaded)

    feed_import.refresh_from_db()
    assert feed_import.file.name.startswith(f"ws/{workspace.pk}/feeds/")
    assert (feed_import.status, feed_import.rows_created, feed_import.rows_failed) == (
        ImportStatus.SUCCEEDED, 2, 1)
    assert feed_import.source is None and feed_import.started_at is not None


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="row locks and ON CONFLICT under real concurrency: PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_imports_creating_the_same_new_skus_at_once_both_succeed_with_one_product_each(
        tmp_path):
    workspace = WorkspaceFactory()
    path = tmp_path / "feed.csv"
    path.write_text("id,title,price\n" + "".join(
        f"SKU-{n:05},Product {n},{n % 90 + 1}.50 USD\n" for n in range(5000)))
    start = threading.Barrier(2)
    results, failures = [], []

    def import_once():
        try:
            start.wait()
            with path.open("rb") as fileobj:
                results.append(feed_import_run(workspace=workspace, user=None, fileobj=fileobj,
                                               filename="feed.csv"))
        except Exception as exc:  # noqa: BLE001 (the test reports whatever a thread raised)
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=import_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert failures == []
    assert [r.status for r in results] == [ImportStatus.SUCCEEDED] * 2
    assert [r.rows_failed for r in results] == [0, 0]
    assert Product.objects.filter(workspace=workspace).count() == 5000
    assert Product.objects.get(workspace=workspace, sku="SKU-00042").price == Decimal("43.50")


RSS = b"""<?xml version="1.0"?>
<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0"><channel><title>Shop</title>
<item><g:id>TENT-1</g:id><g:title>Trail tent</g:title><g:price>199.00 EUR</g:price>
<g:availability>in_stock</g:availability><g:image_link>%s</g:image_link>
<g:product_highlight>Light</g:product_highlight><g:product_highlight>Tough</g:product_highlight>
</item></channel></rss>"""


def test_an_xml_feed_imports_and_queues_the_products_photo(
        server, django_capture_on_commit_callbacks):
    from io import BytesIO

    from PIL import Image

    png = BytesIO()
    Image.new("RGB", (64, 48), "green").save(png, "PNG")
    server.serve("/tent.png", png.getvalue(), headers={"Content-Type": "image/png"})
    server.serve("/feed.xml", RSS % server.url("/tent.png").encode())
    workspace = WorkspaceFactory()
    source = url_source(workspace, server, path="/feed.xml")

    feed_import = run(source, django_capture_on_commit_callbacks)

    assert (feed_import.status, feed_import.rows_created, feed_import.photos_queued) == (
        ImportStatus.SUCCEEDED, 1, 1)
    tent = Product.objects.get(workspace=workspace, sku="TENT-1")
    assert tent.features == ["Light", "Tough"] and tent.availability == Availability.IN_STOCK
    photo = tent.photos.get()
    assert (photo.width, photo.source_url) == (64, server.url("/tent.png"))


def test_feed_tasks_have_stable_names_on_the_cpu_queue(settings):
    import brands.tasks  # noqa: F401 (workers import it through autodiscovery)
    from adstudio.celery import app

    for name in ("brands.run_feed_import", "brands.run_feed_source",
                 "brands.fetch_product_photo", "brands.reconcile_feed_imports"):
        assert name in app.tasks, name
        assert settings.CELERY_TASK_ROUTES[name] == {"queue": "cpu"}
    beat = settings.CELERY_BEAT_SCHEDULE["reconcile-feed-imports"]
    assert beat["task"] == "brands.reconcile_feed_imports" and beat["options"]["expires"] == 60
