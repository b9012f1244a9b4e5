"""Real services for the job tests: a redis-server and celery worker processes.

The worker processes run the same code as production (`celery -A adstudio worker`), with the
tiny model, on the test database file and media folder of this test session.
"""

from __future__ import annotations

import os

import pytest

from tests.conftest import use_broker
from tests.services import REDIS_SERVER, ROOT, CeleryWorker, RedisServer


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


@pytest.fixture
def worker_env(broker, tiny_model_dir, settings, tmp_path):
    """The environment of a worker on this test session's database, media and Redis."""
    from django.db import connection

    database = connection.settings_dict  # the test database, as this session created it
    if database["ENGINE"].endswith("sqlite3"):
        database_url = f"sqlite:///{database['NAME']}"
    else:
        database_url = (f"postgres://{database['USER']}:{database['PASSWORD']}@"
                        f"{database['HOST']}:{database['PORT']}/{database['NAME']}")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "adstudio.settings",
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
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
