"""Refresh schedules: a campaign's cron or interval rule, its period, and its
django-celery-beat entry (off while the campaign is archived). Running a refresh is
campaigns/refresh_run.py.

A refresh is keyed by (campaign, period), the scheduled time it stands for, with a unique
constraint: two beats ticking at once, a retry, or "refresh now" in the same period create
one refresh, not two (F12). Schedules live in the database as django-celery-beat entries
that expire after their interval, so a backlog of missed ticks does not pile up.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from brands.audit import audit_record
from campaigns.models import (
    Campaign,
    CampaignStatus,
    RefreshSchedule,
    ScheduleKind,
)

logger = logging.getLogger(__name__)


TASK_NAME = "campaigns.refresh_campaign"


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def preset_cron(preset: str, *, hour: int = 9, minute: int = 0, weekday: str = "mon") -> str:
    """The cron expression of a simple preset: 'daily' or 'weekly' (on ``weekday``)."""
    if preset == "daily":
        return f"{minute} {hour} * * *"
    if preset == "weekly":
        return f"{minute} {hour} * * {WEEKDAYS.index(weekday) + 1 if weekday != 'sun' else 0}"
    raise ValueError(f"unknown preset {preset!r}")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"'{name}' is not a time zone; use a name like Europe/Berlin.") \
            from exc


def validate_rule(*, kind: str, cron: str, interval_seconds: int | None, tz: str) -> None:
    _zone(tz)
    if kind == ScheduleKind.CRON:
        if not cron or not croniter.is_valid(cron) or len(cron.split()) != 5:
            raise ValidationError(
                f"'{cron}' is not a cron expression. Use five fields: minute hour day month "
                "weekday, e.g. '0 9 * * 1' for Mondays at 9:00.")
    elif not interval_seconds or interval_seconds < 1:
        raise ValidationError("An interval schedule needs an interval of at least 1 second.")


def schedule_period(schedule: RefreshSchedule, now: datetime | None = None) -> datetime:
    """The latest scheduled time at or before ``now`` (UTC), in the schedule's time zone:
    Mondays at 9:00 Europe/Berlin is 08:00 UTC in winter and 07:00 UTC in summer."""
    now = now or timezone.now()
    if schedule.kind == ScheduleKind.INTERVAL:
        step = schedule.interval_seconds
        return datetime.fromtimestamp(int(now.timestamp()) // step * step, tz=UTC)
    local_now = now.astimezone(_zone(schedule.timezone))
    # A tick exactly at ``now`` belongs to now: step a hair past it before looking back.
    previous = croniter(schedule.cron, local_now + timedelta(microseconds=1)).get_prev(datetime)
    return previous.astimezone(UTC)


def schedule_interval(schedule: RefreshSchedule) -> int:
    """Seconds between two ticks (for a cron rule, the gap after the latest one)."""
    if schedule.kind == ScheduleKind.INTERVAL:
        return schedule.interval_seconds
    start = schedule_period(schedule)
    following = croniter(schedule.cron, start.astimezone(_zone(schedule.timezone))).get_next(
        datetime)
    return int((following - start).total_seconds())


def refresh_schedule_save(*, campaign: Campaign, user, kind: str, cron: str = "",
                          interval_seconds: int | None = None, tz: str = "UTC",
                          formats=(), variants: int = 1, enabled: bool = True,
                          auto_rerender_stale: bool | None = None) -> RefreshSchedule:
    """Create or change a campaign's refresh schedule and its beat entry. ``user`` is the
    actor the audit row names (None: the system); a save that changes nothing writes none."""
    validate_rule(kind=kind, cron=cron, interval_seconds=interval_seconds, tz=tz)
    if not 1 <= variants <= 8:
        raise ValidationError("A refresh makes 1 to 8 variants per slot.")
    values = {
        "kind": kind, "cron": cron if kind == ScheduleKind.CRON else "",
        "interval_seconds": interval_seconds if kind == ScheduleKind.INTERVAL else None,
        "timezone": tz, "variants": variants, "enabled": enabled,
    }
    formats = list(formats)
    with transaction.atomic():
        before = RefreshSchedule.objects.select_for_update().filter(campaign=campaign).first()
        changed = [] if before is None else [
            key for key, value in values.items() if getattr(before, key) != value]
        if before is not None and set(before.formats.values_list("pk", flat=True)) != {
                getattr(f, "pk", f) for f in formats}:
            changed.append("formats")
        schedule, created = RefreshSchedule.objects.update_or_create(campaign=campaign,
                                                                     defaults=values)
        schedule.formats.set(formats)
        if auto_rerender_stale is not None and Campaign.objects.filter(pk=campaign.pk).exclude(
                auto_rerender_stale=auto_rerender_stale).update(
                    auto_rerender_stale=auto_rerender_stale):
            changed.append("auto_rerender_stale")
        _sync_beat_entry(schedule)
        if created or changed:
            audit_record(workspace_id=campaign.workspace_id, actor=user,
                         verb="refresh_schedule.created" if created
                         else "refresh_schedule.changed", obj=schedule,
                         data={"campaign": campaign.pk, "kind": kind,
                               **({} if created else {"changed": changed})})
    return schedule


def _sync_beat_entry(schedule: RefreshSchedule) -> None:
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    if schedule.kind == ScheduleKind.CRON:
        minute, hour, day_of_month, month_of_year, day_of_week = schedule.cron.split()
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month_of_year,
            day_of_week=day_of_week, timezone=schedule.timezone)
        rule = {"crontab": crontab, "interval": None}
    else:
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=schedule.interval_seconds, period=IntervalSchedule.SECONDS)
        rule = {"interval": interval, "crontab": None}
    task, _ = PeriodicTask.objects.update_or_create(
        name=_beat_entry_name(schedule.campaign_id),
        defaults={
            **rule, "task": TASK_NAME, "args": json.dumps([schedule.campaign_id]),
            "queue": "default",
            # An archived campaign keeps its schedule but is not refreshed.
            "enabled": schedule.enabled and not Campaign.objects.filter(
                pk=schedule.campaign_id, status=CampaignStatus.ARCHIVED).exists(),
            # A tick not run within its interval is dropped: the next one catches up.
            "expire_seconds": schedule_interval(schedule),
        },
    )
    if schedule.periodic_task_id != task.pk:
        schedule.periodic_task = task
        schedule.save(update_fields=["periodic_task"])


def _beat_entry_name(campaign_id: int) -> str:
    return f"refresh campaign {campaign_id}"


def refresh_beat_sync(campaign: Campaign) -> None:
    """Bring the campaign's beat entry in line with its schedule and status (archived: off)."""
    schedule = RefreshSchedule.objects.filter(campaign=campaign).first()
    if schedule is not None:
        _sync_beat_entry(schedule)


def refresh_beat_remove(campaign_id: int) -> None:
    """Remove the beat entry of a campaign that is being deleted."""
    from django_celery_beat.models import PeriodicTask

    PeriodicTask.objects.filter(name=_beat_entry_name(campaign_id)).delete()
