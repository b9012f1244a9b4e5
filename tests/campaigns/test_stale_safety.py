"""Stale safety: a stale asset is visible, approved only on purpose, left out of exports, and
rendered again from the campaign in one click (once)."""

import csv
import io
import zipfile
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from brands.models import AuditEvent, Role
from brands.product_fields import clean_product_data
from brands.services import product_save
from campaigns import export, review, staleness
from campaigns.models import ReviewAction, ReviewEvent
from campaigns.services import campaign_create
from rendering.compose.recipes import product_snapshot
from rendering.models import Asset, JobKind, JobStatus, RenderJob, ReviewState
from tests.api.conftest import api_for
from tests.factories import MembershipFactory, asset_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(catalog, queued_broker):
    """A campaign of two products x two formats, one asset waiting in each slot, made when
    the first product cost 12.99; then its price drops to 9.99."""
    workspace, brand, products, formats = catalog
    products[0].price = Decimal("12.99")
    products[0].save()
    marketer = MembershipFactory(workspace=workspace, role=Role.MARKETER).user
    approver = MembershipFactory(workspace=workspace, role=Role.APPROVER).user
    campaign = campaign_create(workspace=workspace, user=marketer, name="Spring Sale",
                               brand=brand, products=products, formats=formats[:2])
    assets = {}
    for n, slot in enumerate(campaign.slots.select_related("product", "format").order_by("id")):
        asset = asset_make(slot=slot, author=marketer, color=(n, 10, 10))
        recipe = {**asset.recipe, "product": {"fields": product_snapshot(slot.product)}}
        Asset.objects.filter(pk=asset.pk).update(recipe=recipe)
        assets[slot.pk] = asset
    _reprice(products[0], "9.99")
    stale = list(Asset.objects.filter(stale_at__isnull=False).order_by("id"))
    fresh = list(Asset.objects.filter(stale_at__isnull=True).order_by("id"))
    assert len(stale) == len(fresh) == 2
    return {"ws": workspace, "campaign": campaign, "products": products, "marketer": marketer,
            "approver": approver, "stale": stale, "fresh": fresh}


def _reprice(product, price):
    raw = {"sku": product.sku, "name": product.name, "slogan": product.slogan,
           "description": product.description, "price": price, "currency": product.currency,
           "features": product.features}
    product_save(user=None, workspace=product.workspace, product=product,
                 data=clean_product_data(raw))


def _approve_stale_live(shop):
    """Approve both stale assets on purpose: they are live and stale."""
    for asset in shop["stale"]:
        review.asset_approve(asset=asset, user=shop["approver"], confirm_stale=True)


# --- approving --------------------------------------------------------------------------

def test_approving_a_stale_asset_is_refused_without_confirmation_naming_the_reason(shop):
    asset = shop["stale"][0]
    audited = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    with pytest.raises(review.StaleAssetError) as refused:
        review.asset_approve(asset=asset, user=shop["approver"], sha256=asset.sha256)
    assert refused.value.messages == [
        "This asset is stale: price 12.99 -> 9.99. Approve anyway? It goes live with the old "
        "values."]
    assert refused.value.reasons == ["price 12.99 -> 9.99"]
    asset.refresh_from_db()
    assert asset.review_state == ReviewState.IN_REVIEW and not asset.is_live
    assert not ReviewEvent.objects.exists() and not AuditEvent.objects.filter(
        id__gt=audited).exists()  # the setup's own rows (the catalog's saves) come before


def test_confirmed_approval_of_a_stale_asset_records_the_acknowledgement(shop):
    asset = shop["stale"][0]
    event = review.asset_approve(asset=asset, user=shop["approver"], comment="Sale starts Monday",
                                 confirm_stale=True)
    asset.refresh_from_db()
    assert asset.is_live and asset.review_state == ReviewState.APPROVED
    assert event.action == ReviewAction.APPROVE
    assert event.comment == ("Approved although stale (price 12.99 -> 9.99). "
                             "Sale starts Monday")
    audit = AuditEvent.objects.get(verb="asset.approved", object_id=asset.pk)
    assert audit.data["stale_acknowledged"] == "price 12.99 -> 9.99"
    assert audit.actor == shop["approver"]


