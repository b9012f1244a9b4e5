"""Celery worker start-up and health for rendering.

- In the parent, after the queues are known: a worker that consumes ``gpu`` checks that its
  model source exists (no CUDA in the parent: CUDA does not survive fork) and exits non-zero
  with the setting to fix when it does not (F11).
- In each pool child: load the pipeline once, warm it up, and report healthy with a heartbeat.
  A child that cannot load the model stops the whole worker with a non-zero exit, so it never
  takes jobs it cannot render.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import tempfile
import threading
from pathlib import Path

from celery import signals
from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)

_GPU_FLAG = "ADSTUDIO_WORKER_GPU"
_FAILURE_FILE = "ADSTUDIO_WORKER_FAILURE_FILE"
HEARTBEAT_SECONDS = 10


def current_worker_name() -> str:
    if os.environ.get(_GPU_FLAG) is None:
        return "in-process"
    return f"{socket.gethostname()}:{os.getpid()}"


def record_jobs_done(name: str, count: int) -> None:
    if count and name != "in-process":
        from django.db.models import F

        from .models import Worker

        Worker.objects.filter(name=name).update(jobs_done=F("jobs_done") + count,
                                                last_seen_at=timezone.now())


def preflight_model() -> str | None:
    """Why a configured model (generation or edit) cannot load, without loading it; None when
    they look fine. The edit model itself loads on the first edit job."""
    for setting, weights in (("ADSTUDIO_QWEN_IMAGE_MODEL", "Qwen-Image"),
                             ("ADSTUDIO_QWEN_IMAGE_EDIT_MODEL", "Qwen-Image-Edit")):
        model = getattr(settings, setting)
        if not model:
            continue  # the tiny model is built on demand
        path = Path(model)
        looks_local = model.startswith(("/", ".", "~")) or path.exists()
        if looks_local and not (path / "model_index.json").is_file():
            return (f"{setting}={model} is not a diffusers model folder "
                    f"(no model_index.json). Point it at {weights} weights.")
    return None


@signals.celeryd_after_setup.connect
def _check_before_consuming(sender, instance, conf, **kwargs):
    queues = set(instance.app.amqp.queues.consume_from or {})
    if "gpu" not in queues:
        return
    os.environ[_GPU_FLAG] = "1"
    from .tasks import render_job

    # The worker, not whoever published the job, decides how long a render may take.
    render_job.soft_time_limit = settings.ADSTUDIO_RENDER_SOFT_TIME_LIMIT
    render_job.time_limit = settings.ADSTUDIO_RENDER_HARD_TIME_LIMIT
    problem = preflight_model()
    if problem:
        logger.critical("GPU worker cannot start: %s", problem)
        raise SystemExit(3)  # not an Exception: celery's signal dispatch lets it through
    handle, failure_file = tempfile.mkstemp(prefix="adstudio-worker-")
    os.close(handle)
    os.environ[_FAILURE_FILE] = failure_file


@signals.worker_process_init.connect
def _load_model_in_child(**kwargs):
    if os.environ.get(_GPU_FLAG) is None:
        return
    from django.db import connections

    connections.close_all()  # never share the parent's database connections after fork
    try:
        _load_and_warm_up()
    except Exception as exc:  # any failure to load must stop the worker, whatever it is
        logger.critical("GPU worker child could not load the model: %s", exc, exc_info=True)
        Path(os.environ[_FAILURE_FILE]).write_text(f"{type(exc).__name__}: {exc}")
        os.kill(os.getppid(), signal.SIGTERM)
        os._exit(3)
    _register_and_heartbeat()


def _load_and_warm_up() -> None:
    from .renderer import RenderRequest, get_renderer

    renderer = get_renderer()
    side = renderer.size_multiple * 4
    renderer.render(RenderRequest(prompt="warm-up", negative_prompt="", seed=0, steps=1,
                                  true_cfg_scale=1.0, width=side, height=side))


def _device_description(renderer) -> str:
    import torch

    if renderer.device.startswith("cuda"):
        props = torch.cuda.get_device_properties(torch.device(renderer.device))
        return f"{renderer.device} {props.name} ({props.total_memory / 2**30:.0f} GiB)"
    return f"{renderer.device} ({torch.get_num_threads()} threads)"


def _register_and_heartbeat() -> None:
    from .models import Worker
    from .renderer import get_renderer

    renderer = get_renderer()
    name = current_worker_name()
    Worker.objects.update_or_create(name=name, defaults={
        "queues": "gpu", "device": _device_description(renderer), "model": renderer.model,
        "status": "healthy", "last_seen_at": timezone.now(),
    })

    def beat():
        from django.db import connection

        while True:
            try:
                Worker.objects.filter(name=name).update(last_seen_at=timezone.now())
            except Exception:  # a heartbeat must never kill the worker; log and go on
                logger.exception("worker heartbeat failed")
            finally:
                connection.close()
            threading.Event().wait(HEARTBEAT_SECONDS)

    threading.Thread(target=beat, name="adstudio-heartbeat", daemon=True).start()


@signals.worker_process_shutdown.connect
def _mark_stopped(pid=None, **kwargs):
    if os.environ.get(_GPU_FLAG) is None:
        return
    from .models import Worker

    Worker.objects.filter(name=current_worker_name()).update(status="stopped")


@signals.worker_shutdown.connect
def _exit_non_zero_after_a_failed_load(**kwargs):
    failure_file = os.environ.get(_FAILURE_FILE)
    if not failure_file or not Path(failure_file).exists():
        return
    reason = Path(failure_file).read_text()
    Path(failure_file).unlink(missing_ok=True)
    if reason:
        logger.critical("worker stopped: its model could not be loaded (%s)", reason)
        os._exit(3)
