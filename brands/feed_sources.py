"""Feed sources (catalog sync): where a catalog comes from, its schedule, and starting imports.

Every import, a feed source's or a file uploaded by hand, is a job run by a cpu worker
(brands.feed_jobs, brands.feed_run), never inside the web request. A source's schedule is a
django-celery-beat entry in the source's time zone that expires after its interval, so missed
ticks do not pile up.
"""

from __future__ import annotations

import json
import re
from datetime import datetime

from croniter import croniter
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from brands.audit import audit_record
from brands.feed_jobs import feed_imports_publish
from brands.models import (
    FeedAuth,
    FeedImport,
    FeedKind,
    FeedSchedule,
    FeedSource,
    ImportStatus,
    Workspace,
)
from brands.uploads import UploadRejected, storage_key

TICK_TASK = "brands.run_feed_source"
SECRET_REF = re.compile(r"env:[A-Z_][A-Z0-9_]{0,100}")
PRESET_CRON = {FeedSchedule.HOURLY: "0 * * * *", FeedSchedule.DAILY: "0 6 * * *"}
FEED_EXTENSIONS = {"csv": "csv", "tsv": "tsv", "txt": "txt", "xml": "xml", "gz": "gz"}
SETTINGS_FIELDS = ("name", "kind", "url", "file", "format", "auth", "auth_username",
                   "auth_header_name", "auth_secret_ref", "full_feed", "schedule",
                   "schedule_cron", "schedule_timezone")


def feed_source_save(*, workspace: Workspace, user: AbstractBaseUser | None,
                     source: FeedSource | None = None, uploaded=None, **fields) -> FeedSource:
    """Create or change a feed source (``fields`` are FeedSource fields) and its schedule.

    The URL is checked as the fetch will check it (public addresses only, no credentials in
    it); the secret is a reference ``env:VARNAME`` read at fetch time, never the secret.
    """
    from brands.feed_fetch import feed_url_validate

    source = source or FeedSource(workspace=workspace, created_by=user)
    for name, value in fields.items():
        setattr(source, name, value)
    errors: dict[str, list[str]] = {}
    if source.kind == FeedKind.URL:
        try:
            source.url = feed_url_validate(url=source.url.strip())
        except ValidationError as exc:
            errors.update(exc.message_dict if hasattr(exc, "error_dict") else {"url": exc.messages})
    elif uploaded is None and not source.file:
        errors["file"] = ["Choose the feed file to upload."]
    _check_auth(source, errors)
    try:
        _check_schedule(source)
    except ValidationError as exc:
        errors["schedule_cron"] = exc.messages
    if FeedSource.objects.filter(workspace=workspace, name=source.name).exclude(
            pk=source.pk).exists():
        errors["name"] = [f"There is already a feed called {source.name!r}."]
    if errors:
        raise ValidationError(errors)
    if uploaded is not None:
        source.file = _store_feed_file(workspace, uploaded)
    created = source.pk is None
    # Only the settings' names go into the audit row: never the secret or the file.
    changed = [] if created else _changed_fields(source)
    with transaction.atomic():
        source.save()
        _sync_beat_entry(source)
        if created or changed:  # a save that changes nothing is not recorded
            audit_record(workspace_id=workspace.pk, actor=user,
                         verb="feed_source.created" if created else "feed_source.changed",
                         obj=source, data={"name": source.name, "kind": source.kind,
                                           **({} if created else {"changed": changed})})
    return source


def _changed_fields(source: FeedSource) -> list[str]:
    """The settings of ``source`` that differ from its stored row (not what imports keep)."""
    stored = FeedSource.objects.filter(pk=source.pk).values(*SETTINGS_FIELDS).first() or {}
    return [name for name in SETTINGS_FIELDS if name in stored
            and getattr(source, name) != stored[name]]


def feed_source_delete(*, source: FeedSource, user: AbstractBaseUser | None) -> None:
    """Delete a source and its schedule; its products and past imports stay."""
    with transaction.atomic():
        if source.periodic_task_id:
            source.periodic_task.delete()
        audit_record(workspace_id=source.workspace_id, actor=user, verb="feed_source.deleted",
                     obj=source, data={"name": source.name})
        source.delete()


def feed_source_run(*, source: FeedSource, user: AbstractBaseUser | None) -> FeedImport:
    """Queue an import of the source; when one is already queued or running, that one."""
    active = source.imports.filter(status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING])
    try:
        with transaction.atomic():
            feed_import = FeedImport.objects.create(
                workspace=source.workspace, source=source, created_by=user,
                filename=(source.url or source.file.name or source.name)[:255])
            feed_imports_publish([feed_import.pk])
    except IntegrityError:  # one_active_import_per_source: another run started meanwhile
        existing = active.first()
        if existing is None:
            raise
        return existing
    return feed_import


