"""The signing key of an install that configures none (RELIABILITY.md P11).

Outside production, a missing DJANGO_SECRET_KEY no longer means a key published in the code:
the first process to start makes a random one and keeps it in ``<ADSTUDIO_VAR_DIR>/secret_key``
(mode 0600); every later process, and every process of the same install, reads that file.
Production (ADSTUDIO_PRODUCTION=1) still needs DJANGO_SECRET_KEY set (see
adstudio/settings/base.py).

Imported by adstudio/settings/base.py before Django is configured: nothing here may need settings.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

# Django's own mark for a key made for development; `check --deploy` warns about it (W009).
GENERATED_PREFIX = "django-insecure-"
# Keys that were published with AdStudio (adstudio/settings.py before P11, .env.example):
# anyone could forge signed links with them, so they are refused wherever they are configured.
PUBLISHED_KEYS = frozenset({
    "insecure-dev-key-set-DJANGO_SECRET_KEY",
    "change-me-to-50-random-characters",
})


def secret_key_read_or_create(*, path: Path) -> str:
    """The install's own random key from ``path``, made there on first use.

    Safe when several processes start at once: the key is written to a private temporary
    file that is linked into place only if no key exists yet, so every process ends up
    reading the one key that won.
    """
    key = _read(path)
    if key:
        return key
    try:
        _create(path)
    except OSError as exc:
        raise ImproperlyConfigured(
            f"Cannot keep a secret key in {path} ({exc}): set DJANGO_SECRET_KEY, or make "
            "ADSTUDIO_VAR_DIR writable.") from exc
    key = _read(path)
    if not key:
        raise ImproperlyConfigured(
            f"{path} holds no secret key: delete the file (a new key is made) or set "
            "DJANGO_SECRET_KEY.")
    return key


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    candidate = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(GENERATED_PREFIX + secrets.token_urlsafe(50) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process got there first
            os.link(candidate, path)
    finally:
        candidate.unlink(missing_ok=True)


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return ""