def test_a_fresh_asset_needs_no_confirmation_and_records_none(shop):
    asset = shop["fresh"][0]
    event = review.asset_approve(asset=asset, user=shop["approver"])
    assert event.comment == ""
    assert "stale_acknowledged" not in AuditEvent.objects.get(object_type="asset",
                                                              object_id=asset.pk).data


def test_an_illegal_move_on_a_stale_asset_says_so_rather_than_asking(shop):
    asset = shop["stale"][0]
    review.asset_reject(asset=asset, user=shop["approver"], comment="Old price")
    with pytest.raises(ValidationError, match="cannot be approved now"):
        review.asset_approve(asset=asset, user=shop["approver"], confirm_stale=True)


def test_bulk_approve_skips_and_lists_stale_assets_unless_confirmed(shop):
    everything = [*shop["stale"], *shop["fresh"]]
    result = review.assets_approve_bulk(assets=everything, user=shop["approver"])
    assert {e.asset_id for e in result.approved} == {a.pk for a in shop["fresh"]}
    assert [e.asset_id for e in result.stale] == [a.pk for a in shop["stale"]]
    assert {e.reason for e in result.stale} == {"price 12.99 -> 9.99"}
    assert result.problems == []
    assert not Asset.objects.filter(pk__in=[a.pk for a in shop["stale"]],
                                    review_state=ReviewState.APPROVED).exists()
    confirmed = review.assets_approve_bulk(assets=shop["stale"], user=shop["approver"],
                                           confirm_stale=True)
    assert len(confirmed.approved) == 2 and not confirmed.stale
    assert all("Approved although stale" in e.comment for e in confirmed.approved)


# --- export -----------------------------------------------------------------------------

def _zip(client, link) -> zipfile.ZipFile:
    response = client.get(link)
    assert response.status_code == 200, response.content[:200]
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def _csv(archive, name) -> list[dict]:
    return list(csv.DictReader(io.StringIO(archive.read(name).decode())))


def test_export_leaves_stale_live_assets_out_and_lists_them_in_stale_csv(client, shop):
    _approve_stale_live(shop)
    review.asset_approve(asset=shop["fresh"][0], user=shop["approver"])
    assert [a.pk for a in export.export_stale_assets(shop["campaign"])] == sorted(
        a.pk for a in shop["stale"])
    archive = _zip(client, export.campaign_export_link(campaign=shop["campaign"],
                                                       user=shop["marketer"]))
    pngs = [n for n in archive.namelist() if n.endswith(".png")]
    assert len(pngs) == 1 and shop["products"][1].sku.lower() in pngs[0]
    manifest = _csv(archive, "manifest.csv")
    assert [row["asset_id"] for row in manifest] == [str(shop["fresh"][0].pk)]
    assert manifest[0]["stale_reason"] == ""
    left_out = _csv(archive, "stale.csv")
    assert sorted(int(row["asset_id"]) for row in left_out) == sorted(a.pk for a in shop["stale"])
    assert {row["stale_reason"] for row in left_out} == {"price 12.99 -> 9.99"}
    assert {row["sku"] for row in left_out} == {shop["products"][0].sku}


def test_export_with_include_stale_ships_them_marked_in_the_manifest(client, shop):
    _approve_stale_live(shop)
    link = export.campaign_export_link(campaign=shop["campaign"], user=shop["marketer"],
                                       include_stale=True)
    archive = _zip(client, link)
    assert "stale.csv" not in archive.namelist()
    manifest = _csv(archive, "manifest.csv")
    assert len(manifest) == 2
    assert {row["stale_reason"] for row in manifest} == {"price 12.99 -> 9.99"}


def test_export_of_only_stale_assets_says_so_unless_included(shop):
    _approve_stale_live(shop)
    with pytest.raises(ValidationError, match="Every approved asset of this campaign is stale"):
        export.campaign_export_link(campaign=shop["campaign"], user=shop["marketer"])
    assert export.campaign_export_link(campaign=shop["campaign"], user=shop["marketer"],
                                       include_stale=True)


# --- render stale again -----------------------------------------------------------------

def _new_jobs(before: set[int]) -> list[RenderJob]:
    return list(RenderJob.objects.exclude(pk__in=before).filter(kind=JobKind.GENERATE)
                .select_related("slot").order_by("id"))


