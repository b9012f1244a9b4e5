"""Reads about brand kits and products that more than one page or the renderer needs."""

from __future__ import annotations

from brands.models import BrandKit, BrandLogo


def brand_logo_primary(brand: BrandKit) -> BrandLogo | None:
    """The logo composed ads show: the one marked primary, else the first uploaded."""
    return brand.logos.order_by("-is_primary", "id").first()
