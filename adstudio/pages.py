"""Pages that show several apps at once: they live on top, so no app below imports another
above it for a page."""

from __future__ import annotations

from django.shortcuts import render

from brands.access import workspace_view
from rendering.jobs.enqueue import gpu_seconds_this_month


@workspace_view("workspace.view")
def workspace_dashboard(request, membership):
    """The workspace home: GPU time used this month, brand kits, products, recent campaigns."""
    workspace = membership.workspace
    return render(request, "brands/workspace.html", {
        "gpu_seconds_used": gpu_seconds_this_month(workspace.pk),
        "brands": workspace.brand_kits.all(),
        "product_count": workspace.products.count(),
        "campaigns": workspace.campaigns.select_related("brand")[:10],
    })
