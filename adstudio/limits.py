"""Refuse oversized request bodies before anything reads them (RELIABILITY.md B3)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse

MIB = 1024 * 1024


class RequestSizeLimitMiddleware:
    """Answer 413 when Content-Length exceeds ADSTUDIO_MAX_REQUEST_BYTES, without reading the body.

    Under WSGI Django never reads past Content-Length, so checking the header is enough; put
    this right after SecurityMiddleware so no later middleware touches request.POST first.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.ADSTUDIO_MAX_REQUEST_BYTES
        if _content_length(request) > limit:
            megabytes = f"{limit / MIB:.1f}".removesuffix(".0")
            return HttpResponse(
                f"Request body too large (limit {megabytes} MB).",
                status=413,
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)


def _content_length(request) -> int:
    # A missing or malformed header reads as 0, exactly as Django's WSGIRequest treats it.
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0
