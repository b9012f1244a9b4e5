"""``Idempotency-Key`` for POSTs that queue work (generate).

The first request with a key runs and its response is kept; the same key with the same body
returns that response again without doing the work twice; the same key with a different
body is refused (422). Keys are per user and workspace. A request that failed (4xx) keeps
nothing, so it can be corrected and sent again with the same key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from django.db import IntegrityError, transaction
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from api.models import IdempotentRequest

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"


class KeyReused(APIException):
    status_code = 422
    default_detail = ("This Idempotency-Key was already used with a different request body. "
                      "Use a new key for a new request.")
    default_code = "idempotency_key_reused"


class KeyInvalid(APIException):
    status_code = 400
    default_detail = "An Idempotency-Key is 1 to 200 visible characters."
    default_code = "idempotency_key_invalid"


def _fingerprint(operation: str, data) -> str:
    canonical = json.dumps({"op": operation, "body": data}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(record: IdempotentRequest, fingerprint: str) -> Response:
    if record.request_sha256 != fingerprint:
        raise KeyReused()
    return Response(record.response_body, status=record.response_status,
                    headers={REPLAY_HEADER: "true"})


def idempotent(request, *, workspace, operation: str, run: Callable[[], Response]) -> Response:
    """``run()`` once per (user, workspace, key); the stored response for a repeat."""
    key = request.headers.get(HEADER)
    if key is None:
        return run()
    key = key.strip()
    if not key or len(key) > 200 or not key.isprintable():
        raise KeyInvalid()
    fingerprint = _fingerprint(operation, request.data)
    mine = IdempotentRequest.objects.filter(workspace=workspace, user=request.user, key=key)
    record = mine.first()
    if record is not None:
        return _replay(record, fingerprint)
    try:
        with transaction.atomic():
            response = run()
            if response.status_code >= 400:
                return response
            IdempotentRequest.objects.create(
                workspace=workspace, user=request.user, key=key, operation=operation,
                request_sha256=fingerprint, response_status=response.status_code,
                response_body=response.data)
    except IntegrityError:
        # A concurrent request with the same key committed first: ours rolled back whole.
        return _replay(mine.get(), fingerprint)
    return response
