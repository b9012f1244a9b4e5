"""Download a product feed (or a feed's photo) from its URL, within limits (B2, P13).

Every URL, the first and each redirect's, passes brands.outbound_urls and the connection goes
to the address that check resolved. The body streams into a temp file: gzip (sent as
Content-Encoding or as a .gz file) is unpacked on the way, and the unpacked size is capped, so
a gzip bomb stops at the cap. A server that drips its answer is cut off at a total deadline.
Every failure is one FeedFetchError with a sentence a marketer understands.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError

from brands.gzip_stream import Gunzip, GzipDamaged, GzipSniff
from brands.outbound_urls import (
    Resolver,
    Target,
    TargetRefused,
    TargetUnresolved,
    outbound_connection,
    outbound_url_check,
)

MAX_REDIRECTS = 5
CHUNK = 64 * 1024  # read from the network at a time
MAX_VALIDATOR_CHARS = 255  # longer ETag/Last-Modified values are not kept
REDIRECTS = (301, 302, 303, 307, 308)
USER_AGENT = "AdStudio-Feeds/1"
PRIVATE_SETTING = "ADSTUDIO_FEED_ALLOW_PRIVATE_NETWORKS"
CREDENTIALS_HINT = "enter them in the feed's sign-in fields instead"


@dataclass(frozen=True)
class FetchResult:
    not_modified: bool  # the server answered 304: what was fetched last time is current
    path: Path | None  # the body, decompressed, in a temp file under dest_dir (None on 304)
    etag: str
    last_modified: str
    final_url: str  # after redirects
    size: int  # bytes written


class FeedFetchError(Exception):
    """Why a download failed, for the marketer; ``retryable``: trying later may work."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False):
        super().__init__(message)
        self.message = message
        self.status = status
        self.retryable = retryable


def feed_url_validate(*, url: str, resolver: Resolver | None = None,
                      allow_private: bool | None = None) -> str:
    """``url`` if AdStudio may fetch a feed from it, else a ValidationError on ``url``."""
    try:
        outbound_url_check(url, allow_private=_allow_private(allow_private),
                           allow_private_setting=PRIVATE_SETTING, purpose="save",
                           resolver=resolver, credentials_hint=CREDENTIALS_HINT)
    except TargetRefused as exc:
        raise ValidationError({"url": [str(exc)]}) from exc
    return url


def feed_fetch(*, url: str, dest_dir: Path, etag: str = "", last_modified: str = "",
               headers: dict[str, str] | None = None, max_bytes: int | None = None,
               timeout: float | None = None, allow_private: bool | None = None,
               resolver: Resolver | None = None, max_seconds: float | None = None,
               max_redirects: int = MAX_REDIRECTS, what: str = "feed") -> FetchResult:
    """GET ``url`` into a new file under ``dest_dir`` (the caller deletes it), or report that
    it is unchanged since ``etag``/``last_modified`` (304).

    ``headers`` (sign-in, tokens) go only to the URL's own server, not to another host a
    redirect points at. Limits default to ADSTUDIO_FEED_MAX_BYTES (decompressed),
    ADSTUDIO_FEED_TIMEOUT_SECONDS (connect and each read) and ADSTUDIO_FEED_MAX_SECONDS (the
    whole download). ``what`` names the thing in messages ("feed", "image")."""
    limits = _Limits(
        max_bytes=settings.ADSTUDIO_FEED_MAX_BYTES if max_bytes is None else max_bytes,
        timeout=settings.ADSTUDIO_FEED_TIMEOUT_SECONDS if timeout is None else timeout,
        max_seconds=settings.ADSTUDIO_FEED_MAX_SECONDS if max_seconds is None else max_seconds,
        what=what)
    deadline = time.monotonic() + limits.max_seconds
    base = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip"}
    if etag:
        base["If-None-Match"] = etag
    if last_modified:
        base["If-Modified-Since"] = last_modified
    current, origin = url, None
    for _hop in range(max_redirects + 1):
        target = _target(current, _allow_private(allow_private), resolver, what)
        origin = origin or (target.scheme, target.host, target.port)
        same_origin = origin == (target.scheme, target.host, target.port)
        request_headers = {**base, **(headers or {})} if same_origin else base
        answer = _get(target, request_headers, current, dest_dir, deadline, limits)
        if isinstance(answer, str):
            current = answer  # a redirect, checked again at the top
            continue
        path, size, new_etag, new_last_modified = answer
        if path is None:  # 304: the server may leave out the validators it matched
            new_etag, new_last_modified = new_etag or etag, new_last_modified or last_modified
        return FetchResult(not_modified=path is None, path=path, etag=new_etag,
                           last_modified=new_last_modified, final_url=current, size=size)
    raise FeedFetchError(f"The {what} server redirected more than {max_redirects} times "
                         f"(last to {current}); check the {what}'s URL.")


@dataclass(frozen=True)
class _Limits:
    max_bytes: int
    timeout: float
    max_seconds: float
    what: str


def _allow_private(allow_private: bool | None) -> bool:
    return settings.ADSTUDIO_FEED_ALLOW_PRIVATE_NETWORKS if allow_private is None else allow_private


def _target(url: str, allow_private: bool, resolver: Resolver | None, what: str) -> Target:
    try:
        return outbound_url_check(url, allow_private=allow_private,
                                  allow_private_setting=PRIVATE_SETTING, resolver=resolver,
                                  credentials_hint=CREDENTIALS_HINT)
    except TargetUnresolved as exc:
        raise FeedFetchError(str(exc), retryable=True) from exc
    except TargetRefused as exc:
        raise FeedFetchError(f"AdStudio will not download the {what} from {url}: {exc}") from exc


