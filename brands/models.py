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
    # The layouts the brand prefers, by id ("wide.mirror"): for each aspect class the first
    # one of the class listed is its ads' layout (rendering/design/layout_classes.py).
    preferred_layouts = models.JSONField(default=list, blank=True)
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
    # The logo composed ads show (brands.selectors.brand_logo_primary); at most one per kit.
    is_primary = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand"], condition=models.Q(is_primary=True),
                                    name="brand_logo_one_primary"),
        ]

    def __str__(self) -> str:
        return self.name


class Availability(models.TextChoices):
    IN_STOCK = "in_stock", "In stock"
    OUT_OF_STOCK = "out_of_stock", "Out of stock"
    PREORDER = "preorder", "Preorder"
    BACKORDER = "backorder", "Backorder"
    UNAVAILABLE = "unavailable", "No longer in the feed"


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
    additional_image_urls = models.JSONField(default=list, blank=True)
    # Merchant Center availability; "unavailable": missing from its last full feed (kept, not
    # deleted). Blank: never stated (a product made by hand).
    availability = models.CharField(max_length=16, choices=Availability.choices, blank=True)
    sale_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True,
                                     validators=[MinValueValidator(Decimal("0"))])
    sale_starts_at = models.DateTimeField(null=True, blank=True)
    sale_ends_at = models.DateTimeField(null=True, blank=True)
    brand_name = models.CharField(max_length=150, blank=True)
    gtin = models.CharField(max_length=50, blank=True)
    mpn = models.CharField(max_length=70, blank=True)
    product_type = models.CharField(max_length=750, blank=True)
    extra = models.JSONField(default=dict, blank=True)  # a feed's attributes we do not map
    # The feed source that last wrote the product, and the import that last saw it (full feeds
    # mark what the newest import did not see as unavailable).
    feed_source = models.ForeignKey("FeedSource", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="products")
    last_seen_import = models.ForeignKey("FeedImport", null=True, blank=True,
                                         on_delete=models.SET_NULL, related_name="+")
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
    # Where a photo from a product feed came from; blank for manual uploads.
    source_url = models.URLField(max_length=2000, blank=True, default="")
    # The ETag the image server sent: a re-import downloads again only when URL or ETag change.
    source_etag = models.CharField(max_length=255, blank=True, default="")
    # The cut-out (brands/cutouts.py, CREATIVE.md): the product's own pixels on transparency,
    # an RGBA PNG cropped to cutout_box["crop_box"]; made after the photo is added, or uploaded
    # by hand (method "uploaded"). Empty file with a note: the photo could not be cut out.
    cutout = models.FileField(max_length=255, blank=True, default="")
    cutout_sha256 = models.CharField(max_length=64, blank=True, default="")  # of the PNG
    cutout_method = models.CharField(max_length=64, blank=True, default="")
    cutout_note = models.TextField(blank=True, default="")  # "" when nothing looks wrong
    # {"box": [l, t, r, b] (opaque part), "crop_box": [l, t, r, b] (what the PNG covers),
    #  "photo_size": [w, h]}, in the pixels of the image it was cut from
    cutout_box = models.JSONField(null=True, blank=True)
    cutout_coverage = models.FloatField(null=True, blank=True)  # share of the photo: product
    # The photo's sha256 the cut-out was made from: a result for an older file is never kept.
    cutout_source_sha256 = models.CharField(max_length=64, blank=True, default="")
    cutout_made_at = models.DateTimeField(null=True, blank=True)  # null: not tried yet

    class Meta:
        indexes = [models.Index(fields=["product", "sha256"])]

    def __str__(self) -> str:
        return f"photo of {self.product_id}"


class FeedKind(models.TextChoices):
    URL = "url", "URL"
    FILE = "file", "Uploaded file"


class FeedFormat(models.TextChoices):
    AUTO = "auto", "Detect"
    CSV = "csv", "CSV"
    TSV = "tsv", "TSV"
    XML = "xml", "XML (RSS or Atom)"


