"""The campaign form (formats by channel, packs, templates per kind, the GPU estimate) and the
campaign matrix (filters, bulk actions, query counts). Review at speed:
test_review_speed.py."""

import re

import pytest
from django.urls import reverse

from brands.models import Role
from campaigns.format_packs import PACKS, format_groups, format_icon
from campaigns.generate_estimate import generate_estimate
from campaigns.review import asset_approve
from campaigns.services import campaign_create, campaign_generate
from rendering.models import Asset, Format, JobQueue, RenderJob, ReviewState
from rendering.templates import prompt_template_save
from tests.campaigns.matrix_data import desk_make, matrix_fill, page_queries
from tests.factories import (
    MembershipFactory,
)

pytestmark = pytest.mark.django_db


def _url(name, ws, **kwargs):
    return reverse(name, kwargs={"ws": ws.slug, **kwargs})


# The form: formats by channel, packs, templates per kind ------------------------------------

def test_formats_are_grouped_by_channel_in_order_with_labels_that_never_repeat(catalog):
    workspace = catalog[0]
    own = Format.objects.create(workspace=workspace, key="shop-window", name="Shop window",
                                channel="Custom", kind="poster", width=1000, height=1500)
    formats = list(Format.objects.filter(workspace=None)) + [own]
    groups = format_groups(formats)
    assert [g.channel for g in groups] == ["Google Display", "Meta", "LinkedIn", "Responsive",
                                           "Print", "Your formats"]
    labels = [c.label for g in groups for c in g.choices]
    assert len(labels) == len(set(labels)) == len(formats)
    # The three 1200x628 formats are told apart by their channel.
    assert {"Meta · Link · 1200×628", "LinkedIn · Landscape · 1200×628",
            "Responsive · Landscape 1.91:1 · 1200×628"} <= set(labels)
    assert groups[-1].choices[0].format == own


def test_format_icons_have_the_formats_proportions():
    assert format_icon(728, 90) == (28, 3)  # a strip stays visible
    assert format_icon(1080, 1920) == (16, 28)
    assert format_icon(1200, 1200) == (28, 28)


def test_every_pack_names_existing_presets(db):
    keys = set(Format.objects.filter(workspace=None).values_list("key", flat=True))
    for pack in PACKS:
        assert set(pack.format_keys) <= keys, pack.key
    assert [p.label for p in PACKS if p.key == "meta"] == ["Meta: feed, portrait, story"]


def test_campaign_form_shows_channels_packs_and_a_template_per_kind(client, catalog):
    workspace = catalog[0]
    marketer = MembershipFactory(workspace=workspace, role=Role.MARKETER)
    client.force_login(marketer.user)
    page = client.get(_url("campaign-create", workspace)).content.decode()
    meta = {f.key: f.pk for f in Format.objects.filter(workspace=None,
                                                        key__in=PACKS[0].format_keys)}
    ids = ",".join(str(meta[key]) for key in PACKS[0].format_keys)
    assert "Meta: feed, portrait, story" in page and "Print A4–A2" in page
    assert f'data-formats="{ids}"' in page
    assert page.count('class="format-group"') == 5
    assert 'name="template_banner"' in page and "Workspace default" in page


def test_create_saves_the_chosen_template_per_kind(client, catalog):
    workspace, brand, products, formats = catalog
    marketer = MembershipFactory(workspace=workspace, role=Role.MARKETER)
    special = prompt_template_save(user=None, workspace=workspace, name="Bold banner",
                                   kind="banner", body="{{ product.name }} bold")
    client.force_login(marketer.user)
    response = client.post(_url("campaign-create", workspace), {
        "name": "Spring", "brand": brand.pk, "products": [products[0].pk],
        "formats": [f.pk for f in formats], "variants_per_slot": 1, "language": "en",
        "template_banner": special.pk})
    assert response.status_code == 302
    campaign = workspace.campaigns.get(name="Spring")
    assert list(campaign.templates.all()) == [special]
    assert campaign.slots.count() == len(formats)


# The GPU estimate against what campaign_generate really creates --------------------------------

def _templates(workspace, background):
    return [prompt_template_save(user=None, workspace=workspace, name=f"{kind} {background}",
                                 kind=kind, body="a sunny table for {{ product.name }}",
                                 headline="{{ product.name }}", text_mode="overlay",
                                 background=background)
            for kind in ("banner", "social", "story")]


def _gpu_jobs_of_generate(workspace, brand, products, formats, templates, variants):
    campaign = campaign_create(user=None, workspace=workspace, name=f"c{RenderJob.objects.count()}",
                               brand=brand, products=products, formats=formats,
                               templates=templates, variants_per_slot=variants)
    campaign_generate(campaign=campaign, user=None)
    return RenderJob.objects.filter(slot__campaign=campaign, queue=JobQueue.GPU).count()


