"""Feeds downloaded from a URL: conditional GET, gzip, redirects, limits (B2, P13)."""

from __future__ import annotations

import gzip
import os
import time

import pytest
from django.core.exceptions import ValidationError

from brands.feed_fetch import FeedFetchError, feed_fetch, feed_url_validate
from tests.feed_server import FeedServer
from tests.services import free_port

CSV = b"id,title,price\nSKU-1,Blue mug,12.00 EUR\nSKU-2,Red mug,14.00 EUR\n"


@pytest.fixture(autouse=True)
def private_allowed(settings):
    """The test server listens on 127.0.0.1; the tests that prove refusals switch this off."""
    settings.ADSTUDIO_FEED_ALLOW_PRIVATE_NETWORKS = True


@pytest.fixture
def server():
    with FeedServer() as running:
        yield running


def _files(directory):
    return sorted(p.name for p in directory.iterdir())


def test_a_feed_is_downloaded_to_a_file_with_its_etag_and_last_modified(server, tmp_path):
    server.serve("/feed.csv", CSV, headers={"ETag": '"v1"',
                                            "Last-Modified": "Wed, 02 Dec 2026 10:00:00 GMT"})
    result = feed_fetch(url=server.url("/feed.csv"), dest_dir=tmp_path)
    assert not result.not_modified
    assert result.path.parent == tmp_path and result.path.read_bytes() == CSV
    assert (result.etag, result.last_modified) == ('"v1"', "Wed, 02 Dec 2026 10:00:00 GMT")
    assert result.size == len(CSV) and result.final_url == server.url("/feed.csv")
    assert server.requests[0]["headers"]["Host"] == f"127.0.0.1:{server.port}"


def test_a_matching_etag_answers_not_modified_and_writes_nothing(server, tmp_path):
    def unchanged(handler):
        return (304, b"") if handler.headers.get("If-None-Match") == '"v1"' else None

    server.serve("/feed.csv", CSV, headers={"ETag": '"v1"'}, when=unchanged)
    result = feed_fetch(url=server.url("/feed.csv"), dest_dir=tmp_path, etag='"v1"')
    assert result.not_modified and result.path is None and result.etag == '"v1"'
    assert _files(tmp_path) == []
    changed = feed_fetch(url=server.url("/feed.csv"), dest_dir=tmp_path, etag='"v0"')
    assert not changed.not_modified and changed.path.read_bytes() == CSV


def test_a_matching_last_modified_answers_not_modified(server, tmp_path):
    stamp = "Wed, 02 Dec 2026 10:00:00 GMT"

    def unchanged(handler):
        return (304, b"") if handler.headers.get("If-Modified-Since") == stamp else None

    server.serve("/feed.tsv", CSV, headers={"Last-Modified": stamp}, when=unchanged)
    result = feed_fetch(url=server.url("/feed.tsv"), dest_dir=tmp_path, last_modified=stamp)
    assert result.not_modified and result.last_modified == stamp and _files(tmp_path) == []


def test_content_encoding_gzip_is_unpacked_while_streaming(server, tmp_path):
    server.serve("/feed.csv", gzip.compress(CSV), headers={"Content-Encoding": "gzip"})
    result = feed_fetch(url=server.url("/feed.csv"), dest_dir=tmp_path)
    assert result.path.read_bytes() == CSV and result.size == len(CSV)
    assert server.requests[0]["headers"]["Accept-Encoding"] == "gzip"


def test_a_gz_file_is_unpacked_by_its_magic_bytes(server, tmp_path):
    body = gzip.compress(CSV[:30]) + gzip.compress(CSV[30:])  # two members, as `cat a.gz b.gz`
    server.serve("/feed.csv.gz", body, headers={"Content-Type": "application/gzip"})
    result = feed_fetch(url=server.url("/feed.csv.gz"), dest_dir=tmp_path)
    assert result.path.read_bytes() == CSV


def test_a_damaged_gzip_file_is_refused_and_removed(server, tmp_path):
    server.serve("/feed.csv.gz", gzip.compress(os.urandom(5000))[:200])
    with pytest.raises(FeedFetchError, match="damaged or cut short"):
        feed_fetch(url=server.url("/feed.csv.gz"), dest_dir=tmp_path)
    assert _files(tmp_path) == []


