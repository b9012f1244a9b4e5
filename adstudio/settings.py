"""AdStudio settings, read from the environment (see README "Configuration").

Every integration is switched by an environment variable, so tests run the same code as
production: unset means the embedded default (SQLite, local files, in-process tasks, the tiny
random-weight model); set means the real service.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from adstudio.secret_key import PUBLISHED_KEYS, secret_key_read_or_create

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

# Where the embedded defaults keep their state (database, media, tiny model).
VAR_DIR = Path(env.str("ADSTUDIO_VAR_DIR", default=str(BASE_DIR / "var")))

# --- Core (https://docs.djangoproject.com/en/5.2/ref/settings/) ---
# ADSTUDIO_PRODUCTION=1 behind HTTPS: secure cookies, HSTS, HTTPS redirect, and a real secret
# key required (`manage.py check --deploy` is clean then; a test proves it).
PRODUCTION = env.bool("ADSTUDIO_PRODUCTION", default=False)
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Unset outside production: a random key of this install's own, made on first start and kept
# in VAR_DIR/secret_key (RELIABILITY.md P11); a key published with AdStudio is never used.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if SECRET_KEY in PUBLISHED_KEYS:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is a value published with AdStudio, so anyone could forge file and "
        "export links: set it to 50+ random characters, or unset it outside production.")
if PRODUCTION and (len(SECRET_KEY) < 50 or DEBUG):
    raise ImproperlyConfigured(
        "ADSTUDIO_PRODUCTION=1 needs DJANGO_SECRET_KEY set to 50+ random characters and "
        "DJANGO_DEBUG off.")
if not SECRET_KEY:
    SECRET_KEY = secret_key_read_or_create(path=VAR_DIR / "secret_key")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "adstudio",  # project-wide tasks and commands: the orphan file sweeper
    "brands",
    "rendering",
    "campaigns",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "adstudio.limits.RequestSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

# --- Security (https://docs.djangoproject.com/en/5.2/ref/middleware/#module-django.middleware.security)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = PRODUCTION
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=PRODUCTION)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS",
                              default=31_536_000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_PRELOAD = PRODUCTION
if env.bool("ADSTUDIO_BEHIND_TLS_PROXY", default=PRODUCTION):
    # The proxy terminates TLS and says so; only trust it when it strips the header itself.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The health check is for load balancers, which speak plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

ROOT_URLCONF = "adstudio.urls"
WSGI_APPLICATION = "adstudio.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database: SQLite file by default, PostgreSQL through DATABASE_URL ---
DATABASES = {
    "default": env.db_url(
        "DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'adstudio.sqlite3'}"
    )
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Web, workers and beat share the file: readers never block the writer (WAL), writers
    # take the lock up front (IMMEDIATE) and wait for each other instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    })
    if DATABASES["default"]["NAME"] not in ("", ":memory:"):
        # The embedded default must work on a fresh clone, where var/ does not exist yet.
        Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Files (https://docs.djangoproject.com/en/5.2/ref/files/storage/) ---
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_ROOT = Path(env.str("ADSTUDIO_MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Stored files are reached only by signed links that expire after this long (RELIABILITY.md
# P5; adstudio/files.py): presigned S3 URLs, or links signed with DJANGO_SECRET_KEY.
ADSTUDIO_FILE_URL_SECONDS = env.int("ADSTUDIO_FILE_URL_SECONDS", default=300)
# A stored file no row points at (its writer was killed before the row committed) is removed
# once it is this old (RELIABILITY.md F15; adstudio/orphan_files.py). Keep it far above the
# longest render plus its storage write: a younger file may still be getting its row.
ADSTUDIO_ORPHAN_FILE_GRACE_SECONDS = env.int("ADSTUDIO_ORPHAN_FILE_GRACE_SECONDS",
                                             default=24 * 3600)
# Object storage through django-storages' S3 backend, in a private bucket (no ACL is set on
# objects): https://django-storages.readthedocs.io/en/latest/backends/amazon-S3.html
ADSTUDIO_S3_BUCKET = env.str("ADSTUDIO_S3_BUCKET", default="")
if ADSTUDIO_S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "adstudio.files.PrivateS3Storage",
        "OPTIONS": {
            "bucket_name": ADSTUDIO_S3_BUCKET,
            # Empty: AWS S3 itself. Workers and web reach the store here...
            "endpoint_url": env.str("ADSTUDIO_S3_ENDPOINT_URL", default="") or None,
            # ...and browsers here, when that differs (presigned URLs name the host they sign).
            "public_endpoint_url": env.str("ADSTUDIO_S3_PUBLIC_URL", default="") or None,
            # Empty: boto3's own credential chain (an instance role, ~/.aws).
            "access_key": env.str("ADSTUDIO_S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("ADSTUDIO_S3_SECRET_ACCESS_KEY", default="") or None,
            "region_name": env.str("ADSTUDIO_S3_REGION", default="us-east-1"),
            "addressing_style": env.str("ADSTUDIO_S3_ADDRESSING_STYLE", default="path"),
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": ADSTUDIO_FILE_URL_SECONDS,
            "file_overwrite": False,
        },
    }

# --- Upload limits (RELIABILITY.md B2, B3) ---
ADSTUDIO_MAX_UPLOAD_BYTES = env.int("ADSTUDIO_MAX_UPLOAD_BYTES", default=20 * 1024 * 1024)
ADSTUDIO_MAX_FEED_BYTES = env.int("ADSTUDIO_MAX_FEED_BYTES", default=200 * 1024 * 1024)
ADSTUDIO_MAX_IMAGE_PIXELS = env.int("ADSTUDIO_MAX_IMAGE_PIXELS", default=50_000_000)
# Request bodies above this are refused with 413 before a view runs; the feed upload is
# the biggest legitimate body.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
ADSTUDIO_MAX_REQUEST_BYTES = env.int("ADSTUDIO_MAX_REQUEST_BYTES", default=ADSTUDIO_MAX_FEED_BYTES)

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
# Queues: gpu (render, edit), cpu (thumbnails, checks, export), default (the rest).
CELERY_TASK_ROUTES = {
    "rendering.render_job": {"queue": "gpu"},
    "rendering.reconcile_jobs": {"queue": "default"},
    "rendering.check_asset": {"queue": "cpu"},  # OCR and brand checks never block a GPU
    "campaigns.refresh_campaign": {"queue": "default"},
    "campaigns.notify_review": {"queue": "cpu"},
    "campaigns.send_review_digests": {"queue": "cpu"},
    "api.deliver_webhook": {"queue": "cpu"},
    "api.reconcile_webhooks": {"queue": "cpu"},
    "adstudio.sweep_orphan_files": {"queue": "cpu"},
    "brands.run_feed_import": {"queue": "cpu"},  # catalog sync: fetch, parse, upsert
    "brands.run_feed_source": {"queue": "cpu"},  # a feed source's scheduled tick
    "brands.fetch_product_photo": {"queue": "cpu"},
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

# --- Cache (https://docs.djangoproject.com/en/5.2/topics/cache/): sign-in throttling counters,
# shared by every web process. CACHE_URL, else the Redis of REDIS_URL, else process memory.
if env.str("CACHE_URL", default=""):
    CACHES = {"default": env.cache_url("CACHE_URL")}
elif REDIS_URL:
    CACHES = {"default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
        "KEY_PREFIX": "adstudio-cache",
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Sign-in throttling (RELIABILITY.md P7; adstudio/login.py) ---
# After this many failed sign-ins for one username within the lockout period, that username
# is refused (429) until the period has passed; a correct password does not lift it.
ADSTUDIO_LOGIN_ATTEMPTS = env.int("ADSTUDIO_LOGIN_ATTEMPTS", default=5)
# The same for one client address, set higher: an office signs in from one address.
ADSTUDIO_LOGIN_IP_ATTEMPTS = env.int("ADSTUDIO_LOGIN_IP_ATTEMPTS", default=50)
ADSTUDIO_LOGIN_LOCKOUT_SECONDS = env.int("ADSTUDIO_LOGIN_LOCKOUT_SECONDS", default=900)
# Reverse proxies in front of the web process that append X-Forwarded-For (0: use the
# connection's address). Set it behind a proxy, or everyone shares the proxy's address.
ADSTUDIO_TRUSTED_PROXY_COUNT = env.int("ADSTUDIO_TRUSTED_PROXY_COUNT", default=0)

# --- Render jobs (see docs/workers.md) ---
ADSTUDIO_JOB_MAX_ATTEMPTS = env.int("ADSTUDIO_JOB_MAX_ATTEMPTS", default=3)
# A running job whose worker stops renewing this lease is requeued by the reconciler.
ADSTUDIO_JOB_LEASE_SECONDS = env.int("ADSTUDIO_JOB_LEASE_SECONDS", default=120)
ADSTUDIO_PROGRESS_INTERVAL = env.float("ADSTUDIO_PROGRESS_INTERVAL", default=0.25)
ADSTUDIO_PUBLISH_GRACE_SECONDS = env.int("ADSTUDIO_PUBLISH_GRACE_SECONDS", default=10)
ADSTUDIO_REPUBLISH_AFTER_SECONDS = env.int("ADSTUDIO_REPUBLISH_AFTER_SECONDS", default=900)
# Queued jobs with the same model, size, steps and guidance rendered in one pipeline call.
ADSTUDIO_MAX_BATCH = env.int("ADSTUDIO_MAX_BATCH", default=1)
# Test hook only (rendering/faults.py): "oom:N" fails the next N pipeline calls;
# "slow_load:S" makes each model load S seconds slower.
ADSTUDIO_FAULT_INJECTION = env.str("ADSTUDIO_FAULT_INJECTION", default="")
# How long a GPU worker's pool child may take to load and warm up its model before Celery
# gives up on it (Celery's own default is 4 s; real weights take minutes). The worker raises it
# to three times the longest load it has measured for its model (F14; docs/workers.md).
ADSTUDIO_MODEL_LOAD_TIMEOUT = env.float("ADSTUDIO_MODEL_LOAD_TIMEOUT", default=600.0)
CELERY_WORKER_PROC_ALIVE_TIMEOUT = ADSTUDIO_MODEL_LOAD_TIMEOUT
# Workers report every this many seconds; one silent for three heartbeats is shown as lost.
ADSTUDIO_WORKER_HEARTBEAT_SECONDS = env.float("ADSTUDIO_WORKER_HEARTBEAT_SECONDS", default=10.0)

# --- Rendering (see docs/workers.md) ---
# A Hugging Face id or a local folder with Qwen-Image weights. Empty: the embedded tiny
# random-weight model, built on first use under ADSTUDIO_TINY_MODEL_DIR (its images are noise).
ADSTUDIO_QWEN_IMAGE_MODEL = env.str("ADSTUDIO_QWEN_IMAGE_MODEL", default="")
ADSTUDIO_TINY_MODEL_DIR = Path(
    env.str("ADSTUDIO_TINY_MODEL_DIR", default=str(VAR_DIR / "models" / "tiny-qwen-image"))
)
# "auto": cuda when available, else cpu. Or an explicit torch device string.
ADSTUDIO_RENDER_DEVICE = env.str("ADSTUDIO_RENDER_DEVICE", default="auto")
# "auto": bfloat16 on CUDA, float32 on CPU. Or "bfloat16", "float16", "float32".
ADSTUDIO_RENDER_DTYPE = env.str("ADSTUDIO_RENDER_DTYPE", default="auto")
# Fraction of the Qwen-Image bucket the model is asked for. 1.0 for real weights; the tiny model
# renders at 1/16 of the bucket (83x83 for 1328x1328) so CPU demos take seconds.
ADSTUDIO_RENDER_SCALE = env.float(
    "ADSTUDIO_RENDER_SCALE", default=1.0 if ADSTUDIO_QWEN_IMAGE_MODEL else 0.0625
)
# Lossy, opt-in: a step-distilled LoRA (a .safetensors file or folder, e.g. Qwen-Image-Lightning),
# fused into the transformer at load; jobs then default to ADSTUDIO_LORA_STEPS steps, no CFG.
ADSTUDIO_LORA = env.str("ADSTUDIO_LORA", default="")
ADSTUDIO_LORA_STEPS = env.int("ADSTUDIO_LORA_STEPS", default=8)
ADSTUDIO_DEFAULT_STEPS = env.int(
    "ADSTUDIO_DEFAULT_STEPS",
    default=ADSTUDIO_LORA_STEPS if ADSTUDIO_LORA else 50 if ADSTUDIO_QWEN_IMAGE_MODEL else 4,
)
ADSTUDIO_DEFAULT_TRUE_CFG_SCALE = env.float(
    "ADSTUDIO_DEFAULT_TRUE_CFG_SCALE", default=1.0 if ADSTUDIO_LORA else 4.0
)
# Denoising steps of a Qwen-Image-Edit job (requested changes and edits by instruction).
# (Independent of ADSTUDIO_LORA: the step-distilled LoRA is for generation only.)
ADSTUDIO_EDIT_STEPS = env.int(
    "ADSTUDIO_EDIT_STEPS", default=50 if env.str("ADSTUDIO_QWEN_IMAGE_EDIT_MODEL", default="")
    else 4)
# The memory mode each render starts in: normal (whole pipeline on the GPU, 80+ GB cards),
# vae_tiling, cpu_offload (48 GB) or group_offload (24 GB); see docs/workers.md.
ADSTUDIO_MEMORY_MODE = env.str("ADSTUDIO_MEMORY_MODE", default="normal")
# A Hugging Face id or a local folder with Qwen-Image-Edit weights (Qwen/Qwen-Image-Edit-2509).
# Empty: the tiny random-weight edit model, built on first use under ADSTUDIO_TINY_EDIT_MODEL_DIR.
ADSTUDIO_QWEN_IMAGE_EDIT_MODEL = env.str("ADSTUDIO_QWEN_IMAGE_EDIT_MODEL", default="")
ADSTUDIO_TINY_EDIT_MODEL_DIR = Path(env.str(
    "ADSTUDIO_TINY_EDIT_MODEL_DIR", default=str(VAR_DIR / "models" / "tiny-qwen-image-edit")))
# An edit scales the source (aspect kept) to the area of a square this many pixels wide: for the
# text encoder's view (condition) and for the VAE (also the size it edits at). Real weights: the
# pipeline's own 384 and 1024; the tiny model: 64 and 128 (at full size a CPU edit takes ~30 s).
ADSTUDIO_EDIT_CONDITION_SIZE = env.int(
    "ADSTUDIO_EDIT_CONDITION_SIZE", default=384 if ADSTUDIO_QWEN_IMAGE_EDIT_MODEL else 64)
ADSTUDIO_EDIT_VAE_IMAGE_SIZE = env.int(
    "ADSTUDIO_EDIT_VAE_IMAGE_SIZE", default=1024 if ADSTUDIO_QWEN_IMAGE_EDIT_MODEL else 128)
# CPU threads for torch (0: torch's default). The tiny model's ops are so small that more
# threads only spin against each other, 30x slower on a busy 2-core machine.
ADSTUDIO_TORCH_THREADS = env.int(
    "ADSTUDIO_TORCH_THREADS", default=0 if ADSTUDIO_QWEN_IMAGE_MODEL else 1
)
ADSTUDIO_THUMBNAIL_SIZE = 384
# Speed options (rendering/speed.py; measured in bench/gpu_render.py). Exact ones only.
ADSTUDIO_TEXT_EMBEDDING_CACHE = env.int("ADSTUDIO_TEXT_EMBEDDING_CACHE", default=256)
ADSTUDIO_BATCHED_CFG = env.bool("ADSTUDIO_BATCHED_CFG", default=False)
ADSTUDIO_ATTENTION_BACKEND = env.str("ADSTUDIO_ATTENTION_BACKEND", default="")
ADSTUDIO_COMPILE = env.str("ADSTUDIO_COMPILE", default="none")
# Lossy, opt-in: "first_block:0.2" skips most of a step whose first block barely changed.
ADSTUDIO_STEP_CACHE = env.str("ADSTUDIO_STEP_CACHE", default="")
# Lossy, opt-in: "fp8" quantizes the transformer's linear layers (torchao, the gpu extra;
# an FP8 GPU: Ada or Hopper). "none": full precision.
ADSTUDIO_QUANTIZATION = env.str("ADSTUDIO_QUANTIZATION", default="none")

# --- Copy and brand checks (rendering/typography.py, text_check.py, checks.py) ---
# The font for glyphs a brand font lacks, and everything when a brand has none (Debian's
# fonts-noto-cjk; index 2 of the collection is Simplified Chinese).
ADSTUDIO_FALLBACK_FONT = env.str(
    "ADSTUDIO_FALLBACK_FONT", default="/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"
)
ADSTUDIO_FALLBACK_FONT_INDEX = env.int("ADSTUDIO_FALLBACK_FONT_INDEX", default=2)
# The fallback chain after the brand font, per character (rendering/fonts.py): "path" or
# "path#index" entries, in order; files that do not exist are skipped, and copy with a character
# none of them has is refused before rendering. Debian: fonts-noto-cjk, fonts-noto-core,
# fonts-dejavu-core, fonts-noto-color-emoji, fonts-symbola.
ADSTUDIO_FALLBACK_FONTS = env.list("ADSTUDIO_FALLBACK_FONTS", default=[
    f"{ADSTUDIO_FALLBACK_FONT}#{ADSTUDIO_FALLBACK_FONT_INDEX}",
    "/usr/share/fonts/truetype/noto/NotoSansArabic-Bold.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansHebrew-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf",
    "/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf",
])
# The smallest text the layer sets (px); smaller copy is reported as not fitting.
ADSTUDIO_MIN_TEXT_PX = env.int("ADSTUDIO_MIN_TEXT_PX", default=13)
# ONNX Runtime threads per OCR model in each CPU worker process (0: the runtime's default).
ADSTUDIO_OCR_THREADS = env.int("ADSTUDIO_OCR_THREADS", default=1)
# Native-text renders whose copy reads wrong get this many new seeds, then fall back to overlay.
ADSTUDIO_COPY_RERENDER_LIMIT = env.int("ADSTUDIO_COPY_RERENDER_LIMIT", default=2)

# --- Email: the console by default; SMTP with EMAIL_URL=smtp+tls://user:pass@host:587 ---
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = env.str(
        "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
    )
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="AdStudio <adstudio@localhost>")
# The address people open AdStudio at: links in emails start with it.
ADSTUDIO_SITE_URL = env.str("ADSTUDIO_SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# Approvers get one digest of the assets waiting for review at most this often.
ADSTUDIO_REVIEW_DIGEST_MINUTES = env.int("ADSTUDIO_REVIEW_DIGEST_MINUTES", default=15)
# Export download links work for this long.
ADSTUDIO_EXPORT_LINK_SECONDS = env.int("ADSTUDIO_EXPORT_LINK_SECONDS", default=3600)

# --- REST API (docs/api.md; https://www.django-rest-framework.org/api-guide/settings/) ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",  # the browsable docs
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": [
        "api.throttling.ApiUserRateThrottle", "api.throttling.ApiAnonRateThrottle",
    ],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.PagePagination",
    "DEFAULT_SCHEMA_CLASS": "api.schema.ApiAutoSchema",
    "DEFAULT_METADATA_CLASS": "api.metadata.ApiMetadata",
    "EXCEPTION_HANDLER": "api.errors.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON, nested at most 64 deep (B15); uploads declare multipart/form-data themselves.
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    # 0: DRF uses REMOTE_ADDR (None would trust any client's X-Forwarded-For). Our throttles
    # take the address from adstudio.addresses.client_address anyway, as sign-in does (P9).
    "NUM_PROXIES": ADSTUDIO_TRUSTED_PROXY_COUNT,
}
# Requests per client before 429 (P7), e.g. "600/minute" or "20/second". Tokens and sessions
# count per user; anonymous callers per IP address.
ADSTUDIO_API_RATE = env.str("ADSTUDIO_API_RATE", default="600/minute")
ADSTUDIO_API_ANON_RATE = env.str("ADSTUDIO_API_ANON_RATE", default="60/minute")
# Webhooks: attempts per delivery (retries back off exponentially) and the request timeout.
ADSTUDIO_WEBHOOK_MAX_ATTEMPTS = env.int("ADSTUDIO_WEBHOOK_MAX_ATTEMPTS", default=6)
ADSTUDIO_WEBHOOK_TIMEOUT = env.float("ADSTUDIO_WEBHOOK_TIMEOUT", default=10.0)
# Webhooks to loopback, private and link-local addresses are refused unless this is on (an
# admin could otherwise make AdStudio call services inside its own network).
ADSTUDIO_WEBHOOK_ALLOW_PRIVATE_NETWORKS = env.bool("ADSTUDIO_WEBHOOK_ALLOW_PRIVATE_NETWORKS",
                                                   default=False)
# Product feeds fetched from a URL (brands.feed_fetch), and their photos: loopback and
# private addresses are refused unless this is on (tests, local development).
ADSTUDIO_FEED_ALLOW_PRIVATE_NETWORKS = env.bool("ADSTUDIO_FEED_ALLOW_PRIVATE_NETWORKS",
                                                default=False)
# A fetched feed may hold at most this many bytes once decompressed (ADSTUDIO_MAX_FEED_BYTES
# is the cap on an uploaded feed file); the connect/read timeout and the whole download's limit.
ADSTUDIO_FEED_MAX_BYTES = env.int("ADSTUDIO_FEED_MAX_BYTES", default=500 * 1024 * 1024)
ADSTUDIO_FEED_TIMEOUT_SECONDS = env.float("ADSTUDIO_FEED_TIMEOUT_SECONDS", default=30.0)
ADSTUDIO_FEED_MAX_SECONDS = env.float("ADSTUDIO_FEED_MAX_SECONDS", default=600.0)
SPECTACULAR_SETTINGS = {
    "TITLE": "AdStudio API",
    "DESCRIPTION": "Brand kits, products, templates, campaigns, renders and assets of one "
                   "workspace. Authenticate with `Authorization: Bearer <token>` (docs/api.md).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1/workspaces/\{ws\}",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "api.schema.tidy_descriptions"],
    # Ids in paths are <id:...> (api/converters.py): 1 to 2**63-1.
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "minimum": 1,
                                        "maximum": 2**63 - 1}},
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "JobStatusEnum": "rendering.models.JobStatus",
        "JobKindEnum": "rendering.models.JobKind",
        "AssetKindEnum": "rendering.models.AssetKind",
        "ScheduleKindEnum": "campaigns.models.ScheduleKind",
        "CampaignStatusEnum": "campaigns.models.CampaignStatus",
        "DeliveryStatusEnum": "api.models.DeliveryStatus",
        "LanguageEnum": "api.serializers.LANGUAGE_CHOICES",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("ADSTUDIO_LOG_LEVEL", default="INFO")},
}

# --- Feed import jobs (brands/feed_jobs.py) ---
# A running import whose worker stops renewing this lease (every batch of 500 rows) is queued
# again by the reconciler, up to this many attempts in all.
ADSTUDIO_FEED_LEASE_SECONDS = env.int("ADSTUDIO_FEED_LEASE_SECONDS", default=300)
ADSTUDIO_FEED_MAX_ATTEMPTS = env.int("ADSTUDIO_FEED_MAX_ATTEMPTS", default=3)
