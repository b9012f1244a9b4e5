"""Core settings: where the project and its state live, the secret key, hosts, apps,
middleware, templates, sign-in, locale and logging."""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from adstudio.secret_key import PUBLISHED_KEYS, secret_key_read_or_create

BASE_DIR = Path(__file__).resolve().parents[2]  # the repository root
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("ADSTUDIO_LOG_LEVEL", default="INFO")},
}