def _get(target: Target, headers: dict[str, str], url: str, dest_dir: Path, deadline: float,
         limits: _Limits) -> str | tuple[Path | None, int, str, str]:
    """One request: a redirect's absolute URL, or (path or None on 304, size, etag, last
    modified)."""
    what = limits.what
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise _overtime(url, limits)
    conn = outbound_connection(target, timeout=min(limits.timeout, remaining))
    # Socket timeouts bound each read only; this closes a connection that drips past the deadline.
    watchdog = threading.Timer(remaining, _shut, args=(conn,))
    watchdog.daemon = True
    watchdog.start()
    try:
        try:
            conn.request("GET", target.path, headers=headers)
        except ValueError as exc:  # CR/LF or non-Latin-1 text in a header value
            raise FeedFetchError(f"A request header for the {what} is not valid ({exc}); "
                                 f"check the {what}'s sign-in details.") from exc
        resp = conn.getresponse()
        if resp.status in REDIRECTS:
            location = resp.getheader("Location")
            if not location:
                raise FeedFetchError(f"The {what} server answered {resp.status} for {url} "
                                     "without saying where to go.", status=resp.status)
            return urllib.parse.urljoin(url, location.strip())
        if resp.status == 304:
            return None, 0, _validator(resp, "ETag"), _validator(resp, "Last-Modified")
        if not 200 <= resp.status < 300:
            raise FeedFetchError(
                f"The {what} server answered {resp.status} {resp.reason[:100]} for {url}.",
                status=resp.status, retryable=resp.status == 429 or resp.status >= 500)
        path, size = _stream(resp, url, dest_dir, deadline, limits)
        return path, size, _validator(resp, "ETag"), _validator(resp, "Last-Modified")
    except (OSError, http.client.HTTPException) as exc:
        if time.monotonic() >= deadline - 0.05 or not watchdog.is_alive():
            raise _overtime(url, limits) from exc
        if isinstance(exc, TimeoutError):
            raise FeedFetchError(f"The {what} server at {target.host} did not answer within "
                                 f"{limits.timeout:g} seconds.", retryable=True) from exc
        raise FeedFetchError(f"AdStudio could not download the {what} from {target.host}: "
                             f"{exc or type(exc).__name__}.", retryable=True) from exc
    finally:
        watchdog.cancel()
        conn.close()


def _shut(conn: http.client.HTTPConnection) -> None:
    sock = conn.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _overtime(url: str, limits: _Limits) -> FeedFetchError:
    return FeedFetchError(
        f"Downloading the {limits.what} from {url} took longer than {limits.max_seconds:g} "
        "seconds, so AdStudio stopped (ADSTUDIO_FEED_MAX_SECONDS).", retryable=True)


def _validator(resp: http.client.HTTPResponse, name: str) -> str:
    value = (resp.getheader(name) or "").strip()
    return value if len(value) <= MAX_VALIDATOR_CHARS else ""


def _stream(resp, url: str, dest_dir: Path, deadline: float, limits: _Limits
            ) -> tuple[Path, int]:
    """Write the body, unpacked, to a new temp file; the partial file goes on any failure."""
    encoding = (resp.getheader("Content-Encoding") or "identity").strip().lower()
    if encoding not in ("identity", "gzip", "x-gzip"):
        raise FeedFetchError(f"The {limits.what} server sent the {limits.what} compressed as "
                             f"{encoding}; AdStudio reads plain or gzip files only.")
    fd, name = tempfile.mkstemp(dir=dest_dir, prefix="fetch-", suffix=".part")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            sink = _Sink(out, url, limits)
            stage = GzipSniff(sink)
            if encoding != "identity":
                stage = Gunzip(stage)
            received = 0
            while chunk := resp.read1(CHUNK):
                received += len(chunk)
                if received > limits.max_bytes:
                    raise sink.too_big()
                if time.monotonic() > deadline:
                    raise _overtime(url, limits)
                stage.write(chunk)
            if time.monotonic() >= deadline:  # the watchdog closed a connection gone quiet
                raise _overtime(url, limits)
            if resp.length:  # http.client's read1 ends quietly when the server hangs up early
                raise FeedFetchError(
                    f"The connection ended before the whole {limits.what} arrived from {url} "
                    f"({resp.length:,} bytes missing); try again.", retryable=True)
            stage.close()
        return path, sink.size
    except GzipDamaged as exc:
        path.unlink(missing_ok=True)
        raise FeedFetchError(f"The {limits.what} is gzip-compressed but the compressed data is "
                             "damaged or cut short; export it again.") from exc
    except BaseException:
        path.unlink(missing_ok=True)
        raise


class _Sink:
    """The temp file, refusing to grow past the cap."""

    def __init__(self, out, url: str, limits: _Limits):
        self.out, self.url, self.limits, self.size = out, url, limits, 0

    def too_big(self) -> FeedFetchError:
        megabytes = f"{self.limits.max_bytes / (1024 * 1024):g}"
        if self.limits.what != "feed":
            return FeedFetchError(f"The {self.limits.what} at {self.url} is larger than "
                                  f"{megabytes} MB, the most AdStudio accepts; use a smaller one.")
        return FeedFetchError(
            f"The {self.limits.what} at {self.url} is larger than {megabytes} MB (unzipped), "
            f"the most AdStudio downloads; split it into smaller {self.limits.what}s "
            "(ADSTUDIO_FEED_MAX_BYTES).")

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limits.max_bytes:
            raise self.too_big()
        self.out.write(data)

    def close(self) -> None:
        pass
