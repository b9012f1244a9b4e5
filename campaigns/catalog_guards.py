"""What campaigns answers when brands is about to delete a brand kit or a product (brands
announces it with brand_kit_deleting and product_deleting; apps.py connects these). A refusal
is a ValidationError naming the campaigns in the way; the deletion then rolls back."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from campaigns.models import Campaign
from rendering.jobs.enqueue import jobs_cancel_unfinished
from rendering.models import Asset, RenderJob


def _names(values, limit: int = 3) -> str:
    """'A', 'A and B', or 'A, B, C and 2 more', quoted, for a message."""
    values = [f"“{v}”" for v in dict.fromkeys(values)]
    if len(values) > limit:
        return f"{', '.join(values[:limit])} and {len(values) - limit} more"
    return " and ".join([", ".join(values[:-1]), values[-1]]) if len(values) > 1 else values[0]


def refuse_deleting_a_brand_in_use(*, brand, **kwargs) -> None:
    """A brand kit stays while a campaign uses it or one of its templates."""
    users = list(Campaign.objects.filter(brand=brand).values_list("name", flat=True))
    if users:
        raise ValidationError(
            f"{brand.name} is the brand kit of the campaign{'s' if len(users) > 1 else ''} "
            f"{_names(users)}. Delete those campaigns first, or keep the brand kit.",
            code="brand_in_use")
    template_users = list(Campaign.objects.filter(templates__brand=brand)
                          .values_list("name", flat=True))
    if template_users:
        raise ValidationError(
            f"A template of {brand.name} is chosen in the campaign"
            f"{'s' if len(set(template_users)) > 1 else ''} {_names(template_users)}. "
            "Remove it from those campaigns first.", code="brand_template_in_use")


def cancel_renders_and_refuse_a_product_with_assets(*, product, **kwargs) -> None:
    """Cancel first: a render finishing now can no longer store an asset for these slots.
    Then refuse while any campaign has assets of the product (the record of what was made)."""
    jobs_cancel_unfinished(RenderJob.objects.filter(slot__product=product))
    campaigns = list(Asset.objects.filter(slot__product=product)
                     .order_by("slot__campaign__name")
                     .values_list("slot__campaign__name", flat=True).distinct())
    if campaigns:
        raise ValidationError(
            f"{product.name} ({product.sku}) has assets in the campaign"
            f"{'s' if len(campaigns) > 1 else ''} {_names(campaigns)}. Delete "
            f"{'those campaigns' if len(campaigns) > 1 else 'that campaign'} first, "
            "or keep the product.", code="product_has_assets")
