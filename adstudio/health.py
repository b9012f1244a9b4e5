"""GET /healthz: can this web process reach the database, the broker and storage?

200 with each check "ok", or 503 naming what failed (for load balancers and monitoring; it
says nothing about any workspace).
"""

from __future__ import annotations

import uuid

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _broker() -> str:
    from adstudio.celery import app

    if app.conf.task_always_eager:
        return "in-process"  # the embedded default has no broker to reach
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return "ok"


def _storage() -> str:
    name = default_storage.save(f"health/{uuid.uuid4().hex}.txt", ContentFile(b"ok"))
    try:
        with default_storage.open(name) as fh:
            if fh.read() != b"ok":
                return "read back wrong content"
    finally:
        default_storage.delete(name)
    return "ok"


CHECKS = {"database": _database, "broker": _broker, "storage": _storage}


@never_cache
@require_GET
def healthz(request):
    from kombu.exceptions import OperationalError

    results, healthy = {}, True
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except (DatabaseError, OperationalError, OSError) as exc:
            results[name] = f"failed: {type(exc).__name__}"
        healthy = healthy and results[name] in ("ok", "in-process")
    return JsonResponse({"healthy": healthy, **results}, status=200 if healthy else 503)
