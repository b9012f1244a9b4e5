"""Product photos from a feed's image_link and additional_image_link (B1-B8, P13).

A downloaded image goes through the same checks as a manual upload (brands.uploads: the
upload size cap, the pixel cap, re-encoding) and is stored by services.product_photo_add.
The same picture is stored once per product (by the SHA-256 of the re-encoded image), and a
URL whose server answers 304 for the ETag it sent last time is not downloaded again.
"""

from __future__ import annotations

import re
import tempfile
import urllib.parse
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from brands.feed_fetch import FeedFetchError, feed_fetch
from brands.models import Product, ProductPhoto
from brands.services import product_photo_add
from brands.uploads import UploadRejected, clean_image_upload

MAX_REDIRECTS = 3
MAX_SECONDS = 120.0  # one image; the feed's own download has ADSTUDIO_FEED_MAX_SECONDS
_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


class PhotoFetchError(Exception):
    """Why a product's photo could not be taken from its URL (reported per product);
    ``retryable``: the server may answer later."""

    def __init__(self, message: str, *, retryable: bool = False):
        super().__init__(message)
        self.message = message
        self.retryable = retryable


def product_photo_fetch(*, product: Product, url: str,
                        allow_private: bool | None = None) -> ProductPhoto:
    """The product's photo from ``url``: downloaded, checked like an upload and stored, or the
    photo the product already has with the same picture or the same unchanged URL.

    Call it outside a transaction (it waits on the network). Raises PhotoFetchError with a
    sentence for the marketer when the URL cannot be used."""
    known = product.photos.filter(source_url=url).order_by("-pk").first()
    with tempfile.TemporaryDirectory(prefix="adstudio-photo-") as tmp:
        try:
            fetched = feed_fetch(
                url=url, dest_dir=Path(tmp), etag=known.source_etag if known else "",
                max_bytes=settings.ADSTUDIO_MAX_UPLOAD_BYTES, max_seconds=MAX_SECONDS,
                allow_private=allow_private, max_redirects=MAX_REDIRECTS, what="image")
        except FeedFetchError as exc:
            raise PhotoFetchError(exc.message, retryable=exc.retryable) from exc
        if fetched.not_modified:
            if known is not None:
                return known
            raise PhotoFetchError(f"The image server answered 304 Not Modified for {url} "
                                  "although AdStudio asked for the image itself.")
        data = fetched.path.read_bytes()
    uploaded = SimpleUploadedFile(_file_name(url, data), data)
    try:
        image = clean_image_upload(uploaded, purpose="photo")
    except UploadRejected as exc:
        raise PhotoFetchError(f"The image at {url} was not used: {exc.message}") from exc
    same = product.photos.filter(sha256=image.sha256).order_by("pk").first()
    if same is not None:
        if same.source_url == url and same.source_etag != fetched.etag:
            ProductPhoto.objects.filter(pk=same.pk).update(source_etag=fetched.etag)
            same.source_etag = fetched.etag
        return same
    try:
        photo = product_photo_add(user=None, product=product, uploaded=uploaded)
    except UploadRejected as exc:  # checked above; kept so a refusal never becomes a 500
        raise PhotoFetchError(f"The image at {url} was not used: {exc.message}") from exc
    ProductPhoto.objects.filter(pk=photo.pk).update(source_url=url, source_etag=fetched.etag)
    photo.source_url, photo.source_etag = url, fetched.etag
    return photo


def _file_name(url: str, data: bytes) -> str:
    """A name for the checks: the URL's last path segment, with the extension the bytes have
    (image URLs often have none, or a wrong one)."""
    segment = PurePosixPath(urllib.parse.urlsplit(url).path).name
    stem, _, extension = segment.rpartition(".") if "." in segment else (segment, "", "")
    stem = _NAME_CHARS.sub("-", urllib.parse.unquote(stem))[:80] or "photo"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        extension = "png"
    elif data.startswith(b"\xff\xd8\xff"):
        extension = "jpg"
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        extension = "webp"
    elif extension.lower() not in ("svg", "svgz"):
        extension = "png"  # not an image the checks accept: they say so
    return f"{stem}.{extension.lower()}"
