"""API representations of brand kits (fonts, logos), products (photos), prompt templates and
formats. They parse and present; services apply the rules."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from api.serializers.fields import LANGUAGE_CHOICES, InWorkspace, OptionalUrlField
from brands.models import BrandFont, BrandKit, BrandLogo, Product
from brands.models import ProductPhoto as ProductPhotoModel
from rendering.models import Format, PromptTemplate

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
    preferred_layouts = serializers.ListField(
        child=serializers.CharField(max_length=60), required=False,
        help_text='Layout ids the brand prefers, e.g. ["wide.mirror", "rectangle.mirror"]: '
                  "for each aspect class, the first listed of the class lays out its ads.")
    fonts = BrandFontSerializer(many=True, read_only=True)
    logos = BrandLogoSerializer(many=True, read_only=True)

    class Meta:
        model = BrandKit
        fields = ["id", "name", "palette", "style_keywords", "tone", "logo_position",
                  "contact_line", "disclaimer", "banned_terms", "negative_prompt", "languages",
                  "preferred_layouts",
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
    file_url = serializers.SerializerMethodField(
        help_text="The photo: a redirect to a signed link that expires (Bearer token)")
    cutout_url = serializers.SerializerMethodField(
        help_text="The cut-out, an RGBA PNG of the product on transparency: a redirect to a "
                  "signed link that expires (Bearer token); null while there is none")
    cutout_method = serializers.CharField(
        read_only=True, help_text="How the cut-out was made: alpha (the photo's own "
                                  "transparency), model:<name>, classical, or uploaded; empty "
                                  "while there is none")
    cutout_note = serializers.CharField(
        read_only=True, help_text="What to check about the cut-out, or why there is none; "
                                  "empty when nothing looks wrong")
    cutout_coverage = serializers.FloatField(
        read_only=True, allow_null=True,
        help_text="The share of the picture that is product, 0 to 1")

    class Meta:
        model = ProductPhotoModel
        fields = ["id", "width", "height", "sha256", "uploaded_at", "file_url", "cutout_url",
                  "cutout_method", "cutout_note", "cutout_coverage", "cutout_sha256",
                  "cutout_made_at"]
        read_only_fields = ["cutout_sha256", "cutout_made_at"]
        extra_kwargs = {
            "cutout_sha256": {"help_text": "SHA-256 of the cut-out PNG; empty while none"},
            "cutout_made_at": {"help_text": "When the cut-out was made or uploaded; null "
                                            "while it is being made"},
        }

    def _url(self, name: str, obj) -> str:
        workspace = self.context.get("workspace") or obj.product.workspace
        url = reverse(name, kwargs={"ws": workspace.slug, "product_id": obj.product_id,
                                    "photo_id": obj.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url

    def get_file_url(self, obj) -> str:
        return self._url("api-product-photo-file", obj)

    def get_cutout_url(self, obj) -> str | None:
        return self._url("api-product-photo-cutout", obj) if obj.cutout else None


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


class PhotoUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A PNG, JPEG or WebP photo.")


# --- templates and formats ----------------------------------------------------------------

class PromptTemplateSerializer(serializers.ModelSerializer):
    brand = InWorkspace(queryset=BrandKit.objects.all(), allow_null=True, required=False,
                        help_text="Only for this brand kit (empty: every brand).")

    class Meta:
        model = PromptTemplate
        fields = ["id", "name", "kind", "brand", "body", "negative_prompt", "background",
                  "text_mode", "headline", "subline", "cta", "show_price",
                  "background_image_sha256", "version", "updated_at"]
        read_only_fields = ["background_image_sha256", "version", "updated_at"]

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
