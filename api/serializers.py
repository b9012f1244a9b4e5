"""API representations. They parse and present; services apply the rules."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers

from brands.models import (
    AuditEvent,
    BrandFont,
    BrandKit,
    BrandLogo,
    FeedImport,
    FeedSource,
    Invitation,
    Membership,
    Product,
    Role,
)
from brands.models import ProductPhoto as ProductPhotoModel
from campaigns.models import Campaign, CampaignRefresh, RefreshSchedule, ReviewEvent, Slot
from rendering.models import Asset, Format, PromptTemplate, RenderJob

from .converters import ID_MAX
from .models import ApiToken, WebhookDelivery, WebhookEndpoint, WebhookEvent
from .webhook_targets import TargetRefused, webhook_target_check

LANGUAGE_CHOICES = [("en", "English"), ("zh", "Chinese")]


class IdField(serializers.IntegerField):
    """An object id: a whole number the database can hold (larger ones would overflow it)."""

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=ID_MAX, **kwargs)


class InWorkspace(serializers.PrimaryKeyRelatedField):
    """An id of an object in the URL's workspace (another workspace's id does not exist)."""

    default_error_messages = {
        "does_not_exist": "No such object in this workspace (id {pk_value}).",
        "incorrect_type": "Expected an id (a number), got {data_type}.",
    }

    def __init__(self, *, presets: bool = False, **kwargs):
        self.presets = presets
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, int) and not isinstance(data, bool) and not 1 <= data <= ID_MAX:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)

    def get_queryset(self):
        from django.db.models import Q

        workspace = self.context.get("workspace")
        scope = Q(workspace=workspace) | Q(workspace=None) if self.presets else Q(
            workspace=workspace)
        return super().get_queryset().filter(scope)


# --- brand kits ---------------------------------------------------------------------------

class BrandFontSerializer(serializers.ModelSerializer):
    class Meta:
        model = BrandFont
        fields = ["id", "family", "style", "sha256", "uploaded_at"]


class BrandLogoSerializer(serializers.ModelSerializer):
    class Meta:
        model = BrandLogo
        fields = ["id", "name", "width", "height", "sha256", "uploaded_at"]


class PaletteColorSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=60)
    hex = serializers.CharField(max_length=7, help_text="#0A4F8C")
    role = serializers.CharField(max_length=20, required=False, allow_blank=True,
                                 help_text="primary, secondary, accent, background or text")


class BrandKitSerializer(serializers.ModelSerializer):
    palette = PaletteColorSerializer(many=True, required=False)
    style_keywords = serializers.ListField(child=serializers.CharField(max_length=100),
                                           required=False)
    banned_terms = serializers.ListField(child=serializers.CharField(max_length=100),
                                         required=False)
    languages = serializers.ListField(
        child=serializers.ChoiceField(choices=LANGUAGE_CHOICES), required=False)
    fonts = BrandFontSerializer(many=True, read_only=True)
    logos = BrandLogoSerializer(many=True, read_only=True)

    class Meta:
        model = BrandKit
        fields = ["id", "name", "palette", "style_keywords", "tone", "logo_position",
                  "contact_line", "disclaimer", "banned_terms", "negative_prompt", "languages",
                  "version", "updated_at", "fonts", "logos"]
        read_only_fields = ["version", "updated_at"]

    def validate_name(self, value):
        taken = BrandKit.objects.filter(workspace=self.context["workspace"], name=value)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError("A brand kit with this name already exists.")
        return value


class FontUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A TrueType (.ttf) or OpenType (.otf) font.")


class LogoUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A PNG or WebP logo with transparency.")
    name = serializers.CharField(max_length=120, required=False, allow_blank=True)


# --- products -----------------------------------------------------------------------------

class ProductPhotoSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProductPhotoModel
        fields = ["id", "width", "height", "sha256", "uploaded_at"]


class OptionalUrlField(serializers.URLField):
    """A URL that may be missing: null then, never an empty string that is no URL."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, allow_null=True, **kwargs)

    def to_representation(self, value):
        return value or None


