"""The dashboard page for API tokens: create one (its secret shown once), see and revoke."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from brands.access import workspace_view
from brands.models import Role

from .models import ApiToken
from .tokens import api_token_create, api_token_revoke

EXPIRY_CHOICES = [("", "Never"), ("30", "30 days"), ("90", "90 days"), ("365", "1 year")]


class TokenForm(forms.Form):
    name = forms.CharField(max_length=120)
    role = forms.ChoiceField(choices=Role.choices, help_text="Never more than your own role.")
    expires_in_days = forms.ChoiceField(choices=EXPIRY_CHOICES, required=False,
                                        label="Expires")


@workspace_view("workspace.view")
def token_page(request, membership):
    form = TokenForm(request.POST or None, initial={"role": membership.role})
    created = None
    status = 200
    if request.method == "POST" and "revoke" in request.POST:
        token = get_object_or_404(ApiToken, pk=request.POST["revoke"], user=request.user,
                                  workspace=membership.workspace)
        api_token_revoke(token=token, user=request.user)
        messages.success(request, f"Revoked {token.name}.")
        return redirect("api-tokens", ws=membership.workspace.slug)
    if request.method == "POST":
        status = 400
        if form.is_valid():
            days = form.cleaned_data["expires_in_days"]
            expires_at = timezone.now() + timedelta(days=int(days)) if days else None
            try:
                created = api_token_create(membership=membership, name=form.cleaned_data["name"],
                                           role=form.cleaned_data["role"], expires_at=expires_at)
            except ValidationError as exc:
                form.add_error("role" if "role" in exc.message_dict else None,
                               exc.message_dict.get("role") or exc.messages)
            else:
                status = 201
                form = TokenForm(initial={"role": membership.role})
    tokens = ApiToken.objects.filter(user=request.user, workspace=membership.workspace)
    return render(request, "api/tokens.html", {
        "form": form, "tokens": tokens, "created": created, "now": timezone.now(),
    }, status=status)
