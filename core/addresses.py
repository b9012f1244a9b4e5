"""The caller's network address, the one rule every throttle and record uses (RELIABILITY P9).

``X-Forwarded-For`` is written by whoever sends the request, so it is read only when
ADSTUDIO_TRUSTED_PROXY_COUNT says how many of our own proxies append to it; then the address
the outermost of them saw is the N-th entry from the right, and anything a client put to the
left of it is ignored. With no trusted proxy the connection's own address is the answer.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def client_address(request) -> str:
    """The caller's address: REMOTE_ADDR, or the entry the last trusted proxy appended."""
    meta = getattr(request, "META", {})
    hops = settings.ADSTUDIO_TRUSTED_PROXY_COUNT
    if hops > 0:
        forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")
                     if part.strip()]
        if len(forwarded) >= hops and _is_address(forwarded[-hops]):
            return forwarded[-hops]
    return meta.get("REMOTE_ADDR", "")


def _is_address(value: str) -> bool:
    # A proxy writes a bare address; anything else came from the client, not from our proxy.
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