class ProductSerializer(serializers.ModelSerializer):
    photos = ProductPhotoSerializer(many=True, read_only=True)
    landing_url = OptionalUrlField(help_text="The product page (null: none)")
    image_url = OptionalUrlField(help_text="The feed's image link (null: none)")

    class Meta:
        model = Product
        fields = ["id", "sku", "name", "slogan", "description", "price", "currency", "features",
                  "landing_url", "image_url", "version", "updated_at", "photos"]
        read_only_fields = fields


class ProductInputSerializer(serializers.Serializer):
    # Raw input; brands.product_fields cleans it with the same rules as a feed row.

    sku = serializers.CharField(max_length=200)
    name = serializers.CharField(max_length=1000)
    slogan = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    description = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    price = serializers.CharField(max_length=40, help_text="An amount such as '12.99'.")
    currency = serializers.CharField(max_length=3, help_text="ISO 4217, e.g. USD")
    features = serializers.ListField(child=serializers.CharField(max_length=500),
                                     required=False)
    landing_url = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    image_url = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class FeedUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A CSV with Google Merchant Center columns "
                                           "(id, title, price, ...).")


class FeedImportSerializer(serializers.ModelSerializer):
    source = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True,
        help_text="The feed source (null: a file uploaded by hand)")

    class Meta:
        model = FeedImport
        fields = ["id", "source", "filename", "status", "attempt", "cancel_requested",
                  "not_modified", "rows_total", "rows_created", "rows_updated",
                  "rows_unchanged", "rows_failed", "rows_unavailable", "photos_queued",
                  "errors", "errors_truncated", "notes", "fatal_error", "created_at",
                  "started_at", "finished_at"]
        read_only_fields = fields


class FeedSourceSerializer(serializers.ModelSerializer):
    """A feed source. ``auth_secret_ref`` names the environment variable holding the secret
    (``env:SHOP_FEED_TOKEN``); the secret itself is never stored or shown."""

    url = serializers.URLField(max_length=2000, help_text="The feed's address (http or https)")
    last_import = FeedImportSerializer(read_only=True, allow_null=True)

    class Meta:
        model = FeedSource
        fields = ["id", "name", "kind", "url", "format", "full_feed", "auth", "auth_username",
                  "auth_header_name", "auth_secret_ref", "schedule", "schedule_cron",
                  "schedule_timezone", "last_etag", "last_modified", "last_import",
                  "created_at", "updated_at"]
        read_only_fields = ["id", "kind", "last_etag", "last_modified", "last_import",
                            "created_at", "updated_at"]
        extra_kwargs = {"name": {"max_length": 120},
                        "auth_secret_ref": {"help_text": "env:VARNAME, read when fetching"}}


class PhotoUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A PNG, JPEG or WebP photo.")


# --- templates and formats ----------------------------------------------------------------

class PromptTemplateSerializer(serializers.ModelSerializer):
    brand = InWorkspace(queryset=BrandKit.objects.all(), allow_null=True, required=False,
                        help_text="Only for this brand kit (empty: every brand).")

    class Meta:
        model = PromptTemplate
        fields = ["id", "name", "kind", "brand", "body", "negative_prompt", "version",
                  "updated_at"]
        read_only_fields = ["version", "updated_at"]

    def validate_name(self, value):
        taken = PromptTemplate.objects.filter(workspace=self.context["workspace"], name=value)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError("A template with this name already exists.")
        return value


class PreviewInputSerializer(serializers.Serializer):
    brand = InWorkspace(queryset=BrandKit.objects.all(), help_text="Brand kit id")
    product = InWorkspace(queryset=Product.objects.all(), help_text="Product id")
    language = serializers.ChoiceField(choices=LANGUAGE_CHOICES, default="en")


class UnsavedPreviewInputSerializer(PreviewInputSerializer):
    body = serializers.CharField(max_length=4000)
    negative_prompt = serializers.CharField(max_length=1000, required=False, allow_blank=True,
                                            default="")


class ComposedPromptSerializer(serializers.Serializer):
    prompt = serializers.CharField()
    negative_prompt = serializers.CharField()
    language = serializers.CharField()


