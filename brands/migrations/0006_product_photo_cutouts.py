"""Every product photo gets a cut-out (brands/cutouts.py): the PNG, how it was made, what to
check, and the photo hash it was made from. Photos from before have none yet: the reconciler
(brands.reconcile_feed_imports) makes theirs."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("brands", "0005_audit_verbs_past_tense"),
    ]

    operations = [
        migrations.AddField(
            model_name="productphoto",
            name="cutout",
            field=models.FileField(blank=True, default="", max_length=255, upload_to=""),
        ),
        migrations.AddField(
            model_name="productphoto",
            name="cutout_sha256",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddField(
            model_name="productphoto",
            name="cutout_method",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddField(
            model_name="productphoto",
            name="cutout_note",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.AddField(
            model_name="productphoto",
            name="cutout_box",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="productphoto",
            name="cutout_coverage",
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="productphoto",
            name="cutout_source_sha256",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddField(
            model_name="productphoto",
            name="cutout_made_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
