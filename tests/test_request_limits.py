"""RELIABILITY.md B3: oversized request bodies get 413 before a view or a body read."""

import pytest
from django.conf import settings as django_settings
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from adstudio.limits import RequestSizeLimitMiddleware

LIMIT_MIDDLEWARE = "adstudio.limits.RequestSizeLimitMiddleware"
# The real stack with the limit right after SecurityMiddleware, where settings will put it.
MIDDLEWARE_WITH_LIMIT = [
    django_settings.MIDDLEWARE[0],
    LIMIT_MIDDLEWARE,
    *[m for m in django_settings.MIDDLEWARE[1:] if m != LIMIT_MIDDLEWARE],
]


class UnreadableBody:
    """A wsgi.input that fails the test if anything tries to read the body."""

    def read(self, *args):
        raise AssertionError("the request body was read")

    readline = read


def view_reached(request):
    return HttpResponse("view ran", status=200)


def test_B3_oversized_body_gets_413_without_reading_the_body(settings):
    settings.ADSTUDIO_MAX_REQUEST_BYTES = 2 * 1024 * 1024
    request = RequestFactory().post(
        "/upload/",
        data=b"",
        content_type="application/octet-stream",
        CONTENT_LENGTH=str(2 * 1024 * 1024 + 1),
    )
    request.environ["wsgi.input"] = UnreadableBody()
    request._stream = UnreadableBody()

    response = RequestSizeLimitMiddleware(view_reached)(request)

    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == "Request body too large (limit 2 MB)."


def test_B3_body_at_the_limit_reaches_the_view(settings):
    settings.ADSTUDIO_MAX_REQUEST_BYTES = 1024
    request = RequestFactory().post(
        "/upload/", data=b"x" * 1024, content_type="application/octet-stream"
    )

    response = RequestSizeLimitMiddleware(view_reached)(request)

    assert response.status_code == 200
    assert response.content == b"view ran"


@pytest.mark.parametrize("header", ["", "not-a-number"])
def test_B3_missing_or_malformed_length_is_treated_as_empty(settings, header):
    settings.ADSTUDIO_MAX_REQUEST_BYTES = 10
    request = RequestFactory().get("/", CONTENT_LENGTH=header)

    response = RequestSizeLimitMiddleware(view_reached)(request)

    assert response.status_code == 200


def test_B3_limit_message_shows_fractional_megabytes(settings):
    settings.ADSTUDIO_MAX_REQUEST_BYTES = 1536 * 1024
    request = RequestFactory().post(
        "/", data=b"", content_type="application/octet-stream", CONTENT_LENGTH=str(10**9)
    )

    response = RequestSizeLimitMiddleware(view_reached)(request)

    assert response.content.decode() == "Request body too large (limit 1.5 MB)."


@override_settings(MIDDLEWARE=MIDDLEWARE_WITH_LIMIT)
def test_B3_oversized_body_gets_413(client):
    # The test client's FakePayload raises if a reader asks for more bytes than were sent,
    # so a 413 here also proves nobody read the body that the header announced.
    limit = django_settings.ADSTUDIO_MAX_REQUEST_BYTES
    response = client.post(
        "/admin/login/",
        data=b"username=a&password=b",
        content_type="application/x-www-form-urlencoded",
        CONTENT_LENGTH=str(10 * 1024**3),
    )

    assert response.status_code == 413
    assert response.content.decode() == (
        f"Request body too large (limit {limit // (1024 * 1024)} MB)."
    )


@pytest.mark.django_db
@override_settings(MIDDLEWARE=MIDDLEWARE_WITH_LIMIT)
def test_B3_normal_login_post_passes_the_limit(client):
    response = client.post("/admin/login/", {"username": "nobody", "password": "wrong"})

    assert response.status_code == 200  # the login form again, with its error
    assert b"csrfmiddlewaretoken" in response.content


def test_B3_the_limit_is_installed_before_anything_reads_the_body():
    from django.conf import settings as real_settings

    middleware = real_settings.MIDDLEWARE
    assert middleware.index("adstudio.limits.RequestSizeLimitMiddleware") < middleware.index(
        "django.middleware.csrf.CsrfViewMiddleware")
