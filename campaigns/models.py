"""Campaigns and their slots (one product x one format)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from brands.models import BrandKit, Product, Workspace
from rendering.models import Format, PromptTemplate


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    ARCHIVED = "archived", "Archived"


class Campaign(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="campaigns")
    brand = models.ForeignKey(BrandKit, on_delete=models.PROTECT, related_name="campaigns")
    name = models.CharField(max_length=150)
    status = models.CharField(
        max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    language = models.CharField(max_length=8, default="en")
    variants_per_slot = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(8)]
    )
    products = models.ManyToManyField(Product, related_name="campaigns")
    formats = models.ManyToManyField(Format, related_name="campaigns")
    # Optional explicit templates; otherwise each slot uses the workspace's template for its kind.
    templates = models.ManyToManyField(PromptTemplate, blank=True, related_name="campaigns")
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="campaign_name_unique"),
            models.CheckConstraint(
                condition=Q(variants_per_slot__gte=1, variants_per_slot__lte=8),
                name="variants_per_slot_range",
            ),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class Slot(models.Model):
    """One product x one format in a campaign: the place that needs an approved asset."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="slots")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="slots")
    format = models.ForeignKey(Format, on_delete=models.PROTECT, related_name="slots")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "product", "format"], name="one_slot_per_product_format"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.sku} / {self.format.key}"
