"""Refuse oversized request bodies before anything reads them (RELIABILITY.md B3).

Two limits: ADSTUDIO_MAX_REQUEST_BYTES for any body (a feed upload is the biggest legitimate
one), and DATA_UPLOAD_MAX_MEMORY_SIZE for an API body that is not a file upload (JSON is read
into memory whole). Under /api/ the 413 is JSON like every other API error.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse, JsonResponse

MIB = 1024 * 1024


class RequestSizeLimitMiddleware:
    """Answer 413 when Content-Length exceeds the limit, without reading the body.

    Under WSGI Django never reads past Content-Length, so checking the header is enough; put
    this right after SecurityMiddleware so no later middleware touches request.POST first.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = _limit_for(request)
        if _content_length(request) > limit:
            detail = f"Request body too large (limit {_megabytes(limit)} MB)."
            if request.path_info.startswith("/api/"):
                return JsonResponse({"detail": detail}, status=413)
            return HttpResponse(detail, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


def _limit_for(request) -> int:
    limit = settings.ADSTUDIO_MAX_REQUEST_BYTES
    upload = request.META.get("CONTENT_TYPE", "").lower().startswith("multipart/form-data")
    if request.path_info.startswith("/api/") and not upload:
        limit = min(limit, settings.DATA_UPLOAD_MAX_MEMORY_SIZE or limit)
    return limit


def _megabytes(limit: int) -> str:
    return f"{limit / MIB:.1f}".removesuffix(".0")


def _content_length(request) -> int:
    # A missing or malformed header reads as 0, exactly as Django's WSGIRequest treats it.
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0
