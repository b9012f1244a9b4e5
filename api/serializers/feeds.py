"""API representations of feed sources and feed imports (catalog sync)."""

from __future__ import annotations

from rest_framework import serializers

from brands.models import FeedImport, FeedSource


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