class FeedAuth(models.TextChoices):
    NONE = "none", "None"
    BASIC = "basic", "Basic (user name and password)"
    HEADER = "header", "Header (e.g. an API token)"


class FeedSchedule(models.TextChoices):
    NONE = "none", "Only when run by hand"
    HOURLY = "hourly", "Every hour"
    DAILY = "daily", "Every day"
    CRON = "cron", "Cron expression"


class FeedSource(models.Model):
    """Where a workspace's catalog comes from: a feed URL or a stored file, and its schedule.

    The secret is never stored: ``auth_secret_ref`` names an environment variable
    (``env:SHOP_FEED_TOKEN``) that is read when the feed is fetched.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="feed_sources")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=8, choices=FeedKind.choices, default=FeedKind.URL)
    url = models.URLField(max_length=2000, blank=True)
    file = models.FileField(max_length=255, blank=True)  # ws/<id>/feeds/<uuid>.<ext>
    format = models.CharField(max_length=8, choices=FeedFormat.choices, default=FeedFormat.AUTO)
    auth = models.CharField(max_length=8, choices=FeedAuth.choices, default=FeedAuth.NONE)
    auth_username = models.CharField(max_length=200, blank=True)
    auth_header_name = models.CharField(max_length=100, blank=True)
    auth_secret_ref = models.CharField(max_length=120, blank=True)  # env:VARNAME
    full_feed = models.BooleanField(default=False)
    schedule = models.CharField(max_length=8, choices=FeedSchedule.choices,
                                default=FeedSchedule.NONE)
    schedule_cron = models.CharField(max_length=120, blank=True)
    schedule_timezone = models.CharField(max_length=64, default="UTC")
    periodic_task = models.OneToOneField("django_celery_beat.PeriodicTask", null=True,
                                         blank=True, on_delete=models.SET_NULL, related_name="+")
    last_etag = models.CharField(max_length=255, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)  # the server's HTTP date
    last_import = models.ForeignKey("FeedImport", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="feed_source_name_unique"),
            models.CheckConstraint(condition=Q(kind__in=FeedKind.values),
                                   name="feed_source_kind_valid"),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class FeedImport(models.Model):
    """One import of a product feed, run as a job (see brands.feed_jobs), and its report."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="feed_imports")
    source = models.ForeignKey(FeedSource, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="imports")  # empty: a file uploaded by hand
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    filename = models.CharField(max_length=255)
    file = models.FileField(max_length=255, blank=True)  # the uploaded file the job reads
    status = models.CharField(max_length=10, choices=ImportStatus.choices,
                              default=ImportStatus.QUEUED)
    attempt = models.PositiveIntegerField(default=0)  # the fencing token of the running claim
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    not_modified = models.BooleanField(default=False)  # the server answered 304
    rows_total = models.PositiveIntegerField(default=0)
    rows_created = models.PositiveIntegerField(default=0)
    rows_updated = models.PositiveIntegerField(default=0)
    rows_unchanged = models.PositiveIntegerField(default=0)
    rows_failed = models.PositiveIntegerField(default=0)
    rows_unavailable = models.PositiveIntegerField(default=0)  # missing from a full feed
    photos_queued = models.PositiveIntegerField(default=0)
    # [{"row": 7, "sku": "X1", "errors": {"price": ["..."]}}], capped (see brands.feed_import)
    errors = models.JSONField(default=list, blank=True)
    errors_truncated = models.BooleanField(default=False)
    notes = models.JSONField(default=list, blank=True)  # about the whole file, e.g. its encoding
    fatal_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ImportStatus.values),
                                   name="feed_import_status_valid"),
            # "Run now" twice, or a beat tick while it runs, gives one import of a source.
            models.UniqueConstraint(fields=["source"],
                                    condition=Q(status__in=["queued", "running"]),
                                    name="one_active_import_per_source"),
        ]
        indexes = [models.Index(fields=["status", "lease_expires_at"])]

    def __str__(self) -> str:
        return f"import of {self.filename}"

    @property
    def is_active(self) -> bool:
        return self.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)


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
