"""Stored files are reached only through signed links that expire (RELIABILITY.md P5).

With `ADSTUDIO_S3_BUCKET` set, files live in a private bucket and a link is an S3 presigned
URL; otherwise they live in the local media folder and a link points at `signed_file` below,
signed with Django's SECRET_KEY. Either way a link names one storage key, lasts
`ADSTUDIO_FILE_URL_SECONDS`, and is handed out only by a view that checked the workspace first
(rendering.views.asset_file, brands.views.brand_logo_file).
"""

from __future__ import annotations

import logging
import mimetypes
import time
from collections.abc import Iterable
from contextlib import contextmanager

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core import signing
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponseForbidden, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_safe
from storages.backends.s3 import S3Storage

_SALT = "core.files"

logger = logging.getLogger(__name__)


class PrivateS3Storage(S3Storage):
    """django-storages' S3 backend for a private bucket.

    Objects are written without an ACL (the bucket's private default), URLs are presigned for
    `public_endpoint_url` when browsers reach the store under another address than the
    workers do, and a storage fault is raised as OSError, as a full disk is, so the health
    check reports it and a render is retried (F13).
    """

    def get_default_settings(self):
        return {**super().get_default_settings(), "public_endpoint_url": None}

    def __init__(self, **options):
        options.setdefault("client_config", Config(
            s3={"addressing_style": options.get("addressing_style") or "path"},
            signature_version="s3v4", connect_timeout=3, read_timeout=30,
            retries={"max_attempts": 2, "mode": "standard"},
        ))
        super().__init__(**options)
        self._signer = None
        if self.public_endpoint_url and self.public_endpoint_url != self.endpoint_url:
            signer_options = {k: v for k, v in options.items() if k != "public_endpoint_url"}
            self._signer = S3Storage(**{**signer_options,
                                        "endpoint_url": self.public_endpoint_url})

    def url(self, name, parameters=None, expire=None, http_method=None):
        if self._signer is not None:
            return self._signer.url(name, parameters, expire, http_method)
        return super().url(name, parameters, expire, http_method)

    def _open(self, name, mode="rb"):
        with _faults_as_oserror(name):
            file = super()._open(name, mode)
            if "r" in mode:
                file.file  # noqa: B018 (download now, so a fault surfaces here)
            return file

    def _save(self, name, content):
        with _faults_as_oserror(name):
            return super()._save(name, content)

    def delete(self, name):
        with _faults_as_oserror(name):
            return super().delete(name)

    def exists(self, name):
        with _faults_as_oserror(name):
            return super().exists(name)

    def size(self, name):
        with _faults_as_oserror(name):
            return super().size(name)


@contextmanager
def _faults_as_oserror(name):
    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        raise OSError(f"object storage failed on {name!r}: {exc}") from exc


def file_url(name: str, *, filename: str | None = None) -> str:
    """A link to the stored file ``name`` that works for ADSTUDIO_FILE_URL_SECONDS.

    ``filename`` makes browsers save the file under that name instead of the storage key.
    """
    seconds = settings.ADSTUDIO_FILE_URL_SECONDS
    if isinstance(default_storage, S3Storage):
        parameters = {}
        if filename:
            parameters["ResponseContentDisposition"] = content_disposition_header(
                as_attachment=False, filename=filename)
        return default_storage.url(name, parameters=parameters, expire=seconds)
    token = signing.dumps({"k": name, "e": int(time.time()) + seconds, "f": filename},
                          salt=_SALT, compress=True)
    return reverse("signed-file", kwargs={"token": token})


def file_redirect(name: str, *, filename: str | None = None) -> HttpResponseRedirect:
    """A 302 to ``file_url(name)``, for a view that has checked the caller may see the file."""
    response = HttpResponseRedirect(file_url(name, filename=filename))
    # The browser may reuse the redirect while the link it points to is still valid.
    response["Cache-Control"] = f"private, max-age={settings.ADSTUDIO_FILE_URL_SECONDS // 2}"
    return response


def files_delete_on_commit(names: Iterable[str]) -> None:
    """Remove stored files once the transaction that deleted their rows commits: a rollback
    keeps the rows, so their files must stay until then. A file that cannot be removed is
    logged and left behind (an orphan file is harmless; a row without its file is not)."""
    names = [name for name in names if name]
    if names:
        transaction.on_commit(lambda: _delete_files(names))


def _delete_files(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError as exc:
            logger.warning("could not remove stored file %s: %s", name, exc)


@require_safe
def signed_file(request, token: str):
    """Stream a local file named by a link from ``file_url`` while the link is valid."""
    try:
        claim = signing.loads(token, salt=_SALT)
    except signing.BadSignature:
        return HttpResponseForbidden("This file link is not valid.")
    remaining = claim["e"] - int(time.time())
    if remaining <= 0:
        return HttpResponseForbidden("This file link has expired; reload the page for a new one.")
    name = claim["k"]
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    try:
        handle = default_storage.open(name)
    except FileNotFoundError:
        raise Http404("This file no longer exists.") from None
    response = FileResponse(handle, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    # A stored file is data: even if it were mistaken for a page, nothing in it may run.
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = f"private, max-age={remaining}"
    if claim.get("f"):
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=False, filename=claim["f"])
    return response
