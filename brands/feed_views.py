"""Dashboard pages for feed sources and their imports. Thin: parse, check, call a service."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from brands import feed_sources
from brands.access import can, workspace_view
from brands.feed_jobs import feed_import_cancel
from brands.forms import FeedSourceForm
from brands.models import FeedImport, FeedSource
from brands.uploads import UploadRejected
from core.confirm import delete_confirmed


@workspace_view("workspace.view")
def feed_source_list(request, membership):
    sources = membership.workspace.feed_sources.select_related("last_import")
    rows = [(source, feed_sources.feed_source_next_run(source)) for source in sources]
    return render(request, "brands/feed_source_list.html", {
        "rows": rows, "can_edit": can(membership, "product.import")})


@workspace_view("workspace.view")
def feed_source_edit(request, membership, source_id=None):
    workspace = membership.workspace
    source = get_object_or_404(FeedSource, pk=source_id, workspace=workspace) \
        if source_id else None
    status = 200
    if request.method == "POST":
        form = FeedSourceForm(request.POST, request.FILES, instance=source)
        status = 400
        if not can(membership, "product.import"):
            status = 403
        elif form.is_valid():
            fields = {k: v for k, v in form.cleaned_data.items() if k != "upload"}
            try:
                source = feed_sources.feed_source_save(
                    workspace=workspace, user=request.user, source=source,
                    uploaded=form.cleaned_data.get("upload"), **fields)
            except ValidationError as exc:
                _add_errors(form, exc)
            except UploadRejected as exc:
                form.add_error("upload", exc.message)
            else:
                messages.success(request, f"Saved the feed {source.name}.")
                return redirect("feed-source-edit", ws=workspace.slug, source_id=source.pk)
    else:
        form = FeedSourceForm(instance=source)
    imports = source.imports.all()[:20] if source else []
    return render(request, "brands/feed_source_form.html", {
        "source": source, "form": form, "imports": imports,
        "next_run": feed_sources.feed_source_next_run(source) if source else None,
        "can_edit": can(membership, "product.import"),
    }, status=status)


def _add_errors(form, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@require_POST
@workspace_view("product.import")
def feed_source_run(request, membership, source_id):
    source = get_object_or_404(FeedSource, pk=source_id, workspace=membership.workspace)
    feed_import = feed_sources.feed_source_run(source=source, user=request.user)
    return redirect("feed-import-report", ws=membership.workspace.slug, import_id=feed_import.pk)


@require_POST
@workspace_view("product.import")
def feed_source_delete(request, membership, source_id):
    source = get_object_or_404(FeedSource, pk=source_id, workspace=membership.workspace)
    ws = membership.workspace.slug
    return delete_confirmed(
        request, delete=lambda: feed_sources.feed_source_delete(source=source, user=request.user),
        back=reverse("feed-source-edit", kwargs={"ws": ws, "source_id": source.pk}),
        done=reverse("feed-source-list", kwargs={"ws": ws}),
        message=f"Deleted the feed {source.name}; its products stay.")


@require_POST
@workspace_view("product.import")
def feed_import_cancel_view(request, membership, import_id):
    feed_import = get_object_or_404(FeedImport, pk=import_id, workspace=membership.workspace)
    try:
        feed_import_cancel(feed_import=feed_import)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Cancelling the import: it stops after the current batch.")
    return redirect("feed-import-report", ws=membership.workspace.slug, import_id=import_id)


@workspace_view("workspace.view")
def feed_import_progress(request, membership, import_id):
    """The progress card alone: the import page polls it every second while the job runs."""
    report = get_object_or_404(FeedImport, pk=import_id, workspace=membership.workspace)
    response = render(request, "brands/_feed_import_progress.html", {
        "report": report, "can_edit": can(membership, "product.import")})
    if request.htmx and not report.is_active:
        response["HX-Refresh"] = "true"  # finished: show the whole report
    return response
