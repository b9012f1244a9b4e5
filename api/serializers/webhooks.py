"""API representations of webhook endpoints and their deliveries."""

from __future__ import annotations

from rest_framework import serializers

from api.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from api.webhook_targets import TargetRefused, webhook_target_check


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