class FormatSerializer(serializers.ModelSerializer):
    preset = serializers.SerializerMethodField()

    class Meta:
        model = Format
        fields = ["id", "key", "name", "channel", "kind", "width", "height", "dpi", "bleed_mm",
                  "max_kilobytes", "safe_zone", "preset"]
        read_only_fields = ["key", "dpi", "bleed_mm", "max_kilobytes", "safe_zone"]
        extra_kwargs = {"channel": {"required": False, "help_text": "Default: Custom"}}

    def get_preset(self, obj) -> bool:
        return obj.workspace_id is None


# --- campaigns ----------------------------------------------------------------------------

class SlotSerializer(serializers.ModelSerializer):
    class Meta:
        model = Slot
        fields = ["id", "product", "format"]


class CampaignSerializer(serializers.ModelSerializer):
    brand = InWorkspace(queryset=BrandKit.objects.all())
    products = InWorkspace(queryset=Product.objects.all(), many=True,
                           help_text="Product ids")
    formats = InWorkspace(queryset=Format.objects.all(), many=True, presets=True,
                          help_text="Format ids (presets or this workspace's own)")
    templates = InWorkspace(queryset=PromptTemplate.objects.all(), many=True, required=False,
                            help_text="Optional prompt template ids")
    slots = SlotSerializer(many=True, read_only=True)

    class Meta:
        model = Campaign
        fields = ["id", "name", "status", "brand", "products", "formats", "templates",
                  "variants_per_slot", "language", "starts_on", "ends_on",
                  "auto_rerender_stale", "created_at", "slots"]
        read_only_fields = ["status", "auto_rerender_stale", "created_at"]

    def validate_name(self, value):
        if Campaign.objects.filter(workspace=self.context["workspace"], name=value).exists():
            raise serializers.ValidationError("A campaign with this name already exists.")
        return value


class CampaignUpdateSerializer(serializers.Serializer):
    """What can change after creation; the brand kit and language stay (a new campaign for
    those). Adding products or formats adds slots; removing them removes their slots, refused
    (400) when a slot already has assets."""

    FIXED = ("brand", "language")

    name = serializers.CharField(max_length=150)
    starts_on = serializers.DateField(allow_null=True, required=False)
    ends_on = serializers.DateField(allow_null=True, required=False)
    variants_per_slot = serializers.IntegerField(min_value=1, max_value=8, required=False)
    products = InWorkspace(queryset=Product.objects.all(), many=True, allow_empty=False,
                           help_text="Product ids")
    formats = InWorkspace(queryset=Format.objects.all(), many=True, presets=True,
                          allow_empty=False,
                          help_text="Format ids (presets or this workspace's own)")
    templates = InWorkspace(queryset=PromptTemplate.objects.all(), many=True, required=False,
                            help_text="Optional prompt template ids")

    def validate(self, attrs):
        campaign = self.instance
        fixed = {key: self.initial_data[key] for key in self.FIXED
                 if key in self.initial_data and campaign is not None}
        if "brand" in fixed and str(fixed["brand"]) != str(campaign.brand_id):
            raise serializers.ValidationError({"brand": [
                "A campaign's brand kit cannot change; create a new campaign for another."]})
        if "language" in fixed and fixed["language"] != campaign.language:
            raise serializers.ValidationError({"language": [
                "A campaign's language cannot change; create a new campaign for another."]})
        return attrs

    def validate_name(self, value):
        taken = Campaign.objects.filter(workspace=self.context["workspace"], name=value)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError("A campaign with this name already exists.")
        return value


class GenerateInputSerializer(serializers.Serializer):
    slots = serializers.ListField(child=IdField(), required=False,
                                  help_text="Only these slot ids (default: every slot)")
    variants = serializers.IntegerField(min_value=1, max_value=8, required=False,
                                        help_text="Default: the campaign's variants per slot")
    seed = serializers.IntegerField(min_value=0, max_value=2**32 - 1, required=False,
                                    help_text="First variant's seed (default: random)")


class GenerateResultSerializer(serializers.Serializer):
    jobs = serializers.ListField(child=serializers.IntegerField(), help_text="Render job ids")
    count = serializers.IntegerField()


