"""The canvas editor's services: a preview is exactly what the design composes to, checked
like a save (the field named, the workspace's files only, editors only); a layout switch lays
the edited copy out again; and a copy change applied to every size queues one cpu composition
per size, each laid out for its format, or nothing at all."""

import json
import re
import time
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from brands.models import AuditEvent, Membership, Role
from campaigns.channel_frames import channel_frames
from campaigns.design_preview import asset_design_preview
from campaigns.design_relayout import asset_layouts, asset_relayout, product_copy_apply
from campaigns.services import campaign_generate
from rendering.design.compositor import compose_png
from rendering.design.recipe import recipe_inputs
from rendering.design.schema import design_validate
from rendering.models import Asset, Format, JobKind, JobQueue, RenderJob, ReviewState
from tests.campaigns import test_scene_ads as scene_ads
from tests.campaigns.layered import composed_campaign
from tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


scene_shop = scene_ads.scene_shop  # painted scenes (the tiny model)
scene_formats = scene_ads.scene_formats


@pytest.fixture
def studio(catalog, commit):
    return composed_campaign(catalog, commit)


def _index(design, role):
    return next(i for i, la in enumerate(design["layers"]) if la.get("role") == role)


def _with_headline(design, text):
    return {**design, "layers": [{**la, "text": text} if la.get("role") == "headline" else la
                                 for la in design["layers"]]}


def _post(client, name, asset, body):
    url = reverse(name, kwargs={"ws": asset.workspace.slug, "asset_id": asset.pk})
    return client.post(url, json.dumps(body), content_type="application/json")


def test_a_preview_is_the_png_the_validated_design_composes_to(studio, capsys):
    asset = studio["assets"]["responsive-landscape"]
    design = _with_headline(asset.design, "Slow coffee")
    started = time.perf_counter()
    png = asset_design_preview(asset=asset, user=studio["marketer"], design=design)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    again = asset_design_preview(asset=asset, user=studio["marketer"], design=design)
    warm = time.perf_counter() - started
    inputs = recipe_inputs(asset.recipe)  # read from storage, not the preview's cache
    assert png == again == compose_png(design_validate(design), inputs)
    assert png != compose_png(design_validate(asset.design), inputs)  # the change shows
    with capsys.disabled():
        print(f"\npreview 1200x628: cold {cold * 1000:.0f} ms, warm {warm * 1000:.0f} ms")


def test_a_bad_field_is_a_400_naming_it_and_a_foreign_file_is_refused(client, studio):
    asset = studio["assets"]["gdn-medium-rectangle"]
    client.force_login(studio["marketer"])
    logo = next(i for i, la in enumerate(asset.design["layers"]) if la["kind"] == "logo")
    outside = {**asset.design, "layers": [
        {**la, "box": [250, 10, 120, 40]} if i == logo else la
        for i, la in enumerate(asset.design["layers"])]}
    response = _post(client, "asset-design-preview", asset, {"design": outside})
    assert response.status_code == 400 and f"layers[{logo}].box" in response.json()["errors"]
    foreign = {**asset.design, "layers": [
        {**la, "sha256": "0" * 64} if i == logo else la
        for i, la in enumerate(asset.design["layers"])]}
    response = _post(client, "asset-design-preview", asset, {"design": foreign})
    assert response.status_code == 400
    assert f"layers[{logo}].sha256" in response.json()["errors"]
    too_long = _with_headline(asset.design, "Supercalifragilisticexpialidocious")
    response = _post(client, "asset-design-preview", asset, {"design": too_long})
    assert f"layers[{_index(asset.design, 'headline')}].text" in response.json()["errors"]
    response = _post(client, "asset-design-preview", asset,
                     {"design": _with_headline(asset.design, "Good coffee")})
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_previews_belong_to_the_workspace_and_to_roles_that_may_edit(client, studio, settings):
    asset = studio["assets"]["gdn-medium-rectangle"]
    body = {"design": _with_headline(asset.design, "Good coffee")}
    stranger = MembershipFactory(role=Role.MARKETER)  # a marketer of another workspace
    client.force_login(stranger.user)
    assert _post(client, "asset-design-preview", asset, body).status_code == 404
    viewer = Membership.objects.create(user=UserFactory(), workspace=studio["workspace"],
                                       role=Role.VIEWER)
    client.force_login(viewer.user)
    assert _post(client, "asset-design-preview", asset, body).status_code == 403
    assert _post(client, "asset-copy-apply", asset, {"copy": {"headline": "x"}}
                 ).status_code == 403
    with pytest.raises(PermissionDenied):
        asset_design_preview(asset=asset, user=viewer.user, design=body["design"])
    client.logout()
    assert _post(client, "asset-design-preview", asset, body).status_code == 302
    settings.ADSTUDIO_API_RATE = "2/minute"  # previews are bounded per user like the API
    client.force_login(studio["marketer"])
    assert [_post(client, "asset-design-preview", asset, body).status_code
            for _ in range(3)] == [200, 200, 429]


