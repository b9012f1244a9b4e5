"""GET /healthz: can this web process reach the database, the broker and storage?

200 with each check "ok", or 503 naming what failed (for load balancers and monitoring; it
says nothing about any workspace). ``render`` says whether any GPU worker can render now; it
does not fail the web's health (the dashboard works without GPUs) unless the caller asks for
it with ``?require=render`` (for monitoring the render fleet: F14).
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
    try:
        render = _render()
    except DatabaseError as exc:
        render = {"can_render": False, "summary": f"failed: {type(exc).__name__}"}
    if request.GET.get("require") == "render":
        healthy = healthy and render["can_render"]
    return JsonResponse({"healthy": healthy, **results, "render": render["summary"]},
                        status=200 if healthy else 503)


def _render() -> dict:
    from django.utils import timezone

    from rendering.models import Worker
    from rendering.selectors import render_capacity, worker_state

    now = timezone.now()
    return render_capacity([worker_state(w, now=now) for w in
                            Worker.objects.filter(queues__contains="gpu")
                            .order_by("-last_seen_at")[:200]])
