from django.db import migrations, models


class Migration(migrations.Migration):
    """A check status for what a check could not verify (B14: checks that cannot be fooled)."""

    dependencies = [
        ("rendering", "0006_worker_lifecycle"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="qualitycheck", name="check_status_valid"),
        migrations.AlterField(
            model_name="qualitycheck",
            name="status",
            field=models.CharField(choices=[("pass", "Pass"), ("warn", "Warn"), ("fail", "Fail"),
                                            ("unverified", "Not verified")], max_length=12),
        ),
        migrations.AddConstraint(
            model_name="qualitycheck",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["pass", "warn", "fail", "unverified"])),
                name="check_status_valid"),
        ),
    ]
