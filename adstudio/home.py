"""What the workspace home shows: what needs the user now, and the recent campaigns. Reads
from several apps, so it lives on top with the pages (adstudio/pages.py); a fixed number of
queries whatever the workspace holds."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from rendering.models import Asset, JobStatus, RenderJob, ReviewState

FAILED_JOBS_DAYS = 7
RECENT_CAMPAIGNS = 8
FAILED_JOBS_SHOWN = 5


def home_attention(workspace) -> dict:
    """Counts of what waits for someone (assets in review, live assets gone stale, renders
    queued or running, renders that failed in the last week, with the latest few of those)."""
    assets = Asset.objects.filter(workspace=workspace, slot__isnull=False)
    jobs = RenderJob.objects.filter(workspace=workspace)
    since = timezone.now() - timedelta(days=FAILED_JOBS_DAYS)
    failed = jobs.filter(status=JobStatus.FAILED, created_at__gte=since)
    return {
        "in_review": assets.filter(review_state=ReviewState.IN_REVIEW).count(),
        "stale_live": assets.filter(is_live=True, stale_at__isnull=False).count(),
        "running": jobs.filter(status=JobStatus.RUNNING).count(),
        "queued": jobs.filter(status=JobStatus.QUEUED).count(),
        "failed_count": failed.count(),
        "failed": list(failed.select_related("slot__campaign", "slot__product")
                       .order_by("-created_at")[:FAILED_JOBS_SHOWN]),
        "failed_days": FAILED_JOBS_DAYS,
    }


def home_campaigns(workspace) -> list:
    """The latest campaigns, each with ``thumbnail_asset_id``: its newest asset (None: none
    yet), to show as its picture."""
    newest = (Asset.objects.filter(slot__campaign=OuterRef("pk")).order_by("-created_at", "-id")
              .values("pk")[:1])
    return list(workspace.campaigns.select_related("brand")
                .annotate(thumbnail_asset_id=Subquery(newest))[:RECENT_CAMPAIGNS])