def test_rerender_stale_queues_exactly_the_stale_slots_once(shop):
    _approve_stale_live(shop)
    before = set(RenderJob.objects.values_list("pk", flat=True))
    result = staleness.campaign_rerender_stale(campaign=shop["campaign"], user=shop["marketer"])
    new = _new_jobs(before)
    assert [j.pk for j in result.jobs] == [j.pk for j in new] and len(new) == 2
    assert {j.slot_id for j in new} == {a.slot_id for a in shop["stale"]}
    assert all(j.status == JobStatus.QUEUED for j in new)
    assert all(j.recipe["product"]["fields"]["price"] == "9.99" for j in new)
    assert AuditEvent.objects.filter(verb="campaign.rerender_requested").count() == 1
    # A second click before the renders finish queues nothing.
    again = staleness.campaign_rerender_stale(campaign=shop["campaign"], user=shop["marketer"])
    assert again.jobs == [] and again.already_pending == 2
    assert len(_new_jobs(before)) == 2
    # Nor once they finished and wait for review: a fresh candidate is on its way.
    for job in new:
        RenderJob.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED)
        asset_make(slot=job.slot, author=shop["marketer"], color=(99, 0, job.pk % 255))
    third = staleness.campaign_rerender_stale(campaign=shop["campaign"], user=shop["marketer"])
    assert third.jobs == [] and third.already_pending == 2


def test_rerender_stale_covers_slots_whose_only_candidates_are_stale(shop):
    before = set(RenderJob.objects.values_list("pk", flat=True))  # nothing approved yet
    result = staleness.campaign_rerender_stale(campaign=shop["campaign"], user=shop["marketer"])
    assert {j.slot_id for j in result.jobs} == {a.slot_id for a in shop["stale"]}
    assert len(_new_jobs(before)) == 2


def test_rerender_stale_for_one_product_only(shop):
    _approve_stale_live(shop)
    other = staleness.campaign_rerender_stale(campaign=shop["campaign"], user=shop["marketer"],
                                              product=shop["products"][1])
    assert other.jobs == [] and other.already_pending == 0
    mine = staleness.campaign_rerender_stale(campaign=shop["campaign"], user=shop["marketer"],
                                             product=shop["products"][0])
    assert len(mine.jobs) == 2


@pytest.mark.parametrize("role", [Role.APPROVER, Role.VIEWER])
def test_rerender_stale_is_for_marketers_and_admins(shop, role):
    user = MembershipFactory(workspace=shop["ws"], role=role).user
    with pytest.raises(PermissionDenied):
        staleness.campaign_rerender_stale(campaign=shop["campaign"], user=user)
    admin = MembershipFactory(workspace=shop["ws"], role=Role.ADMIN).user
    assert len(staleness.campaign_rerender_stale(campaign=shop["campaign"], user=admin).jobs) == 2


# --- dashboard --------------------------------------------------------------------------

def _url(name, shop, **kwargs):
    return reverse(name, kwargs={"ws": shop["ws"].slug, **kwargs})


def test_queue_shows_the_stale_badge_with_its_reason_and_asks_before_approving(client, shop):
    client.force_login(shop["approver"])
    page = client.get(_url("review-queue", shop)).content.decode()
    assert page.count('class="badge failed stale"') == 2
    assert page.count("price 12.99 -&gt; 9.99") >= 2
    assert ('data-stale-question="This asset is stale: price 12.99 -&gt; 9.99. Approve anyway?'
            in page)
    assert 'id="stale-confirm"' in page


def test_htmx_approve_of_a_stale_asset_asks_instead_of_approving(client, shop):
    asset = shop["stale"][0]
    client.force_login(shop["approver"])
    url = _url("asset-approve", shop, asset_id=asset.pk)
    refused = client.post(url, {"sha256": asset.sha256}, headers={"HX-Request": "true"})
    assert "This asset is stale: price 12.99 -&gt; 9.99" in refused.content.decode()
    assert 'class="approve-anyway"' in refused.content.decode()  # asked, in place of the card
    assert Asset.objects.get(pk=asset.pk).review_state == ReviewState.IN_REVIEW
    done = client.post(url, {"sha256": asset.sha256, "confirm_stale": "yes"},
                       headers={"HX-Request": "true"})
    assert "Approved." in done.content.decode()
    assert Asset.objects.get(pk=asset.pk).is_live