def test_a_redirect_to_another_path_is_followed(server, tmp_path):
    server.redirect("/old.csv", "/new.csv", status=301)
    server.serve("/new.csv", CSV)
    result = feed_fetch(url=server.url("/old.csv"), dest_dir=tmp_path)
    assert result.path.read_bytes() == CSV and result.final_url == server.url("/new.csv")


def test_P13_every_redirect_is_resolved_and_checked_again(server, tmp_path):
    looked_up = []

    def resolver(host, port):
        looked_up.append(host)
        return ["127.0.0.1"]

    server.redirect("/a.csv", f"http://cdn.feeds.test:{server.port}/b.csv")
    server.serve("/b.csv", CSV)
    result = feed_fetch(url=f"http://shop.feeds.test:{server.port}/a.csv", dest_dir=tmp_path,
                        resolver=resolver)
    assert result.path.read_bytes() == CSV
    assert looked_up == ["shop.feeds.test", "cdn.feeds.test"]
    assert server.requests[1]["headers"]["Host"] == f"cdn.feeds.test:{server.port}"


@pytest.mark.parametrize("location", ["http://0x7f.1/feed.csv", "file:///etc/passwd",
                                      "http://user:secret@example.com/feed.csv"])
def test_P13_a_redirect_to_a_url_adstudio_never_calls_is_refused(server, tmp_path, location):
    server.redirect("/feed.csv", location)
    with pytest.raises(FeedFetchError, match="AdStudio will not download the feed from"):
        feed_fetch(url=server.url("/feed.csv"), dest_dir=tmp_path)
    assert len(server.requests) == 1 and _files(tmp_path) == []


def test_P13_a_feed_on_a_private_address_is_refused_with_private_networks_off(tmp_path):
    """Before any connection; redirects go through the same check (the two tests above)."""
    with FeedServer() as server:
        server.serve("/internal.csv", CSV)
        with pytest.raises(FeedFetchError, match="inside AdStudio's own network") as refused:
            feed_fetch(url=server.url("/internal.csv"), dest_dir=tmp_path, allow_private=False)
    assert "ADSTUDIO_FEED_ALLOW_PRIVATE_NETWORKS" in str(refused.value)
    assert server.requests == [] and _files(tmp_path) == []


def test_P13_a_feed_url_inside_adstudios_network_is_refused_when_saved(settings):
    settings.ADSTUDIO_FEED_ALLOW_PRIVATE_NETWORKS = False
    with pytest.raises(ValidationError) as refused:
        feed_url_validate(url="http://169.254.169.254/latest/meta-data/")
    assert "inside AdStudio's own network" in refused.value.message_dict["url"][0]
    public = feed_url_validate(url="https://shop.example/feed.xml",
                               resolver=lambda host, port: ["93.184.215.14"])
    assert public == "https://shop.example/feed.xml"


def test_more_than_five_redirects_are_refused(server, tmp_path):
    for n in range(10):
        server.redirect(f"/hop{n}", f"/hop{n + 1}")
    server.serve("/hop10", CSV)
    with pytest.raises(FeedFetchError, match="redirected more than 5 times"):
        feed_fetch(url=server.url("/hop0"), dest_dir=tmp_path)
    assert len(server.requests) == 6
    server.redirect("/loop", "/loop")
    with pytest.raises(FeedFetchError, match="redirected more than 5 times"):
        feed_fetch(url=server.url("/loop"), dest_dir=tmp_path)


def test_sign_in_headers_go_to_the_feeds_own_server_only(server, tmp_path):
    server.redirect("/feed.csv", f"http://cdn.feeds.test:{server.port}/public.csv")
    server.serve("/public.csv", CSV)
    feed_fetch(url=server.url("/feed.csv"), dest_dir=tmp_path,
               headers={"Authorization": "Basic c2hvcDpzZWNyZXQ="},
               resolver=lambda host, port: ["127.0.0.1"])
    first, second = server.requests
    assert first["headers"]["Authorization"] == "Basic c2hvcDpzZWNyZXQ="
    assert "Authorization" not in second["headers"]


