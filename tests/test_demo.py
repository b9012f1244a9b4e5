from io import StringIO

import pytest
from django.core.management import call_command

from brands.models import Product
from rendering.models import Asset, RenderJob

pytestmark = pytest.mark.django_db


def test_demo_renders_the_sample_campaign_and_reuses_it_the_second_time(
        tiny_model, django_capture_on_commit_callbacks):
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("demo", stdout=out)
    assert Product.objects.count() == 3
    # A real photo (campaigns/sample_photos), cut out once it was added.
    photo = Product.objects.get(sku="NW-BOTTLE-750").photos.get()
    assert photo.cutout and photo.cutout_source_sha256 == photo.sha256
    sizes = set(Asset.objects.values_list("width", "height"))
    assert sizes == {(1200, 628), (300, 250), (1080, 1920), (2480, 3508)}
    assert Asset.objects.count() == 12
    assert "12 renders queued" in out.getvalue()
    assert "http://127.0.0.1:8000/" in out.getvalue()
    # A second member approves the demo's renders: nobody approves their own.
    from django.contrib.auth import get_user_model

    from campaigns.review import asset_approve
    from campaigns.sample import REVIEWER

    reviewer = get_user_model().objects.get(username=REVIEWER)
    asset_approve(asset=Asset.objects.first(), user=reviewer)
    assert Asset.objects.filter(is_live=True).count() == 1

    again = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("demo", stdout=again)
    assert "0 renders queued" in again.getvalue()
    assert "3 unchanged" in again.getvalue() and "0 photos added" in again.getvalue()
    assert Product.objects.get(sku="NW-BOTTLE-750").photos.count() == 1
    assert Asset.objects.count() == 12 and RenderJob.objects.count() == 12
