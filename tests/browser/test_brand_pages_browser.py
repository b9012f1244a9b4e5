"""An admin sets up a brand kit in a real browser: palette swatches with colour pickers and a
contrast warning, logos with primary and delete, a font previewed in its own face; the
header on a phone is one row; keyboard shortcuts can be switched off.

Screenshots: var/test-output/screenshots/brand-*.png.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from brands.models import Role
from brands.selectors import brand_logo_primary
from tests.browser.axe import axe_check
from tests.browser.test_a11y_browser import _login
from tests.factories import BrandKitFactory, MembershipFactory, SlotFactory, asset_make

SHOTS = Path(__file__).resolve().parents[2] / "var" / "test-output" / "screenshots"
DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf"


def _logo_file(tmp_path, name, color):
    path = tmp_path / f"{name}.png"
    image = Image.new("RGBA", (120, 40), (0, 0, 0, 0))
    image.paste(Image.new("RGBA", (80, 24), color), (20, 8))
    image.save(path)
    return str(path)


def _upload_logo(page, tmp_path, name, color):
    page.fill("#logo_name", name)
    page.set_input_files("#logo_file", _logo_file(tmp_path, name, color))
    page.click("form:has(#logo_file) button[type=submit]")
    page.wait_for_selector("text=Added the logo.")


@pytest.mark.django_db(transaction=True)
def test_admin_edits_palette_logos_and_fonts_on_the_brand_kit_page(
        live_server, browser, tmp_path):
    admin = MembershipFactory(role=Role.ADMIN)
    brand = BrandKitFactory(workspace=admin.workspace, name="Northwind")
    page = _login(browser, live_server, admin.user)
    page.goto(f"{live_server.url}/w/{admin.workspace.slug}/brands/{brand.pk}/")

    # The palette is swatches with pickers; a pale accent gets a contrast warning.
    rows = page.locator(".palette-row")
    assert rows.count() == len(brand.palette) and page.locator("#id_palette").is_hidden()
    accent = rows.filter(has=page.locator("select.c-role >> option:checked", has_text="accent"))
    accent.locator(".c-hex").fill("#FFE14D")
    assert "low contrast" in accent.locator(".c-contrast").inner_text()
    assert accent.locator(".c-pick").input_value() == "#ffe14d"
    page.click("#palette-add")
    page.locator(".palette-row").last.locator(".c-name").fill("Forest")
    page.locator(".palette-row").last.locator(".c-hex").fill("#1E5631")
    page.click("#brand-form button[type=submit]")
    page.wait_for_selector("text=Saved Northwind (version 2)")
    brand.refresh_from_db()
    assert {"role": "accent", "name": "Coral", "hex": "#FFE14D"} in brand.palette
    assert brand.palette[-1] == {"role": "accent", "name": "Forest", "hex": "#1E5631"}
    assert "Low contrast for text" in page.locator("#palette-title + ul").inner_text()

    # Two logos: the second made primary (composed ads go stale), then the first deleted.
    asset = asset_make(slot=SlotFactory(campaign__workspace=admin.workspace,
                                        campaign__brand=brand))
    _upload_logo(page, tmp_path, "Mark", (10, 79, 140, 255))
    _upload_logo(page, tmp_path, "Wordmark", (200, 60, 40, 255))
    assert page.locator(".logo-item").first.locator(".badge").inner_text().startswith("Primary")
    page.click("button:has-text('Make primary')")
    page.wait_for_selector("text=Wordmark is now the logo on composed ads.")
    assert brand_logo_primary(brand).name == "Wordmark"
    asset.refresh_from_db()
    assert asset.stale_at is not None
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator(".logo-item", has_text="Mark").filter(has_not_text="Wordmark").locator(
        "button.danger").click()
    page.wait_for_selector("text=Deleted the logo Mark.")
    assert [logo.name for logo in brand.logos.all()] == ["Wordmark"]

    # A font is previewed in its own face (loaded through the workspace's font URL).
    page.set_input_files("#font_file", DEJAVU)
    page.click("form:has(#font_file) button[type=submit]")
    page.wait_for_selector("text=Added the font.")
    font = brand.fonts.get()
    family = f"adstudio-brand-font-{font.pk}"
    page.wait_for_function(f"() => document.fonts.check('16px \"{family}\"')"
                           f" && [...document.fonts].some(f => f.family.includes('{family}')"
                           " && f.status === 'loaded')")
    page.screenshot(path=str(SHOTS / "brand-kit-edited.png"), full_page=True)
    axe_check(page, "brand-kit-edited")
    page.context.close()


@pytest.mark.django_db(transaction=True)
def test_phone_header_is_one_row_and_shortcuts_can_be_switched_off(live_server, browser):
    approver = MembershipFactory(role=Role.APPROVER)
    slot = SlotFactory(campaign__workspace=approver.workspace)
    asset = asset_make(slot=slot, size=(300, 250))
    page = _login(browser, live_server, approver.user, viewport={"width": 390, "height": 844})
    page.goto(f"{live_server.url}/w/{approver.workspace.slug}/review/")
    header = page.locator("header.shell").bounding_box()
    assert header["height"] <= 64  # one row: logo and the menu button
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SHOTS / "brand-phone-header.png"))

    page.click("#nav-toggle")
    assert page.locator("nav[aria-label=Main] a[aria-current=page]").inner_text() == "Review"
    page.click(".account summary")
    page.uncheck("#shortcuts-toggle")
    assert page.evaluate("window.adstudioShortcutsOff()")
    page.reload()
    assert not page.is_checked("#shortcuts-toggle")  # remembered in this browser
    page.locator("main").click(position={"x": 5, "y": 5})
    page.keyboard.press("a")  # approve, when shortcuts are on
    page.wait_for_timeout(400)
    asset.refresh_from_db()
    assert asset.review_state == "in_review"
    page.context.close()
