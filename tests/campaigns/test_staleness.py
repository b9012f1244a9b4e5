"""Stale detection for each kind of change."""

import io
from decimal import Decimal

import pytest
from django.core import mail

from brands.feed_import import feed_import_run
from brands.product_fields import clean_product_data
from brands.services import brand_kit_save, product_save
from campaigns.services import campaign_create, campaign_generate
from rendering.models import Asset, PromptTemplate, RenderJob
from rendering.templates import prompt_template_save
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def _assets_for(campaign) -> list[Asset]:
    """Asset rows as the worker writes them, without rendering (the recipe is what matters)."""
    assets = []
    for job in campaign_generate(campaign=campaign, user=None).jobs:
        assets.append(Asset.objects.create(
            workspace_id=campaign.workspace_id, slot=job.slot, job=job, file="a.png",
            thumbnail="a.webp", width=1, height=1, sha256="0", recipe=job.recipe))
    return assets


@pytest.fixture
def campaign(catalog, queued_broker):
    workspace, brand, products, formats = catalog
    products[0].price = Decimal("12.99")
    products[0].save()
    return campaign_create(workspace=workspace, user=UserFactory(email="m@example.com"),
                           name="Launch", brand=brand, products=products, formats=formats[:2])


def _data(product, **changes):
    raw = {"sku": product.sku, "name": product.name, "slogan": product.slogan,
           "description": product.description, "price": str(product.price),
           "currency": product.currency, "features": product.features, **changes}
    return clean_product_data(raw)


def test_a_price_change_flags_that_products_assets_with_the_reason(campaign, catalog):
    _, _, products, _ = catalog
    assets = _assets_for(campaign)
    product_save(user=None, workspace=campaign.workspace, product=products[0],
                 data=_data(products[0], price="9.99"))
    stale = Asset.objects.filter(stale_at__isnull=False)
    assert {a.slot.product_id for a in stale} == {products[0].pk}
    assert stale.count() == 2 and len(assets) == 4
    assert {a.stale_reason for a in stale} == {"price 12.99 -> 9.99"}


def test_an_unchanged_save_flags_nothing(campaign, catalog):
    _, _, products, _ = catalog
    _assets_for(campaign)
    product_save(user=None, workspace=campaign.workspace, product=products[0],
                 data=_data(products[0]))
    assert not Asset.objects.filter(stale_at__isnull=False).exists()


def test_brand_kit_change_flags_every_asset_of_its_campaigns(campaign, catalog,
                                                             django_capture_on_commit_callbacks):
    _, brand, _, _ = catalog
    _assets_for(campaign)
    with django_capture_on_commit_callbacks(execute=True):
        brand_kit_save(user=None, workspace=campaign.workspace, brand=brand, tone="Bolder")
    reasons = set(Asset.objects.values_list("stale_reason", flat=True))
    assert reasons == {f'brand kit "{brand.name}" changed (tone): v1 -> v2'}
    [email] = mail.outbox
    assert email.to == ["m@example.com"] and "4 asset(s) of Launch" in email.subject


def test_template_change_flags_the_assets_made_with_it(campaign, catalog):
    _assets_for(campaign)
    used = PromptTemplate.objects.get(pk=Asset.objects.first().recipe["template"]["id"])
    prompt_template_save(user=None, workspace=campaign.workspace, template=used, name=used.name,
                         kind=used.kind, body=used.body + " at dawn")
    stale = Asset.objects.filter(stale_at__isnull=False)
    assert stale.exists()
    assert all(a.recipe["template"]["id"] == used.pk for a in stale)
    assert {a.stale_reason for a in stale} == {f'template "{used.name}" changed: v1 -> v2'}
    fresh = Asset.objects.filter(stale_at__isnull=True)
    assert all(a.recipe["template"]["id"] != used.pk for a in fresh)


def test_feed_reimport_changing_one_price_among_1000_flags_only_its_assets(
        campaign, catalog, django_assert_max_num_queries):
    workspace, _, products, _ = catalog
    for i in range(998):
        ProductFactory(workspace=workspace, sku=f"BULK-{i:04d}", name=f"Bulk {i}")
    _assets_for(campaign)
    rows = ["id,title,price,description,slogan"]
    for product in workspace.products.order_by("sku"):
        price = "9.99" if product.pk == products[0].pk else f"{product.price}"
        rows.append(f"{product.sku},{product.name},{price} {product.currency},"
                    f"{product.description},{product.slogan}")
    assert len(rows) == 1001
    feed = io.BytesIO("\n".join(rows).encode())
    with django_assert_max_num_queries(40):
        report = feed_import_run(workspace=workspace, user=None, fileobj=feed, filename="f.csv")
    assert (report.rows_updated, report.rows_unchanged) == (1, 999)
    stale = Asset.objects.filter(stale_at__isnull=False)
    assert {a.slot.product_id for a in stale} == {products[0].pk}
    assert {a.stale_reason for a in stale} == {"price 12.99 -> 9.99"}


def test_auto_rerender_queues_new_renders_for_stale_slots(campaign, catalog,
                                                          django_capture_on_commit_callbacks):
    _, _, products, _ = catalog
    campaign.auto_rerender_stale = True
    campaign.save()
    _assets_for(campaign)
    before = RenderJob.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        product_save(user=None, workspace=campaign.workspace, product=products[1],
                     data=_data(products[1], slogan="Built for storms"))
    new = RenderJob.objects.order_by("id")[before:]
    assert len(new) == 2  # one per stale slot of that product
    assert {j.slot.product_id for j in new} == {products[1].pk}
    assert all(j.recipe["product"]["fields"]["slogan"] == "Built for storms" for j in new)


def test_a_render_queued_before_a_price_change_is_stale_when_it_lands(
        campaign, catalog, tiny_model, django_capture_on_commit_callbacks):
    from rendering.jobs.run import render_next

    workspace, _, products, _ = catalog
    jobs = campaign_generate(campaign=campaign, user=None).jobs  # queued, not yet rendered
    product_save(user=None, workspace=workspace, data=_data(products[0], price="9.99"),
                 product=products[0])  # no asset exists yet to flag
    with django_capture_on_commit_callbacks(execute=True):
        landed = [a for _ in jobs for a in render_next()]
    assert len(landed) == len(jobs)
    stale = {a.pk: a.stale_reason for a in Asset.objects.filter(pk__in=[a.pk for a in landed])}
    of_changed = [a.pk for a in landed if a.slot.product_id == products[0].pk]
    assert of_changed and all(stale[pk] == "price 12.99 -> 9.99" for pk in of_changed)
    assert all(stale[a.pk] == "" for a in landed if a.pk not in of_changed)
