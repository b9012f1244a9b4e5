"""API representations of who may do what: workspaces, members, invitations, API tokens and
the audit log."""

from __future__ import annotations

from django.utils import timezone
from rest_framework import serializers

from api.models import ApiToken
from brands.models import AuditEvent, Invitation, Membership, Role


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