def test_asset_page_asks_and_a_plain_post_without_confirmation_is_refused(client, shop):
    asset = shop["stale"][0]
    client.force_login(shop["approver"])
    page = client.get(_url("asset-detail", shop, asset_id=asset.pk)).content.decode()
    assert 'data-stale-question="This asset is stale' in page and 'id="stale-warning"' in page
    refused = client.post(_url("asset-approve", shop, asset_id=asset.pk),
                          {"sha256": asset.sha256, "next": _url("review-queue", shop)})
    assert refused.url == _url("asset-detail", shop, asset_id=asset.pk)  # where it asks
    assert "Approve anyway?" in client.get(refused.url).content.decode()
    assert Asset.objects.get(pk=asset.pk).review_state == ReviewState.IN_REVIEW


def test_bulk_approve_page_lists_skipped_stale_assets(client, shop):
    client.force_login(shop["approver"])
    ids = [a.pk for a in [*shop["stale"], *shop["fresh"]]]
    page = client.post(_url("review-bulk-approve", shop), {"asset": ids, "confirm": "yes"},
                       follow=True).content.decode()
    assert "Approved 2 assets." in page and "Skipped 2 stale assets" in page
    assert shop["products"][0].name in page and "price 12.99 -&gt; 9.99" in page
    page = client.post(_url("review-bulk-approve", shop),
                       {"asset": ids, "confirm": "yes", "confirm_stale": "yes"},
                       follow=True).content.decode()
    assert "Approved 2 assets." in page and "Skipped" not in page
    assert Asset.objects.filter(review_state=ReviewState.APPROVED).count() == 4


def test_campaign_page_shows_stale_counts_and_renders_stale_again(client, shop):
    _approve_stale_live(shop)
    client.force_login(shop["marketer"])
    detail = _url("campaign-detail", shop, campaign_id=shop["campaign"].pk)
    page = client.get(detail).content.decode()
    assert 'id="stale-summary"' in page and "2 live assets" in page
    assert "Render all stale again (2)" in page and 'id="export-stale-note"' in page
    page = client.post(_url("campaign-rerender-stale", shop, campaign_id=shop["campaign"].pk),
                       follow=True).content.decode()
    assert "Queued 2 renders of stale slots." in page
    assert "Render all stale again" not in page and "fresh renders are on their way" in page
    again = client.post(_url("campaign-rerender-stale", shop, campaign_id=shop["campaign"].pk),
                        follow=True).content.decode()
    assert "Nothing to render again. 2 stale slots already have a fresh render" in again


def test_approvers_cannot_render_stale_again_from_the_dashboard(client, shop):
    client.force_login(shop["approver"])
    response = client.post(_url("campaign-rerender-stale", shop,
                                campaign_id=shop["campaign"].pk))
    assert response.status_code == 403


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


def test_stale_badges_keep_the_query_count_fixed(client, shop):
    client.force_login(shop["approver"])
    urls = [_url("review-queue", shop), _url("campaign-detail", shop,
                                             campaign_id=shop["campaign"].pk)]
    few = [_queries(client, u) for u in urls]
    for slot_id in {a.slot_id for a in shop["stale"]}:
        for n in range(3):
            asset = asset_make(slot=shop["campaign"].slots.get(pk=slot_id),
                               author=shop["marketer"], color=(n, 50, 50))
            Asset.objects.filter(pk=asset.pk).update(stale_reason="price 1 -> 2",
                                                     stale_at=shop["stale"][0].stale_at)
    assert [_queries(client, u) for u in urls] == few


# --- API --------------------------------------------------------------------------------

@pytest.fixture
def api(shop):
    marketer = api_for(MembershipFactory(workspace=shop["ws"], role=Role.MARKETER))
    approver = api_for(MembershipFactory(workspace=shop["ws"], role=Role.APPROVER))
    return marketer, approver


