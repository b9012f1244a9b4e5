"""Real services for the job tests: a redis-server and celery worker processes.

The worker processes run the same code as production (`celery -A adstudio worker`), with the
tiny model, on the test database file and media folder of this test session.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from tests.conftest import use_broker

ROOT = Path(__file__).resolve().parents[2]
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, *, timeout: float, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class RedisServer:
    """A real redis-server with an append-only file, as production runs it."""

    def __init__(self, directory: Path):
        self.port = free_port()
        self.directory = directory
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir",
             str(self.directory), "--appendonly", "yes", "--appendfsync", "always",
             "--save", "", "--maxmemory-policy", "noeviction", "--protected-mode", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )
        wait_for(self.ping, timeout=10, what="redis-server to answer")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    if not os.path.exists(REDIS_SERVER):
        pytest.fail("redis-server is missing: ./dev test installs it (apt redis-server)")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def broker(redis_server):
    """The test process publishes to the real Redis (and restores the in-process default)."""
    from adstudio.celery import app

    if not redis_server.ping():
        redis_server.start()
    use_broker(app, redis_server.url, eager=False)
    yield redis_server
    use_broker(app, "memory://", eager=True)


class CeleryWorker:
    """`celery -A adstudio worker` in its own process group, logging to a file."""

    def __init__(self, *, env: dict, log: Path, concurrency: int = 1, beat: bool = True):
        self.env, self.log, self.concurrency, self.beat = env, log, concurrency, beat
        self.process: subprocess.Popen | None = None

    def start(self) -> CeleryWorker:
        schedule = self.log.with_suffix(".beat")
        command = [sys.executable, "-m", "celery", "-A", "adstudio", "worker",
                   "-Q", "gpu,default", "-c", str(self.concurrency), "-P", "prefork",
                   "--without-gossip", "--without-mingle", "--without-heartbeat",
                   "-n", f"test-{os.getpid()}-{time.time_ns()}@%h", "-l", "info"]
        if self.beat:
            command += ["-B", "-s", str(schedule)]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=self.log.open("w"),
            stderr=subprocess.STDOUT, start_new_session=True,
        )
        return self

    def wait_healthy(self, count: int | None = None, timeout: float = 90) -> list[str]:
        from rendering.models import Worker

        count = count or self.concurrency

        def healthy():
            self.assert_running()
            names = list(Worker.objects.filter(status="healthy").values_list("name", flat=True))
            return names if len(names) >= count else None

        return wait_for(healthy, timeout=timeout, interval=0.2, what="a healthy worker")

    def assert_running(self) -> None:
        if self.process.poll() is not None:
            raise AssertionError(f"worker exited {self.process.returncode}:\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture
def worker_env(broker, tiny_model_dir, settings, tmp_path):
    """The environment of a worker on this test session's database, media and Redis."""
    database = django_settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "adstudio.settings",
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"sqlite:///{database['NAME']}",
        "REDIS_URL": broker.url,
        "ADSTUDIO_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "ADSTUDIO_QWEN_IMAGE_MODEL": str(tiny_model_dir),
        "ADSTUDIO_RENDER_SCALE": "0.0625",
        "ADSTUDIO_TORCH_THREADS": "1",
        "ADSTUDIO_JOB_LEASE_SECONDS": "2",
        "ADSTUDIO_PROGRESS_INTERVAL": "0.05",
        "ADSTUDIO_RECONCILE_EVERY_SECONDS": "1",
        "ADSTUDIO_PUBLISH_GRACE_SECONDS": "0",
        "ADSTUDIO_LOG_LEVEL": "INFO",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


@pytest.fixture
def start_worker(worker_env, tmp_path):
    """Start real workers (stopped at the end of the test); extra env overrides per worker."""
    started: list[CeleryWorker] = []

    def start(*, concurrency: int = 1, beat: bool = True, **overrides) -> CeleryWorker:
        env = {**worker_env, **{k: str(v) for k, v in overrides.items()}}
        worker = CeleryWorker(env=env, log=tmp_path / f"worker{len(started)}.log",
                              concurrency=concurrency, beat=beat).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
