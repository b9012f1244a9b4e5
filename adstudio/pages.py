"""Pages that show several apps at once: they live on top, so no app below imports another
above it for a page."""

from __future__ import annotations

from django.shortcuts import render

from adstudio.home import home_attention, home_campaigns
from brands.access import can, workspace_view
from rendering.jobs.enqueue import gpu_seconds_this_month


@workspace_view("workspace.view")
def workspace_dashboard(request, membership):
    """The workspace home: what needs the user (reviews waiting, stale live assets, failed and
    running renders), recent campaigns with a picture, the catalog, GPU time this month."""
    workspace = membership.workspace
    return render(request, "brands/workspace.html", {
        "attention": home_attention(workspace),
        "can_review": can(membership, "asset.review"),
        "gpu_seconds_used": gpu_seconds_this_month(workspace.pk),
        "brand_count": workspace.brand_kits.count(),
        "product_count": workspace.products.count(),
        "campaigns": home_campaigns(workspace),
    })
