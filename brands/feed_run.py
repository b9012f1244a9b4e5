"""One claimed feed import, start to end: fetch (or open the stored file), read, upsert, then
mark what a full feed no longer lists and queue the photos that changed."""

from __future__ import annotations

import base64
import logging
import shutil
import tempfile
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.utils import timezone

from brands.feed_apply import FeedApply, ImportStopped
from brands.feed_import import feed_report_rows
from brands.feed_jobs import (
    Claim,
    feed_import_checkpoint,
    feed_import_finish,
    feed_import_settle_cancelled,
)
from brands.models import (
    Availability,
    FeedAuth,
    FeedFormat,
    FeedImport,
    FeedKind,
    FeedSource,
    ImportStatus,
    Product,
)
from core.broker import task_publish
from core.versioning import version_bump_queryset

logger = logging.getLogger(__name__)

PHOTO_TASK_LIMIT = 10_000  # photo downloads queued by one import; the next import queues more


def feed_import_execute(*, claim: Claim) -> FeedImport:
    """Run a claimed import to its end and return it settled (succeeded, failed, cancelled).

    A 304 from the feed's server settles it at once as succeeded with ``not_modified``.
    """
    report = FeedImport.objects.select_related("source", "workspace").get(pk=claim.import_id)
    source = report.source
    apply = FeedApply(report, checkpoint=lambda: feed_import_checkpoint(claim, report))
    with tempfile.TemporaryDirectory(prefix="adstudio-feed-") as tmp:
        try:
            path = _feed_file(report, Path(tmp))
            if path is not None:
                for row in _rows(report, path):
                    apply.add(row)
                apply.finish()
        except ImportStopped:
            feed_import_settle_cancelled(claim)
            report.refresh_from_db()
            return report
    if source is not None and source.full_feed and not report.fatal_error \
            and not report.not_modified:
        _mark_missing_unavailable(report)
    photos = sorted(apply.photo_products)[:PHOTO_TASK_LIMIT]
    report.photos_queued = len(photos)
    status = ImportStatus.FAILED if report.fatal_error else ImportStatus.SUCCEEDED
    if feed_import_finish(claim, report, status=status) and source is not None:
        FeedSource.objects.filter(pk=source.pk).update(last_import=report, **(
            {"last_etag": report._etag, "last_modified": report._last_modified}
            if status == ImportStatus.SUCCEEDED and hasattr(report, "_etag") else {}))
        _queue_photos(photos)
    elif source is None:
        _queue_photos(photos)
    report.refresh_from_db()
    return report


def _feed_file(report: FeedImport, tmp: Path) -> Path | None:
    """The feed on local disk; None (with the reason on the report) when there is none to read."""
    source = report.source
    stored = report.file.name or (source.file.name if source and source.kind == FeedKind.FILE
                                  else "")
    if stored:
        path = tmp / Path(stored).name
        with default_storage.open(stored, "rb") as src, path.open("wb") as dst:
            shutil.copyfileobj(src, dst)
        return path
    if source is None:
        report.fatal_error = "The uploaded file is missing; upload it again."
        return None
    from brands.feed_fetch import FeedFetchError, feed_fetch

    try:
        result = feed_fetch(url=source.url, dest_dir=tmp, etag=source.last_etag,
                            last_modified=source.last_modified, headers=_auth_headers(source))
    except FeedFetchError as exc:
        report.fatal_error = str(exc)[:500]
        return None
    except ValidationError as exc:  # the secret's variable is not set
        report.fatal_error = " ".join(exc.messages)[:500]
        return None
    report._etag, report._last_modified = result.etag or "", result.last_modified or ""
    if result.not_modified:
        report.not_modified = True
        report.notes.append("The feed has not changed since the last import.")
        return None
    return Path(result.path)


def _auth_headers(source: FeedSource) -> dict[str, str]:
    from brands.feed_sources import feed_secret

    if source.auth == FeedAuth.BASIC:
        pair = f"{source.auth_username}:{feed_secret(source)}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}
    if source.auth == FeedAuth.HEADER:
        return {source.auth_header_name: feed_secret(source)}
    return {}


def _rows(report: FeedImport, path: Path):
    fmt = report.source.format if report.source else FeedFormat.CSV  # uploads are CSV files
    return feed_report_rows(path, report, format=fmt)


def _mark_missing_unavailable(report: FeedImport) -> None:
    """A full feed lists every product it sells: the source's products it did not list become
    unavailable (never deleted: their assets and campaigns stay)."""
    if not (report.rows_created or report.rows_updated or report.rows_unchanged):
        report.notes.append("No product was read, so none was marked unavailable.")
        return
    # One UPDATE for any number of rows (a full feed may drop thousands), not a save per row;
    # the filter leaves out the rows already unavailable, so each row goes up one version.
    report.rows_unavailable = version_bump_queryset(Product.objects.filter(
        workspace=report.workspace_id, feed_source=report.source_id,
    ).exclude(last_seen_import=report).exclude(availability=Availability.UNAVAILABLE),
        availability=Availability.UNAVAILABLE, updated_at=timezone.now())


def _queue_photos(product_ids: list[int]) -> None:
    from django.db import transaction

    def publish():
        for product_id in product_ids:
            task_publish("brands.fetch_product_photo", args=[product_id])

    transaction.on_commit(publish)