class RefreshResultSerializer(serializers.Serializer):
    refreshed = serializers.BooleanField(
        help_text="False when this period was already refreshed")
    period = serializers.DateTimeField(allow_null=True)
    jobs_created = serializers.IntegerField()


class RefreshScheduleSerializer(serializers.ModelSerializer):
    formats = InWorkspace(queryset=Format.objects.all(), many=True, presets=True,
                          required=False,
                          help_text="Refresh only slots of these formats (empty: every slot)")
    auto_rerender_stale = serializers.BooleanField(required=False)

    class Meta:
        model = RefreshSchedule
        fields = ["kind", "cron", "interval_seconds", "timezone", "formats", "variants",
                  "enabled", "auto_rerender_stale", "updated_at"]
        read_only_fields = ["updated_at"]
        extra_kwargs = {"cron": {"help_text": "'0 9 * * 1': Mondays at 9:00"}}


class CampaignRefreshSerializer(serializers.ModelSerializer):
    class Meta:
        model = CampaignRefresh
        fields = ["id", "period", "trigger", "jobs_created", "created_at"]


# --- jobs and assets ----------------------------------------------------------------------

class RenderJobSerializer(serializers.ModelSerializer):
    campaign = serializers.IntegerField(source="slot.campaign_id", allow_null=True,
                                        read_only=True)
    asset = serializers.SerializerMethodField()
    queue_position = serializers.SerializerMethodField(
        help_text="About how many jobs are claimed before this one (queued jobs only)")
    progress = serializers.SerializerMethodField(help_text="Denoising steps done / total")

    class Meta:
        model = RenderJob
        fields = ["id", "kind", "status", "campaign", "slot", "variant", "attempt",
                  "attempt_limit", "progress_step", "progress_total", "progress",
                  "queue_position", "cancel_requested", "error", "gpu_seconds", "asset",
                  "source_asset", "created_at", "started_at", "finished_at"]
        read_only_fields = fields

    def get_asset(self, obj) -> int | None:
        asset = getattr(obj, "asset", None)
        return asset.pk if asset is not None else None

    def get_queue_position(self, obj) -> int | None:
        return self.context.get("positions", {}).get(obj.pk)

    def get_progress(self, obj) -> float:
        total = obj.progress_total or (obj.recipe or {}).get("steps", 0)
        if obj.status == "succeeded":
            return 1.0
        return round(obj.progress_step / total, 3) if total else 0.0


class RenderJobDetailSerializer(RenderJobSerializer):
    class Meta(RenderJobSerializer.Meta):
        fields = [*RenderJobSerializer.Meta.fields, "recipe"]
        read_only_fields = fields


class AssetSerializer(serializers.ModelSerializer):
    campaign = serializers.IntegerField(source="slot.campaign_id", allow_null=True,
                                        read_only=True)
    stale = serializers.BooleanField(source="is_stale", read_only=True)
    file_url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField(
        help_text="The file through the API (Bearer token)")

    class Meta:
        model = Asset
        fields = ["id", "campaign", "slot", "job", "parent", "version", "review_state",
                  "is_live", "width", "height", "sha256", "stale", "stale_reason",
                  "file_url", "thumbnail_url", "download_url", "created_at"]
        read_only_fields = fields

    def _url(self, name: str, obj) -> str:
        request = self.context["request"]
        url = reverse(name, kwargs={"ws": self.context["workspace"].slug, "asset_id": obj.pk})
        return request.build_absolute_uri(url)

    def get_file_url(self, obj) -> str:
        return self._url("asset-file", obj)

    def get_thumbnail_url(self, obj) -> str:
        return self._url("asset-thumbnail", obj)

    def get_download_url(self, obj) -> str:
        return self._url("api-asset-download", obj)


class AssetVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Asset
        fields = ["id", "version", "review_state", "is_live", "sha256", "created_at"]
        read_only_fields = fields


