"""Background work: Celery and its beat schedule, and the leases and attempts of render jobs
and feed import jobs."""

from adstudio.settings.base import env

# --- Tasks (https://docs.celeryq.dev/en/stable/userguide/configuration.html) ---
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
# No broker configured: run tasks in-process (they are enqueued on commit either way).
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
# Queues: gpu (render, edit), cpu (compositions, checks, cut-outs, export), default (the rest).
CELERY_TASK_ROUTES = {
    "rendering.render_job": {"queue": "gpu"},
    "rendering.reconcile_jobs": {"queue": "default"},
    "rendering.check_asset": {"queue": "cpu"},  # OCR and brand checks never block a GPU
    "rendering.compose_job": {"queue": "cpu"},  # compositions: layered designs, no GPU
    "campaigns.refresh_campaign": {"queue": "default"},
    "campaigns.notify_review": {"queue": "cpu"},
    "campaigns.send_review_digests": {"queue": "cpu"},
    "api.deliver_webhook": {"queue": "cpu"},
    "api.reconcile_webhooks": {"queue": "cpu"},
    "adstudio.sweep_orphan_files": {"queue": "cpu"},
    "brands.run_feed_import": {"queue": "cpu"},  # catalog sync: fetch, parse, upsert
    "brands.run_feed_source": {"queue": "cpu"},  # a feed source's scheduled tick
    "brands.fetch_product_photo": {"queue": "cpu"},
    "brands.make_cutout": {"queue": "cpu"},  # a product photo's cut-out (matting on CPU)
    "brands.reconcile_feed_imports": {"queue": "cpu"},
}
# A render that outlives the soft limit fails with "timeout"; the hard limit kills the child.
ADSTUDIO_RENDER_SOFT_TIME_LIMIT = env.int("ADSTUDIO_RENDER_SOFT_TIME_LIMIT", default=900)
ADSTUDIO_RENDER_HARD_TIME_LIMIT = ADSTUDIO_RENDER_SOFT_TIME_LIMIT + 60
# Redis redelivers an unacknowledged message after this; it must exceed the hard limit.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": ADSTUDIO_RENDER_HARD_TIME_LIMIT + 600,
    "socket_connect_timeout": 3,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing must not hang a web request when Redis is down: the reconciler publishes later.
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5,
}
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# Schedules live in the database (campaign refreshes are rows); this dict is synced into it.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "reconcile-render-jobs": {
        "task": "rendering.reconcile_jobs",
        "schedule": env.float("ADSTUDIO_RECONCILE_EVERY_SECONDS", default=60.0),
        # A backlog of missed ticks must not pile up: each one is worth its interval.
        "options": {"expires": env.float("ADSTUDIO_RECONCILE_EVERY_SECONDS", default=60.0)},
    },
    "send-review-digests": {
        "task": "campaigns.send_review_digests",
        "schedule": 60.0 * env.int("ADSTUDIO_REVIEW_DIGEST_MINUTES", default=15),
        "options": {"expires": 60.0 * env.int("ADSTUDIO_REVIEW_DIGEST_MINUTES", default=15)},
    },
    "reconcile-webhook-deliveries": {  # deliveries whose message was lost end sent or failed
        "task": "api.reconcile_webhooks",
        "schedule": 300.0,
        "options": {"expires": 300.0},
    },
    "reconcile-feed-imports": {  # imports of a killed worker run again (brands/feed_jobs.py)
        "task": "brands.reconcile_feed_imports",
        "schedule": 60.0,
        "options": {"expires": 60.0},
    },
    "sweep-orphan-files": {  # stored files without a row, past their grace period (F15)
        "task": "adstudio.sweep_orphan_files",
        "schedule": 6 * 3600.0,
        "options": {"expires": 6 * 3600.0},
    },
}

# --- Render jobs (see docs/workers.md) ---
ADSTUDIO_JOB_MAX_ATTEMPTS = env.int("ADSTUDIO_JOB_MAX_ATTEMPTS", default=3)
# A running job whose worker stops renewing this lease is requeued by the reconciler.
ADSTUDIO_JOB_LEASE_SECONDS = env.int("ADSTUDIO_JOB_LEASE_SECONDS", default=120)
ADSTUDIO_PROGRESS_INTERVAL = env.float("ADSTUDIO_PROGRESS_INTERVAL", default=0.25)
ADSTUDIO_PUBLISH_GRACE_SECONDS = env.int("ADSTUDIO_PUBLISH_GRACE_SECONDS", default=10)
ADSTUDIO_REPUBLISH_AFTER_SECONDS = env.int("ADSTUDIO_REPUBLISH_AFTER_SECONDS", default=900)
# Queued jobs with the same model, size, steps and guidance rendered in one pipeline call.
ADSTUDIO_MAX_BATCH = env.int("ADSTUDIO_MAX_BATCH", default=1)
# Test hook only (rendering/engine/faults.py): "oom:N" fails the next N pipeline calls;
# "slow_load:S" makes each model load S seconds slower.
ADSTUDIO_FAULT_INJECTION = env.str("ADSTUDIO_FAULT_INJECTION", default="")
# How long a GPU worker's pool child may take to load and warm up its model before Celery
# gives up on it (Celery's own default is 4 s; real weights take minutes). The worker raises it
# to three times the longest load it has measured for its model (F14; docs/workers.md).
ADSTUDIO_MODEL_LOAD_TIMEOUT = env.float("ADSTUDIO_MODEL_LOAD_TIMEOUT", default=600.0)
CELERY_WORKER_PROC_ALIVE_TIMEOUT = ADSTUDIO_MODEL_LOAD_TIMEOUT
# Workers report every this many seconds; one silent for three heartbeats is shown as lost.
ADSTUDIO_WORKER_HEARTBEAT_SECONDS = env.float("ADSTUDIO_WORKER_HEARTBEAT_SECONDS", default=10.0)

# --- Feed import jobs (brands/feed_jobs.py) ---
# A running import whose worker stops renewing this lease (every batch of 500 rows) is queued
# again by the reconciler, up to this many attempts in all.
ADSTUDIO_FEED_LEASE_SECONDS = env.int("ADSTUDIO_FEED_LEASE_SECONDS", default=300)
ADSTUDIO_FEED_MAX_ATTEMPTS = env.int("ADSTUDIO_FEED_MAX_ATTEMPTS", default=3)