def test_a_layout_switch_lays_the_edited_copy_out_in_the_other_layout(studio):
    asset = studio["assets"]["responsive-landscape"]
    layouts = asset_layouts(asset)
    assert layouts == ["wide.split", "wide.mirror"]
    other = next(lid for lid in layouts if lid != asset.design["layout"])
    design = asset_relayout(asset=asset, user=studio["marketer"], layout=other,
                            copy={"headline": "Slow espresso"})
    assert design["layout"] == other
    assert design["layers"][_index(design, "headline")]["text"] == "Slow espresso"
    assert design["layers"][0] == asset.design["layers"][0]  # the same background
    with pytest.raises(ValidationError) as excinfo:
        asset_relayout(asset=asset, user=studio["marketer"], layout="story.center", copy={})
    assert "layout" in excinfo.value.message_dict


def test_copy_applied_to_every_size_queues_a_cpu_composition_per_size(studio, commit):
    asset = studio["assets"]["gdn-medium-rectangle"]
    gpu_before = RenderJob.objects.filter(queue=JobQueue.GPU).count()
    with commit():
        jobs = product_copy_apply(asset=asset, user=studio["marketer"],
                                  copy={"headline": "Espresso week"})
    assert len(jobs) == 2
    assert RenderJob.objects.filter(queue=JobQueue.GPU).count() == gpu_before
    assert {j.queue for j in jobs} == {JobQueue.CPU} and {j.kind for j in jobs} == {
        JobKind.COMPOSE}
    for key, before in studio["assets"].items():
        made = Asset.objects.get(parent=before)
        assert made.version == 2 and made.review_state == ReviewState.IN_REVIEW, key
        assert made.design["layers"][_index(made.design, "headline")]["text"] == "Espresso week"
        assert made.design["size"] == before.design["size"]  # laid out for its own format
    assert AuditEvent.objects.filter(verb="product.copy_applied", object_id=asset.pk).exists()


def test_a_headline_no_layout_can_set_refuses_every_size_and_queues_nothing(studio):
    asset = studio["assets"]["responsive-landscape"]
    before = RenderJob.objects.count()
    with pytest.raises(ValidationError) as excinfo:
        product_copy_apply(asset=asset, user=studio["marketer"],
                           copy={"headline": "Supercalifragilisticexpialidocious" * 3})
    assert "300x250" in " ".join(excinfo.value.messages)
    assert RenderJob.objects.count() == before
    assert not Asset.objects.filter(parent__in=studio["assets"].values()).exists()


