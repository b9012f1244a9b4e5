"""Export: the approved assets as a streamed ZIP with a manifest, behind a signed link."""

import csv
import datetime as dt
import io
import zipfile

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from brands.models import Role
from campaigns import export, review
from campaigns.models import Slot
from rendering.models import Format, ReviewState
from tests.factories import CampaignFactory, MembershipFactory, ProductFactory, asset_make


@pytest.fixture
def approved(db):
    """A campaign with two slots: one approved asset (v2, an edit), one still in review."""
    marketer = MembershipFactory(role=Role.MARKETER)
    ws = marketer.workspace
    approver = MembershipFactory(workspace=ws, role=Role.APPROVER).user
    campaign = CampaignFactory(workspace=ws, name="Spring Sale")
    product = ProductFactory(workspace=ws, sku="TENT-01", name="Trail Tent")
    slots = [Slot.objects.create(campaign=campaign, product=product,
                                 format=Format.objects.get(key=key))
             for key in ("gdn-medium-rectangle", "meta-story")]
    first = asset_make(slot=slots[0], author=marketer.user)
    edit = asset_make(slot=slots[0], author=marketer.user, parent=first, color=(1, 2, 3))
    review.asset_approve(asset=edit, user=approver)
    waiting = asset_make(slot=slots[1], author=marketer.user)
    return {"campaign": campaign, "marketer": marketer.user, "approver": approver,
            "live": edit, "waiting": waiting}


def _zip(client, link):
    response = client.get(link)
    assert response.status_code == 200, response.content[:200]
    assert response["Content-Type"] == "application/zip"
    assert response.streaming
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_export_holds_the_live_assets_named_by_convention_with_a_manifest(client, approved):
    link = export.campaign_export_link(campaign=approved["campaign"], user=approved["marketer"])
    archive = _zip(client, link)  # no session: the signed link is the permission
    name = "spring-sale_tent-01_gdn-medium-rectangle_64x48_v2.png"
    assert sorted(archive.namelist()) == ["manifest.csv", name]
    with default_storage.open(approved["live"].file.name, "rb") as handle:
        assert archive.read(name) == handle.read()
    rows = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode())))
    assert len(rows) == 1
    assert rows[0]["file"] == name and rows[0]["sha256"] == approved["live"].sha256
    assert rows[0]["approved_by"] == approved["approver"].username
    assert rows[0]["version"] == "2" and rows[0]["sku"] == "TENT-01"


def test_export_link_expires(client, approved, settings):
    settings.ADSTUDIO_EXPORT_LINK_SECONDS = 60
    link = export.campaign_export_link(campaign=approved["campaign"], user=approved["marketer"])
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=120)):
        response = client.get(link)
    assert response.status_code == 403 and b"expired" in response.content


def test_tampered_export_link_is_refused(client, approved):
    link = export.campaign_export_link(campaign=approved["campaign"], user=approved["marketer"])
    token = link.rstrip("/").rsplit("/", 1)[1]
    tampered = link.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    response = client.get(tampered)
    assert response.status_code == 403 and b"not valid" in response.content


def test_link_stops_working_when_its_maker_leaves_the_workspace(client, approved):
    link = export.campaign_export_link(campaign=approved["campaign"], user=approved["marketer"])
    approved["marketer"].memberships.all().delete()
    assert client.get(link).status_code == 403


def test_export_needs_an_approved_asset_and_a_member(approved):
    empty = CampaignFactory(workspace=approved["campaign"].workspace)
    with pytest.raises(ValidationError, match="approve at least one"):
        export.campaign_export_link(campaign=empty, user=approved["marketer"])
    stranger = MembershipFactory(role=Role.ADMIN).user
    with pytest.raises(PermissionDenied):
        export.campaign_export_link(campaign=approved["campaign"], user=stranger)


def test_P3_export_leaves_out_an_asset_whose_file_changed_and_voids_its_approval(client,
                                                                                 approved):
    live = approved["live"]
    link = export.campaign_export_link(campaign=approved["campaign"], user=approved["marketer"])
    default_storage.delete(live.file.name)
    default_storage.save(live.file.name, ContentFile(b"swapped after approval"))
    archive = _zip(client, link)
    assert archive.namelist() == ["manifest.csv"]
    live.refresh_from_db()
    assert live.review_state == ReviewState.IN_REVIEW and not live.is_live


def test_export_runs_a_fixed_number_of_queries_however_many_assets(approved):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    campaign = approved["campaign"]

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            b"".join(export.campaign_export_stream(campaign))
        return len(context.captured_queries)

    def add_live(n):
        for i in range(n):
            slot = Slot.objects.create(campaign=campaign, product=ProductFactory(
                workspace=campaign.workspace), format=Format.objects.get(key="meta-feed"))
            asset = asset_make(slot=slot, author=approved["marketer"], color=(i, 9, 9))
            review.asset_approve(asset=asset, user=approved["approver"])

    add_live(1)
    few = queries()
    add_live(4)
    assert queries() == few
