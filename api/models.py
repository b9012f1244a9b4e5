"""API tokens, idempotent requests and webhooks."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from brands.models import Role, Workspace


class ApiToken(models.Model):
    """A per-user token for one workspace with a role no higher than the user's own.

    Only the SHA-256 of the token is stored; ``prefix`` (public, unique) finds the row.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="api_tokens")
    role = models.CharField(max_length=16, choices=Role.choices)
    name = models.CharField(max_length=120)
    prefix = models.CharField(max_length=16, unique=True)
    token_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(role__in=Role.values), name="api_token_role_valid"),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class IdempotentRequest(models.Model):
    """The first response to a request sent with an ``Idempotency-Key`` header."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    operation = models.CharField(max_length=100)  # "campaign.generate:42"
    request_sha256 = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user", "key"],
                                    name="one_request_per_idempotency_key"),
        ]

    def __str__(self) -> str:
        return f"{self.operation} with key {self.key}"


class WebhookEvent(models.TextChoices):
    ASSET_APPROVED = "asset.approved", "Asset approved"
    ASSET_APPROVAL_UNDONE = "asset.approval_undone", "Asset approval undone"
    CAMPAIGN_REFRESHED = "campaign.refreshed", "Campaign refreshed"
    JOB_FAILED = "job.failed", "Render job failed"


class WebhookEndpoint(models.Model):
    """A URL of the workspace's own systems that hears about chosen events."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=2000)
    # Signs every payload (HMAC-SHA256); shown to the admin who creates the endpoint.
    secret = models.CharField(max_length=100)
    events = models.JSONField(default=list)  # ["asset.approved", ...]
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Delivered"
    RETRYING = "retrying", "Retrying"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One event sent to one endpoint, with every attempt's outcome."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=60)
    # The exact JSON body sent on every attempt (the signature covers it and a timestamp).
    body = models.TextField()
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    error = models.CharField(max_length=500, blank=True)
    next_retry_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values), name="webhook_delivery_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["endpoint", "created_at"])]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event} to {self.endpoint_id} ({self.status})"