@pytest.mark.parametrize("background", ["picture", "fill", "scene"])
def test_estimate_counts_the_gpu_jobs_generate_makes(catalog, background):
    workspace, brand, products, _ = catalog
    formats = list(Format.objects.filter(
        workspace=None, key__in=["meta-feed", "meta-feed-portrait", "responsive-landscape"]))
    templates = _templates(workspace, background)
    estimate = generate_estimate(workspace=workspace, brand=brand, products=len(products),
                                 formats=formats, variants=2, templates=templates)
    made = _gpu_jobs_of_generate(workspace, brand, products, formats, templates, variants=2)
    assert estimate.slots == 6
    assert estimate.gpu_jobs == made
    expected = {"picture": 12, "fill": 0, "scene": 2 * 2}[background]
    assert made == expected
    assert estimate.gpu_seconds == expected * estimate.seconds_per_job
    assert not estimate.strip_formats


def test_estimate_of_a_scene_with_strips_is_the_masters_plus_outpaints(catalog):
    workspace, brand, products, _ = catalog
    formats = list(Format.objects.filter(workspace=None,
                                         key__in=["meta-feed", "gdn-leaderboard"]))
    templates = _templates(workspace, "scene")
    estimate = generate_estimate(workspace=workspace, brand=brand, products=1,
                                 formats=formats, variants=1, templates=templates)
    made = _gpu_jobs_of_generate(workspace, brand, products[:1], formats, templates, 1)
    assert estimate.scene_masters == 1 and [f.key for f in estimate.strip_formats] == [
        "gdn-leaderboard"]
    # One master for both kinds (same words); at most one outpaint per strip comes on top,
    # as the page says (none here: without a photo the strip's layout shows no product).
    assert estimate.gpu_jobs <= made <= estimate.gpu_jobs + len(estimate.strip_formats)


def test_estimate_names_a_kind_without_a_template(db):
    from tests.factories import BrandKitFactory, WorkspaceFactory

    workspace = WorkspaceFactory()
    brand = BrandKitFactory(workspace=workspace)
    formats = list(Format.objects.filter(workspace=None, key="meta-story"))
    estimate = generate_estimate(workspace=workspace, brand=brand, products=2,
                                 formats=formats, variants=1)
    assert estimate.missing_kinds == ["story"] and estimate.gpu_jobs == 0


def test_estimate_part_follows_the_checked_formats(client, catalog, settings):
    workspace, brand, products, formats = catalog
    settings.ADSTUDIO_GPU_SECONDS_PER_JOB = 60
    marketer = MembershipFactory(workspace=workspace, role=Role.MARKETER)
    client.force_login(marketer.user)
    part = client.get(_url("campaign-estimate", workspace), {
        "brand": brand.pk, "products": [p.pk for p in products],
        "formats": [f.pk for f in formats], "variants_per_slot": "2"}).content.decode()
    # 2 products x 4 formats, picture templates: 16 GPU jobs of 60 s
    assert "8 slots" in part and "16 GPU jobs" in part and "about 16 min" in part
    assert "<html" not in part


# The campaign matrix -------------------------------------------------------------------------

@pytest.fixture
def desk():
    return desk_make()


def test_campaign_page_with_many_slots_runs_a_fixed_number_of_queries(client, desk):
    client.force_login(desk["approver"].user)
    url = _url("campaign-detail", desk["ws"], campaign_id=desk["campaign"].pk)
    matrix_fill(desk, 1)
    few = page_queries(client, url)
    matrix_fill(desk, 8)  # 27 slots, 54 assets
    assert page_queries(client, url) == few
    assert page_queries(client, url + "?channel=Meta&check=fail&stale=1") == few


def test_matrix_cells_show_aspect_version_state_and_checks(client, desk):
    [(feed, _, feed_v2), (story, _, _), (strip, _, _)] = matrix_fill(desk, 1)
    Asset.objects.filter(pk=feed_v2.pk).update(review_state=ReviewState.APPROVED, is_live=True)
    client.force_login(desk["marketer"].user)
    page = client.get(_url("campaign-detail", desk["ws"],
                           campaign_id=desk["campaign"].pk)).content.decode()
    assert "width:220px;height:220px" in page  # 1080x1080
    assert "width:124px;height:220px" in page  # 1080x1920
    assert "width:220px;height:27px" in page  # 728x90
    assert page.count('class="badge live"') == 1 and page.count("badge version") == 3
    assert page.count("✗ Copy reads exactly") == 3
    assert f'data-full="{_url("asset-file", desk["ws"], asset_id=feed_v2.pk)}"' in page


def test_matrix_filters_come_from_the_query_string(client, desk):
    made = matrix_fill(desk, 1)
    Asset.objects.filter(pk=made[0][2].pk).update(review_state=ReviewState.APPROVED,
                                                  is_live=True)
    client.force_login(desk["marketer"].user)
    url = _url("campaign-detail", desk["ws"], campaign_id=desk["campaign"].pk)
    meta = client.get(url, {"channel": "Meta"}).content.decode()
    assert "2 of 3 slots shown" in meta and "Leaderboard" not in meta
    live = client.get(url, {"status": "live"}).content.decode()
    assert "1 of 3 slots shown" in live and 'value="live" selected' in live
    assert "0 of 3 slots shown" in client.get(url, {"stale": "1"}).content.decode()


