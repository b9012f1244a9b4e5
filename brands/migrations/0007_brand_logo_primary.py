from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("brands", "0006_product_photo_cutouts"),
    ]

    operations = [
        migrations.AddField(
            model_name="brandlogo",
            name="is_primary",
            field=models.BooleanField(default=False),
        ),
        migrations.AddConstraint(
            model_name="brandlogo",
            constraint=models.UniqueConstraint(
                condition=models.Q(is_primary=True), fields=("brand",),
                name="brand_logo_one_primary"),
        ),
    ]
