"""Where state is kept: the database, stored files (local or S3), upload limits and the cache."""

from pathlib import Path

from adstudio.settings.base import VAR_DIR, env
from adstudio.settings.tasks import REDIS_URL

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
# P5; core/files.py): presigned S3 URLs, or links signed with DJANGO_SECRET_KEY.
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
        "BACKEND": "core.files.PrivateS3Storage",
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
