"""Dashboard pages: members and roles (admins), and one's own email preferences."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .access import can, workspace_view
from .members import (
    membership_add,
    membership_notifications_save,
    membership_remove,
    membership_role_change,
)
from .models import AuditEvent, Membership, Role


@workspace_view("workspace.view")
def member_list(request, membership):
    workspace = membership.workspace
    status = 200
    if request.method == "POST":
        if not can(membership, "member.manage"):
            status = 403
        else:
            try:
                added = membership_add(workspace=workspace, actor=request.user,
                                       who=request.POST.get("who", ""),
                                       role=request.POST.get("role", ""))
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
                status = 400
            else:
                messages.success(request, f"Added {added.user.username} as "
                                          f"{added.get_role_display().lower()}.")
                return redirect("member-list", ws=workspace.slug)
    members = (Membership.objects.filter(workspace=workspace).select_related("user")
               .order_by("user__username"))
    return render(request, "brands/members.html", {
        "members": members, "roles": Role.choices,
        "can_manage": can(membership, "member.manage"),
        "audit": AuditEvent.objects.filter(workspace=workspace).select_related("actor")[:30]
        if can(membership, "member.manage") else [],
    }, status=status)


@require_POST
@workspace_view("member.manage")
def member_change(request, membership, member_id):
    target = get_object_or_404(Membership.objects.select_related("user"), pk=member_id,
                               workspace=membership.workspace)
    try:
        if request.POST.get("remove"):
            membership_remove(membership=target, actor=request.user)
            messages.success(request, f"Removed {target.user.username}.")
        else:
            membership_role_change(membership=target, actor=request.user,
                                   role=request.POST.get("role", ""))
            messages.success(request, f"{target.user.username} is now "
                                      f"{request.POST.get('role')}.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("member-list", ws=membership.workspace.slug)


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