class AssetDetailSerializer(AssetSerializer):
    versions = serializers.SerializerMethodField(
        help_text="Every version of this asset (its edit lineage), oldest first")
    quality_checks = serializers.SerializerMethodField()

    class Meta(AssetSerializer.Meta):
        fields = [*AssetSerializer.Meta.fields, "recipe", "versions", "quality_checks"]
        read_only_fields = fields

    def get_versions(self, obj) -> list[dict]:
        from campaigns.selectors import asset_lineage

        return AssetVersionSerializer(asset_lineage(obj).all, many=True).data

    def get_quality_checks(self, obj) -> list[dict]:
        from rendering import selectors

        reader = getattr(selectors, "asset_checks", None)  # the QA step, when installed
        return reader(obj) if reader else []


class ApproveInputSerializer(serializers.Serializer):
    sha256 = serializers.CharField(
        max_length=64, required=False, allow_null=True, default=None,
        help_text="The file hash you reviewed; nothing is approved if the asset changed since")
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True,
                                    default="")
    confirm_stale = serializers.BooleanField(
        required=False, default=False,
        help_text="Approve even though the asset is stale (without it a stale asset answers "
                  "409 with the reasons); the review event records the acknowledgement")


REGION_HELP = ("Optional area as [x, y, width, height], fractions of the image (0 to 1)")


class RequestChangesInputSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=2000,
                                    help_text="What should change: it becomes the edit")
    region = serializers.ListField(child=serializers.FloatField(), min_length=4, max_length=4,
                                   required=False, allow_null=True, default=None,
                                   help_text=REGION_HELP)


class RejectInputSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=2000, help_text="Why it is rejected")


class EditInputSerializer(serializers.Serializer):
    instruction = serializers.CharField(
        max_length=4000, help_text="e.g. 'make the background dark blue'; one per line to "
                                   "chain several")
    region = serializers.ListField(child=serializers.FloatField(), min_length=4, max_length=4,
                                   required=False, allow_null=True, default=None,
                                   help_text=REGION_HELP)


class ReviewEventSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username", allow_null=True, read_only=True,
                                 default=None)

    class Meta:
        model = ReviewEvent
        fields = ["id", "asset", "action", "from_state", "to_state", "comment", "sha256",
                  "user", "edit_job", "created_at"]
        read_only_fields = fields


class BulkApproveInputSerializer(serializers.Serializer):
    assets = serializers.ListField(child=IdField(), min_length=1,
                                   max_length=500, help_text="Asset ids to approve")
    confirm_stale = serializers.BooleanField(
        required=False, default=False,
        help_text="Approve stale assets too (otherwise they are skipped and listed in stale)")


class StaleAssetSerializer(serializers.Serializer):
    asset = serializers.IntegerField()
    stale_reason = serializers.CharField()
    stale_reasons = serializers.ListField(child=serializers.CharField(),
                                          help_text="One entry per change")


class StaleApprovalConflictSerializer(StaleAssetSerializer):
    """409 from approve: the asset is stale; send confirm_stale to approve it anyway."""

    detail = serializers.CharField(help_text="The question, naming the reasons")


class BulkApproveResultSerializer(serializers.Serializer):
    approved = serializers.ListField(child=serializers.IntegerField(),
                                     help_text="Approved asset ids")
    problems = serializers.ListField(child=serializers.CharField(),
                                     help_text="Why the others were not approved")
    stale = StaleAssetSerializer(many=True, help_text="Stale assets skipped (send "
                                                      "confirm_stale to approve them)")


class ExportInputSerializer(serializers.Serializer):
    include_stale = serializers.BooleanField(
        required=False, default=False,
        help_text="Put stale live assets in the ZIP too (default: left out, listed in "
                  "stale.csv and in left_out_stale)")


class ExportLeftOutSerializer(serializers.Serializer):
    asset = serializers.IntegerField(source="pk")
    sku = serializers.CharField(source="slot.product.sku")
    format = serializers.CharField(source="slot.format.key")
    version = serializers.IntegerField()
    stale_reason = serializers.CharField()


class ExportLinkSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="A signed download link that expires")
    include_stale = serializers.BooleanField()
    left_out_stale = ExportLeftOutSerializer(
        many=True, help_text="Stale live assets the ZIP leaves out (empty with include_stale)")


