"""API for the caller's API tokens and the workspace's webhook endpoints."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from brands import members
from brands.models import Membership

from .. import serializers as s
from ..models import ApiToken, WebhookEndpoint
from ..scoping import WorkspaceScoped
from ..tokens import api_token_create, api_token_revoke, role_within
from ..webhooks import webhook_endpoint_create, webhook_endpoint_delete, webhook_endpoint_update


@extend_schema_view(
    list=extend_schema(summary="Your API tokens in this workspace"),
    retrieve=extend_schema(summary="One of your API tokens"),
    create=extend_schema(summary="Create an API token; the token is shown only in this answer",
                         responses={201: s.NewApiTokenSerializer}),
)
class ApiTokenViewSet(WorkspaceScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      mixins.CreateModelMixin, viewsets.GenericViewSet):
    serializer_class = s.ApiTokenSerializer
    lookup_url_kwarg = "token_id"

    def get_queryset(self):
        return ApiToken.objects.filter(workspace=self.workspace, user=self.request.user)

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
        body = s.NewApiTokenSerializer(new.token).data
        body["token"] = new.secret
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Revoke a token: it stops working at once", request=None,
                   responses={200: s.ApiTokenSerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request, *args, **kwargs):
        token = api_token_revoke(token=self.get_object(), user=request.user)
        return Response(self.get_serializer(token).data)


@extend_schema_view(
    list=extend_schema(summary="Webhook endpoints (admin)"),
    retrieve=extend_schema(summary="A webhook endpoint (admin)"),
    create=extend_schema(summary="Add a webhook endpoint; its signing secret is shown only in "
                                 "this answer", responses={201: s.NewWebhookEndpointSerializer}),
    partial_update=extend_schema(summary="Change an endpoint's URL, events or active flag"),
    destroy=extend_schema(summary="Remove a webhook endpoint and its delivery log"),
)
class WebhookEndpointViewSet(WorkspaceScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                             mixins.DestroyModelMixin, viewsets.GenericViewSet):
    serializer_class = s.WebhookEndpointSerializer
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
        return Response(s.NewWebhookEndpointSerializer(endpoint).data,
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
                   responses={200: s.WebhookDeliverySerializer(many=True)})
    @action(detail=True, methods=["get"])
    def deliveries(self, request, *args, **kwargs):
        endpoint = self.get_object()
        page = self.paginate_queryset(endpoint.deliveries.all())
        return self.get_paginated_response(s.WebhookDeliverySerializer(page, many=True).data)


@extend_schema_view(
    list=extend_schema(summary="Members of the workspace and their roles"),
    retrieve=extend_schema(summary="A member"),
    create=extend_schema(summary="Add an existing user as a member (admin)",
                         request=s.MemberAddSerializer, responses={201: s.MemberSerializer}),
    partial_update=extend_schema(summary="Change a member's role (admin; one admin stays)"),
    destroy=extend_schema(summary="Remove a member (admin; never the last admin)"),
)
class MemberViewSet(WorkspaceScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                    mixins.DestroyModelMixin, viewsets.GenericViewSet):
    serializer_class = s.MemberSerializer
    lookup_url_kwarg = "member_id"
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]
    actions = dict.fromkeys(("create", "partial_update", "destroy"), "member.manage")

    def get_queryset(self):
        return (Membership.objects.filter(workspace=self.workspace).select_related("user")
                .order_by("user__username"))

    def create(self, request, *args, **kwargs):
        params = s.MemberAddSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        added = members.membership_add(workspace=self.workspace, actor=request.user,
                                       **params.validated_data)
        return Response(self.get_serializer(added).data, status=status.HTTP_201_CREATED)

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
                   responses={200: s.NotificationSettingsSerializer})
    @extend_schema(methods=["PUT"], summary="Choose which emails you get",
                   request=s.NotificationSettingsSerializer,
                   responses={200: s.NotificationSettingsSerializer})
    @action(detail=False, methods=["get", "put"], url_path="me/notifications")
    def notifications(self, request, *args, **kwargs):
        mine = self.membership
        if request.method == "PUT":
            params = s.NotificationSettingsSerializer(data=request.data)
            params.is_valid(raise_exception=True)
            mine = members.membership_notifications_save(
                membership=mine,
                review_waiting=params.validated_data.get("notify_review_waiting",
                                                         mine.notify_review_waiting),
                reviewed=params.validated_data.get("notify_reviewed", mine.notify_reviewed))
        return Response(s.NotificationSettingsSerializer(mine).data)
