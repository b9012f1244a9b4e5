"""Workspaces, members and roles, brand kits, and the product catalog."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    MARKETER = "marketer", "Marketer"
    APPROVER = "approver", "Approver"
    VIEWER = "viewer", "Viewer"


class Workspace(models.Model):
    """A tenant. Nothing crosses workspaces."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    # GPU-seconds per calendar month (UTC); empty means unlimited.
    gpu_quota_seconds = models.PositiveIntegerField(null=True, blank=True)
    # When a worker last claimed one of this workspace's jobs: the round-robin key of fair
    # scheduling (the workspace served longest ago goes next).
    last_claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    # Email: approvers hear about assets waiting (a digest), marketers about reviews of theirs.
    notify_review_waiting = models.BooleanField(default=True)
    notify_reviewed = models.BooleanField(default=True)
    # The newest asset the last review digest covered for this member (the next starts after).
    review_digest_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="one_membership_per_user"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} as {self.role}"


class LogoPosition(models.TextChoices):
    TOP_LEFT = "top-left", "Top left"
    TOP_RIGHT = "top-right", "Top right"
    BOTTOM_LEFT = "bottom-left", "Bottom left"
    BOTTOM_RIGHT = "bottom-right", "Bottom right"


class BrandKit(models.Model):
    """The brand guidelines a render follows. ``version`` goes up on every change."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="brand_kits")
    name = models.CharField(max_length=120)
    # [{"name": "Ocean", "hex": "#0A4F8C", "role": "primary"}, ...]; validated by brands.palette
    palette = models.JSONField(default=list, blank=True)
    style_keywords = models.JSONField(default=list, blank=True)
    tone = models.CharField(max_length=300, blank=True)
    logo_position = models.CharField(
        max_length=16, choices=LogoPosition.choices, default=LogoPosition.TOP_LEFT
    )
    contact_line = models.CharField(max_length=200, blank=True)
    disclaimer = models.CharField(max_length=500, blank=True)
    banned_terms = models.JSONField(default=list, blank=True)
    negative_prompt = models.CharField(max_length=1000, blank=True)
    languages = models.JSONField(default=list, blank=True)  # ["en", "zh"]
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="brand_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    def color(self, role: str) -> str | None:
        return next((c["hex"] for c in self.palette if c.get("role") == role), None)


class BrandFont(models.Model):
    brand = models.ForeignKey(BrandKit, on_delete=models.CASCADE, related_name="fonts")
    family = models.CharField(max_length=120)
    style = models.CharField(max_length=60, blank=True)
    file = models.FileField(max_length=255)
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.family} {self.style}".strip()


class BrandLogo(models.Model):
    brand = models.ForeignKey(BrandKit, on_delete=models.CASCADE, related_name="logos")
    name = models.CharField(max_length=120)
    file = models.FileField(max_length=255)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="products")
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=150)
    slogan = models.CharField(max_length=200, blank=True)
    description = models.TextField(max_length=5000, blank=True)
    price = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    currency = models.CharField(max_length=3)  # ISO 4217, validated by brands.currencies
    features = models.JSONField(default=list, blank=True)
    landing_url = models.URLField(max_length=2000, blank=True)
    image_url = models.URLField(max_length=2000, blank=True)  # from a feed's image_link
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "sku"], name="sku_unique_per_workspace"),
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_not_negative"),
        ]
        ordering = ["name", "sku"]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"


class ProductPhoto(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(max_length=255)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"photo of {self.product_id}"


class FeedImport(models.Model):
    """One CSV feed import and its per-row report."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="feed_imports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    filename = models.CharField(max_length=255)
    rows_total = models.PositiveIntegerField(default=0)
    rows_created = models.PositiveIntegerField(default=0)
    rows_updated = models.PositiveIntegerField(default=0)
    rows_unchanged = models.PositiveIntegerField(default=0)
    rows_failed = models.PositiveIntegerField(default=0)
    # [{"row": 7, "sku": "X1", "errors": {"price": ["..."]}}], capped (see brands.feed_import)
    errors = models.JSONField(default=list, blank=True)
    errors_truncated = models.BooleanField(default=False)
    notes = models.JSONField(default=list, blank=True)  # about the whole file, e.g. its encoding
    fatal_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"import of {self.filename}"


class AuditEvent(models.Model):
    """An append-only record of a change that matters, written in the change's transaction."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="audit_events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    verb = models.CharField(max_length=60)  # "asset.approved", "member.role_changed", ...
    object_type = models.CharField(max_length=40)
    object_id = models.PositiveBigIntegerField()
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "object_type", "object_id"])]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.verb} {self.object_type} {self.object_id}"


class Invitation(models.Model):
    """An admin's invitation of an email address to the workspace, accepted by its owner.

    Only the SHA-256 of the link's token is stored. At most one invitation per address is
    pending (neither accepted nor revoked) in a workspace.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(max_length=254)  # normalised: stripped, lower case
    role = models.CharField(max_length=16, choices=Role.choices)
    token_sha256 = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "email"],
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="one_pending_invitation_per_email"),
            models.CheckConstraint(condition=Q(role__in=Role.values),
                                   name="invitation_role_valid"),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.email} to {self.workspace} as {self.role}"
