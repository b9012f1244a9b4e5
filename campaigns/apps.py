from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Campaigns"

    def ready(self):
        from brands.signals import (
            brand_kit_changed,
            brand_kit_deleting,
            product_cutout_changed,
            product_deleting,
            products_changed,
        )
        from campaigns import catalog_guards, staleness
        from rendering.signals import asset_stored, template_changed

        products_changed.connect(staleness.stale_when_products_change,
                                 dispatch_uid="campaigns.stale_when_products_change")
        product_cutout_changed.connect(staleness.stale_when_a_cutout_changes,
                                       dispatch_uid="campaigns.stale_when_a_cutout_changes")
        asset_stored.connect(staleness.stale_when_an_asset_lands_late,
                             dispatch_uid="campaigns.stale_when_an_asset_lands_late")
        brand_kit_changed.connect(staleness.stale_when_the_brand_changes,
                                  dispatch_uid="campaigns.stale_when_the_brand_changes")
        template_changed.connect(staleness.stale_when_a_template_changes,
                                 dispatch_uid="campaigns.stale_when_a_template_changes")
        brand_kit_deleting.connect(catalog_guards.refuse_deleting_a_brand_in_use,
                                   dispatch_uid="campaigns.refuse_deleting_a_brand_in_use")
        product_deleting.connect(
            catalog_guards.cancel_renders_and_refuse_a_product_with_assets,
            dispatch_uid="campaigns.cancel_renders_and_refuse_a_product_with_assets")
