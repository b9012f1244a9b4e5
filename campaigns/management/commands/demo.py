import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db.models import Count

from campaigns import sample
from rendering.models import Asset


class Command(BaseCommand):
    help = "Seed the sample workspace and render its campaign (reuses what exists)."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="demo")
        parser.add_argument("--password", default="adstudio-demo")
        parser.add_argument("--wait", type=float, default=900,
                            help="with REDIS_URL: seconds to wait for the workers")

    def _wait_for_workers(self, campaign, timeout: float) -> None:
        """With a broker, the GPU workers render: show their progress until they finish."""
        from rendering.models import JobStatus, RenderJob

        jobs = RenderJob.objects.filter(slot__campaign=campaign)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            counts = dict(jobs.values_list("status").annotate(n=Count("id")))
            waiting = counts.get(JobStatus.QUEUED, 0) + counts.get(JobStatus.RUNNING, 0)
            self.stdout.write(f"  workers: {counts.get(JobStatus.SUCCEEDED, 0)} done, "
                              f"{counts.get(JobStatus.RUNNING, 0)} rendering, "
                              f"{counts.get(JobStatus.QUEUED, 0)} queued, "
                              f"{counts.get(JobStatus.FAILED, 0)} failed")
            if not waiting:
                return
            time.sleep(2)
        self.stdout.write(self.style.WARNING(
            "Still waiting for workers: is one running? ./dev worker gpu (see docs/workers.md)"))

    def handle(self, username, password, **options):
        started = time.monotonic()
        user = sample.seed_user(username, password)
        workspace = sample.seed_workspace(user)
        sample.seed_reviewer(workspace, password)
        brand = sample.seed_brand(workspace)
        feed = sample.seed_products(workspace, user)
        photos = sample.seed_photos(workspace)
        sample.seed_templates(workspace)
        self.stdout.write(
            f"Products: {feed.rows_created} created, {feed.rows_updated} updated, "
            f"{feed.rows_unchanged} unchanged, {feed.rows_failed} failed; "
            f"{photos} photo{'s' if photos != 1 else ''} added (cut out in the background)."
        )
        campaign, queued = sample.seed_campaign(workspace, brand, user)
        self.stdout.write(f"Campaign '{campaign.name}': {queued} renders queued.")
        if settings.REDIS_URL:
            self._wait_for_workers(campaign, options["wait"])
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
            f"(user '{username}', password '{password}'); review and approve as "
            f"'{sample.REVIEWER}' (same password) at /w/{workspace.slug}/review/."
        )
