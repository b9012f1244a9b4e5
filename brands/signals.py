"""What brands announces to the apps above it, which connect in their AppConfig.ready: brands
imports no higher app (ARCHITECTURE.md: brands <- rendering <- campaigns <- api). Receivers run
in the sender's transaction, so what they write commits or rolls back with the change."""

from __future__ import annotations

from collections.abc import Callable

from django.dispatch import Signal

# A membership was removed (role=None) or its role lowered to ``role``: kwargs membership,
# actor, reason, role. The API app revokes the tokens that may now do too much (P12).
membership_narrowed = Signal()

# These products' values changed (edited, or by a feed import): kwargs product_ids. Campaigns
# flags the assets made from the old values as stale.
products_changed = Signal()

# A product photo's cut-out was made, replaced or removed: kwargs product_id. Campaigns flags
# the ads that show another cut-out (a scene painted around the old one needs a new scene).
product_cutout_changed = Signal()

# A brand kit's values changed: kwargs brand, changed (field names), old_version. Campaigns
# flags the assets made with the old kit as stale.
brand_kit_changed = Signal()

# About to delete (inside its transaction, under the row lock): kwargs brand or product. A
# receiver refuses by raising ValidationError with the reason a user reads, or prepares (a
# product's unfinished renders are cancelled first). Sent with send(), so a refusal propagates
# and the deletion rolls back.
brand_kit_deleting = Signal()
product_deleting = Signal()

# Checks a brand kit's disclaimer must pass before it is saved (it is set on every ad: B14);
# each takes (text, brand=...) and returns the cleaned text or raises ValidationError.
_disclaimer_checks: list[Callable] = []


def disclaimer_check_register(check: Callable) -> None:
    if check not in _disclaimer_checks:
        _disclaimer_checks.append(check)


# The layout ids a brand kit may prefer, from the app that owns the layouts (rendering).
_layout_ids: list[Callable[[], list[str]]] = []


def layout_ids_register(provider: Callable[[], list[str]]) -> None:
    if provider not in _layout_ids:
        _layout_ids.append(provider)


def layout_ids() -> list[str]:
    return [layout for provider in _layout_ids for layout in provider()]


def disclaimer_checked(text: str, *, brand) -> str:
    for check in _disclaimer_checks:
        text = check(text, brand=brand)
    return text
