"""What rendering announces to the apps above it (they connect in their AppConfig.ready)."""

from django.dispatch import Signal

# An asset's row committed: kwargs asset_id, product_id. Campaigns checks it against the product
# as it is now (it may have changed while the job waited or rendered).
asset_stored = Signal()

# A prompt template's content changed (a new version): kwargs template, old_version. Campaigns
# flags the assets rendered from the old version as stale.
template_changed = Signal()
