"""Product feed reading for imports (B10), on top of brands.feed_formats.

A feed is read row by row (``feed_report_rows``) and written in batches by
``brands.feed_apply``, so memory stays flat for any feed size. Good rows are kept even when
other rows are bad; each bad row is reported with its row number (the header is row 1). A SKU
that appears twice in one file is applied in file order, so the later row wins and both count.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from brands.feed_apply import BATCH_SIZE, MAX_REPORTED_ERRORS, FeedApply  # noqa: F401
from brands.feed_formats import (
    CP1252_NOTE,
    FeedFormatError,
    FeedRow,
    feed_encoding_detect,
    feed_format_detect,
    feed_rows,
)
from brands.models import FeedImport, ImportStatus, Workspace

__all__ = ["FeedRow", "feed_import_run", "feed_report_rows"]


def feed_import_run(
    *, workspace: Workspace, user: AbstractBaseUser | None, fileobj: BinaryIO, filename: str
) -> FeedImport:
    """Import a CSV product feed into ``workspace`` now, creating or updating products by SKU.

    The synchronous form, for scripts and the benchmark; the dashboard and the API queue a job
    instead (``brands.feed_sources.feed_upload_import``). ``fileobj`` is a binary file; it is
    left open. Call it outside a transaction so each batch commits on its own. Returns the
    saved FeedImport: exact row counts, per-row errors (the first 1000), a file-level note for a
    non-UTF-8 file, and ``fatal_error`` when the import stopped early.
    """
    report = FeedImport.objects.create(
        workspace=workspace, created_by=user, filename=filename[:255],  # the column's max_length
        status=ImportStatus.RUNNING, started_at=timezone.now(),
    )
    apply = FeedApply(report, checkpoint=lambda: report.save() or True)
    with tempfile.TemporaryDirectory(prefix="adstudio-feed-") as tmp:
        path = Path(tmp) / "feed"
        with path.open("wb") as copy:
            shutil.copyfileobj(fileobj, copy, 1024 * 1024)
        for row in feed_report_rows(path, report, format="csv"):
            apply.add(row)
    apply.finish()
    report.status = ImportStatus.FAILED if report.fatal_error else ImportStatus.SUCCEEDED
    report.finished_at = timezone.now()
    report.save()
    return report


def feed_report_rows(path: Path, report: FeedImport, *, format: str = "auto"
                     ) -> Iterator[FeedRow]:
    """The feed's rows; a whole-file problem ends them and is written to ``report.fatal_error``
    (rows before it stand), and a Windows-1252 CSV adds a note."""
    try:
        if format == "auto":
            format = feed_format_detect(path)
        if format != "xml" and feed_encoding_detect(path) == "cp1252":
            report.notes.append(CP1252_NOTE)
        yield from feed_rows(path, format=format)
    except FeedFormatError as exc:
        report.fatal_error = str(exc)[:500]
