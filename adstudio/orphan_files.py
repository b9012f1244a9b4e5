"""Stored files that no row points at (RELIABILITY.md F15).

Every file is written before the row that names it is committed (brands.services,
rendering.jobs.store.store_asset), so a row never points at a file that is not complete. A
process killed between the two (SIGKILL, OOM, a lost machine) leaves the file, complete or
truncated, with no row; so does a failed clean-up after a rollback. ``orphan_files_sweep``
removes such files once they are older than ADSTUDIO_ORPHAN_FILE_GRACE_SECONDS, on the local
media folder and on S3 alike. Beat runs it on the cpu queue (adstudio.tasks).
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from botocore.exceptions import BotoCoreError, ClientError
from django.apps import apps
from django.conf import settings
from django.core.files.storage import Storage, default_storage
from django.db import models
from django.utils import timezone
from storages.backends.s3 import S3Storage

logger = logging.getLogger(__name__)

# The folders AdStudio writes to (brands.uploads.storage_key, rendering.jobs.store, the health
# probe); anything else in the bucket or media folder is not ours to remove.
SWEPT_FOLDERS = ("ws", "health")
RECHECK_BATCH = 500


@dataclass
class OrphanSweepReport:
    scanned: int = 0  # files found in the swept folders
    referenced: int = 0  # kept: a row points at them
    young: int = 0  # kept: unreferenced but within the grace period (maybe being written)
    removed: int = 0
    removed_bytes: int = 0
    failed: int = 0  # could not be removed (logged; tried again next sweep)
    aborted_uploads: int = 0  # S3 multipart uploads a killed process never completed


@dataclass(frozen=True)
class StoredFile:
    name: str
    size: int
    modified: datetime


def orphan_files_sweep(*, grace_seconds: int | None = None, now: datetime | None = None,
                       dry_run: bool = False) -> OrphanSweepReport:
    """Remove the stored files no row references that are older than the grace period.

    ``grace_seconds`` defaults to ADSTUDIO_ORPHAN_FILE_GRACE_SECONDS; ``now`` to the current
    time. A referenced file, and one modified within the grace period, is never removed.
    With ``dry_run`` nothing is removed and the report counts what would be.
    """
    grace = settings.ADSTUDIO_ORPHAN_FILE_GRACE_SECONDS if grace_seconds is None else grace_seconds
    cutoff = (now or timezone.now()) - timedelta(seconds=grace)
    storage = default_storage
    report = OrphanSweepReport()
    # References are read before the listing: a row committed after this moment names a file
    # written after it too, which is younger than the grace period (and rechecked anyway).
    referenced = referenced_file_names()
    candidates: list[StoredFile] = []
    for stored in _stored_files(storage):
        report.scanned += 1
        if stored.name in referenced:
            report.referenced += 1
        elif stored.modified > cutoff:
            report.young += 1
        else:
            candidates.append(stored)
            if len(candidates) >= RECHECK_BATCH:
                _remove(storage, candidates, report, dry_run=dry_run)
                candidates = []
    _remove(storage, candidates, report, dry_run=dry_run)
    if isinstance(storage, S3Storage):
        report.aborted_uploads = _abort_stale_uploads(storage, cutoff, dry_run=dry_run)
    return report


def referenced_file_names() -> set[str]:
    """Every storage key a FileField (or ImageField) of any installed model holds."""
    names: set[str] = set()
    for model, field in _file_fields():
        names.update(model._base_manager.exclude(**{field: ""}).exclude(**{field: None})
                     .values_list(field, flat=True).iterator(chunk_size=5000))
    return names


def _file_fields() -> Iterator[tuple[type[models.Model], str]]:
    for model in apps.get_models():
        if model._meta.proxy:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, models.FileField):
                yield model, field.attname


def _still_referenced(names: list[str]) -> set[str]:
    found: set[str] = set()
    for model, field in _file_fields():
        found.update(model._base_manager.filter(**{f"{field}__in": names})
                     .values_list(field, flat=True))
    return found


def _remove(storage: Storage, candidates: list[StoredFile], report: OrphanSweepReport, *,
            dry_run: bool) -> None:
    if not candidates:
        return
    # A row may have been committed since the references were read.
    still = _still_referenced([stored.name for stored in candidates])
    for stored in candidates:
        if stored.name in still:
            report.referenced += 1
            continue
        if not dry_run:
            try:
                storage.delete(stored.name)
            except OSError as exc:
                logger.warning("could not remove orphan file %s: %s", stored.name, exc)
                report.failed += 1
                continue
            logger.info("removed orphan file %s (%s bytes, modified %s)", stored.name,
                        stored.size, stored.modified.isoformat())
        report.removed += 1
        report.removed_bytes += stored.size


def _stored_files(storage: Storage) -> Iterator[StoredFile]:
    for folder in SWEPT_FOLDERS:
        if isinstance(storage, S3Storage):
            yield from _s3_files(storage, folder)
        else:
            yield from _listed_files(storage, folder)


def _listed_files(storage: Storage, folder: str) -> Iterator[StoredFile]:
    """Any Django storage, through ``listdir`` (the local media folder)."""
    try:
        directories, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in files:
        path = posixpath.join(folder, name)
        try:
            yield StoredFile(path, storage.size(path), _aware(storage.get_modified_time(path)))
        except FileNotFoundError:  # removed meanwhile
            continue
    for directory in directories:
        yield from _listed_files(storage, posixpath.join(folder, directory))


def _s3_files(storage: S3Storage, folder: str) -> Iterator[StoredFile]:
    """The bucket's paginated listing: size and modified time come with it (no HEAD each)."""
    location = storage.location.strip("/")
    client = storage.connection.meta.client
    prefix = _s3_prefix(location, folder)
    with _listing_faults_as_oserror(prefix):
        pages = client.get_paginator("list_objects_v2").paginate(
            Bucket=storage.bucket_name, Prefix=prefix)
        for page in pages:
            for entry in page.get("Contents", ()):
                key = entry["Key"]
                if not key.endswith("/"):
                    name = key[len(location) + 1:] if location else key
                    yield StoredFile(name, entry["Size"], entry["LastModified"])


def _abort_stale_uploads(storage: S3Storage, cutoff: datetime, *, dry_run: bool) -> int:
    """Abort the multipart uploads started before ``cutoff`` and never completed: the parts
    of a large file whose writer was killed, which S3 keeps (and bills) until aborted."""
    client = storage.connection.meta.client
    aborted = 0
    for folder in SWEPT_FOLDERS:
        prefix = _s3_prefix(storage.location.strip("/"), folder)
        with _listing_faults_as_oserror(prefix):
            pages = client.get_paginator("list_multipart_uploads").paginate(
                Bucket=storage.bucket_name, Prefix=prefix)
            for page in pages:
                for upload in page.get("Uploads", ()):
                    if upload["Initiated"] > cutoff:
                        continue
                    if not dry_run:
                        client.abort_multipart_upload(Bucket=storage.bucket_name,
                                                      Key=upload["Key"],
                                                      UploadId=upload["UploadId"])
                        logger.info("aborted the unfinished upload of %s", upload["Key"])
                    aborted += 1
    return aborted


def _s3_prefix(location: str, folder: str) -> str:
    return f"{location}/{folder}/" if location else f"{folder}/"


@contextmanager
def _listing_faults_as_oserror(prefix: str):
    """A storage fault fails the sweep as OSError, as PrivateS3Storage's other calls do."""
    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        raise OSError(f"object storage failed listing {prefix!r}: {exc}") from exc


def _aware(moment: datetime) -> datetime:
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC)
