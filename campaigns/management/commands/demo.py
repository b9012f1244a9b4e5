import time

from django.conf import settings
from django.core.management.base import BaseCommand

from campaigns import sample
from rendering.models import Asset


class Command(BaseCommand):
    help = "Seed the sample workspace and render its campaign (reuses what exists)."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="demo")
        parser.add_argument("--password", default="adstudio-demo")

    def handle(self, username, password, **options):
        started = time.monotonic()
        user = sample.seed_user(username, password)
        workspace = sample.seed_workspace(user)
        brand = sample.seed_brand(workspace)
        feed = sample.seed_products(workspace, user)
        sample.seed_templates(workspace)
        self.stdout.write(
            f"Products: {feed.rows_created} created, {feed.rows_updated} updated, "
            f"{feed.rows_unchanged} unchanged, {feed.rows_failed} failed."
        )
        campaign, queued = sample.seed_campaign(workspace, brand, user)
        self.stdout.write(f"Campaign '{campaign.name}': {queued} renders queued.")
        assets = (Asset.objects.filter(slot__campaign=campaign)
                  .select_related("slot__product", "slot__format").order_by("slot_id"))
        for asset in assets:
            self.stdout.write(
                f"  {asset.slot.product.sku:<16} {asset.slot.format.key:<22} "
                f"{asset.width}x{asset.height}  {settings.MEDIA_ROOT / asset.file.name}"
            )
        self.stdout.write(self.style.SUCCESS(
            f"{assets.count()} assets for {campaign.slots.count()} slots "
            f"in {time.monotonic() - started:.1f} s."
        ))
        self.stdout.write(
            "Open the dashboard: ./dev serve, then http://127.0.0.1:8000/ "
            f"(user '{username}', password '{password}')."
        )
