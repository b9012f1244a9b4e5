from django.db import migrations


def sync_presets(apps, schema_editor):
    from rendering.formats import PRESETS

    Format = apps.get_model("rendering", "Format")
    for preset in PRESETS:
        Format.objects.update_or_create(
            workspace=None,
            key=preset.key,
            defaults={
                "name": preset.name, "channel": preset.channel, "kind": preset.kind,
                "width": preset.width, "height": preset.height, "dpi": preset.dpi,
                "max_kilobytes": preset.max_kilobytes, "safe_zone": preset.safe_zone or {},
            },
        )


class Migration(migrations.Migration):
    dependencies = [("rendering", "0001_initial")]
    operations = [migrations.RunPython(sync_presets, migrations.RunPython.noop)]