def test_saving_from_the_editor_queues_the_next_version_and_says_where(client, studio,
                                                                     commit):
    asset = studio["assets"]["gdn-medium-rectangle"]
    client.force_login(studio["marketer"])
    with commit():
        response = _post(client, "asset-design-save", asset,
                         {"design": _with_headline(asset.design, "Good coffee")})
    assert response.status_code == 202, response.content
    made = Asset.objects.get(parent=asset)
    assert made.version == 2 and made.review_state == ReviewState.IN_REVIEW
    body = response.json()  # composed after this test's commit: the reply names its job
    assert body["job"] == made.job_id and body["review_url"].endswith("/review/")


def test_the_asset_page_shows_the_editor_to_editors_and_the_channel_frames_to_all(client,
                                                                                 studio):
    asset = studio["assets"]["responsive-landscape"]
    url = reverse("asset-detail", kwargs={"ws": studio["workspace"].slug, "asset_id": asset.pk})
    client.force_login(studio["marketer"])
    page = client.get(url).content.decode()
    assert 'id="editor"' in page and 'id="editor-data"' in page
    assert re.findall(r'data-frame="([\w-]+)"', page) == ["display", "meta-feed", "linkedin"]
    viewer = Membership.objects.create(user=UserFactory(), workspace=studio["workspace"],
                                       role=Role.VIEWER)
    client.force_login(viewer.user)
    page = client.get(url).content.decode()
    assert 'id="editor"' not in page and 'id="channels"' in page


def _fake(key, design):
    fmt = Format.objects.get(key=key, workspace=None)
    slot = SimpleNamespace(format=fmt, product=SimpleNamespace(name="Cup"))
    return SimpleNamespace(slot_id=1, slot=slot, recipe={}, design=design, width=fmt.width,
                           height=fmt.height)


def test_a_story_gets_its_safe_zones_and_print_its_trim_inside_the_bleed(db):
    story = channel_frames(_fake("meta-story", {"size": [1080, 1920], "bleed": 0,
                                                "safe": [0, 269, 0, 384]}))
    assert story.ids == ["meta-story"]
    assert story.safe == {"top": 14.01, "bottom": 20.0}  # the class's zones beat Meta's 250 px
    poster = channel_frames(_fake("print-a4", {"size": [2480, 3508], "bleed": 35,
                                               "safe": [59, 59, 59, 59]}))
    assert poster.ids == ["print"]
    assert poster.trim["x"] == round(100 * 35 / 2550, 3) and poster.trim["w"] == round(
        100 * 2480 / 2550, 3)
    banner = channel_frames(_fake("gdn-mobile-banner", {"size": [320, 50]}))
    assert banner.ids == ["display"] and banner.placement == "top"


@pytest.mark.parametrize("scene_formats", [["responsive-landscape", "gdn-medium-rectangle"]])
def test_a_scene_ad_keeps_its_painted_scene_when_laid_out_again(scene_shop, commit):
    campaign, _ = scene_shop
    with commit():
        campaign_generate(campaign=campaign, user=None, seed=7)
    sizes = scene_ads._latest(campaign)
    wide = sizes["responsive-landscape"]
    marketer = Membership.objects.create(user=UserFactory(), workspace=campaign.workspace,
                                         role=Role.MARKETER).user
    scene = wide.design["layers"][0]["source"]
    mirrored = asset_relayout(asset=wide, user=marketer, layout="wide.mirror", copy={})
    assert mirrored["layers"][0]["source"]["sha256"] == scene["sha256"]  # cut again, not redrawn
    started = RenderJob.objects.order_by("-created_at").first().created_at
    with commit():
        jobs = product_copy_apply(asset=wide, user=marketer, copy={"headline": "Pikolo cup"})
    assert len(jobs) == len(sizes)
    assert not RenderJob.objects.filter(queue=JobQueue.GPU, created_at__gt=started).exists()
    for key, before in sizes.items():
        made = Asset.objects.get(parent=before)
        assert made.design["layers"][0]["source"]["sha256"] == before.design["layers"][0][
            "source"]["sha256"], key
        assert made.design["layers"][_index(made.design, "headline")]["text"] == "Pikolo cup"
