"""API for API tokens, the workspace's webhook endpoints, members and invitations."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.models import ApiToken, WebhookEndpoint
from api.scoping import WorkspaceScoped, api_can
from api.serializers.access import (
    ApiTokenSerializer,
    InvitationSentSerializer,
    InvitationSerializer,
    MemberInviteSerializer,
    MemberSerializer,
    NewApiTokenSerializer,
    NotificationSettingsSerializer,
)
from api.serializers.webhooks import (
    NewWebhookEndpointSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointSerializer,
)
from api.tokens import api_token_create, api_token_revoke, api_tokens_manageable, role_within
from api.webhooks import webhook_endpoint_create, webhook_endpoint_delete, webhook_endpoint_update
from brands import invitations, members
from brands.models import Invitation, Membership


@extend_schema_view(
    list=extend_schema(summary="API tokens: every token of the workspace for admins, your own "
                               "for everyone else"),
    retrieve=extend_schema(summary="An API token (admins: any of the workspace)"),
    create=extend_schema(summary="Create an API token; the token is shown only in this answer",
                         responses={201: NewApiTokenSerializer}),
)
class ApiTokenViewSet(WorkspaceScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      mixins.CreateModelMixin, viewsets.GenericViewSet):
    serializer_class = ApiTokenSerializer
    lookup_url_kwarg = "token_id"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ApiToken.objects.none()
        return api_tokens_manageable(
            membership=self.membership,
            can_manage=api_can(self.request, self.membership, "member.manage"))

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        role = data.get("role")
        if isinstance(request.auth, ApiToken):  # a token makes tokens no stronger than itself
            role = role or request.auth.role
            if not role_within(role, request.auth.role):
                raise ValidationError({"role": [
                    f"The token in use has the role {request.auth.role}; a token it creates "
                    "cannot do more."]})
        new = api_token_create(membership=self.membership, name=data["name"], role=role,
                               expires_at=data.get("expires_at"))
        body = NewApiTokenSerializer(new.token).data
        body["token"] = new.secret
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Revoke a token: it stops working at once (admins: any token of "
                           "the workspace)", request=None,
                   responses={200: ApiTokenSerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request, *args, **kwargs):
        token = api_token_revoke(token=self.get_object(), user=request.user)
        return Response(self.get_serializer(token).data)


@extend_schema_view(
    list=extend_schema(summary="Webhook endpoints (admin)"),
    retrieve=extend_schema(summary="A webhook endpoint (admin)"),
    create=extend_schema(summary="Add a webhook endpoint; its signing secret is shown only in "
                                 "this answer", responses={201: NewWebhookEndpointSerializer}),
    partial_update=extend_schema(summary="Change an endpoint's URL, events or active flag"),
    destroy=extend_schema(summary="Remove a webhook endpoint and its delivery log"),
)
class WebhookEndpointViewSet(WorkspaceScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                             mixins.DestroyModelMixin, viewsets.GenericViewSet):
    serializer_class = WebhookEndpointSerializer
    lookup_url_kwarg = "webhook_id"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    actions = dict.fromkeys(("list", "retrieve", "create", "partial_update", "destroy",
                             "deliveries"), "webhook.manage")

    def get_queryset(self):
        return WebhookEndpoint.objects.filter(workspace=self.workspace)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = webhook_endpoint_create(workspace=self.workspace, user=request.user,
                                           **serializer.validated_data)
        return Response(NewWebhookEndpointSerializer(endpoint).data,
                        status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        endpoint = self.get_object()
        serializer = self.get_serializer(endpoint, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        endpoint = webhook_endpoint_update(endpoint=endpoint, user=request.user,
                                           **serializer.validated_data)
        return Response(self.get_serializer(endpoint).data)

    def perform_destroy(self, instance):
        webhook_endpoint_delete(endpoint=instance, user=self.request.user)

    @extend_schema(summary="The endpoint's delivery log, newest first",
                   responses={200: WebhookDeliverySerializer(many=True)})
    @action(detail=True, methods=["get"])
    def deliveries(self, request, *args, **kwargs):
        endpoint = self.get_object()
        page = self.paginate_queryset(endpoint.deliveries.all())
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)


@extend_schema_view(
    list=extend_schema(summary="Members of the workspace and their roles"),
    retrieve=extend_schema(summary="A member"),
    create=extend_schema(summary="Invite someone by email (admin; same as POST invitations/)",
                         request=MemberInviteSerializer,
                         responses={202: InvitationSentSerializer}),
    partial_update=extend_schema(summary="Change a member's role (admin; one admin stays; "
                                         "revokes their tokens that could do more)"),
    destroy=extend_schema(summary="Remove a member (admin; never the last admin); their API "
                                  "tokens are revoked"),
)
class MemberViewSet(WorkspaceScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                    mixins.DestroyModelMixin, viewsets.GenericViewSet):
    serializer_class = MemberSerializer
    lookup_url_kwarg = "member_id"
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]
    actions = dict.fromkeys(("create", "partial_update", "destroy"), "member.manage")

    def get_queryset(self):
        return (Membership.objects.filter(workspace=self.workspace).select_related("user")
                .order_by("user__username"))

    def create(self, request, *args, **kwargs):
        return _invite(self.membership, request)

    def partial_update(self, request, *args, **kwargs):
        target = self.get_object()
        params = self.get_serializer(target, data=request.data, partial=True)
        params.is_valid(raise_exception=True)
        changed = members.membership_role_change(membership=target, actor=request.user,
                                                 role=params.validated_data.get("role",
                                                                                target.role))
        return Response(self.get_serializer(changed).data)

    def perform_destroy(self, instance):
        members.membership_remove(membership=instance, actor=self.request.user)

    @extend_schema(methods=["GET"], summary="Your own email notification settings",
                   responses={200: NotificationSettingsSerializer})
    @extend_schema(methods=["PUT"], summary="Choose which emails you get",
                   request=NotificationSettingsSerializer,
                   responses={200: NotificationSettingsSerializer})
    @action(detail=False, methods=["get", "put"], url_path="me/notifications")
    def notifications(self, request, *args, **kwargs):
        mine = self.membership
        if request.method == "PUT":
            params = NotificationSettingsSerializer(data=request.data)
            params.is_valid(raise_exception=True)
            mine = members.membership_notifications_save(
                membership=mine,
                review_waiting=params.validated_data.get("notify_review_waiting",
                                                         mine.notify_review_waiting),
                reviewed=params.validated_data.get("notify_reviewed", mine.notify_reviewed))
        return Response(NotificationSettingsSerializer(mine).data)


def _invite(membership: Membership, request) -> Response:
    """202 with the same body whoever the address belongs to (P10)."""
    params = MemberInviteSerializer(data=request.data)
    params.is_valid(raise_exception=True)
    message = invitations.member_invite(membership=membership, **params.validated_data)
    email = invitations.email_normalise(params.validated_data["email"])
    return Response({"detail": message, "email": email, "role": params.validated_data["role"]},
                    status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    list=extend_schema(summary="Pending invitations (admin; expired ones included until "
                               "resent or revoked)"),
    retrieve=extend_schema(summary="A pending invitation (admin)"),
    create=extend_schema(summary="Invite someone by email; the answer is the same whoever the "
                                 "address belongs to", request=MemberInviteSerializer,
                         responses={202: InvitationSentSerializer}),
)
class InvitationViewSet(WorkspaceScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        viewsets.GenericViewSet):
    serializer_class = InvitationSerializer
    lookup_url_kwarg = "invitation_id"
    actions = dict.fromkeys(("list", "retrieve", "create", "revoke", "resend"),
                            "member.manage")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Invitation.objects.none()
        return invitations.invitations_pending(workspace=self.workspace)

    def create(self, request, *args, **kwargs):
        return _invite(self.membership, request)

    @extend_schema(summary="Withdraw a pending invitation: its link stops working",
                   request=None, responses={200: InvitationSerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request, *args, **kwargs):
        revoked = invitations.invitation_revoke(membership=self.membership,
                                                invitation=self.get_object())
        return Response(self.get_serializer(revoked).data)

    @extend_schema(summary="Send a pending invitation again with a new link and expiry",
                   request=None, responses={202: InvitationSentSerializer})
    @action(detail=True, methods=["post"])
    def resend(self, request, *args, **kwargs):
        invitation = self.get_object()
        message = invitations.invitation_resend(membership=self.membership,
                                                invitation=invitation)
        return Response({"detail": message, "email": invitation.email,
                         "role": invitation.role}, status=status.HTTP_202_ACCEPTED)