def test_bulk_approve_on_the_matrix_and_roles(client, desk):
    made = matrix_fill(desk, 1)
    url = _url("campaign-bulk", desk["ws"], campaign_id=desk["campaign"].pk)
    slots = [m[0].pk for m in made[:2]]
    client.force_login(desk["marketer"].user)
    assert client.post(url, {"action": "approve", "slot": slots}).status_code == 403
    client.force_login(desk["approver"].user)
    done = client.post(url, {"action": "approve", "slot": slots}, follow=True).content.decode()
    # Each slot has two waiting versions: both approved in order, the later one live.
    assert "Approved 4 assets." in done
    assert Asset.objects.filter(slot_id__in=slots, is_live=True).count() == 2
    assert client.post(url, {"action": "regenerate", "slot": slots}).status_code == 403


def test_a_failed_bulk_action_keeps_the_selection_and_filters(client, desk):
    made = matrix_fill(desk, 1)
    client.force_login(desk["marketer"].user)
    url = _url("campaign-bulk", desk["ws"], campaign_id=desk["campaign"].pk)
    ids = [str(m[0].pk) for m in made[:2]]
    response = client.post(url, {"action": "recompose", "slot": ids, "channel": "Meta"})
    assert response.status_code == 302
    assert f"selected={'%2C'.join(ids)}" in response.url and "channel=Meta" in response.url
    page = client.get(response.url).content.decode()
    assert "None of the selected slots is stale." in page
    for pk in ids:
        assert re.search(rf'name="slot" value="{pk}" form="matrix-bulk"[^>]* checked>', page)
    assert 'id="matrix-selected">2<' in page


def test_bulk_regenerate_queues_one_render_per_selected_slot(client, desk, catalog):
    workspace, brand, products, formats = catalog
    marketer = MembershipFactory(workspace=workspace, role=Role.MARKETER)
    campaign = campaign_create(user=marketer.user, workspace=workspace, name="R", brand=brand,
                               products=products[:1], formats=formats)
    slots = list(campaign.slots.all()[:2])
    client.force_login(marketer.user)
    client.post(_url("campaign-bulk", workspace, campaign_id=campaign.pk),
                {"action": "regenerate", "slot": [s.pk for s in slots]})
    assert RenderJob.objects.filter(slot__campaign=campaign).count() == 2


def test_bulk_and_undo_urls_are_404_for_another_workspace(client, desk):
    made = matrix_fill(desk, 1)
    other = MembershipFactory(role=Role.ADMIN)
    client.force_login(other.user)
    bulk = _url("campaign-bulk", other.workspace, campaign_id=desk["campaign"].pk)
    assert client.post(bulk, {"action": "approve", "slot": [made[0][0].pk]}).status_code == 404
    event = asset_approve(asset=made[0][2], user=desk["approver"].user)
    assert client.post(_url("review-undo", other.workspace, event_id=event.pk)
                       ).status_code == 404


def test_edit_page_keeps_the_checked_formats_and_the_chosen_template(client, catalog):
    workspace, brand, products, formats = catalog
    marketer = MembershipFactory(workspace=workspace, role=Role.MARKETER)
    special = prompt_template_save(user=None, workspace=workspace, name="Bold banner",
                                   kind="banner", body="{{ product.name }} bold")
    campaign = campaign_create(user=marketer.user, workspace=workspace, name="E", brand=brand,
                               products=products[:1], formats=formats[:2], templates=[special])
    client.force_login(marketer.user)
    page = client.get(_url("campaign-edit", workspace, campaign_id=campaign.pk)).content.decode()
    for fmt in formats[:2]:
        assert f'value="{fmt.pk}" id="id_formats_{fmt.pk}" data-key="{fmt.key}" checked' in page
    assert page.count('checked>\n<span class="shape"') == 2  # no other format is checked
    assert f'value="{products[0].pk}" id="id_products_0" checked' in page
    assert f'<option value="{special.pk}" selected>' in page
    assert f'"brand": "{brand.pk}"' in page  # the estimate knows the campaign's brand


def test_bulk_export_downloads_only_the_selected_slots(client, desk):
    import io
    import zipfile

    made = matrix_fill(desk, 1)
    approver = desk["approver"].user
    for _slot, first, _second in made:
        asset_approve(asset=first, user=approver)
    admin = MembershipFactory(workspace=desk["ws"], role=Role.ADMIN)
    client.force_login(admin.user)
    url = _url("campaign-bulk", desk["ws"], campaign_id=desk["campaign"].pk)
    chosen = made[0][0]
    link = client.post(url, {"action": "export", "slot": [chosen.pk]})
    assert link.status_code == 302
    body = b"".join(client.get(link.url).streaming_content)
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        images = [n for n in archive.namelist() if n.endswith((".png", ".jpg"))]
    assert len(images) == 1 and chosen.format.key in images[0]
    everything = client.post(url, {"action": "export"})  # nothing selected: the campaign
    body = b"".join(client.get(everything.url).streaming_content)
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert len([n for n in archive.namelist() if n.endswith((".png", ".jpg"))]) == 3
