"""The canvas editor in a real browser (Debian's Chromium via Playwright): a marketer retypes
the headline on the canvas, nudges the logo with the arrow keys, watches the preview redraw,
undoes and redoes, saves v2 into review, applies the copy to the other size, and looks at the
ad in its channel frames.

Screenshots land in var/test-output/screenshots/editor/ (look at them).
"""

import base64
import re
from pathlib import Path

import pytest
from django.core.files.storage import default_storage

from rendering.models import Asset, JobQueue, RenderJob, ReviewState
from tests.browser.axe import axe_check
from tests.browser.test_review_browser import _login
from tests.campaigns.layered import composed_campaign

SHOTS = Path(__file__).resolve().parents[2] / "var" / "test-output" / "screenshots" / "editor"
HEADLINE = "Slow coffee"


def _shot(page, name, selector=None):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_function("() => [...document.images].every(i => i.complete"
                           " || i.loading === 'lazy')")  # thumbnails below load when seen
    target = page.locator(selector) if selector else page
    target.screenshot(path=str(SHOTS / f"{name}.png"), **({} if selector else {"full_page": True}))


def _preview_bytes(page) -> bytes:
    data = page.evaluate("""async () => { const r = await fetch(
        document.getElementById('editor-preview').src); const b = new Uint8Array(
        await r.arrayBuffer()); let s = ''; b.forEach((c) => s += String.fromCharCode(c));
        return btoa(s); }""")
    return base64.b64decode(data)


def _wait_preview(page, after: int) -> int:
    page.wait_for_function(f"() => +(document.getElementById('editor-preview').dataset.preview"
                           f" || 0) > {after} && /up to date/.test(document.getElementById("
                           "'editor-status').textContent)")
    return int(page.locator("#editor-preview").get_attribute("data-preview"))


def _box(page) -> list[int]:
    text = page.locator("#editor-box").inner_text()
    return [int(v) for v in re.findall(r"\d+", text)]


