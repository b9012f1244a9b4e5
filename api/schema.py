"""What the OpenAPI schema and OPTIONS say about each operation, kept true to what it does.

- Every operation lists the errors it can answer, each with the shared ``Error`` body
  (api/errors.py): 400 for a body or query parameters, 401, 403, 404 under a workspace or for
  a list page, 409 and 413/415 for writes with a body, 422 with an Idempotency-Key, 429
  everywhere (every view is throttled).
- Descriptions come only from ``extend_schema(description=...)``: class docstrings are
  written for developers (drf-spectacular would show them, inherited ones included).
- OPTIONS is api/metadata.py.
"""

from __future__ import annotations

import inspect

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from api.idempotency import HEADER as IDEMPOTENCY_HEADER

BODY_METHODS = ("POST", "PUT", "PATCH")
ERRORS = {
    "400": "Invalid input: `errors` lists the messages of each field or query parameter "
           "(`non_field_errors` for the request as a whole), or a move the rules refuse.",
    "401": "No credentials, or a token that is unknown, revoked or expired.",
    "403": "Your role (or your token's) cannot do this.",
    "404": "No such object, workspace or page for you.",
    "409": "Conflicts with the current state: a name already in use, or a stale asset "
           "approved without confirm_stale.",
    "413": "The request body is over the size limit.",
    "415": "The body's Content-Type is not one this operation reads.",
    "422": "This Idempotency-Key was already used with another body.",
    "429": "Too many requests: wait Retry-After seconds.",
}


class ErrorSerializer(serializers.Serializer):
    """The body of every error answer."""

    detail = serializers.CharField(help_text="A sentence for a person")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False,
        help_text="With 400: the messages for each field or query parameter")

    class Meta:
        ref_name = "Error"


class ApiAutoSchema(AutoSchema):
    def get_description(self) -> str:
        return ""  # extend_schema(description=...) still wins: it subclasses this schema

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        error = self.resolve_serializer(ErrorSerializer, "response").ref
        for code in self._error_codes():
            if code in responses:
                continue
            responses[code] = {"description": ERRORS[code],
                               "content": {"application/json": {"schema": error}}}
            if code == "429":
                responses[code]["headers"] = {"Retry-After": {
                    "schema": {"type": "integer"},
                    "description": "Seconds to wait before the next request"}}
        return dict(sorted(responses.items()))

    def _error_codes(self) -> list[str]:
        codes = ["401", "403", "429"]
        has_body = self.method in BODY_METHODS and self._get_request_body() is not None
        parameters = self._get_parameters()
        if has_body or self.method in BODY_METHODS + ("DELETE",) or any(
                p["in"] == "query" for p in parameters):
            codes.append("400")
        if any(p["in"] == "path" for p in parameters) or self._is_list_view():
            codes.append("404")
        if self.method != "GET":
            codes.append("409")
        if has_body:
            codes += ["413", "415"]
        if any(p["name"] == IDEMPOTENCY_HEADER for p in parameters):
            codes.append("422")
        return codes



def tidy_descriptions(result, generator, request, public):
    """Postprocessing hook: descriptions taken from a docstring lose its indentation."""
    for item in result.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict) and operation.get("description"):
                operation["description"] = inspect.cleandoc(operation["description"])
    return result
