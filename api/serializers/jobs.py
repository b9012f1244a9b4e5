"""API representations of render jobs and their progress."""

from __future__ import annotations

from rest_framework import serializers

from rendering.models import RenderJob


class RenderJobSerializer(serializers.ModelSerializer):
    campaign = serializers.IntegerField(source="slot.campaign_id", allow_null=True,
                                        read_only=True)
    asset = serializers.SerializerMethodField()
    queue_position = serializers.SerializerMethodField(
        help_text="About how many jobs are claimed before this one (queued jobs only)")
    progress = serializers.SerializerMethodField(help_text="Denoising steps done / total")
    waits_for = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True,
        help_text="The job whose output this one needs first (a composition waits for its "
                  "painted scene); it runs once that succeeds and fails if that fails")

    class Meta:
        model = RenderJob
        fields = ["id", "kind", "status", "campaign", "slot", "variant", "attempt",
                  "attempt_limit", "progress_step", "progress_total", "progress",
                  "queue_position", "cancel_requested", "error", "gpu_seconds", "asset",
                  "source_asset", "waits_for", "created_at", "started_at", "finished_at"]
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
