"""The dashboard benchmark over HTTP: gunicorn with one sync worker on a free port, and the same
requests timed through a plain HTTP client."""

from __future__ import annotations

import http.client
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench.dashboard_data import Seeded
from bench.dashboard_requests import Result, endpoints
from tests.services import free_port

ROOT = Path(__file__).resolve().parent.parent


class Gunicorn:
    def __init__(self, env: dict, log: Path):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "gunicorn"), "adstudio.wsgi:application",
             "--workers", "1", "--bind", f"127.0.0.1:{self.port}", "--access-logfile", "-"],
            cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                self.request("GET", "/login/")
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not start; see {log}")

    def request(self, method: str, path: str, headers: dict | None = None, *,
                first_byte: bool = False) -> tuple[int, dict, float]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            started = time.perf_counter()
            conn.request(method, path, headers=headers or {})
            response = conn.getresponse()
            if first_byte:
                response.read(1)
            elapsed = (time.perf_counter() - started) * 1000
            response.read()
            return response.status, dict(response.getheaders()), elapsed
        finally:
            conn.close()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def measure_http(server: Gunicorn, seeded: Seeded, n: int, results: dict[str, Result]) -> None:
    from django.conf import settings
    from django.middleware.csrf import _get_new_csrf_string
    from django.test import Client

    headers = {}
    for ws in seeded.workspaces:
        client = Client()
        client.force_login(seeded.admins[ws.pk])
        csrf = _get_new_csrf_string()
        headers[ws.pk] = {
            "Cookie": f"{settings.SESSION_COOKIE_NAME}="
                      f"{client.cookies[settings.SESSION_COOKIE_NAME].value}; "
                      f"{settings.CSRF_COOKIE_NAME}={csrf}",
            "X-CSRFToken": csrf, "Host": "127.0.0.1"}
    for ep in endpoints():
        res = results[ep.name]
        for i in range(n + 3):
            ws, path = ep.target(seeded, i)
            status, got, ms = server.request(ep.method, path, headers[ws.pk])
            assert status == ep.expect, (path, status)
            if i >= 3:
                res.ms.append(ms)
            if ep.expect == 302 and "ZIP download: first byte" in results:
                location = urlsplit(got["Location"]).path
                status, _, ms = server.request("GET", location, {"Host": "127.0.0.1"},
                                               first_byte=True)
                assert status == 200, (location, status)
                if i >= 3:
                    results["ZIP download: first byte"].ms.append(ms)
