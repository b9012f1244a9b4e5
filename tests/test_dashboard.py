"""The dashboard user story of the foundation issue, through real requests."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from brands.models import BrandKit, Product, Role
from campaigns.models import Campaign
from rendering.models import Asset, Format, PromptTemplate
from tests.factories import PASSWORD, BrandKitFactory, MembershipFactory, ProductFactory

pytestmark = pytest.mark.django_db

FEED = (
    b"id,title,price,description,product_highlight\n"
    b"A-1,Alpine Mug,12.50 USD,Enamel mug,Light;Tough\n"
    b"A-2,Broken Row,-3 USD,,\n"
    b"A-3,Camp Lantern,29.00 EUR,,\n"
)


@pytest.fixture
def admin(client):
    membership = MembershipFactory(role=Role.ADMIN)
    response = client.post(reverse("login"), {"username": membership.user.username,
                                              "password": PASSWORD})
    assert response.status_code == 302
    return membership


def url(name, membership, **kwargs):
    return reverse(name, kwargs={"ws": membership.workspace.slug, **kwargs})


def test_login_page_renders_and_bad_password_is_refused(client):
    membership = MembershipFactory()
    assert client.get(reverse("login")).status_code == 200
    response = client.post(reverse("login"), {"username": membership.user.username,
                                              "password": "wrong"})
    assert response.status_code == 200 and "_auth_user_id" not in client.session


def test_home_sends_a_single_workspace_member_to_it(client, admin):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url == url("workspace", admin)
    assert client.get(response.url).status_code == 200


def test_brand_kit_edit_validates_and_bumps_the_version(client, admin):
    brand = BrandKitFactory(workspace=admin.workspace)
    edit = url("brand-edit", admin, brand_id=brand.pk)
    assert client.get(edit).status_code == 200
    bad = client.post(edit, {"name": "N", "palette": "primary Blue #12345G",
                             "logo_position": "top-left", "languages": ["en"]})
    assert bad.status_code == 400
    assert "is not a hex color" in bad.content.decode()
    assert BrandKit.objects.get(pk=brand.pk).version == 1
    good = client.post(edit, {
        "name": "Northwind", "palette": "primary Fjord Blue #0a4f8c\naccent Coral #f76",
        "style_keywords": "sunlit, minimal", "banned_terms": "cheap",
        "logo_position": "top-right", "languages": ["en", "zh"],
    })
    assert good.status_code == 302
    brand.refresh_from_db()
    assert brand.version == 2 and brand.name == "Northwind"
    assert brand.palette == [
        {"role": "primary", "name": "Fjord Blue", "hex": "#0A4F8C"},
        {"role": "accent", "name": "Coral", "hex": "#FF7766"},
    ]
    assert brand.languages == ["en", "zh"]


def _png(size=(64, 64), alpha=True) -> bytes:
    image = Image.new("RGBA" if alpha else "RGB", size, (0, 0, 0, 0) if alpha else "red")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_logo_upload_is_stored_and_a_corrupt_one_gets_400_with_the_reason(client, admin):
    brand = BrandKitFactory(workspace=admin.workspace)
    upload = url("brand-logo-upload", admin, brand_id=brand.pk)
    ok = client.post(upload, {"name": "Mark", "file": SimpleUploadedFile(
        "../../etc/logo.png", _png(), content_type="image/png")})
    assert ok.status_code == 302
    logo = brand.logos.get()
    assert ".." not in logo.file.name and logo.file.name.startswith(
        f"ws/{admin.workspace.pk}/logos/")
    served = client.get(url("brand-logo-file", admin, logo_id=logo.pk), follow=True)
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    bad = client.post(upload, {"file": SimpleUploadedFile(
        "logo.png", _png()[:40], content_type="image/png")})
    assert bad.status_code == 400
    assert brand.logos.count() == 1
    assert "Logo" in bad.content.decode()


def test_font_upload_reads_the_family_and_rejects_a_corrupt_font(client, admin):
    brand = BrandKitFactory(workspace=admin.workspace)
    upload = url("brand-font-upload", admin, brand_id=brand.pk)
    with open("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "rb") as fh:
        font = fh.read()
    assert client.post(upload, {"file": SimpleUploadedFile("f.ttf", font)}).status_code == 302
    assert brand.fonts.get().family == "DejaVu Sans"
    bad = client.post(upload, {"file": SimpleUploadedFile("f.ttf", font[:2000])})
    assert bad.status_code == 400 and "damaged" in bad.content.decode()
    assert brand.fonts.count() == 1


def test_product_create_and_field_errors(client, admin):
    create = url("product-create", admin)
    bad = client.post(create, {"sku": "S1", "name": "Mug", "price": "-1", "currency": "USD"})
    assert bad.status_code == 400 and not Product.objects.exists()
    good = client.post(create, {"sku": "S1", "name": "Mug", "price": "9.90", "currency": "EUR",
                                "features": "Enamel\nDishwasher safe"})
    assert good.status_code == 302
    product = Product.objects.get()
    assert (product.price, product.currency, product.features) == (
        Decimal("9.90"), "EUR", ["Enamel", "Dishwasher safe"])
    listing = client.get(url("product-list", admin), {"q": "mug"})
    assert "Mug" in listing.content.decode()


def test_feed_import_shows_the_per_row_report(client, admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # the import job runs on commit
        response = client.post(url("feed-import", admin), {
            "file": SimpleUploadedFile("feed.csv", FEED, content_type="text/csv")})
    assert response.status_code == 302
    report = client.get(response.url)
    page = report.content.decode()
    assert report.status_code == 200
    assert Product.objects.filter(workspace=admin.workspace).count() == 2
    assert "A-2" in page and "price" in page  # the bad row and its field
    assert Product.objects.get(sku="A-1").features == ["Light", "Tough"]


def test_template_preview_shows_the_composed_prompt_without_saving(client, admin):
    brand = BrandKitFactory(workspace=admin.workspace, name="Northwind")
    product = ProductFactory(workspace=admin.workspace, name="Trail Tent")
    response = client.post(url("template-create", admin), {
        "name": "Banner", "kind": "banner", "body": "{{ product.name }} by {{ brand.name }}",
        "preview-product": product.pk, "preview-brand": brand.pk, "preview-language": "en",
        "preview": "1",
    })
    assert response.status_code == 200
    assert "Trail Tent by Northwind, Ultra HD, 4K" in response.content.decode()
    assert not PromptTemplate.objects.exists()


def test_template_save_rejects_unknown_fields_with_the_field_list(client, admin):
    response = client.post(url("template-create", admin), {
        "name": "Bad", "kind": "banner", "body": "{{ product.cost }}", "save": "1"})
    assert response.status_code == 400
    assert "Unknown field" in response.content.decode()
    assert not PromptTemplate.objects.exists()


def test_B12_custom_format_out_of_range_is_a_field_error(client, admin):
    response = client.post(url("format-list", admin), {
        "name": "Huge", "width": 100000, "height": 100000, "kind": "poster"})
    assert response.status_code == 400
    assert "between 16 and 10000" in response.content.decode()
    assert not Format.objects.filter(workspace=admin.workspace).exists()


def test_create_campaign_generate_and_see_assets_with_recipes(client, admin, tiny_model,
                                                              django_capture_on_commit_callbacks):
    ws = admin.workspace
    brand = BrandKitFactory(workspace=ws)
    product = ProductFactory(workspace=ws, name="Trail Tent")
    PromptTemplate.objects.create(workspace=ws, kind="banner", name="b",
                                  body="{{ product.name }} banner")
    formats = Format.objects.filter(key__in=["responsive-landscape", "gdn-medium-rectangle"])
    response = client.post(url("campaign-create", admin), {
        "name": "Spring", "brand": brand.pk, "products": [product.pk],
        "formats": [f.pk for f in formats], "variants_per_slot": 1, "language": "en",
    })
    assert response.status_code == 302
    campaign = Campaign.objects.get(workspace=ws)
    with django_capture_on_commit_callbacks(execute=True):
        generated = client.post(url("campaign-generate", admin, campaign_id=campaign.pk))
    assert generated.status_code == 302
    page = client.get(generated.url).content.decode()
    assets = list(Asset.objects.filter(slot__campaign=campaign))
    assert len(assets) == 2
    for asset in assets:
        assert url("asset-thumbnail", admin, asset_id=asset.pk) in page
        detail = client.get(url("asset-detail", admin, asset_id=asset.pk)).content.decode()
        assert "Trail Tent banner" in detail and str(asset.recipe["seed"]) in detail
        image = client.get(url("asset-file", admin, asset_id=asset.pk), follow=True)
        assert image["Content-Type"] == "image/png"
        with Image.open(io.BytesIO(b"".join(image.streaming_content))) as png:
            assert png.size == (asset.width, asset.height)


def test_generate_error_is_shown_to_the_marketer(client, admin):
    ws = admin.workspace
    brand = BrandKitFactory(workspace=ws)
    campaign = Campaign.objects.create(workspace=ws, brand=brand, name="No templates")
    campaign.slots.create(product=ProductFactory(workspace=ws),
                          format=Format.objects.get(key="print-a4"))
    response = client.post(url("campaign-generate", admin, campaign_id=campaign.pk),
                           follow=True)
    assert "No prompt template for poster formats" in response.content.decode()


def test_campaign_page_shows_queue_position_cancel_and_retry(client, admin, queued_broker):
    from rendering.models import JobStatus, RenderJob

    ws = admin.workspace
    brand = BrandKitFactory(workspace=ws)
    PromptTemplate.objects.create(workspace=ws, kind="banner", name="b", body="{{ product.name }}")
    response = client.post(url("campaign-create", admin), {
        "name": "Queue", "brand": brand.pk, "products": [ProductFactory(workspace=ws).pk],
        "formats": [Format.objects.get(key="meta-link").pk], "variants_per_slot": 2,
        "language": "en",
    })
    campaign = Campaign.objects.get(workspace=ws)
    client.post(url("campaign-generate", admin, campaign_id=campaign.pk))
    first, second = RenderJob.objects.order_by("id")
    states = client.get(url("campaign-jobs-json", admin, campaign_id=campaign.pk)).json()
    assert [(j["status"], j["position"]) for j in states["jobs"]] == [
        ("queued", 1), ("queued", 2)]
    page = client.get(response.url).content.decode()
    assert url("job-cancel", admin, job_id=first.pk) in page
    assert client.post(url("job-cancel", admin, job_id=first.pk)).status_code == 302
    assert RenderJob.objects.get(pk=first.pk).status == JobStatus.CANCELLED
    page = client.get(response.url).content.decode()
    assert url("job-retry", admin, job_id=first.pk) in page
    client.post(url("job-retry", admin, job_id=first.pk))
    assert RenderJob.objects.get(pk=first.pk).status == JobStatus.QUEUED
    second.refresh_from_db()
    assert second.status == JobStatus.QUEUED


def test_workspace_page_shows_the_gpu_quota_to_admins(client, admin):
    admin.workspace.gpu_quota_seconds = 36000
    admin.workspace.save()
    page = client.get(url("workspace", admin)).content.decode()
    assert "GPU time this month" in page and "36,000" in page


def test_weekly_schedule_refresh_now_history_and_stale_badge(client, admin, queued_broker):
    from campaigns.models import RefreshSchedule
    from rendering.models import RenderJob

    ws = admin.workspace
    brand = BrandKitFactory(workspace=ws)
    product = ProductFactory(workspace=ws, name="Trail Tent")
    PromptTemplate.objects.create(workspace=ws, kind="banner", name="b", body="{{ product.name }}")
    client.post(url("campaign-create", admin), {
        "name": "Weekly", "brand": brand.pk, "products": [product.pk],
        "formats": [Format.objects.get(key="meta-link").pk], "variants_per_slot": 1,
        "language": "en",
    })
    campaign = Campaign.objects.get(workspace=ws)
    bad = client.post(url("campaign-schedule", admin, campaign_id=campaign.pk), {
        "mode": "cron", "cron": "every monday", "timezone": "Europe/Berlin", "variants": 1})
    assert bad.status_code == 400 and "not a cron expression" in bad.content.decode()
    saved = client.post(url("campaign-schedule", admin, campaign_id=campaign.pk), {
        "mode": "weekly", "weekday": "mon", "at": "09:30", "timezone": "Europe/Berlin",
        "variants": 2, "enabled": "on", "auto_rerender_stale": "on"})
    assert saved.status_code == 302
    schedule = RefreshSchedule.objects.get(campaign=campaign)
    assert (schedule.cron, schedule.timezone, schedule.variants) == ("30 9 * * 1",
                                                                     "Europe/Berlin", 2)
    campaign.refresh_from_db()
    assert campaign.auto_rerender_stale
    first = client.post(url("campaign-refresh", admin, campaign_id=campaign.pk), follow=True)
    assert "queued 2 renders" in first.content.decode()
    again = client.post(url("campaign-refresh", admin, campaign_id=campaign.pk), follow=True)
    assert "already refreshed for the current period" in again.content.decode()
    assert RenderJob.objects.count() == 2
    page = client.get(url("campaign-detail", admin, campaign_id=campaign.pk)).content.decode()
    assert "Refresh history" in page and "Refresh now" in page
    # An asset made from the old price shows a stale badge with the reason.
    job = RenderJob.objects.first()
    from rendering.models import Asset
    Asset.objects.create(workspace=ws, slot=job.slot, job=job, file="a.png", thumbnail="a.webp",
                         width=1, height=1, sha256="0", recipe=job.recipe)
    client.post(url("product-edit", admin, product_id=product.pk), {
        "sku": product.sku, "name": product.name, "slogan": product.slogan, "price": "9.99",
        "currency": "USD", "features": "\n".join(product.features)})
    page = client.get(url("campaign-detail", admin, campaign_id=campaign.pk)).content.decode()
    assert "Stale" in page and "price 19.99 -&gt; 9.99" in page


def test_editing_a_template_keeps_its_copy_and_shows_copy_errors_on_their_field(client, admin):
    from rendering.templates import prompt_template_save

    template = prompt_template_save(
        user=None, workspace=admin.workspace, name="Overlay", kind="banner",
            body="{{ product.name }}",
        text_mode="overlay", headline="{{ product.name }}", cta="Shop now", show_price=True)
    page = client.get(url("template-edit", admin, template_id=template.pk)).content.decode()
    assert 'value="Shop now"' in page and 'value="overlay" selected' in page
    bad = client.post(url("template-edit", admin, template_id=template.pk), {
        "name": "Overlay", "kind": "banner", "body": "{{ product.name }}",
        "text_mode": "overlay", "headline": "{{ product.secret }}", "cta": "Shop now",
        "save": "1"})
    assert bad.status_code == 400
    form = bad.context["form"]
    assert form.errors.get("headline") and not form.errors.get("body")


def test_delete_buttons_confirm_then_delete_or_say_why_not(client, admin):
    from campaigns.models import Slot
    from tests.factories import CampaignFactory, PromptTemplateFactory, asset_make

    ws = admin.workspace
    brand = BrandKitFactory(workspace=ws, name="Acme")
    page = client.get(url("brand-edit", admin, brand_id=brand.pk)).content.decode()
    assert url("brand-delete", admin, brand_id=brand.pk) in page and 'name="confirm"' in page
    # Without the confirmation box nothing happens.
    response = client.post(url("brand-delete", admin, brand_id=brand.pk), follow=True)
    assert "Tick the box" in response.content.decode() and BrandKit.objects.exists()
    campaign = CampaignFactory(workspace=ws, brand=brand, name="Spring")
    response = client.post(url("brand-delete", admin, brand_id=brand.pk), {"confirm": "yes"},
                           follow=True)
    assert "brand kit of the campaign “Spring”" in response.content.decode()
    product = ProductFactory(workspace=ws)
    slot = Slot.objects.create(campaign=campaign, product=product,
                               format=Format.objects.get(key="gdn-medium-rectangle"))
    asset_make(slot=slot)
    response = client.post(url("product-delete", admin, product_id=product.pk),
                           {"confirm": "yes"}, follow=True)
    assert "has assets in the campaign “Spring”" in response.content.decode()
    template = PromptTemplateFactory(workspace=ws)
    assert url("template-delete", admin, template_id=template.pk) in client.get(
        url("template-edit", admin, template_id=template.pk)).content.decode()
    response = client.post(url("template-delete", admin, template_id=template.pk),
                           {"confirm": "yes"})
    assert response.status_code == 302 and response.url == url("template-list", admin)
    response = client.post(url("campaign-delete", admin, campaign_id=campaign.pk),
                           {"confirm": "yes"})
    assert response.url == url("campaign-list", admin) and not Campaign.objects.exists()
    client.post(url("product-delete", admin, product_id=product.pk), {"confirm": "yes"})
    client.post(url("brand-delete", admin, brand_id=brand.pk), {"confirm": "yes"})
    assert not (Product.objects.exists() or BrandKit.objects.exists()
                or PromptTemplate.objects.exists() or Asset.objects.exists())


def test_campaign_edit_archive_and_unarchive(client, admin):
    from tests.factories import CampaignFactory

    ws = admin.workspace
    products = [ProductFactory(workspace=ws) for _ in range(2)]
    banner = Format.objects.get(key="gdn-medium-rectangle")
    campaign = CampaignFactory(workspace=ws, name="Spring")
    detail = client.get(url("campaign-detail", admin, campaign_id=campaign.pk)).content.decode()
    assert url("campaign-edit", admin, campaign_id=campaign.pk) in detail
    assert 'id="archive"' in detail and url("campaign-delete", admin,
                                            campaign_id=campaign.pk) in detail
    assert client.get(url("campaign-edit", admin, campaign_id=campaign.pk)).status_code == 200
    response = client.post(url("campaign-edit", admin, campaign_id=campaign.pk), {
        "name": "Spring sale", "products": [p.pk for p in products], "formats": [banner.pk],
        "variants_per_slot": 2})
    assert response.status_code == 302, response.content.decode()
    campaign.refresh_from_db()
    assert campaign.name == "Spring sale" and campaign.slots.count() == 2
    client.post(url("campaign-archive", admin, campaign_id=campaign.pk))
    detail = client.get(url("campaign-detail", admin, campaign_id=campaign.pk)).content.decode()
    assert 'id="archived-note"' in detail and 'id="unarchive"' in detail
    assert url("campaign-generate", admin, campaign_id=campaign.pk) not in detail
    response = client.post(url("campaign-generate", admin, campaign_id=campaign.pk),
                           follow=True)
    assert "is archived" in response.content.decode()
    client.post(url("campaign-unarchive", admin, campaign_id=campaign.pk))
    assert Campaign.objects.get().status == "draft"


def _home_world(ws, n):
    """``n`` campaigns, each with an asset waiting for review, a failed and a running render,
    and a live approved asset gone stale."""
    from django.utils import timezone

    from rendering.models import JobStatus, ReviewState
    from tests.factories import RenderJobFactory, SlotFactory, asset_make

    for _ in range(n):
        slot = SlotFactory(campaign__workspace=ws)
        asset_make(slot=slot)
        asset_make(slot=slot, review_state=ReviewState.APPROVED, is_live=True,
                   stale_at=timezone.now(), stale_reason="price changed")
        RenderJobFactory(slot=slot, status=JobStatus.FAILED, error="CUDA out of memory")
        RenderJobFactory(slot=slot, status=JobStatus.RUNNING)


def test_home_says_what_needs_you_in_a_fixed_number_of_queries(
        client, admin, django_assert_num_queries):
    _home_world(admin.workspace, 1)
    client.get(url("workspace", admin))  # warm the session and membership caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get(url("workspace", admin))
    _home_world(admin.workspace, 5)
    with django_assert_num_queries(len(one.captured_queries)):
        page = client.get(url("workspace", admin)).content.decode()
    assert "6</strong> assets waiting for review" in page
    assert "6</strong> live assets out of date" in page
    assert "6</strong> renders failed in the last 7 days" in page and "CUDA out of memory" in page
    assert "6</strong> renders running" in page
    assert page.count('class="card campaign-card"') == 6 and "/thumbnail/" in page
    assert url("review-queue", admin) in page


def test_home_says_when_nothing_needs_you(client, admin):
    page = client.get(url("workspace", admin)).content.decode()
    assert "Nothing needs you right now" in page and "No campaigns yet" in page
