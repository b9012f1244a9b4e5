import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db.models import Count

from campaigns import sample
from rendering.models import Asset


class Command(BaseCommand):
    help = ("Seed the sample workspace, render its model-drawn campaign and compose its "
            "real-photo campaign (reuses what exists).")

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

    def _assets(self, campaign):
        return (Asset.objects.filter(slot__campaign=campaign)
                .select_related("slot__product", "slot__format").order_by("slot_id", "id"))

    def _list_model_renders(self, campaign) -> int:
        assets = self._assets(campaign)
        self.stdout.write(f"\n'{campaign.name}': drawn by the model, one picture per slot.")
        if not settings.ADSTUDIO_QWEN_IMAGE_MODEL:
            self.stdout.write(self.style.WARNING(
                "  NO MODEL CONFIGURED: these were drawn by the tiny random-weight model, so "
                "their images are NOISE.\n  Set ADSTUDIO_QWEN_IMAGE_MODEL to Qwen-Image "
                "weights on a GPU machine for real pictures (README: Real images)."))
        for asset in assets:
            self.stdout.write(
                f"  {asset.slot.product.sku:<16} {asset.slot.format.key:<22} "
                f"{asset.width}x{asset.height}  {settings.MEDIA_ROOT / asset.file.name}"
            )
        return assets.count()

    def _list_scenes(self, campaign) -> int:
        self.stdout.write(
            f"\n'{campaign.name}': ONE SCENE painted by the model around the cup's cut-out, "
            "cut (or outpainted) for every format, the layers on top.")
        if not settings.ADSTUDIO_QWEN_IMAGE_MODEL:
            self.stdout.write(self.style.WARNING(
                "  NO MODEL CONFIGURED: the tiny random-weight model painted these scenes, so "
                "the backgrounds are NOISE;\n  the cup, the copy and the logo are exact. Set "
                "ADSTUDIO_QWEN_IMAGE_MODEL for real scenes (README: Real images)."))
        return self._list_composed(campaign, heading=False)

    def _list_composed(self, campaign, *, heading: bool = True) -> int:
        assets = self._assets(campaign)
        if heading:
            self.stdout.write(
                f"\n'{campaign.name}': COMPOSED on the CPU (no GPU, no model): the product's "
                "real photo (its cut-out, pixel for pixel),\n  the exact copy (name, slogan, "
                "price, button) and the logo in a layout designed for each format. Open these:")
        for asset in assets:
            layers = (asset.design or {}).get("layers", [])
            has_product = any(layer.get("kind") == "product" for layer in layers)
            price = next((layer.get("text") for layer in layers
                          if layer.get("kind") == "text" and layer.get("role") == "price"), "")
            note = "photo" if has_product else "no room for the photo"
            self.stdout.write(
                f"  {asset.slot.product.sku:<16} {asset.slot.format.key:<22} "
                f"{asset.width}x{asset.height}  {note}, price {price or '-'}\n"
                f"      {settings.MEDIA_ROOT / asset.file.name}"
            )
        return assets.count()

    def handle(self, username, password, **options):
        started = time.monotonic()
        user = sample.seed_user(username, password)
        workspace = sample.seed_workspace(user)
        sample.seed_reviewer(workspace, password)
        brand = sample.seed_brand(workspace)
        feed = sample.seed_products(workspace, user)
        photos = sample.seed_photos(workspace)
        sample.seed_templates(workspace)
        sample.seed_fill_templates(workspace)
        self.stdout.write(
            f"Products: {feed.rows_created} created, {feed.rows_updated} updated, "
            f"{feed.rows_unchanged} unchanged, {feed.rows_failed} failed; "
            f"{photos} photo{'s' if photos != 1 else ''} added (each is cut out before it is "
            "composed)."
        )
        campaign, queued = sample.seed_campaign(workspace, brand, user)
        self.stdout.write(f"Campaign '{campaign.name}': {queued} renders queued "
                          "(drawn by the model).")
        composed, composed_queued = sample.seed_composed_campaign(workspace, brand, user)
        self.stdout.write(f"Campaign '{composed.name}': {composed_queued} compositions queued "
                          "(cpu queue, no GPU).")
        scenes, scene_queued = sample.seed_composed_campaign(workspace, brand, user, scene=True)
        self.stdout.write(f"Campaign '{scenes.name}': {scene_queued} jobs queued (one scene "
                          "painted per product on the gpu queue, then compositions).")
        if settings.REDIS_URL:
            for each in (campaign, composed, scenes):
                self._wait_for_workers(each, options["wait"])
        total = (self._list_model_renders(campaign) + self._list_composed(composed)
                 + self._list_scenes(scenes))
        slots = campaign.slots.count() + composed.slots.count() + scenes.slots.count()
        self.stdout.write(self.style.SUCCESS(
            f"{total} assets for {slots} slots in {time.monotonic() - started:.1f} s."
        ))
        self.stdout.write(
            "Open the dashboard: ./dev serve, then http://127.0.0.1:8000/ "
            f"(user '{username}', password '{password}'); review and approve as "
            f"'{sample.REVIEWER}' (same password) at /w/{workspace.slug}/review/."
        )
