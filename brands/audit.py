"""The audit trail: one append-only row per change that matters, in the change's transaction.

Call ``audit_record`` inside the service's ``transaction.atomic()`` block, so the row exists
exactly when the change committed (P8).
"""

from __future__ import annotations

from django.db import transaction

from brands.models import AuditEvent


def audit_record(*, workspace_id: int, actor, verb: str, obj, data: dict | None = None
                 ) -> AuditEvent:
    """Record ``verb`` on ``obj`` by ``actor`` (a user or None for the system)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the change's transaction")
    return AuditEvent.objects.create(
        workspace_id=workspace_id, actor=actor if getattr(actor, "pk", None) else None,
        verb=verb, object_type=obj._meta.model_name, object_id=obj.pk, data=data or {},
    )