@pytest.mark.django_db(transaction=True)
def test_a_marketer_edits_on_the_canvas_saves_v2_and_applies_the_copy_to_every_size(
        live_server, browser, catalog, django_capture_on_commit_callbacks):
    studio = composed_campaign(catalog,
                               lambda: django_capture_on_commit_callbacks(execute=True))
    asset, other = studio["assets"]["responsive-landscape"], studio["assets"][
        "gdn-medium-rectangle"]
    with default_storage.open(asset.file.name, "rb") as handle:
        original = handle.read()
    logo = next(la for la in asset.design["layers"] if la["kind"] == "logo")
    gpu_jobs = RenderJob.objects.filter(queue=JobQueue.GPU).count()
    page = _login(browser, live_server, studio["marketer"])
    page.goto(f"{live_server.url}/w/{studio['workspace'].slug}/assets/{asset.pk}/")
    page.wait_for_selector("#editor .ebox[data-role=headline]")

    # The headline, retyped in place: click to select, click again to type.
    headline = page.locator("#editor .ebox[data-role=headline]")
    headline.click()
    headline.click()
    page.wait_for_selector("#editor .ebox.editing")
    page.keyboard.press("Control+A")
    page.keyboard.type(HEADLINE)
    page.keyboard.press("Enter")
    seen = _wait_preview(page, 0)
    assert page.locator("#editor-preview").get_attribute("src").startswith("blob:")
    edited = _preview_bytes(page)
    assert edited[:8] == b"\x89PNG\r\n\x1a\n" and edited != original
    assert page.locator("#editor-text").input_value() == HEADLINE

    # The logo, nudged with the keyboard: 2 px right, then 10 px down with Shift.
    page.locator("#editor .ebox.logo").click()
    assert _box(page) == logo["box"]
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowDown")
    moved = [logo["box"][0] + 2, logo["box"][1] + 10, *logo["box"][2:]]
    assert _box(page) == moved
    seen = _wait_preview(page, seen)
    nudged = _preview_bytes(page)
    assert nudged != edited

    # Undo the last nudge (keyboard), redo it (button): the preview follows.
    page.keyboard.press("Control+Z")
    assert _box(page) == [moved[0], logo["box"][1], *logo["box"][2:]]
    seen = _wait_preview(page, seen)
    assert _preview_bytes(page) not in (edited, nudged)  # the logo 2 px right only
    page.click("#editor-redo")
    assert _box(page) == moved
    seen = _wait_preview(page, seen)
    assert _preview_bytes(page) == nudged
    # The product, made smaller by dragging its bottom-right handle up and left.
    product = page.locator("#editor .ebox.product")
    product.click()
    before = _box(page)
    handle = product.locator(".handle[data-h=se]").bounding_box()
    page.mouse.move(handle["x"] + 6, handle["y"] + 6)
    page.mouse.down()
    page.mouse.move(handle["x"] - 30, handle["y"] - 30, steps=4)
    page.mouse.up()
    after = _box(page)
    assert after[:2] == before[:2] and after[2] < before[2] and after[3] < before[3]
    seen = _wait_preview(page, seen)
    page.locator("#editor .ebox.logo").click()
    _shot(page, "01-editor-edited")
    _shot(page, "02-editor-canvas", "#editor")
    axe_check(page, "editor-edited")

    # Save: v2 of this size, in review, with the edited headline and the logo where it went.
    page.click("#editor-save")
    page.wait_for_selector("#editor-outcome:has-text('v2 is in review')")
    v2 = Asset.objects.get(parent=asset)
    assert v2.version == 2 and v2.review_state == ReviewState.IN_REVIEW
    layers = v2.design["layers"]
    assert next(la for la in layers if la.get("role") == "headline")["text"] == HEADLINE
    assert next(la for la in layers if la["kind"] == "logo")["box"] == moved

    # Apply to every size: the other size (300x250) is laid out again with the headline.
    page.click("#editor-apply")
    page.wait_for_selector("#editor-outcome:has-text('Queued 1 other size')")
    resized = Asset.objects.get(parent=other)
    assert resized.review_state == ReviewState.IN_REVIEW and resized.design["size"] == [300, 250]
    assert next(la for la in resized.design["layers"] if la.get("role") == "headline"
                )["text"] == HEADLINE
    assert RenderJob.objects.filter(queue=JobQueue.GPU).count() == gpu_jobs
    _shot(page, "03-editor-saved-applied", "#editor")

    # The round trip of one preview of this 1200x628 (the server composes it).
    ms = page.evaluate("""async () => { const d = JSON.parse(document.getElementById(
        'editor-data').textContent); const t = performance.now(); const r = await fetch(
        d.urls.preview, {method: 'POST', body: JSON.stringify({design: d.design}), headers: {
        'Content-Type': 'application/json', 'X-CSRFToken': d.csrf}}); await r.blob();
        return r.ok ? performance.now() - t : -1; }""")
    print(f"\npreview round trip 1200x628: {ms:.0f} ms")
    assert 0 < ms < 2000

    # Another layout: the panel goes to the other side, the copy as edited.
    page.select_option("#editor-layout", "wide.mirror")
    seen = _wait_preview(page, seen)
    text_box = page.locator("#editor .ebox[data-role=headline]").bounding_box()
    assert text_box["x"] > page.locator("#editor .ebox.product").bounding_box()["x"]
    page.locator("#editor .ebox[data-role=headline]").click()
    assert page.locator("#editor-text").input_value() == HEADLINE
    _shot(page, "03b-editor-other-layout", "#editor")

    # Where it runs: each frame of this 1200x628 shows the edited preview.
    tabs = page.locator("#channels .channel-tab")
    assert tabs.count() == 3
    for i in range(tabs.count()):
        tabs.nth(i).click()
        frame = tabs.nth(i).get_attribute("data-frame")
        assert page.locator(f"#frame-{frame} img.channel-ad").get_attribute("src").startswith(
            "blob:")
        _shot(page, f"04-channel-{frame}", "#channels")

    # The 300x250 in review: its page shows the new version and its own frame.
    page.goto(f"{live_server.url}/w/{studio['workspace'].slug}/assets/{resized.pk}/")
    assert "v2" in page.locator("h1").inner_text()
    _shot(page, "05-other-size-v2")
    page.context.close()