class RerenderStaleInputSerializer(serializers.Serializer):
    product = IdField(required=False,
                                       help_text="Only this product's slots (default: all)")


class RerenderStaleResultSerializer(serializers.Serializer):
    jobs = serializers.ListField(child=serializers.IntegerField(), help_text="Render job ids")
    count = serializers.IntegerField()
    already_pending = serializers.IntegerField(
        help_text="Stale slots skipped: a fresh render is already queued or waiting for review")


# --- audit, tokens, webhooks --------------------------------------------------------------

class MemberSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    email = serializers.CharField(source="user.email", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "username", "email", "role", "created_at"]
        read_only_fields = ["created_at"]


class WorkspaceSerializer(serializers.ModelSerializer):
    slug = serializers.CharField(source="workspace.slug", read_only=True)
    name = serializers.CharField(source="workspace.name", read_only=True)
    role = serializers.CharField(read_only=True, help_text="Your role here")

    class Meta:
        model = Membership
        fields = ["slug", "name", "role"]


class WorkspaceDetailSerializer(WorkspaceSerializer):
    gpu_seconds_this_month = serializers.FloatField(read_only=True)
    gpu_quota_seconds = serializers.IntegerField(read_only=True, allow_null=True,
                                                 help_text="Empty: unlimited")

    class Meta(WorkspaceSerializer.Meta):
        fields = [*WorkspaceSerializer.Meta.fields, "gpu_seconds_this_month",
                  "gpu_quota_seconds"]


class NotificationSettingsSerializer(serializers.ModelSerializer):
    class Meta:
        model = Membership
        fields = ["notify_review_waiting", "notify_reviewed"]
        extra_kwargs = {
            "notify_review_waiting": {"help_text": "A digest of assets waiting for review"},
            "notify_reviewed": {"help_text": "An email when one of your assets is reviewed"},
        }


class MemberInviteSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254, help_text="The invitee's email address")
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationSentSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="“Invitation sent to <email>.”, whoever the "
                                             "address belongs to")
    email = serializers.CharField(help_text="The address, normalised (lower case)")
    role = serializers.CharField()


class InvitationSerializer(serializers.ModelSerializer):
    invited_by = serializers.CharField(source="invited_by.username", allow_null=True,
                                       read_only=True, default=None)
    expired = serializers.SerializerMethodField()

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "invited_by", "created_at", "sent_at", "expires_at",
                  "expired"]
        read_only_fields = fields

    def get_expired(self, obj) -> bool:
        return obj.expires_at <= timezone.now()


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", allow_null=True, read_only=True,
                                  default=None)

    class Meta:
        model = AuditEvent
        fields = ["id", "verb", "object_type", "object_id", "actor", "data", "created_at"]
        read_only_fields = fields


class ApiTokenSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="user.username", read_only=True,
                                  help_text="The member the token acts as")

    class Meta:
        model = ApiToken
        fields = ["id", "name", "owner", "role", "prefix", "created_at", "last_used_at",
                  "expires_at", "revoked_at"]
        read_only_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
        extra_kwargs = {"role": {"required": False,
                                 "help_text": "Default: your role. Never more than your role."}}


class NewApiTokenSerializer(ApiTokenSerializer):
    token = serializers.CharField(read_only=True,
                                  help_text="The token. Shown only now: store it safely.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]


class WebhookEndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.choices),
                                   allow_empty=False)

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "events", "active", "created_at"]
        read_only_fields = ["created_at"]

    def validate_url(self, value):
        try:  # the service checks again; this names the field next to the others' errors
            webhook_target_check(value, purpose="save")
        except TargetRefused as exc:
            raise serializers.ValidationError(str(exc)) from exc
        return value


class NewWebhookEndpointSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(read_only=True, help_text="Verifies the X-AdStudio-Signature "
                                                             "header; store it safely.")

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = ["id", "event", "status", "attempts", "response_status", "response_excerpt",
                  "error", "next_retry_at", "created_at", "delivered_at"]
        read_only_fields = fields
