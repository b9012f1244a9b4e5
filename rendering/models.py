"""Formats, prompt templates, render jobs and assets."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from brands.models import BrandKit, Workspace


class AssetKind(models.TextChoices):
    BANNER = "banner", "Banner"
    POSTER = "poster", "Poster"
    SOCIAL = "social", "Social"
    STORY = "story", "Story"
    CUSTOM = "custom", "Custom"


class Format(models.Model):
    """A named output size. Built-in channel presets have no workspace."""

    workspace = models.ForeignKey(
        Workspace, null=True, blank=True, on_delete=models.CASCADE, related_name="formats"
    )
    key = models.SlugField(max_length=60)
    name = models.CharField(max_length=120)
    channel = models.CharField(max_length=60)
    kind = models.CharField(max_length=16, choices=AssetKind.choices)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    dpi = models.PositiveIntegerField(null=True, blank=True)  # print formats only
    bleed_mm = models.DecimalField(max_digits=4, decimal_places=1, default=0)
    max_kilobytes = models.PositiveIntegerField(null=True, blank=True)
    # Pixels kept free of text at each edge, e.g. Meta stories: {"top": 250, "bottom": 250}.
    safe_zone = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=Q(workspace__isnull=True), name="preset_key_unique"
            ),
            models.UniqueConstraint(
                fields=["workspace", "key"],
                condition=Q(workspace__isnull=False),
                name="custom_format_key_unique",
            ),
            models.CheckConstraint(
                condition=Q(width__gte=16, width__lte=10000, height__gte=16, height__lte=10000),
                name="format_size_in_range",
            ),
        ]
        ordering = ["channel", "width", "height"]

    def __str__(self) -> str:
        return f"{self.name} {self.width}x{self.height}"

    @property
    def is_print(self) -> bool:
        return self.dpi is not None


class PromptTemplate(models.Model):
    """A Django-template prompt over whitelisted brand, product and campaign fields.

    ``version`` goes up on every change of the body; each version is kept as a revision.
    """

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="prompt_templates"
    )
    brand = models.ForeignKey(
        BrandKit, null=True, blank=True, on_delete=models.CASCADE, related_name="prompt_templates"
    )
    kind = models.CharField(max_length=16, choices=AssetKind.choices)
    name = models.CharField(max_length=120)
    body = models.TextField(max_length=4000)
    negative_prompt = models.CharField(max_length=1000, blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="template_name_unique"),
        ]
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class PromptTemplateRevision(models.Model):
    template = models.ForeignKey(
        PromptTemplate, on_delete=models.CASCADE, related_name="revisions"
    )
    version = models.PositiveIntegerField()
    body = models.TextField()
    negative_prompt = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["template", "version"], name="one_revision_per_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template_id} v{self.version}"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class RenderJob(models.Model):
    """One render request. The row is the truth; the task queue only rings the bell."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="render_jobs")
    slot = models.ForeignKey(
        "campaigns.Slot", null=True, blank=True, on_delete=models.CASCADE, related_name="jobs"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    variant = models.PositiveIntegerField(default=0)
    recipe = models.JSONField()
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    attempt = models.PositiveIntegerField(default=0)
    progress_step = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=JobStatus.values), name="job_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"])]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"job {self.pk} ({self.status})"


class Asset(models.Model):
    """One rendered image with the recipe that renders it again."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="assets")
    slot = models.ForeignKey(
        "campaigns.Slot", null=True, blank=True, on_delete=models.CASCADE, related_name="assets"
    )
    # One asset per job: a redelivered job cannot store a second one.
    job = models.OneToOneField(
        RenderJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="asset"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    file = models.FileField(max_length=255)
    thumbnail = models.FileField(max_length=255)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    recipe = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"asset {self.pk} {self.width}x{self.height}"