def test_api_approve_answers_409_with_the_reasons_unless_confirmed(shop, api):
    _, approver = api
    asset = shop["stale"][0]
    refused = approver.post(f"assets/{asset.pk}/approve/", {"sha256": asset.sha256})
    assert refused.status_code == 409
    body = refused.json()
    assert body["stale_reasons"] == ["price 12.99 -> 9.99"] and body["asset"] == asset.pk
    assert "This asset is stale: price 12.99 -> 9.99" in body["detail"]
    assert "confirm_stale" in body["detail"]
    assert Asset.objects.get(pk=asset.pk).review_state == ReviewState.IN_REVIEW
    done = approver.post(f"assets/{asset.pk}/approve/",
                         {"sha256": asset.sha256, "confirm_stale": True})
    assert done.status_code == 200, done.json()
    assert done.json()["comment"].startswith("Approved although stale (price 12.99 -> 9.99)")


def test_api_bulk_approve_lists_the_stale_ones_it_skipped(shop, api):
    _, approver = api
    ids = [a.pk for a in [*shop["stale"], *shop["fresh"]]]
    result = approver.post("assets/bulk-approve/", {"assets": ids}).json()
    assert sorted(result["approved"]) == sorted(a.pk for a in shop["fresh"])
    assert sorted(s["asset"] for s in result["stale"]) == sorted(a.pk for a in shop["stale"])
    assert len(result["problems"]) == 2
    again = approver.post("assets/bulk-approve/",
                          {"assets": [a.pk for a in shop["stale"]], "confirm_stale": True})
    assert sorted(again.json()["approved"]) == sorted(a.pk for a in shop["stale"])


def test_api_export_lists_the_stale_assets_it_leaves_out(shop, api):
    marketer, _ = api
    _approve_stale_live(shop)
    review.asset_approve(asset=shop["fresh"][0], user=shop["approver"])
    url = f"campaigns/{shop['campaign'].pk}/export/"
    body = marketer.post(url, {}).json()
    assert body["include_stale"] is False and body["url"]
    assert sorted(a["asset"] for a in body["left_out_stale"]) == sorted(
        a.pk for a in shop["stale"])
    assert {a["stale_reason"] for a in body["left_out_stale"]} == {"price 12.99 -> 9.99"}
    included = marketer.post(url, {"include_stale": True}).json()
    assert included["include_stale"] is True and included["left_out_stale"] == []


def test_api_rerender_stale_queues_once_and_is_for_marketers(shop, api):
    marketer, approver = api
    _approve_stale_live(shop)
    url = f"campaigns/{shop['campaign'].pk}/rerender-stale/"
    assert approver.post(url, {}).status_code == 403
    first = marketer.post(url, {})
    assert first.status_code == 202, first.json()
    assert first.json()["count"] == 2 and first.json()["already_pending"] == 0
    second = marketer.post(url, {}).json()
    assert second["count"] == 0 and second["already_pending"] == 2
    stranger = marketer.post(url, {"product": 10**6})
    assert stranger.status_code == 400


def test_per_product_render_stale_again_from_the_campaign_page(client, shop):
    _reprice(shop["products"][1], "5.00")  # now both products are stale
    _approve_stale_live(shop)
    client.force_login(shop["marketer"])
    detail = _url("campaign-detail", shop, campaign_id=shop["campaign"].pk)
    page = client.get(detail).content.decode()
    assert page.count('class="secondary rerender-product"') == 2
    before = set(RenderJob.objects.values_list("pk", flat=True))
    page = client.post(_url("campaign-rerender-stale", shop, campaign_id=shop["campaign"].pk),
                       {"product": shop["products"][1].pk}, follow=True).content.decode()
    assert "Queued 2 renders of stale slots." in page
    assert {j.slot.product_id for j in _new_jobs(before)} == {shop["products"][1].pk}


def test_dashboard_export_includes_stale_assets_only_when_ticked(client, shop):
    _approve_stale_live(shop)
    review.asset_approve(asset=shop["fresh"][0], user=shop["approver"])
    client.force_login(shop["marketer"])
    url = _url("campaign-export", shop, campaign_id=shop["campaign"].pk)
    plain = _zip(client, client.post(url).url)
    assert len([n for n in plain.namelist() if n.endswith(".png")]) == 1
    assert "stale.csv" in plain.namelist()
    ticked = _zip(client, client.post(url, {"include_stale": "yes"}).url)
    assert len([n for n in ticked.namelist() if n.endswith(".png")]) == 3
    assert "stale.csv" not in ticked.namelist()
