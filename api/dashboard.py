"""The dashboard page for API tokens: create one (its secret shown once), see and revoke.
Admins see and revoke every token of the workspace (P12); others their own."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from api.tokens import api_token_create, api_token_revoke, api_tokens_manageable
from brands.access import can, workspace_view
from brands.models import Role

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
    manage = can(membership, "member.manage")
    visible = api_tokens_manageable(membership=membership, can_manage=manage)
    if request.method == "POST" and "revoke" in request.POST:
        token_id = request.POST["revoke"]
        token = get_object_or_404(visible, pk=int(token_id) if token_id.isdigit() else 0)
        api_token_revoke(token=token, user=request.user)
        messages.success(request, f"Revoked {token.name} of {token.user.username}."
                         if token.user_id != request.user.pk else f"Revoked {token.name}.")
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
    return render(request, "api/tokens.html", {
        "form": form, "created": created, "now": timezone.now(), "can_manage": manage,
        "tokens": visible.filter(user=request.user),
        "others": visible.exclude(user=request.user).order_by("user__username", "-created_at")
        if manage else [],
    }, status=status)
