from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Campaigns"

    def ready(self):
        from brands.signals import products_changed
        from rendering.signals import asset_stored

        from . import staleness

        products_changed.connect(staleness.stale_when_products_change,
                                 dispatch_uid="campaigns.stale_when_products_change")
        asset_stored.connect(staleness.stale_when_an_asset_lands_late,
                             dispatch_uid="campaigns.stale_when_an_asset_lands_late")
