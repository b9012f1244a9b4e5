"""A database made by the previous release, with rows, migrates to this one and keeps them."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("brands", "0004_catalog_sync")]
AFTER = [("brands", "0005_audit_verbs_past_tense")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_audit_rows_written_before_take_the_new_verbs():
    old = _migrate(BEFORE)
    Workspace = old.get_model("brands", "Workspace")
    AuditEvent = old.get_model("brands", "AuditEvent")
    workspace = Workspace.objects.create(name="Old", slug="old-release")
    for verb in ("asset.approve", "asset.void", "feed_source.saved", "member.removed"):
        AuditEvent.objects.create(workspace=workspace, verb=verb, object_type="asset",
                                  object_id=1, data={"kept": verb})
    new = _migrate(AFTER)
    rows = new.get_model("brands", "AuditEvent").objects.filter(workspace_id=workspace.pk)
    assert sorted(rows.values_list("verb", "data")) == sorted([
        ("asset.approved", {"kept": "asset.approve"}), ("asset.voided", {"kept": "asset.void"}),
        ("feed_source.changed", {"kept": "feed_source.saved"}),
        ("member.removed", {"kept": "member.removed"}),
    ])
    _migrate(BEFORE)  # and back: the asset verbs return; a feed source's stays "changed"
    back = MigrationExecutor(connection).loader.project_state(BEFORE).apps
    verbs = set(back.get_model("brands", "AuditEvent").objects.filter(
        workspace_id=workspace.pk).values_list("verb", flat=True))
    assert verbs == {"asset.approve", "asset.void", "feed_source.changed", "member.removed"}
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())  # the newest again
