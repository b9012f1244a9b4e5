"""One error body for the whole API: ``{"detail": "...", "errors": {"field": ["..."]}}``.

``detail`` is always a sentence for a person; ``errors`` (present on 400 and 422) maps each
invalid field to its messages, with ``non_field_errors`` for the request as a whole. Django's
ValidationError and PermissionDenied raised by the services become 400 and 403.

Errors that happen outside a DRF view (no route matched, a body over the size limit, a crash)
go through Django's handler400/403/404/500, which adstudio/urls.py points here: under /api/
they answer the same JSON body, elsewhere Django's pages (RELIABILITY B15).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from api.throttling import ApiAnonRateThrottle
from brands.uploads import UploadRejected

INVALID = "Some fields are not valid; see errors."
NOT_FOUND = "Not found."
SERVER_ERROR = ("Something went wrong on our side. Try again; if it keeps happening, tell "
                "your AdStudio operator.")


def _as_lists(detail) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {key: [str(m) for m in (value if isinstance(value, list) else [value])]
                for key, value in detail.items()}
    if isinstance(detail, list):
        return {"non_field_errors": [str(m) for m in detail]}
    return {"non_field_errors": [str(detail)]}


def validation_body(errors: dict[str, list[str]]) -> dict:
    """The 400 body for ``errors``: the single message as detail when there is one."""
    messages = [m for msgs in errors.values() for m in msgs]
    detail = messages[0] if len(messages) == 1 else INVALID
    return {"detail": detail, "errors": errors}


def api_exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        errors = (exc.message_dict if hasattr(exc, "error_dict")
                  else {"non_field_errors": exc.messages})
        errors = {("non_field_errors" if k == "__all__" else k): v for k, v in errors.items()}
        return Response(validation_body(errors), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, UploadRejected):
        return Response(validation_body({"file": [exc.message]}), status=400)
    if isinstance(exc, IntegrityError):
        return Response({"detail": "This conflicts with something that already exists "
                                   "(a name or key must be unique in the workspace)."},
                        status=status.HTTP_409_CONFLICT)
    if isinstance(exc, RequestDataTooBig):
        return Response({"detail": too_large_detail()},
                        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, SuspiciousOperation):
        return Response({"detail": "The request could not be read."},
                        status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(NOT_FOUND)
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        exc = _refusal_counted(exc, context)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = validation_body(_as_lists(exc.detail))
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"detail": str(response.data["detail"])}
    return response


def _refusal_counted(exc, context):
    """Refused callers count against the anonymous rate on every view (permission checks run
    before DRF's throttles, so they would never be counted): guessing tokens is a burst (P7)."""
    throttle = ApiAnonRateThrottle()
    if throttle.allow_request(context["request"], context["view"]):
        return exc
    return exceptions.Throttled(throttle.wait())


def too_large_detail() -> str:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    megabytes = f"{limit / (1024 * 1024):.1f}".removesuffix(".0")
    return f"Request body too large (limit {megabytes} MB)."


def is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def api_error(status_code: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status_code)


# Django's error views (adstudio/urls.py handler400 ... handler500): JSON under /api/.

def bad_request(request, exception):
    if not is_api(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        return api_error(413, too_large_detail())
    return api_error(400, "The request could not be read.")


def permission_denied(request, exception):
    if not is_api(request):
        return defaults.permission_denied(request, exception)
    return api_error(403, str(exception) or "You do not have permission to do this.")


def page_not_found(request, exception):
    if not is_api(request):
        return defaults.page_not_found(request, exception)
    return api_error(404, NOT_FOUND)


def server_error(request):
    if not is_api(request):
        return defaults.server_error(request)
    return api_error(500, SERVER_ERROR)
