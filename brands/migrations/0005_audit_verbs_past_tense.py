"""Audit verbs in one tense (past participle, the webhook events' form): rows written before
keep their meaning under the new names, so filtering the log by verb finds them too."""

from django.db import migrations

RENAMED = {
    "asset.approve": "asset.approved",
    "asset.request_changes": "asset.changes_requested",
    "asset.reject": "asset.rejected",
    "asset.void": "asset.voided",
    "campaign.rerender_stale": "campaign.rerender_requested",
    # A save was a creation or a change; the row's data is kept as it was.
    "feed_source.saved": "feed_source.changed",
}


def forwards(apps, schema_editor):
    AuditEvent = apps.get_model("brands", "AuditEvent")
    for old, new in RENAMED.items():
        AuditEvent.objects.filter(verb=old).update(verb=new)


def backwards(apps, schema_editor):
    AuditEvent = apps.get_model("brands", "AuditEvent")
    for old, new in RENAMED.items():
        if old != "feed_source.saved":  # feed_source.changed is also written by new saves
            AuditEvent.objects.filter(verb=new).update(verb=old)


class Migration(migrations.Migration):
    dependencies = [("brands", "0004_catalog_sync")]
    operations = [migrations.RunPython(forwards, backwards)]