def feed_upload_import(*, workspace: Workspace, user: AbstractBaseUser | None,
                       uploaded) -> FeedImport:
    """Store a CSV uploaded by hand and queue its import; the report fills in as it runs."""
    with transaction.atomic():
        feed_import = FeedImport.objects.create(
            workspace=workspace, created_by=user, filename=uploaded.name[:255],
            file=_store_feed_file(workspace, uploaded))
        feed_imports_publish([feed_import.pk])
    return feed_import


def feed_source_next_run(source: FeedSource, now: datetime | None = None) -> datetime | None:
    """When the schedule runs the source next (aware, in the source's time zone)."""
    cron = _cron_of(source)
    if not cron:
        return None
    from zoneinfo import ZoneInfo

    local = (now or timezone.now()).astimezone(ZoneInfo(source.schedule_timezone))
    return croniter(cron, local).get_next(datetime)


def feed_secret(source: FeedSource) -> str:
    """The secret the reference names, read now; an operator error names the variable."""
    import os

    name = source.auth_secret_ref.removeprefix("env:")
    value = os.environ.get(name)
    if not value:
        raise ValidationError(
            f"The feed's secret is read from the environment variable {name}, which is not set "
            "on the workers; ask an operator to set it.")
    return value


def _check_auth(source: FeedSource, errors: dict) -> None:
    if source.auth == FeedAuth.NONE:
        source.auth_username = source.auth_header_name = source.auth_secret_ref = ""
        return
    if source.kind != FeedKind.URL:
        errors["auth"] = ["Sign-in applies to feeds fetched from a URL only."]
    if not SECRET_REF.fullmatch(source.auth_secret_ref or ""):
        errors["auth_secret_ref"] = [
            "Name the environment variable that holds the secret, e.g. env:SHOP_FEED_TOKEN "
            "(an operator sets it on the workers; the secret itself is never stored)."]
    if source.auth == FeedAuth.BASIC and not source.auth_username:
        errors["auth_username"] = ["Enter the user name."]
    if source.auth == FeedAuth.HEADER and not re.fullmatch(r"[A-Za-z0-9-]{1,100}",
                                                           source.auth_header_name or ""):
        errors["auth_header_name"] = ["Enter the header's name, e.g. X-Api-Key."]


def _check_schedule(source: FeedSource) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(source.schedule_timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"'{source.schedule_timezone}' is not a time zone; use a name "
                              "like Europe/Berlin.") from exc
    if source.schedule == FeedSchedule.CRON:
        cron = source.schedule_cron.strip()
        if len(cron.split()) != 5 or not croniter.is_valid(cron):
            raise ValidationError(
                f"'{cron}' is not a cron expression. Use five fields: minute hour day month "
                "weekday, e.g. '0 6 * * *' for every day at 6:00.")
        source.schedule_cron = cron
    else:
        source.schedule_cron = ""


def _cron_of(source: FeedSource) -> str:
    return PRESET_CRON.get(source.schedule) or source.schedule_cron


def _sync_beat_entry(source: FeedSource) -> None:
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    cron = _cron_of(source)
    if not cron:
        if source.periodic_task_id:
            source.periodic_task.delete()
            source.periodic_task = None
        return
    minute, hour, day_of_month, month_of_year, day_of_week = cron.split()
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month_of_year,
        day_of_week=day_of_week, timezone=source.schedule_timezone)
    following = feed_source_next_run(source)
    interval = int((croniter(cron, following).get_next(datetime) - following).total_seconds())
    task, _ = PeriodicTask.objects.update_or_create(name=f"feed source {source.pk}", defaults={
        "crontab": crontab, "interval": None, "task": TICK_TASK,
        "args": json.dumps([source.pk]), "queue": "cpu", "enabled": True,
        "expire_seconds": interval,  # a tick not run within its interval is dropped
    })
    if source.periodic_task_id != task.pk:
        source.periodic_task = task
        FeedSource.objects.filter(pk=source.pk).update(periodic_task=task)


def _store_feed_file(workspace: Workspace, uploaded) -> str:
    """Save an uploaded feed under the workspace's folder; returns the storage key."""
    limit = settings.ADSTUDIO_MAX_FEED_BYTES
    if uploaded.size is not None and uploaded.size > limit:
        raise UploadRejected(f"This file is larger than the {limit // 2**20} MB limit for feeds.")
    extension = FEED_EXTENSIONS.get(uploaded.name.rsplit(".", 1)[-1].lower(), "csv")
    key = storage_key(workspace_id=workspace.pk, folder="feeds", extension=extension)
    return default_storage.save(key, uploaded)
