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


class TextMode(models.TextChoices):
    NATIVE = "native", "Native: the model draws the copy"
    OVERLAY = "overlay", "Overlay: we set the copy on a text-free image"
    BOTH = "both", "Both: the model draws the headline, we set the rest"


class Background(models.TextChoices):
    PICTURE = "picture", "One picture per format (the model draws the whole ad)"
    FILL = "fill", "Layered design over a brand fill (no GPU)"
    # The model paints a scene around the real product's cut-out, once per product and
    # variant (a master); every format is cut from it, or outpainted where it does not reach.
    SCENE = "scene", "Layered design over a scene painted around the product (one per product)"
    # The model paints a picture with no product in it (QwenImagePipeline), once per product
    # and variant; the cut-out goes on top like the other layers.
    PLAIN = "plain", "Layered design over a picture the model paints (one per product)"
    IMAGE = "image", "Layered design over an uploaded picture (no GPU)"


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
    # Who draws the words (rendering/compose/): the model, our typography layer, or both.
    text_mode = models.CharField(max_length=10, choices=TextMode.choices, default=TextMode.NATIVE)
    # What an ad of this template is made of: one picture per format (the model draws the
    # scene, and the copy natively or as an overlay), or a layered design over a brand fill,
    # composed on the CPU (rendering/design/): its copy and price change without a GPU.
    background = models.CharField(max_length=10, choices=Background.choices,
                                  default=Background.PICTURE)
    # Copy lines, sandboxed template strings like the body; the price and the brand's
    # disclaimer come from the product and the brand kit.
    # The picture under an "image" template's layers (rendering.templates.
    # prompt_template_background_set: checked like every upload).
    background_image = models.FileField(max_length=255, blank=True)
    background_image_sha256 = models.CharField(max_length=64, blank=True)
    headline = models.CharField(max_length=300, blank=True)
    subline = models.CharField(max_length=500, blank=True)
    cta = models.CharField(max_length=100, blank=True)
    show_price = models.BooleanField(default=False)
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


class JobKind(models.TextChoices):
    GENERATE = "generate", "Generate"
    EDIT = "edit", "Edit"
    COMPOSE = "compose", "Compose"  # a layered design composed on the CPU (cpu queue)
    BACKGROUND = "background", "Background"  # a scene master or an outpaint of it (gpu)


class JobQueue(models.TextChoices):
    GPU = "gpu", "GPU"
    CPU = "cpu", "CPU"


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
    kind = models.CharField(max_length=10, choices=JobKind.choices, default=JobKind.GENERATE)
    # Which workers claim it: GPU renders and edits, CPU compositions.
    queue = models.CharField(max_length=3, choices=JobQueue.choices, default=JobQueue.GPU)
    # Edits: the asset version the instruction applies to (the output is its child).
    source_asset = models.ForeignKey(
        "Asset", null=True, blank=True, on_delete=models.CASCADE, related_name="edit_jobs"
    )
    # The scheduled refresh that queued this job, if any (the campaign's refresh history).
    refresh = models.ForeignKey(
        "campaigns.CampaignRefresh", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="jobs",
    )
    recipe = models.JSONField()
    # A job that needs another's output first (a composition waits for its scene, an outpaint
    # for its master): claimed only once that one succeeded, failed when it fails.
    waits_for = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="waiting")
    # Jobs with the same key can share one pipeline call (model, size, steps, guidance).
    batch_key = models.CharField(max_length=200, blank=True, db_index=True)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    # The fencing token: bumped by every claim; only the current attempt may write results.
    attempt = models.PositiveIntegerField(default=0)
    # Claims stop at this attempt (a retry by a user raises it; attempts never go back).
    attempt_limit = models.PositiveIntegerField(default=3)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    cancel_requested = models.BooleanField(default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    progress_step = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    gpu_seconds = models.FloatField(default=0)
    error = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=JobStatus.values), name="job_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(attempt__lte=models.F("attempt_limit")), name="job_attempt_capped"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["generate", "compose", "background"])
                | Q(source_asset__isnull=False),
                name="edit_job_has_source",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["workspace", "status"]),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"job {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class ReviewState(models.TextChoices):
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    REJECTED = "rejected", "Rejected"


