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
    # When an asset goes stale (its product, brand kit or template changed), render it again.
    auto_rerender_stale = models.BooleanField(default=False)
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


class ScheduleKind(models.TextChoices):
    CRON = "cron", "Cron expression"
    INTERVAL = "interval", "At a fixed interval"


class RefreshSchedule(models.Model):
    """When a campaign gets fresh variants, for which slots, and how many."""

    campaign = models.OneToOneField(
        Campaign, on_delete=models.CASCADE, related_name="refresh_schedule"
    )
    kind = models.CharField(max_length=10, choices=ScheduleKind.choices,
                            default=ScheduleKind.CRON)
    cron = models.CharField(max_length=100, blank=True)  # "0 9 * * 1": Mondays at 9:00
    interval_seconds = models.PositiveIntegerField(null=True, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    # Which slots to refresh: those of these formats (none chosen: every slot).
    formats = models.ManyToManyField(Format, blank=True, related_name="+")
    variants = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(8)]
    )
    enabled = models.BooleanField(default=True)
    # The django-celery-beat entry that rings for this schedule.
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="cron") & ~Q(cron=""))
                | Q(kind="interval", interval_seconds__gte=1),
                name="schedule_has_its_rule",
            ),
        ]

    def __str__(self) -> str:
        rule = self.cron if self.kind == ScheduleKind.CRON else f"every {self.interval_seconds} s"
        return f"{self.campaign}: {rule} ({self.timezone})"


class RefreshTrigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    MANUAL = "manual", "Refresh now"


class CampaignRefresh(models.Model):
    """One refresh of a campaign for one period: at most one per (campaign, period)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="refreshes")
    # The scheduled time this refresh stands for (UTC): duplicates of a tick share it.
    period = models.DateTimeField()
    trigger = models.CharField(max_length=10, choices=RefreshTrigger.choices)
    jobs_created = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "period"], name="one_refresh_per_period"),
        ]
        ordering = ["-period"]

    def __str__(self) -> str:
        return f"{self.campaign} refresh for {self.period:%Y-%m-%d %H:%M}"


class ReviewAction(models.TextChoices):
    APPROVE = "approve", "Approved"
    REQUEST_CHANGES = "request_changes", "Requested changes"
    REJECT = "reject", "Rejected"
    VOID = "void", "Approval void"  # the file changed after approval (P3)
    REPLACED = "replaced", "Replaced as live asset"
    UNDO = "undo", "Undone"  # the reviewer took the decision back within seconds


class ReviewEvent(models.Model):
    """One review decision on one asset version, bound to the SHA-256 of its file."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    asset = models.ForeignKey(
        "rendering.Asset", on_delete=models.CASCADE, related_name="review_events"
    )
    action = models.CharField(max_length=20, choices=ReviewAction.choices)
    from_state = models.CharField(max_length=20)
    to_state = models.CharField(max_length=20)
    comment = models.TextField(max_length=2000, blank=True)
    sha256 = models.CharField(max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    # Request changes: the Qwen-Image-Edit job the comment became.
    edit_job = models.ForeignKey(
        "rendering.RenderJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=ReviewAction.values), name="review_action_valid"
            ),
        ]
        indexes = [models.Index(fields=["asset", "created_at"])]
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} asset {self.asset_id}"
