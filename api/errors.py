"""One error body for the whole API: ``{"detail": "...", "errors": {"field": ["..."]}}``.

``detail`` is always a sentence for a person; ``errors`` (present on 400 and 422) maps each
invalid field to its messages, with ``non_field_errors`` for the request as a whole. Django's
ValidationError and PermissionDenied raised by the services become 400 and 403.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from brands.uploads import UploadRejected

INVALID = "Some fields are not valid; see errors."


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
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found.")
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = validation_body(_as_lists(exc.detail))
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"detail": str(response.data["detail"])}
    return response
