"""Dashboard pages for prompt templates, formats and assets."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from brands.access import can, workspace_view
from core.confirm import delete_confirmed
from core.files import file_redirect
from rendering import templates
from rendering.compose.prompts import FIELDS, prompt_preview
from rendering.compose.template_sandbox import LIST_FIELDS, MAX_LOOP_DEPTH
from rendering.forms import FormatForm, PreviewForm, PromptTemplateForm
from rendering.jobs import states
from rendering.models import Asset, Format, JobStatus, PromptTemplate, RenderJob
from rendering.selectors import broker_queue_depths, job_states, operator_overview


@workspace_view("workspace.view")
def template_list(request, membership):
    templates = membership.workspace.prompt_templates.select_related("brand")
    return render(request, "rendering/template_list.html", {
        "templates": templates, "can_edit": can(membership, "template.edit"),
    })


@workspace_view("workspace.view")
def template_edit(request, membership, template_id=None):
    workspace = membership.workspace
    template = (get_object_or_404(PromptTemplate, pk=template_id, workspace=workspace)
                if template_id else None)
    preview, status = None, 200
    if request.method == "POST":
        form = PromptTemplateForm(request.POST, request.FILES, workspace=workspace)
        preview_form = PreviewForm(request.POST, workspace=workspace, prefix="preview")
        wants_preview = "preview" in request.POST
        if not wants_preview and not can(membership, "template.edit"):
            status = 403
        elif form.is_valid():
            data = form.cleaned_data
            try:
                if wants_preview and preview_form.is_valid():
                    preview = prompt_preview(
                        workspace=workspace, body=data["body"],
                        negative_prompt=data["negative_prompt"], **preview_form.cleaned_data)
                elif wants_preview:
                    status = 400
                else:
                    upload = data.pop("background_image", None)
                    with transaction.atomic():  # the picture is checked first, or nothing
                        template = templates.prompt_template_save(
                            workspace=workspace, user=request.user, template=template, **data)
                        if upload:
                            template = templates.prompt_template_background_set(
                                template=template, user=request.user, upload=upload)
                    messages.success(request, f"Saved {template.name} (version "
                                              f"{template.version}).")
                    return redirect("template-edit", ws=workspace.slug, template_id=template.pk)
            except ValidationError as exc:
                # Field errors (a copy line) go to their field; the rest concern the body.
                form.add_error(None if hasattr(exc, "error_dict") else "body", exc)
                status = 400
        else:
            status = 400
    else:
        initial = {}
        if template:
            initial = {field: getattr(template, field) for field in (
                "name", "kind", "brand", "body", "negative_prompt", "text_mode", "headline",
                "subline", "cta", "show_price", "background")}
        form = PromptTemplateForm(initial=initial, workspace=workspace)
        preview_form = PreviewForm(workspace=workspace, prefix="preview")
    if request.htmx and request.method == "POST" and "preview" in request.POST:
        status = 200  # the live preview swaps in what it got, errors included
    return render(request, "rendering/template_form.html", {
        "template": template, "form": form, "preview_form": preview_form, "preview": preview,
        "fields": {root: sorted(names) for root, names in FIELDS.items()},
        "loop_fields": sorted(LIST_FIELDS), "loop_depth": MAX_LOOP_DEPTH,
        "can_edit": can(membership, "template.edit"),
    }, status=status)


@require_POST
@workspace_view("template.edit")
def template_delete(request, membership, template_id):
    template = get_object_or_404(PromptTemplate, pk=template_id, workspace=membership.workspace)
    ws = membership.workspace.slug
    return delete_confirmed(
        request,
        delete=lambda: templates.prompt_template_delete(template=template, user=request.user),
        back=reverse("template-edit", kwargs={"ws": ws, "template_id": template.pk}),
        done=reverse("template-list", kwargs={"ws": ws}),
        message=f"Deleted the template {template.name}.")


@workspace_view("workspace.view")
def format_list(request, membership):
    workspace = membership.workspace
    form = FormatForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not can(membership, "campaign.edit"):
            status = 403
        elif form.is_valid():
            try:
                templates.format_create(workspace=workspace, user=request.user,
                                        **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, "Added the format.")
                return redirect("format-list", ws=workspace.slug)
        status = status if status == 403 else 400
    formats = Format.objects.filter(Q(workspace=None) | Q(workspace=workspace))
    return render(request, "rendering/format_list.html", {"formats": formats, "form": form},
                  status=status)


@workspace_view("workspace.view")
def asset_file(request, membership, asset_id, variant):
    """Send the browser on to a signed link that expires (P5), after the workspace check."""
    asset = get_object_or_404(Asset, pk=asset_id, workspace=membership.workspace)
    if variant == "thumbnail":
        return file_redirect(asset.thumbnail.name)
    return file_redirect(asset.file.name, filename=f"asset-{asset.pk}.png")


JOB_ACTIONS = {
    "cancel": (states.job_cancel, "Cancelled the render."),
    "retry": (states.job_retry, "Queued the render again."),
}


@require_POST
@workspace_view("campaign.generate")
def job_action(request, membership, job_id, action):
    """Cancel or retry one job of this workspace."""
    job = get_object_or_404(RenderJob, pk=job_id, workspace=membership.workspace)
    service, done = JOB_ACTIONS[action]
    try:
        service(job=job)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
    return _back_to_campaign(membership, job)


def _back_to_campaign(membership, job):
    if job.slot_id:
        return redirect("campaign-detail", ws=membership.workspace.slug,
                        campaign_id=job.slot.campaign_id)
    return redirect("workspace", ws=membership.workspace.slug)


@workspace_view("workspace.view")
def campaign_jobs_json(request, membership, campaign_id):
    """Live state of a campaign's unfinished and failed jobs, for its progress bars."""
    campaign = get_object_or_404(membership.workspace.campaigns, pk=campaign_id)
    unfinished = list(RenderJob.objects.filter(slot__campaign=campaign).exclude(
        status=JobStatus.SUCCEEDED).order_by("id"))
    return JsonResponse({"jobs": job_states(unfinished) if unfinished else []})


def _operator_only(request):
    if not request.user.is_authenticated:
        return redirect(f"{settings.LOGIN_URL}?next={request.path}")
    if not request.user.is_staff:
        raise PermissionDenied("The operator view is for staff users.")
    return None


def operator_view(request):
    """Workers, queues, throughput and failures, for operators (staff users)."""
    denied = _operator_only(request)
    if denied:
        return denied
    overview = operator_overview(broker_depths=broker_queue_depths())
    if request.path.endswith(".json"):
        return JsonResponse(overview)
    return render(request, "rendering/operator.html", {"overview": overview})
