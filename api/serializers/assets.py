"""API representations of assets (with their versions) and of reviewing them: approve, request
changes, reject, edit, bulk approval."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from api.serializers.fields import IdField
from campaigns.models import ReviewEvent
from rendering.models import Asset


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
        fields = [*AssetSerializer.Meta.fields, "recipe", "design", "design_sha256", "versions",
                  "quality_checks"]
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


class DesignSerializer(serializers.Serializer):
    design = serializers.JSONField(
        help_text="The layered design (version 1 of the design format, docs/api.md): layers "
                  "bottom to top, in format pixels. Saving one composes the next version, in "
                  "review.")
    design_sha256 = serializers.CharField(read_only=True)


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
