"""Campaign pages test data: a review desk and a campaign matrix full of assets."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from brands.models import Role
from rendering.models import Format, QualityCheck
from tests.factories import (
    CampaignFactory,
    MembershipFactory,
    ProductFactory,
    SlotFactory,
    asset_make,
)


def desk_make() -> dict:
    """A marketer and an approver in one workspace, and an empty campaign."""
    marketer = MembershipFactory(role=Role.MARKETER)
    ws = marketer.workspace
    approver = MembershipFactory(workspace=ws, role=Role.APPROVER)
    campaign = CampaignFactory(workspace=ws)
    return {"ws": ws, "marketer": marketer, "approver": approver, "campaign": campaign}


def matrix_fill(desk, n, formats=("meta-feed", "meta-story", "gdn-leaderboard")):
    """``n`` products in ``formats``, each slot with two waiting versions (the second failing
    the text check)."""
    made = []
    for i in range(n):
        product = ProductFactory(workspace=desk["ws"])
        for key in formats:
            slot = SlotFactory(campaign=desk["campaign"], product=product,
                               format=Format.objects.get(workspace=None, key=key))
            first = asset_make(slot=slot, author=desk["marketer"].user, color=(i, 9, 9))
            second = asset_make(slot=slot, author=desk["marketer"].user, parent=first)
            QualityCheck.objects.create(asset=second, kind="text", status="fail", reason="x")
            made.append((slot, first, second))
    return made


def page_queries(client, url) -> int:
    """The number of SQL queries of one GET of ``url``."""
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)
