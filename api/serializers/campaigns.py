"""API representations of campaigns: their slots, generation, scheduled refreshes, export and
stale re-rendering."""

from __future__ import annotations

from rest_framework import serializers

from api.serializers.fields import IdField, InWorkspace
from brands.models import BrandKit, Product
from campaigns.models import Campaign, CampaignRefresh, RefreshSchedule, Slot
from rendering.models import Format, PromptTemplate


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


# --- export and stale re-rendering --------------------------------------------------------

class ExportInputSerializer(serializers.Serializer):
    include_stale = serializers.BooleanField(
        required=False, default=False,
        help_text="Put stale live assets in the ZIP too (default: left out, listed in "
                  "stale.csv and in left_out_stale)")
    layers = serializers.BooleanField(
        required=False, default=False,
        help_text="Also put each composed asset's layered package in the ZIP: a folder named "
                  "like its file with design.json, one RGBA PNG per layer, the input files and "
                  "a README (default: images and manifest.csv only)")


class ExportLeftOutSerializer(serializers.Serializer):
    asset = serializers.IntegerField(source="pk")
    sku = serializers.CharField(source="slot.product.sku")
    format = serializers.CharField(source="slot.format.key")
    version = serializers.IntegerField()
    stale_reason = serializers.CharField()


class ExportLinkSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="A signed download link that expires")
    include_stale = serializers.BooleanField()
    layers = serializers.BooleanField(help_text="Whether the ZIP carries the layered packages")
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
