"""Real services for tests and benchmarks: redis-server and celery worker processes."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
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
        """Wait until ``count`` pool children report healthy (needs Django set up)."""
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


class CeleryBeat:
    """`celery -A adstudio beat` (the DatabaseScheduler of the settings), logging to a file."""

    def __init__(self, *, env: dict, log: Path):
        self.env, self.log = env, log
        self.process: subprocess.Popen | None = None

    def start(self) -> CeleryBeat:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "adstudio", "beat", "-l", "info",
             "--max-interval", "1"],
            cwd=ROOT, env=self.env, stdout=self.log.open("w"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
