"""The brand style: what the typography layer needs from a brand kit (colours, the first
font and logo, the logo position), as plain values a recipe can carry to the worker."""

from __future__ import annotations


def brand_style(brand) -> dict:
    """What the layer needs from a brand kit, as plain values for the recipe."""
    font = brand.fonts.order_by("id").first()
    logo = brand.logos.order_by("id").first()
    return {
        "colors": {role: brand.color(role) for role in ("primary", "accent", "background",
                                                          "text") if brand.color(role)},
        "font": {"file": font.file.name, "sha256": font.sha256} if font else None,
        "logo": {"file": logo.file.name, "sha256": logo.sha256} if logo else None,
        "logo_position": brand.logo_position,
    }
