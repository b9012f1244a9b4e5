"""Checks whose doorbell was lost (broker down when the asset was stored) are queued again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from brands.models import Role
from rendering.models import Asset, QualityCheck
from rendering.quality.checks import asset_checks_reconcile
from tests.factories import MembershipFactory, SlotFactory, asset_make


@pytest.mark.django_db
def test_recent_assets_without_checks_are_queued_again_once_in_a_window(queued_broker):
    member = MembershipFactory(role=Role.MARKETER)
    slot = SlotFactory(campaign__workspace=member.workspace, format_key="meta-feed")
    lost, checked, fresh, old = (asset_make(slot=slot, author=member.user, color=(n, 0, 0))
                                 for n in range(4))
    now = timezone.now()
    for asset, minutes in ((lost, 10), (checked, 10), (old, 120)):
        Asset.objects.filter(pk=asset.pk).update(created_at=now - timedelta(minutes=minutes))
    QualityCheck.objects.create(asset=checked, kind="palette", status="pass", reason="ok")
    # fresh (too recent) and old (outside the window) have no checks either, yet stay unqueued
    assert set(Asset.objects.filter(checks__isnull=True).values_list("pk", flat=True)) == {
        lost.pk, fresh.pk, old.pk}
    with queued_broker.connection_for_write() as connection:
        queue = connection.SimpleQueue("cpu")
        queue.clear()
        assert asset_checks_reconcile() == 1
        message = queue.get(timeout=1)
        assert message.headers["task"] == "rendering.check_asset"
        assert message.headers["argsrepr"] == f"[{lost.pk}]"
        assert queue.qsize() == 0  # one message: nothing for fresh or old
        queue.close()
