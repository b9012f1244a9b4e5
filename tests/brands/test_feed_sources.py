"""Feed sources: validation, secrets by reference, schedules as beat entries, Merchant Center
mapping, and the dashboard's Feeds pages."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from brands.feed_apply import FeedApply
from brands.feed_import import FeedRow
from brands.feed_run import _auth_headers
from brands.feed_sources import feed_source_delete, feed_source_next_run, feed_source_save
from brands.models import Availability, FeedImport, FeedSource, ImportStatus, Product, Role
from tests.factories import MembershipFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

SHOP = "http://127.0.0.1:9/feed.xml"  # saving resolves the host: no DNS in tests


@pytest.fixture(autouse=True)
def private_feeds(settings):
    settings.ADSTUDIO_FEED_ALLOW_PRIVATE_NETWORKS = True


def save(workspace, **fields):
    fields = {"name": "Shop", "kind": "url", "url": SHOP, **fields}
    return feed_source_save(workspace=workspace, user=None, **fields)


def test_a_feed_on_a_private_address_is_refused_when_saved(settings):
    settings.ADSTUDIO_FEED_ALLOW_PRIVATE_NETWORKS = False
    with pytest.raises(ValidationError) as refused:
        save(WorkspaceFactory(), url="http://127.0.0.1:8000/feed.csv")
    assert "url" in refused.value.message_dict


def test_the_secret_is_a_reference_read_at_fetch_time(monkeypatch):
    workspace = WorkspaceFactory()
    with pytest.raises(ValidationError) as refused:
        save(workspace, auth="header", auth_header_name="X-Api-Key", auth_secret_ref="hunter2")
    assert "auth_secret_ref" in refused.value.message_dict
    source = save(workspace, auth="basic", auth_username="feeds", auth_secret_ref="env:SHOP_PW")
    with pytest.raises(ValidationError, match="SHOP_PW, which is not set"):
        _auth_headers(source)
    monkeypatch.setenv("SHOP_PW", "s3cret")
    assert _auth_headers(source) == {"Authorization": "Basic ZmVlZHM6czNjcmV0"}


def test_a_daily_schedule_is_a_beat_entry_in_the_sources_time_zone():
    source = save(WorkspaceFactory(), schedule="daily", schedule_timezone="Europe/Berlin")

    task = PeriodicTask.objects.get(pk=source.periodic_task_id)
    assert (task.task, task.queue, json.loads(task.args)) == (
        "brands.run_feed_source", "cpu", [source.pk])
    assert (task.crontab.hour, str(task.crontab.timezone), task.expire_seconds) == (
        "6", "Europe/Berlin", 86400)
    winter = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    assert feed_source_next_run(source, winter).astimezone(UTC) == datetime(
        2026, 1, 11, 5, 0, tzinfo=UTC)

    feed_source_save(workspace=source.workspace, user=None, source=source, schedule="none")
    assert not PeriodicTask.objects.filter(pk=task.pk).exists()


def test_a_bad_cron_expression_or_time_zone_is_explained():
    with pytest.raises(ValidationError, match="five fields"):
        save(WorkspaceFactory(), schedule="cron", schedule_cron="every monday")
    with pytest.raises(ValidationError, match="not a time zone"):
        save(WorkspaceFactory(), schedule="hourly", schedule_timezone="Mars/Olympus")


def test_deleting_a_source_removes_its_schedule_and_keeps_its_products():
    source = save(WorkspaceFactory(), schedule="hourly")
    Product.objects.create(workspace=source.workspace, sku="A", name="A", price=1,
                           currency="USD", feed_source=source)

    feed_source_delete(source=source, user=None)

    assert not PeriodicTask.objects.filter(name=f"feed source {source.pk}").exists()
    assert Product.objects.get(sku="A").feed_source is None


def test_merchant_center_attributes_map_to_product_fields():
    workspace = WorkspaceFactory()
    report = FeedImport.objects.create(workspace=workspace, filename="feed.xml")
    apply = FeedApply(report, checkpoint=lambda: True)
    apply.add(FeedRow(2, {
        "id": "TENT-1", "title": "Trail tent", "price": "199.00 EUR", "sale_price": "149.00 EUR",
        "sale_price_effective_date": "2026-11-01T00:00+01:00/2026-11-30T23:59+01:00",
        "availability": "preorder", "brand": "Northwind", "mpn": "NW-T1",
        "product_type": "Outdoor > Tents", "image_link": "https://cdn.example.com/t.jpg",
        "additional_image_link": ["https://cdn.example.com/t2.jpg"],
        "product_highlight": ["Light", "Tough"], "color": "green"}))
    apply.add(FeedRow(3, {"id": "TENT-2", "title": "Bad", "price": "10 EUR",
                          "sale_price": "5 USD", "availability": "maybe"}))
    apply.finish()

    tent = Product.objects.get(sku="TENT-1")
    assert (tent.price, tent.sale_price, tent.availability) == (
        Decimal("199.00"), Decimal("149.00"), Availability.PREORDER)
    assert tent.sale_starts_at == datetime(2026, 10, 31, 23, 0, tzinfo=UTC)
    assert (tent.brand_name, tent.mpn, tent.product_type) == (
        "Northwind", "NW-T1", "Outdoor > Tents")
    assert tent.additional_image_urls == ["https://cdn.example.com/t2.jpg"]
    assert tent.features == ["Light", "Tough"] and tent.extra == {"color": "green"}
    assert apply.photo_products == {tent.pk}
    assert report.errors == [{"row": 3, "sku": "TENT-2", "errors": {
        "availability": ["Unknown availability 'maybe'; use in_stock, out_of_stock, preorder "
                         "or backorder."],
        "sale_price": ["The sale price must be in the price's currency."]}}]


@pytest.fixture
def marketer(client):
    membership = MembershipFactory(role=Role.MARKETER)
    client.force_login(membership.user)
    return membership


def test_a_marketer_adds_a_feed_runs_it_and_watches_its_progress(client, marketer):
    ws = marketer.workspace.slug
    response = client.post(reverse("feed-source-create", kwargs={"ws": ws}), {
        "name": "Shop", "kind": "url", "url": SHOP, "format": "auto", "auth": "none",
        "schedule": "hourly", "schedule_timezone": "UTC"})
    source = FeedSource.objects.get(workspace=marketer.workspace)
    assert response.status_code == 302 and source.periodic_task is not None

    run = client.post(reverse("feed-source-run", kwargs={"ws": ws, "source_id": source.pk}))
    feed_import = FeedImport.objects.get(source=source)
    assert run.url == reverse("feed-import-report", kwargs={"ws": ws, "import_id": feed_import.pk})
    page = client.get(run.url).content.decode()
    assert 'hx-trigger="every 1s"' in page and "Cancel import" in page

    FeedImport.objects.filter(pk=feed_import.pk).update(
        status=ImportStatus.SUCCEEDED, rows_total=3, rows_created=3)
    progress = client.get(reverse("feed-import-progress", kwargs={
        "ws": ws, "import_id": feed_import.pk}), headers={"HX-Request": "true"})
    assert progress["HX-Refresh"] == "true" and "every 1s" not in progress.content.decode()
    listing = client.get(reverse("feed-source-list", kwargs={"ws": ws})).content.decode()
    assert "Shop" in listing and "Run now" in listing


def test_a_viewer_sees_feeds_but_no_run_button(client):
    membership = MembershipFactory(role=Role.VIEWER)
    save(membership.workspace)
    client.force_login(membership.user)
    page = client.get(reverse("feed-source-list", kwargs={"ws": membership.workspace.slug}))
    assert page.status_code == 200
    assert "Shop" in page.content.decode() and "Run now" not in page.content.decode()


def test_a_product_no_longer_in_its_feed_says_so_on_the_products_pages(client, marketer):
    source = save(marketer.workspace, full_feed=True)
    product = Product.objects.create(
        workspace=marketer.workspace, sku="OLD-1", name="Old mug", price=Decimal("3.00"),
        currency="EUR", feed_source=source, availability=Availability.UNAVAILABLE,
        sale_price=Decimal("2.50"), extra={"color": "blue"})
    ws = marketer.workspace.slug

    listing = client.get(reverse("product-list", kwargs={"ws": ws})).content.decode()
    page = client.get(reverse("product-edit", kwargs={"ws": ws, "product_id": product.pk}))

    assert "No longer in the feed" in listing and "sale 2.50" in listing
    assert "No longer in the feed" in page.content.decode()
    assert "color: blue" in page.content.decode()


def test_a_product_no_longer_in_its_feed_says_so_on_its_campaign_slots(client, marketer):
    from campaigns.services import campaign_create
    from rendering.models import Format
    from tests.factories import BrandKitFactory

    product = Product.objects.create(
        workspace=marketer.workspace, sku="OLD-2", name="Old jug", price=Decimal("3.00"),
        currency="EUR", availability=Availability.UNAVAILABLE)
    campaign = campaign_create(
        workspace=marketer.workspace, user=None, name="Summer",
        brand=BrandKitFactory(workspace=marketer.workspace), products=[product],
        formats=[Format.objects.filter(workspace=None).first()])
    page = client.get(reverse("campaign-detail", kwargs={
        "ws": marketer.workspace.slug, "campaign_id": campaign.pk})).content.decode()
    assert "Old jug" in page and "No longer in the feed" in page
    Product.objects.filter(pk=product.pk).update(availability=Availability.IN_STOCK)
    page = client.get(reverse("campaign-detail", kwargs={
        "ws": marketer.workspace.slug, "campaign_id": campaign.pk})).content.decode()
    assert "No longer in the feed" not in page


def test_the_next_run_is_shown_in_the_sources_own_time_zone(client, marketer):
    source = save(marketer.workspace, schedule="daily", schedule_timezone="Europe/Berlin")
    ws = marketer.workspace.slug
    listing = client.get(reverse("feed-source-list", kwargs={"ws": ws})).content.decode()
    page = client.get(reverse("feed-source-edit", kwargs={"ws": ws, "source_id": source.pk}))
    assert " 06:00 Europe/Berlin" in listing  # the schedule's wall-clock time, not UTC's 05:00
    assert " 06:00 (Europe/Berlin)" in page.content.decode()


def test_feed_attributes_are_template_fields_and_their_changes_make_assets_stale(
        catalog, tiny_model):
    from campaigns.services import campaign_create, campaign_generate
    from campaigns.staleness import assets_flag_stale_for_products
    from rendering.compose.prompts import compose_prompt, validate_template_body
    from rendering.models import Asset
    from rendering.templates import prompt_template_save

    workspace, brand, products, formats = catalog
    product = products[0]
    Product.objects.filter(pk=product.pk).update(
        brand_name="Acme", sale_price=Decimal("2.50"), product_type="Home > Mugs",
        extra={"color": "blue", "size": ["S", "M"], "Bad-Key": "x"})
    product.refresh_from_db()
    body = ("{{ product.name }} by {{ product.brand_name }}, now {{ product.sale_price }}, "
            "{{ product.extra.color }} {{ product.extra.size }}{{ product.extra.missing }}")
    template = prompt_template_save(user=None, workspace=workspace, name="Feed", kind="banner",
                                    body=body)
    prompt = compose_prompt(template=template, brand=brand, product=product, format=formats[0])
    assert f"{product.name} by Acme, now 2.50, blue S, M" in prompt.prompt
    with pytest.raises(ValidationError) as refused:
        validate_template_body("{{ product.extra }} {{ product.extra.color.deep }}")
    assert "Name one feed attribute" in str(refused.value)
    assert "product.extra.color.deep" in str(refused.value)

    campaign = campaign_create(workspace=workspace, user=None, name="Sale", brand=brand,
                               products=[product], formats=formats[:1])
    [job] = campaign_generate(campaign=campaign, user=None).jobs
    assert job.recipe["product"]["fields"]["sale_price"] == "2.50"
    from rendering.jobs.run import render_next

    [asset] = render_next()
    Product.objects.filter(pk=product.pk).update(availability=Availability.OUT_OF_STOCK)
    assert assets_flag_stale_for_products([product.pk]) == []  # not a field any prompt reads
    Product.objects.filter(pk=product.pk).update(sale_price=Decimal("1.99"))
    assert assets_flag_stale_for_products([product.pk]) == [asset.pk]
    assert Asset.objects.get(pk=asset.pk).stale_reason == "sale_price 2.50 -> 1.99"
