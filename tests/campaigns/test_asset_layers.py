"""The asset page of a composed ad shows its layers top to bottom (above the recipe), each
image served alone through a URL scoped to the workspace like the asset's own file."""

import io
import re

import pytest
from django.urls import reverse
from PIL import Image

from brands.models import Membership, Role
from campaigns.models import Slot
from rendering.design.layer_images import layer_png
from rendering.design.recipe import recipe_inputs
from rendering.models import Format
from tests.campaigns.layered import composed_campaign, flat_asset, grainy_photo
from tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def studio(catalog, django_capture_on_commit_callbacks):
    return composed_campaign(catalog,
                             lambda: django_capture_on_commit_callbacks(execute=True))


def _url(name, ws, **kwargs):
    return reverse(name, kwargs={"ws": ws.slug, **kwargs})


def test_the_asset_page_lists_a_composed_ads_layers_top_to_bottom_above_the_recipe(
        client, studio):
    asset, ws = studio["assets"]["gdn-medium-rectangle"], studio["workspace"]
    viewer = Membership.objects.create(user=UserFactory(), workspace=ws, role=Role.VIEWER)
    client.force_login(viewer.user)
    page = client.get(_url("asset-detail", ws, asset_id=asset.pk)).content.decode()
    assert 'id="layers"' in page and page.index('id="layers"') < page.index('id="recipe"')
    layers = asset.design["layers"]
    shown = [int(i) for i in re.findall(r'<tr class="layer" data-layer="(\d+)"', page)]
    assert shown == list(range(len(layers)))[::-1]  # the top layer first
    for index, layer in enumerate(layers):
        thumbnail = _url("asset-layer-thumbnail", ws, asset_id=asset.pk, index=index)
        full = _url("asset-layer", ws, asset_id=asset.pk, index=index)
        assert f'src="{thumbnail}"' in page and f'href="{full}"' in page
        if "box" in layer:
            assert ", ".join(map(str, layer["box"])) in page
        if layer["kind"] == "text":  # the exact copy, its size and colour
            assert f'<q class="layer-text">{layer["text"]}</q>' in page
            assert f'{layer["size"]} px' in page
            assert f'style="background:{layer["color"]}"' in page


def test_a_flat_model_render_has_no_layers_card(client, studio):
    slot = Slot.objects.create(campaign=studio["campaign"], product=studio["product"],
                               format=Format.objects.get(key="meta-feed"))
    flat = flat_asset(slot=slot, author=studio["marketer"], image=grainy_photo((108, 108)))
    client.force_login(studio["marketer"])
    page = client.get(_url("asset-detail", studio["workspace"], asset_id=flat.pk))
    assert page.status_code == 200
    assert 'id="layers"' not in page.content.decode() and 'id="recipe"' in page.content.decode()
    assert client.get(_url("asset-layer", studio["workspace"], asset_id=flat.pk,
                           index=0)).status_code == 404


def test_a_layer_url_serves_that_layer_alone_to_members_of_the_workspace_only(client, studio):
    asset, ws = studio["assets"]["gdn-medium-rectangle"], studio["workspace"]
    index = next(i for i, la in enumerate(asset.design["layers"]) if la["kind"] == "product")
    url = _url("asset-layer", ws, asset_id=asset.pk, index=index)
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")
    client.force_login(studio["marketer"])
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["Cache-Control"].startswith("private")
    assert response.content == layer_png(asset.design, recipe_inputs(asset.recipe), index)
    with Image.open(io.BytesIO(response.content)) as image:
        assert image.mode == "RGBA" and image.size == (asset.width, asset.height)
        assert image.getextrema()[3][0] == 0  # transparent around the product
    thumbnail = client.get(_url("asset-layer-thumbnail", ws, asset_id=asset.pk, index=index))
    with Image.open(io.BytesIO(thumbnail.content)) as image:  # the aspect kept, 240 px wide
        assert image.mode == "RGBA" and image.size == (240, round(240 * asset.height
                                                                  / asset.width))
    missing = _url("asset-layer", ws, asset_id=asset.pk, index=len(asset.design["layers"]))
    assert client.get(missing).status_code == 404
    stranger = MembershipFactory(role=Role.ADMIN)  # an admin, but of another workspace
    client.force_login(stranger.user)
    assert client.get(_url("asset-layer", stranger.workspace, asset_id=asset.pk,
                           index=index)).status_code == 404
    assert client.get(url).status_code == 404  # not a member of the asset's workspace
    assert client.get(_url("asset-layer-thumbnail", ws, asset_id=asset.pk,
                           index=index)).status_code == 404
