"""Where AdStudio may send a webhook (P13): the general check lives in brands.outbound_urls;
webhooks switch private addresses on with ADSTUDIO_WEBHOOK_ALLOW_PRIVATE_NETWORKS=1 (tests,
local development), which skips only the address classes, never the syntax."""

from __future__ import annotations

from django.conf import settings

from brands.outbound_urls import (
    MAX_URL_LENGTH,
    Resolver,
    Target,
    TargetRefused,
    TargetUnresolved,
    address_is_internal,
    outbound_connection,
    outbound_url_check,
    system_resolver,
)

__all__ = [
    "MAX_URL_LENGTH", "Resolver", "Target", "TargetRefused", "TargetUnresolved",
    "address_is_internal", "outbound_connection", "system_resolver", "webhook_target_check",
]


def webhook_target_check(url: str, *, purpose: str = "send",
                         resolver: Resolver | None = None) -> Target | None:
    """The target of a webhook ``url``, or TargetRefused saying why AdStudio will not call it
    (see brands.outbound_urls.outbound_url_check)."""
    return outbound_url_check(
        url, allow_private=settings.ADSTUDIO_WEBHOOK_ALLOW_PRIVATE_NETWORKS,
        allow_private_setting="ADSTUDIO_WEBHOOK_ALLOW_PRIVATE_NETWORKS", purpose=purpose,
        resolver=resolver,
        credentials_hint="verify requests with the X-AdStudio-Signature header instead")
