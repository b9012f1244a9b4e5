"""The dashboard in a real browser: Debian's headless Chromium driven by Playwright."""

from urllib.parse import urlparse

import pytest

from brands.models import Role
from rendering.models import Asset, Format, PromptTemplate
from tests.factories import PASSWORD, BrandKitFactory, MembershipFactory, ProductFactory


@pytest.mark.django_db(transaction=True)
def test_marketer_logs_in_previews_a_prompt_generates_and_sees_assets(
        live_server, page, tiny_model, settings, tmp_path):
    membership = MembershipFactory(role=Role.MARKETER)
    ws = membership.workspace
    BrandKitFactory(workspace=ws, name="Northwind")
    ProductFactory(workspace=ws, name="Trail Tent")
    PromptTemplate.objects.create(workspace=ws, kind="banner", name="Banner",
                                  body="{{ product.name }} by {{ brand.name }}")

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", membership.user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/w/{ws.slug}/")
    assert page.locator("h1").inner_text() == ws.name

    # Preview the composed prompt of a template for a product.
    page.click("text=Templates")
    page.click("text=Banner")
    page.select_option("#id_preview-product", index=1)  # the only product; 0 is the empty choice
    page.select_option("#id_preview-brand", label="Northwind")
    page.click("button[name=preview]")
    assert page.locator("#preview-prompt").inner_text().startswith(
        "Trail Tent by Northwind, Ultra HD, 4K")
    # The preview follows the body as you type (htmx), without pressing the button.
    page.fill("#id_body", "{{ product.name }} at dawn")
    page.wait_for_function("() => document.querySelector('#preview-prompt')"
                           ".innerText.startsWith('Trail Tent at dawn')")
    page.fill("#id_body", "{{ product.secret }}")
    page.wait_for_selector("#preview .errorlist")
    assert "secret" in page.locator("#preview .errorlist").inner_text()
    page.fill("#id_body", "{{ product.name }} by {{ brand.name }}")

    # Create a campaign with two formats, press Generate, see the thumbnails.
    page.goto(f"{live_server.url}/w/{ws.slug}/campaigns/new/")
    page.fill("#id_name", "Spring")
    page.select_option("#id_brand", label="Northwind")
    page.check("text=Trail Tent")
    for key in ("responsive-landscape", "gdn-medium-rectangle"):
        fmt = Format.objects.get(key=key)
        page.check(f"input[name=formats][value='{fmt.pk}']")
    page.click("main button[type=submit]")
    page.wait_for_selector("text=Created Spring with 2 slots")
    page.click("button:has-text('Generate')")
    page.wait_for_selector("text=Queued 2 renders")
    thumbnails = page.locator(".slot img.thumb")
    assert thumbnails.count() == 2
    # Every thumbnail is served and decodes (the browser fetches them after the page).
    page.wait_for_function(
        "() => [...document.querySelectorAll('.slot img.thumb')]"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )
    page.screenshot(path=str(tmp_path / "campaign.png"), full_page=True)

    # A thumbnail opens the lightbox; from there, the asset page shows the recipe.
    thumbnails.first.click()
    page.wait_for_selector("#lightbox[open]")
    page.click("#lightbox-open")
    page.wait_for_selector("#recipe table")
    recipe = page.locator("#recipe table").inner_text()
    assert "Trail Tent by Northwind" in recipe
    path = urlparse(page.url).path  # the link keeps ?next= back to the campaign
    asset = Asset.objects.get(pk=int(path.rstrip("/").rsplit("/", 1)[1]))
    assert f"{asset.recipe['seed']} · 2 · 4.0" in recipe  # seed · steps · true CFG
