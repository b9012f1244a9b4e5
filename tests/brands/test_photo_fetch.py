"""Product photos taken from feed URLs: checked like uploads, stored once (B1-B8, P13)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from brands.models import ProductPhoto
from brands.photo_fetch import PhotoFetchError, product_photo_fetch
from tests.factories import ProductFactory
from tests.feed_server import FeedServer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_allowed(settings):
    settings.ADSTUDIO_FEED_ALLOW_PRIVATE_NETWORKS = True


@pytest.fixture
def server():
    with FeedServer() as running:
        yield running


def _image(fmt="PNG", size=(32, 24), color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt)
    return out.getvalue()


def _stored_files(media_root):
    return [p for p in media_root.rglob("*") if p.is_file()] if media_root.exists() else []


def test_a_good_png_is_stored_once_and_deduplicated_on_a_second_url(server, media_root):
    product = ProductFactory()
    png = _image()
    server.serve("/a.png", png, headers={"ETag": '"a1"'})
    server.serve("/copies/b.png", png)
    photo = product_photo_fetch(product=product, url=server.url("/a.png"))
    assert (photo.width, photo.height) == (32, 24)
    photo.refresh_from_db()
    assert (photo.source_url, photo.source_etag) == (server.url("/a.png"), '"a1"')
    again = product_photo_fetch(product=product, url=server.url("/copies/b.png"))
    assert again.pk == photo.pk
    assert ProductPhoto.objects.filter(product=product).count() == 1
    assert len(_stored_files(media_root)) == 1


def test_an_unchanged_etag_downloads_and_stores_nothing(server, media_root):
    product = ProductFactory()

    def unchanged(handler):
        return (304, b"") if handler.headers.get("If-None-Match") == '"v1"' else None

    server.serve("/photo.jpg", _image("JPEG"), headers={"ETag": '"v1"'}, when=unchanged)
    photo = product_photo_fetch(product=product, url=server.url("/photo.jpg"))
    assert photo.file.name.endswith(".jpg")
    again = product_photo_fetch(product=product, url=server.url("/photo.jpg"))
    assert again.pk == photo.pk
    assert server.requests[1]["headers"]["If-None-Match"] == '"v1"'
    assert ProductPhoto.objects.count() == 1 and len(_stored_files(media_root)) == 1


def test_a_changed_image_at_the_same_url_is_stored_as_a_new_photo(server):
    product = ProductFactory()
    server.serve("/photo.png", _image(color=(1, 2, 3)), headers={"ETag": '"v1"'})
    first = product_photo_fetch(product=product, url=server.url("/photo.png"))
    server.serve("/photo.png", _image(color=(9, 9, 9)), headers={"ETag": '"v2"'})
    second = product_photo_fetch(product=product, url=server.url("/photo.png"))
    assert second.pk != first.pk and second.sha256 != first.sha256
    assert ProductPhoto.objects.get(pk=second.pk).source_etag == '"v2"'


def test_an_image_url_without_an_extension_is_named_by_its_content(server):
    server.serve("/img", _image("WEBP"))
    photo = product_photo_fetch(product=ProductFactory(), url=server.url("/img?id=7&w=800"))
    assert photo.file.name.endswith(".png")  # WebP is re-encoded, as an upload is


@pytest.mark.parametrize(("body", "message"), [
    (b"<!doctype html><html><body>Sign in</body></html>", "XML/HTML files are not accepted"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', "XML/HTML files are not accepted"),
    (b"GIF89a not really", "not a PNG, JPEG or WebP image"),
])
def test_a_body_that_is_not_a_photo_is_refused_with_a_clear_error(server, body, message):
    server.serve("/photo.png", body)
    with pytest.raises(PhotoFetchError, match=message) as refused:
        product_photo_fetch(product=ProductFactory(), url=server.url("/photo.png"))
    assert str(refused.value).startswith(f"The image at {server.url('/photo.png')} was not used")
    assert not ProductPhoto.objects.exists()


def test_B2_an_image_over_the_upload_cap_is_cut_off(server, settings, media_root):
    settings.ADSTUDIO_MAX_UPLOAD_BYTES = 4096
    server.serve("/big.png", _image(size=(400, 400)) + b"\0" * 8192)
    with pytest.raises(PhotoFetchError, match="is larger than"):
        product_photo_fetch(product=ProductFactory(), url=server.url("/big.png"))
    assert not ProductPhoto.objects.exists() and _stored_files(media_root) == []


def test_B2_an_image_over_the_pixel_cap_is_refused(server, settings):
    settings.ADSTUDIO_MAX_IMAGE_PIXELS = 100
    server.serve("/wide.png", _image(size=(50, 50)))
    with pytest.raises(PhotoFetchError, match=r"too large \(50 x 50 pixels\)"):
        product_photo_fetch(product=ProductFactory(), url=server.url("/wide.png"))
    assert not ProductPhoto.objects.exists()


def test_a_missing_image_names_the_status_and_url(server):
    with pytest.raises(PhotoFetchError) as failed:
        product_photo_fetch(product=ProductFactory(), url=server.url("/gone.png"))
    url = server.url("/gone.png")
    assert str(failed.value) == f"The image server answered 404 Not Found for {url}."
    assert not failed.value.retryable


def test_more_than_three_redirects_are_refused_for_a_photo(server):
    for n in range(4):
        server.redirect(f"/r{n}", f"/r{n + 1}")
    server.serve("/r4", _image())
    with pytest.raises(PhotoFetchError, match="redirected more than 3 times"):
        product_photo_fetch(product=ProductFactory(), url=server.url("/r0"))
    server.serve("/r3", _image())
    assert product_photo_fetch(product=ProductFactory(), url=server.url("/r0")).width == 32


def test_P13_a_photo_on_a_private_address_is_refused_with_private_networks_off(server,
                                                                             settings):
    settings.ADSTUDIO_FEED_ALLOW_PRIVATE_NETWORKS = False
    server.serve("/a.png", _image())
    with pytest.raises(PhotoFetchError, match="inside AdStudio's own network"):
        product_photo_fetch(product=ProductFactory(), url=server.url("/a.png"))
    assert server.requests == []