class Asset(models.Model):
    """One rendered image with the recipe that renders it again.

    Review: every new asset waits ``in_review``; campaigns.review moves it. At most one approved
    asset per slot is ``is_live`` (the one that ships).
    """

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
    version = models.PositiveIntegerField(default=1)  # parent's version + 1 for an edit
    review_state = models.CharField(
        max_length=20, choices=ReviewState.choices, default=ReviewState.IN_REVIEW
    )
    is_live = models.BooleanField(default=False)
    file = models.FileField(max_length=255)
    thumbnail = models.FileField(max_length=255)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    recipe = models.JSONField()
    # A composed asset's design (rendering/design/schema.py) and its hash; approval binds to
    # the file's hash, and the file is the design's composition.
    design = models.JSONField(null=True, blank=True)
    design_sha256 = models.CharField(max_length=64, blank=True)
    # Set when the product, brand kit or template it was made from changed since.
    stale_reason = models.CharField(max_length=500, blank=True)
    stale_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(review_state__in=ReviewState.values), name="asset_review_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(is_live=False) | Q(review_state=ReviewState.APPROVED),
                name="live_asset_is_approved",
            ),
            models.UniqueConstraint(
                fields=["slot"], condition=Q(is_live=True), name="one_live_asset_per_slot"
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "review_state", "created_at"]),
            models.Index(fields=["slot", "created_at"]),
            # The asset list's newest-first page (bench/dashboard.py: 8.3 -> 0.4 ms at 100k).
            models.Index(fields=["workspace", "-created_at", "-id"], name="asset_ws_newest"),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"asset {self.pk} {self.width}x{self.height}"

    @property
    def is_stale(self) -> bool:
        return self.stale_at is not None


class BackgroundLayer(models.Model):
    """A painted background a composition is laid on: a scene master around a product's
    cut-out, or an outpaint of a master to another aspect ratio. Kept by its recipe's hash, so
    a recomposition (a price, a headline) reuses it and never renders again."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE,
                                  related_name="background_layers")
    job = models.OneToOneField(RenderJob, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="background_layer")
    recipe_sha256 = models.CharField(max_length=64)
    recipe = models.JSONField()
    file = models.FileField(max_length=255)
    sha256 = models.CharField(max_length=64)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    # Where the product's cut-out sits in this image, [x, y, w, h] px: formats are cut so
    # that their product box lands on it.
    product_rect = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "recipe_sha256"],
                                    name="one_background_per_recipe"),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"background {self.pk} {self.width}x{self.height}"


class WorkerStatus(models.TextChoices):
    LOADING = "loading", "Loading the model"
    HEALTHY = "healthy", "Ready"
    FAILED = "failed", "Could not load the model"
    LOST = "lost", "Lost (no heartbeat)"
    STOPPED = "stopped", "Stopped"


class Worker(models.Model):
    """A worker process, as it last reported itself (heartbeat)."""

    name = models.CharField(max_length=200, unique=True)  # celery node name + pid
    queues = models.CharField(max_length=100)
    device = models.CharField(max_length=200, blank=True)  # e.g. "cuda:0 NVIDIA H200 (141 GB)"
    model = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=20, choices=WorkerStatus.choices,
                              default=WorkerStatus.LOADING)
    # What an operator should know about the status (a failed load's reason, why it is lost).
    detail = models.CharField(max_length=500, blank=True)
    # Seconds the model took to load and warm up in this process (None while loading).
    load_seconds = models.FloatField(null=True, blank=True)
    jobs_done = models.PositiveIntegerField(default=0)
    current_job = models.ForeignKey(
        RenderJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CheckStatus(models.TextChoices):
    PASS = "pass", "Pass"
    WARN = "warn", "Warn"
    FAIL = "fail", "Fail"
    # The check could not verify something (OCR cannot read it): a person has to look.
    UNVERIFIED = "unverified", "Not verified"


class CheckKind(models.TextChoices):
    TEXT = "text", "Copy reads exactly"
    PALETTE = "palette", "Brand palette"
    LOGO = "logo", "Logo visible"
    SAFE_ZONE = "safe_zone", "Safe zones"
    FILE_WEIGHT = "file_weight", "File weight"
    COPY_RULES = "copy_rules", "Banned terms and character limits"
    PRODUCT = "product", "Product exactly as in the catalog"


class QualityCheck(models.Model):
    """One quality check's verdict on one asset (rendering/quality/checks.py), with its evidence:
    OCR readings and differences, boxes, scores, encoder settings."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="checks")
    kind = models.CharField(max_length=20, choices=CheckKind.choices)
    status = models.CharField(max_length=12, choices=CheckStatus.choices)
    reason = models.CharField(max_length=1000)
    details = models.JSONField(default=dict, blank=True)
    seconds = models.FloatField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["asset", "kind"], name="one_check_per_kind"),
            models.CheckConstraint(condition=Q(status__in=CheckStatus.values),
                                   name="check_status_valid"),
        ]
        ordering = ["asset", "kind"]

    def __str__(self) -> str:
        return f"{self.kind} {self.status} for asset {self.asset_id}"
