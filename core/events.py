"""What happened, by name: an app announces an event where it happens, and whoever cares
listens (the API delivers events to webhook endpoints: api/apps.py connects it).

Event names are the webhook event names and the audit verbs' tense: ``asset.approved``,
``job.failed``, ``campaign.refreshed``. Send inside the transaction that made it true; a
receiver that needs the commit defers its own work with ``transaction.on_commit``.
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent with workspace_id (int), event (str) and payload (a JSON-ready dict).
event_happened = Signal()


def event_announce(*, workspace_id: int, event: str, payload: dict) -> None:
    event_happened.send(sender=None, workspace_id=workspace_id, event=event, payload=payload)
