"""Brand kit pages' logo and font actions: delete a logo, make one primary, serve a font for
its preview. Thin: check, call the service, go back to the brand kit."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from brands import services
from brands.access import workspace_view
from brands.models import BrandFont, BrandLogo
from core.files import file_redirect


def _logo(membership, logo_id: int) -> BrandLogo:
    return get_object_or_404(BrandLogo.objects.select_related("brand"), pk=logo_id,
                             brand__workspace=membership.workspace)


@require_POST
@workspace_view("brand.edit")
def brand_logo_make_primary(request, membership, logo_id):
    logo = _logo(membership, logo_id)
    services.brand_logo_make_primary(logo=logo, user=request.user)
    messages.success(request, f"{logo.name} is now the logo on composed ads.")
    return redirect("brand-edit", ws=membership.workspace.slug, brand_id=logo.brand_id)


@require_POST
@workspace_view("brand.edit")
def brand_logo_delete(request, membership, logo_id):
    logo = _logo(membership, logo_id)
    services.brand_logo_delete(logo=logo, user=request.user)
    messages.success(request, f"Deleted the logo {logo.name}.")
    return redirect("brand-edit", ws=membership.workspace.slug, brand_id=logo.brand_id)


@workspace_view("workspace.view")
def brand_font_file(request, membership, font_id):
    """The font file, for the brand kit page's preview in the font's own face."""
    font = get_object_or_404(BrandFont, pk=font_id, brand__workspace=membership.workspace)
    return file_redirect(font.file.name)
