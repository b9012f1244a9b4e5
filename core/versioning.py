"""Versioned rows: a row's ``version`` goes up by one when, and only when, something about it
changed, since recipes and audit rows record the version they saw.

Every "apply these values and bump the version if anything changed" goes through here, so the
rule is one rule. Nothing here saves: the caller saves (or bulk-writes) what changed.
"""

from __future__ import annotations

from django.db.models import F, QuerySet


def values_apply(obj, values: dict, *, unversioned: dict | None = None) -> list[str]:
    """Set ``values`` on ``obj`` and bump ``obj.version`` once if any of them changed.

    ``unversioned`` values are set the same way but do not count as a new version (a
    template's name, say). Returns the names of the fields that changed, ``values`` first.
    """
    changed = _set_changed(obj, values)
    if changed:
        obj.version += 1
    return changed + _set_changed(obj, unversioned or {})


def version_bump_queryset(queryset: QuerySet, **values) -> int:
    """Set ``values`` on every row of ``queryset`` and bump each row's version, in one UPDATE.

    For many rows at once (a full feed marking what it no longer lists): the caller's filter
    must select only rows that the values change, so each row still goes up exactly once.
    Returns the number of rows updated.
    """
    return queryset.update(version=F("version") + 1, **values)


def _set_changed(obj, values: dict) -> list[str]:
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, values[name])
    return changed
