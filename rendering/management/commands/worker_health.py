"""Exit 0 when a GPU worker process on this host can render now, 1 (with the reason) when not.

For a container's health check: `celery inspect ping` is answered by the worker's parent even
while every pool child is dead or still loading the model (F14); this asks the rows the
children keep up to date with their heartbeat.
"""

import socket

from django.core.management.base import BaseCommand
from django.utils import timezone

from rendering.models import Worker
from rendering.selectors import worker_state


class Command(BaseCommand):
    help = "Exit 0 when a GPU worker process on this host is ready to render, else 1."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=socket.gethostname(),
                            help="the host whose workers to check (default: this one)")

    def handle(self, *args, host, **options):
        now = timezone.now()
        states = [worker_state(w, now=now) for w in
                  Worker.objects.filter(name__startswith=f"{host}:", queues__contains="gpu")
                  .order_by("-last_seen_at")[:50]]
        ready = [s for s in states if s["alive"]]
        if ready:
            self.stdout.write(f"ready: {', '.join(s['name'] for s in ready)}")
            return
        recent = [f"{s['name']} {s['label'].lower()}" for s in states if s["recent"]]
        why = "; ".join(recent) or "none has reported"
        self.stderr.write(f"no GPU worker process on {host} can render: {why}")
        raise SystemExit(1)
