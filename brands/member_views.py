"""Dashboard pages: members, roles and invitations (admins), accepting an invitation, and one's
own email preferences."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from brands.access import can, workspace_view
from brands.forms import InvitationAccountForm, InviteForm
from brands.invitations import (
    InvitationRefused,
    invitation_accept,
    invitation_accept_new_user,
    invitation_account_exists,
    invitation_by_token,
    invitation_is_for,
    invitation_resend,
    invitation_revoke,
    invitations_pending,
    member_invite,
)
from brands.members import membership_notifications_save, membership_remove, membership_role_change
from brands.models import AuditEvent, Invitation, Membership, Role


def _form_errors(form, exc: ValidationError) -> None:
    errors = exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}
    for field, field_errors in errors.items():
        form.add_error(field if field in form.fields else None, field_errors)


@workspace_view("workspace.view")
def member_list(request, membership):
    workspace = membership.workspace
    manage = can(membership, "member.manage")
    form = InviteForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not manage:
            raise PermissionDenied("Only admins invite members.")
        status = 400
        if form.is_valid():
            try:
                sent = member_invite(membership=membership, email=form.cleaned_data["email"],
                                     role=form.cleaned_data["role"])
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, sent)
                return redirect("member-list", ws=workspace.slug)
    members = (Membership.objects.filter(workspace=workspace).select_related("user")
               .order_by("user__username"))
    return render(request, "brands/members.html", {
        "members": members, "roles": Role.choices, "can_manage": manage, "form": form,
        "invitations": invitations_pending(workspace=workspace) if manage else [],
        "audit": AuditEvent.objects.filter(workspace=workspace).select_related("actor")[:30]
        if manage else [],
    }, status=status)


@require_POST
@workspace_view("member.manage")
def member_change(request, membership, member_id):
    target = get_object_or_404(Membership.objects.select_related("user"), pk=member_id,
                               workspace=membership.workspace)
    try:
        if request.POST.get("remove"):
            membership_remove(membership=target, actor=request.user)
            messages.success(request, f"Removed {target.user.username}; their API tokens "
                                      "are revoked.")
        else:
            membership_role_change(membership=target, actor=request.user,
                                   role=request.POST.get("role", ""))
            messages.success(request, f"{target.user.username} is now "
                                      f"{request.POST.get('role')}.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("member-list", ws=membership.workspace.slug)


@require_POST
@workspace_view("member.manage")
def invitation_change(request, membership, invitation_id):
    """Resend or revoke a pending invitation of this workspace."""
    invitation = get_object_or_404(Invitation, pk=invitation_id, workspace=membership.workspace)
    try:
        if request.POST.get("revoke"):
            invitation_revoke(membership=membership, invitation=invitation)
            messages.success(request, f"Withdrew the invitation of {invitation.email}.")
        else:
            messages.success(request, invitation_resend(membership=membership,
                                                        invitation=invitation))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("member-list", ws=membership.workspace.slug)


def invitation_accept_page(request, token):
    """The link of an invitation email: who invites you where, and an Accept button.

    Signed in as the invited address: accept. Signed out: sign in, or (if no account has the
    address) create one here. Signed in as someone else: refused."""
    try:
        invitation = invitation_by_token(token)
    except InvitationRefused as exc:
        return render(request, "brands/invitation_refused.html", {"reason": str(exc)},
                      status=410)
    here = reverse("invitation-accept", kwargs={"token": token})
    context = {"invitation": invitation, "login_url": f"{reverse('login')}?next={here}"}
    user = request.user
    if user.is_authenticated:
        if not invitation_is_for(invitation, user):
            return render(request, "brands/invitation_accept.html",
                          {**context, "wrong_user": True}, status=403)
        if request.method == "POST":
            try:
                accepted = invitation_accept(token=token, user=user)
            except InvitationRefused as exc:
                return render(request, "brands/invitation_refused.html", {"reason": str(exc)},
                              status=410)
            messages.success(request, f"You joined {invitation.workspace.name}." if
                             accepted.joined else
                             f"You were already a member of {invitation.workspace.name}.")
            return redirect("workspace", ws=invitation.workspace.slug)
        return render(request, "brands/invitation_accept.html", context)
    if invitation_account_exists(invitation):
        return render(request, "brands/invitation_accept.html", {**context, "sign_in": True})
    form = InvitationAccountForm(request.POST or None, email=invitation.email)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                accepted = invitation_accept_new_user(
                    token=token, username=form.cleaned_data["username"],
                    password=form.cleaned_data["password1"])
            except ValidationError as exc:
                _form_errors(form, exc)
            except (InvitationRefused, PermissionDenied) as exc:
                return render(request, "brands/invitation_refused.html", {"reason": str(exc)},
                              status=410)
            else:
                login(request, accepted.membership.user,
                      backend="django.contrib.auth.backends.ModelBackend")
                messages.success(request, f"Welcome to {invitation.workspace.name}.")
                return redirect("workspace", ws=invitation.workspace.slug)
    return render(request, "brands/invitation_accept.html",
                  {**context, "account_form": form}, status=status)


@workspace_view("workspace.view")
def notification_settings(request, membership):
    if request.method == "POST":
        membership_notifications_save(
            membership=membership,
            review_waiting=request.POST.get("review_waiting") == "on",
            reviewed=request.POST.get("reviewed") == "on")
        messages.success(request, "Saved your email settings.")
        return redirect("notification-settings", ws=membership.workspace.slug)
    return render(request, "brands/notifications.html", {"membership": membership})
