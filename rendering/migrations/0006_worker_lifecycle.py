from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("rendering", "0005_asset_list_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="worker",
            name="detail",
            field=models.CharField(blank=True, max_length=500),
        ),
        migrations.AddField(
            model_name="worker",
            name="load_seconds",
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="worker",
            name="status",
            field=models.CharField(
                choices=[("loading", "Loading the model"), ("healthy", "Ready"),
                         ("failed", "Could not load the model"), ("lost", "Lost (no heartbeat)"),
                         ("stopped", "Stopped")],
                default="loading", max_length=20),
        ),
    ]
