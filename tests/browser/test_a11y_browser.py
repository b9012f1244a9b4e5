"""Every main page passes axe-core (WCAG 2.2 A/AA and best practices) with no serious or
critical violation, for a marketer and for an admin, on a desktop and on a phone.

Screenshots: var/test-output/screenshots/a11y/; axe results: var/test-output/axe/a11y-*.json.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from brands.models import ProductPhoto, Role
from campaigns.services import campaign_create
from rendering.models import Format, PromptTemplate
from tests.browser.axe import axe_check, axe_start
from tests.factories import PASSWORD, BrandKitFactory, MembershipFactory, ProductFactory, asset_make

SHOTS = Path(__file__).resolve().parents[2] / "var" / "test-output" / "screenshots" / "a11y"
PHONE = {"width": 390, "height": 844}


def _png(size, color, mode="RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def _photo(product) -> ProductPhoto:
    """A product photo with its cut-out (made directly: no matting model in this test)."""
    ws = product.workspace_id
    file = default_storage.save(f"ws/{ws}/photos/a11y.png", ContentFile(_png((120, 90), "teal")))
    cutout = default_storage.save(f"ws/{ws}/photos/a11y-cut.png",
                                  ContentFile(_png((60, 60), (200, 40, 40, 255), "RGBA")))
    return ProductPhoto.objects.create(
        product=product, file=file, width=120, height=90, sha256="0" * 64, cutout=cutout,
        cutout_method="uploaded", cutout_coverage=0.4)


def _world():
    """A workspace a team works in: a brand kit, a product with a photo, a campaign with an
    asset waiting for review."""
    marketer = MembershipFactory(role=Role.MARKETER)
    ws = marketer.workspace
    admin = MembershipFactory(workspace=ws, role=Role.ADMIN)
    admin.user.is_staff = True  # the operator view too
    admin.user.save()
    brand = BrandKitFactory(workspace=ws, name="Northwind")
    product = ProductFactory(workspace=ws, name="Trail Tent", sku="TENT-1")
    _photo(product)
    PromptTemplate.objects.create(workspace=ws, kind="banner", name="Banner",
                                  body="{{ product.name }} by {{ brand.name }}")
    fmt = Format.objects.get(key="gdn-medium-rectangle")
    campaign = campaign_create(workspace=ws, user=marketer.user, name="Spring Sale",
                               brand=brand, products=[product], formats=[fmt])
    asset = asset_make(slot=campaign.slots.get(), author=marketer.user, size=(300, 250))
    return marketer, admin, brand, product, campaign, asset


def _login(browser, live_server, user, viewport=None):
    context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/w/**")
    return page


def _shoot(page, label):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_function("() => [...document.images].every(i => i.complete)")
    page.screenshot(path=str(SHOTS / f"{label}.png"), full_page=True)


def _check(page, label, results):
    _shoot(page, label)
    results[label] = axe_check(page, f"a11y-{label}", fail=False)


@pytest.mark.django_db(transaction=True)
def test_every_main_page_has_no_serious_or_critical_axe_violation(live_server, browser):
    marketer, admin, brand, product, campaign, asset = _world()
    base = f"{live_server.url}/w/{marketer.workspace.slug}"
    pages = {
        "home": "/", "campaigns": "/campaigns/", "campaign": f"/campaigns/{campaign.pk}/",
        "campaign-new": "/campaigns/new/", "templates": "/templates/",
        "template-new": "/templates/new/", "formats": "/formats/", "brands": "/brands/",
        "brand": f"/brands/{brand.pk}/", "products": "/products/",
        "product": f"/products/{product.pk}/", "feeds": "/products/feeds/",
        "members": "/members/", "review": "/review/", "asset": f"/assets/{asset.pk}/",
        "notifications": "/settings/notifications/", "api-tokens": "/api-tokens/",
    }
    results = {}

    anonymous = browser.new_context().new_page()
    anonymous.goto(f"{live_server.url}/login/")
    _check(anonymous, "login", results)
    anonymous.context.close()

    # The marketer's and the admin's page of each state load side by side, and axe-core runs
    # in both at once (two renderer processes): half the wall time on two cores.
    roles = {"marketer": _login(browser, live_server, marketer.user),
             "admin": _login(browser, live_server, admin.user)}
    for name, path in pages.items():
        for role, page in roles.items():
            page.goto(base + path)
            _shoot(page, f"{role}-{name}")
            axe_start(page)
        for role, page in roles.items():
            results[f"{role}-{name}"] = axe_check(page, f"a11y-{role}-{name}", fail=False)
    roles["admin"].goto(f"{live_server.url}/ops/")
    _check(roles["admin"], "admin-ops", results)
    for page in roles.values():
        page.context.close()

    phone = _login(browser, live_server, marketer.user, viewport=PHONE)
    phone.goto(base + "/")
    _check(phone, "phone-menu-closed", results)
    assert phone.locator("#nav-panel").is_hidden()
    phone.click("#nav-toggle")
    assert phone.get_attribute("#nav-toggle", "aria-expanded") == "true"
    _check(phone, "phone-menu-open", results)
    phone.context.close()

    summary = "\n".join(
        f"{label}: " + ", ".join(f"{k} {v}" for k, v in r.items() if k != "blocking")
        for label, r in results.items())
    print("axe-core violated rules by impact per page:\n" + summary)
    blocking = [r["blocking"] for r in results.values() if r["blocking"]]
    assert not blocking, "\n".join(blocking)
    assert len(results) == 2 * len(pages) + 4  # every state above was checked


def test_a_missing_axe_core_fails_and_names_dev_setup(monkeypatch):
    from tests.browser import axe

    monkeypatch.setattr(axe, "AXE_JS", axe.ROOT / "frontend" / "no-such" / "axe.min.js")
    with pytest.raises(pytest.fail.Exception, match=r"\./dev setup"):
        axe.axe_start(page=None)
