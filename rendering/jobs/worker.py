"""Celery worker start-up and health for rendering.

- In the parent, after the queues are known: a worker that consumes ``gpu`` checks that its
  model source exists (no CUDA in the parent: CUDA does not survive fork) and exits non-zero
  with the setting to fix when it does not (F11). It imports torch and diffusers (no CUDA) so
  that a respawned child only loads weights, and gives its children as long to load the model
  as the measured load time calls for (F14): Celery's default is 4 s, after which it kills a
  child that has not reported up, so a slow load would loop forever.
- In each pool child: register as loading, load the pipeline once, warm it up, report healthy
  with a heartbeat. A child that cannot load the model stops the whole worker with a non-zero
  exit, so it never takes jobs it cannot render. A child killed mid-render is respawned by the
  pool and costs one model load.
- The reconciler marks workers whose heartbeat stopped as lost, so ``/ops/`` and ``/healthz``
  say when no GPU worker can render.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

from celery import signals
from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)

_GPU_FLAG = "ADSTUDIO_WORKER_GPU"
_FAILURE_FILE = "ADSTUDIO_WORKER_FAILURE_FILE"
# The longest measured load times this much is the child start-up timeout (with the setting
# as the floor): a slower disk or a busier host than last time must not loop the worker.
LOAD_TIMEOUT_MARGIN = 3.0


def current_worker_name() -> str:
    if os.environ.get(_GPU_FLAG) is None:
        return "in-process"
    return f"{socket.gethostname()}:{os.getpid()}"


def record_jobs_done(name: str, count: int) -> None:
    if count and name != "in-process":
        from django.db.models import F

        from rendering.models import Worker

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


def model_load_timeout() -> float:
    """Seconds a GPU pool child may take to load and warm up its model before Celery kills it:
    ADSTUDIO_MODEL_LOAD_TIMEOUT, or three times the longest load measured on this host."""
    from django.db import connection
    from django.db.models import Max

    from rendering.models import Worker

    host = socket.gethostname()
    try:
        measured = Worker.objects.filter(name__startswith=f"{host}:").aggregate(
            longest=Max("load_seconds"))["longest"]
    finally:
        connection.close()  # never hand a parent's connection to forked children
    return max(settings.ADSTUDIO_MODEL_LOAD_TIMEOUT, LOAD_TIMEOUT_MARGIN * (measured or 0))


@signals.celeryd_after_setup.connect
def _check_before_consuming(sender, instance, conf, **kwargs):
    queues = set(instance.app.amqp.queues.consume_from or {})
    if "gpu" not in queues:
        return
    os.environ[_GPU_FLAG] = "1"
    render_job = instance.app.tasks["rendering.render_job"]
    # The worker, not whoever published the job, decides how long a render may take.
    render_job.soft_time_limit = settings.ADSTUDIO_RENDER_SOFT_TIME_LIMIT
    render_job.time_limit = settings.ADSTUDIO_RENDER_HARD_TIME_LIMIT
    problem = preflight_model()
    if problem:
        logger.critical("GPU worker cannot start: %s", problem)
        raise SystemExit(3)  # not an Exception: celery's signal dispatch lets it through
    # Read by the pool when it starts, after this signal (celery.concurrency.prefork).
    conf.worker_proc_alive_timeout = model_load_timeout()
    logger.info("GPU pool children may take %.0f s to load the model",
                conf.worker_proc_alive_timeout)
    from rendering.engine import generate as renderer  # noqa: F401  torch and diffusers once, here: no CUDA is touched

    handle, failure_file = tempfile.mkstemp(prefix="adstudio-worker-")
    os.close(handle)
    os.environ[_FAILURE_FILE] = failure_file


@signals.worker_process_init.connect
def _load_model_in_child(**kwargs):
    if os.environ.get(_GPU_FLAG) is None:
        return
    from django.db import connections

    from rendering.models import Worker, WorkerStatus

    connections.close_all()  # never share the parent's database connections after fork
    name = current_worker_name()
    now = timezone.now()
    Worker.objects.update_or_create(name=name, defaults={
        "queues": "gpu", "status": WorkerStatus.LOADING, "started_at": now, "last_seen_at": now,
        "detail": "", "load_seconds": None,
    })
    _start_heartbeat(name)
    started = time.monotonic()
    try:
        _load_and_warm_up()
    except Exception as exc:  # any failure to load must stop the worker, whatever it is
        reason = f"{type(exc).__name__}: {exc}"
        logger.critical("GPU worker child could not load the model: %s", exc, exc_info=True)
        Worker.objects.filter(name=name).update(status=WorkerStatus.FAILED, detail=reason[:500])
        Path(os.environ[_FAILURE_FILE]).write_text(reason)
        os.kill(os.getppid(), signal.SIGTERM)
        os._exit(3)
    seconds = time.monotonic() - started
    logger.info("model loaded and warmed up in %.1f s (process %s)", seconds, os.getpid())
    _register_healthy(name, load_seconds=seconds)


def _load_and_warm_up() -> None:
    from rendering.engine.faults import maybe_slow_down_load
    from rendering.engine.generate import RenderRequest, get_renderer

    maybe_slow_down_load()
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


def _register_healthy(name: str, *, load_seconds: float) -> None:
    from rendering.engine.generate import get_renderer
    from rendering.models import Worker, WorkerStatus

    renderer = get_renderer()
    Worker.objects.filter(name=name).update(
        status=WorkerStatus.HEALTHY, device=_device_description(renderer)[:200],
        model=renderer.model[:500], load_seconds=load_seconds, last_seen_at=timezone.now(),
        detail=f"model loaded in {load_seconds:.1f} s")


def _start_heartbeat(name: str) -> None:
    from rendering.models import Worker

    def beat():
        from django.db import connection

        while True:
            threading.Event().wait(settings.ADSTUDIO_WORKER_HEARTBEAT_SECONDS)
            try:
                Worker.objects.filter(name=name).update(last_seen_at=timezone.now())
            except Exception:  # a heartbeat must never kill the worker; log and go on
                logger.exception("worker heartbeat failed")
            finally:
                connection.close()

    threading.Thread(target=beat, name="adstudio-heartbeat", daemon=True).start()


def workers_mark_lost() -> int:
    """Workers silent for three heartbeats (killed, or hung) are lost: /ops/ and /healthz stop
    counting them as able to render. Run by the reconciler. Returns how many were marked."""
    from rendering.models import Worker, WorkerStatus

    silent_since = timezone.now() - timedelta(seconds=worker_silence_seconds())
    lost = Worker.objects.filter(status__in=[WorkerStatus.HEALTHY, WorkerStatus.LOADING],
                                 last_seen_at__lt=silent_since)
    return lost.update(status=WorkerStatus.LOST,
                       detail="no heartbeat: the process was killed or hangs")


def worker_silence_seconds() -> float:
    return 3 * settings.ADSTUDIO_WORKER_HEARTBEAT_SECONDS


@signals.worker_process_shutdown.connect
def _mark_stopped(pid=None, **kwargs):
    if os.environ.get(_GPU_FLAG) is None:
        return
    from rendering.models import Worker, WorkerStatus

    Worker.objects.filter(name=current_worker_name()).update(status=WorkerStatus.STOPPED)


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