@pytest.mark.parametrize(("status", "reason", "retryable"), [
    (404, "Not Found", False), (403, "Forbidden", False), (500, "Internal Server Error", True),
])
def test_an_error_answer_names_the_status_and_the_url(server, tmp_path, status, reason,
                                                       retryable):
    server.serve("/feed.csv", b"nope", status=status)
    with pytest.raises(FeedFetchError) as failed:
        feed_fetch(url=server.url("/feed.csv"), dest_dir=tmp_path)
    assert str(failed.value) == (f"The feed server answered {status} {reason} for "
                                 f"{server.url('/feed.csv')}.")
    assert (failed.value.status, failed.value.retryable) == (status, retryable)
    assert _files(tmp_path) == []


def test_a_server_that_is_not_there_is_a_retryable_error(tmp_path):
    with pytest.raises(FeedFetchError, match="could not download the feed") as failed:
        feed_fetch(url=f"http://127.0.0.1:{free_port()}/feed.csv", dest_dir=tmp_path)
    assert failed.value.retryable


def test_a_slow_drip_answer_is_cut_off_at_the_deadline(server, tmp_path):
    def drip(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", "100000")
        handler.end_headers()
        for _ in range(1000):
            handler.wfile.write(b"x")
            time.sleep(0.05)

    server.routes["/slow.csv"] = drip
    started = time.monotonic()
    with pytest.raises(FeedFetchError, match="took longer than 1 seconds"):
        feed_fetch(url=server.url("/slow.csv"), dest_dir=tmp_path, timeout=5, max_seconds=1)
    assert time.monotonic() - started < 3
    assert _files(tmp_path) == []


def test_B2_a_huge_answer_is_cut_off_at_the_cap_and_the_partial_file_deleted(server,
                                                                            tmp_path):
    def endless(handler):
        handler.send_response(200)
        handler.end_headers()  # no Content-Length: the body ends when the server closes
        for _ in range(1000):
            handler.wfile.write(b"y" * 65536)

    server.routes["/huge.csv"] = endless
    with pytest.raises(FeedFetchError, match=r"larger than 1 MB \(unzipped\)"):
        feed_fetch(url=server.url("/huge.csv"), dest_dir=tmp_path, max_bytes=1024 * 1024)
    assert _files(tmp_path) == []


@pytest.mark.parametrize("encoded", [True, False], ids=["content-encoding", "gz-file"])
def test_B2_a_gzip_bomb_stops_at_the_cap_on_the_unpacked_size(server, tmp_path, encoded):
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9)  # 64 MB in ~64 KB
    assert len(bomb) < 1024 * 1024
    server.serve("/bomb.csv", bomb, headers={"Content-Encoding": "gzip"} if encoded else {})
    with pytest.raises(FeedFetchError, match="larger than 1 MB"):
        feed_fetch(url=server.url("/bomb.csv"), dest_dir=tmp_path, max_bytes=1024 * 1024)
    assert _files(tmp_path) == []


def test_a_server_that_goes_quiet_is_cut_off_at_the_deadline(server, tmp_path):
    def quiet(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        handler.wfile.write(b"id,title,price\n")
        time.sleep(4)

    server.routes["/quiet.csv"] = quiet
    started = time.monotonic()
    with pytest.raises(FeedFetchError, match="took longer than 1 seconds"):
        feed_fetch(url=server.url("/quiet.csv"), dest_dir=tmp_path, timeout=10, max_seconds=1)
    assert time.monotonic() - started < 3 and _files(tmp_path) == []


def test_a_body_cut_short_by_the_server_is_an_error_not_a_shorter_feed(server, tmp_path):
    def short(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        handler.wfile.write(CSV)

    server.routes["/short.csv"] = short
    with pytest.raises(FeedFetchError, match="connection ended before the whole feed") as cut:
        feed_fetch(url=server.url("/short.csv"), dest_dir=tmp_path)
    assert cut.value.retryable and _files(tmp_path) == []


def test_a_sign_in_header_with_a_line_break_is_refused_before_sending(server, tmp_path):
    server.serve("/feed.csv", CSV)
    with pytest.raises(FeedFetchError, match="request header for the feed is not valid"):
        feed_fetch(url=server.url("/feed.csv"), dest_dir=tmp_path,
                   headers={"X-Token": "abc\r\nX-Injected: 1"})
    assert server.requests == []
