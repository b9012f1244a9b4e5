"""Brand kits, products (feed import), templates and formats through the API."""

from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from brands.models import BrandKit, FeedImport, Product, Role
from rendering.models import Format, PromptTemplate
from tests.brands.test_uploads import otf_font, transparent_logo
from tests.factories import BrandKitFactory, ProductFactory

pytestmark = pytest.mark.django_db

FEED = (
    "id,title,price,description,product_highlight\n"
    "SKU-1,Trail Shoe,89.00 USD,Light and fast,grippy sole\n"
    "SKU-2,Rain Jacket,not a price,Dry,\n"
    "SKU-3,Water Bottle,12.50 EUR,Steel,keeps cold\n"
)


def png(img: Image.Image) -> bytes:
    buffer = BytesIO()
    img.save(buffer, "PNG")
    return buffer.getvalue()


def test_brand_kit_create_read_update(admin):
    response = admin.post("brands/", {
        "name": "Acme", "palette": [{"name": "Ocean", "hex": "#0a4f8c", "role": "primary"}],
        "style_keywords": ["clean"], "banned_terms": ["cheap"], "languages": ["en"],
    })
    assert response.status_code == 201, response.json()
    brand = response.json()
    assert brand["palette"][0]["hex"] == "#0A4F8C" and brand["version"] == 1
    response = admin.patch(f"brands/{brand['id']}/", {"tone": "Bold"})
    assert response.status_code == 200 and response.json()["version"] == 2
    assert BrandKit.objects.get().tone == "Bold"
    listed = admin.get("brands/").json()
    assert listed["count"] == 1 and listed["results"][0]["name"] == "Acme"
    assert admin.get(f"brands/{brand['id']}/").json()["tone"] == "Bold"


def test_brand_kit_errors_name_the_field(admin):
    BrandKitFactory(workspace=admin.membership.workspace, name="Taken")
    response = admin.post("brands/", {"name": "Taken", "palette": [
        {"name": "x", "hex": "blue"}]})
    assert response.status_code == 400
    body = response.json()
    # One problem: it is also the detail; several: detail says so and errors lists them.
    assert body == {"detail": "A brand kit with this name already exists.",
                    "errors": {"name": ["A brand kit with this name already exists."]}}
    two = admin.post("brands/", {"name": "Taken", "logo_position": "middle"}).json()
    assert two["detail"] == "Some fields are not valid; see errors."
    assert set(two["errors"]) == {"name", "logo_position"}
    bad_hex = admin.post("brands/", {"name": "New", "palette": [
        {"name": "x", "hex": "blue", "role": "primary"}]})
    assert bad_hex.status_code == 400
    assert "is not a hex color" in bad_hex.json()["errors"]["palette"][0]
    assert BrandKit.objects.count() == 1


def test_brand_font_and_logo_upload(admin):
    brand = BrandKitFactory(workspace=admin.membership.workspace)
    font = admin.post(f"brands/{brand.pk}/fonts/", {
        "file": SimpleUploadedFile("brand.otf", otf_font())}, files=True)
    assert font.status_code == 201, font.json()
    assert font.json()["family"] == "Brand Sans"
    logo = admin.post(f"brands/{brand.pk}/logos/", {
        "file": SimpleUploadedFile("logo.png", png(transparent_logo())), "name": "Main"},
        files=True)
    assert logo.status_code == 201 and logo.json()["width"] == 40
    opaque = admin.post(f"brands/{brand.pk}/logos/", {
        "file": SimpleUploadedFile("logo.png", png(Image.new("RGB", (20, 20))))}, files=True)
    assert opaque.status_code == 400 and "file" in opaque.json()["errors"]
    detail = admin.get(f"brands/{brand.pk}/").json()
    assert len(detail["fonts"]) == 1 and len(detail["logos"]) == 1


def test_product_create_update_search_and_filter(marketer):
    created = marketer.post("products/", {"sku": "S1", "name": "Trail Shoe", "price": "89",
                                          "currency": "usd", "features": ["light"]})
    assert created.status_code == 201, created.json()
    product = created.json()
    assert product["price"] == "89.00" and product["currency"] == "USD"
    ProductFactory(workspace=marketer.membership.workspace, name="Rain Jacket", currency="EUR")
    updated = marketer.patch(f"products/{product['id']}/", {"price": "79.50"})
    assert updated.status_code == 200 and updated.json()["version"] == 2
    assert Product.objects.get(sku="S1").price == pytest.approx(79.5)
    assert [p["sku"] for p in marketer.get("products/", {"q": "trail"}).json()["results"]] == [
        "S1"]
    assert marketer.get("products/", {"currency": "eur"}).json()["count"] == 1
    assert marketer.get("products/", {"sku": "S1"}).json()["count"] == 1
    duplicate = marketer.post("products/", {"sku": "S1", "name": "x", "price": "1",
                                            "currency": "USD"})
    assert duplicate.status_code == 400 and "sku" in duplicate.json()["errors"]
    bad = marketer.post("products/", {"sku": "S9", "name": "x", "price": "-1",
                                      "currency": "QQQ"})
    assert bad.status_code == 400 and {"price", "currency"} <= set(bad.json()["errors"])


def test_product_photo_upload(marketer):
    product = ProductFactory(workspace=marketer.membership.workspace)
    response = marketer.post(f"products/{product.pk}/photos/", {
        "file": SimpleUploadedFile("p.png", png(Image.new("RGB", (64, 48), "red")))}, files=True)
    assert response.status_code == 201 and response.json()["width"] == 64
    assert marketer.get(f"products/{product.pk}/").json()["photos"][0]["height"] == 48


def test_feed_import_returns_the_report(marketer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # the import job runs on commit
        response = marketer.post("products/import/", {
            "file": SimpleUploadedFile("feed.csv", FEED.encode())}, files=True)
    assert response.status_code == 202, response.json()
    assert response.json()["status"] == "queued"
    report = marketer.get(f"products/imports/{response.json()['id']}/").json()
    assert report["status"] == "succeeded"
    assert (report["rows_total"], report["rows_created"], report["rows_failed"]) == (3, 2, 1)
    assert report["errors"][0]["row"] == 3 and "price" in report["errors"][0]["errors"]
    assert set(Product.objects.values_list("sku", flat=True)) == {"SKU-1", "SKU-3"}
    listed = marketer.get("products/imports/").json()
    assert listed["count"] == 1
    assert marketer.get(f"products/imports/{report['id']}/").json()["rows_created"] == 2


def test_feed_import_refuses_a_non_csv(marketer):
    response = marketer.post("products/import/", {
        "file": SimpleUploadedFile("feed.xlsx", b"PK\x03\x04")}, files=True)
    assert response.status_code == 400 and "csv" in response.json()["detail"]
    assert not FeedImport.objects.exists()


def test_template_crud_and_previews(marketer):
    ws = marketer.membership.workspace
    brand = BrandKitFactory(workspace=ws, name="Acme")
    product = ProductFactory(workspace=ws, name="Trail Shoe")
    response = marketer.post("templates/", {
        "name": "Banner", "kind": "banner", "body": "A banner for {{ product.name }}"})
    assert response.status_code == 201, response.json()
    template = response.json()
    assert template["version"] == 1 and template["brand"] is None
    updated = marketer.patch(f"templates/{template['id']}/", {
        "body": "{{ product.name }} by {{ brand.name }}", "brand": brand.pk})
    assert updated.status_code == 200 and updated.json()["version"] == 2
    assert PromptTemplate.objects.get().revisions.count() == 2
    preview = marketer.post(f"templates/{template['id']}/preview/", {
        "brand": brand.pk, "product": product.pk})
    assert preview.status_code == 200
    assert preview.json()["prompt"].startswith("Trail Shoe by Acme")
    unsaved = marketer.post("templates/preview/", {
        "body": "Poster of {{ product.name|upper }}", "brand": brand.pk, "product": product.pk})
    assert unsaved.json()["prompt"].startswith("Poster of TRAIL SHOE")
    unsafe = marketer.post("templates/", {"name": "Bad", "kind": "banner",
                                          "body": "{{ product.__class__ }}"})
    assert unsafe.status_code == 400 and "body" in unsafe.json()["errors"]
    assert marketer.get("templates/", {"kind": "banner"}).json()["count"] == 1
    assert marketer.get("templates/", {"kind": "poster"}).json()["count"] == 0


def test_formats_list_presets_and_create_custom(marketer):
    presets = Format.objects.filter(workspace=None).count()
    listed = marketer.get("formats/", {"page_size": 200}).json()
    assert listed["count"] == presets and all(f["preset"] for f in listed["results"])
    response = marketer.post("formats/", {"name": "Kiosk", "channel": "In store",
                                          "kind": "custom", "width": 1000, "height": 3000})
    assert response.status_code == 201, response.json()
    assert response.json()["preset"] is False
    assert marketer.get("formats/").json()["count"] == presets + 1
    too_big = marketer.post("formats/", {"name": "Huge", "kind": "custom", "width": 20000,
                                         "height": 10})
    assert too_big.status_code == 400


def test_pagination_has_count_and_links(marketer):
    for _ in range(5):
        ProductFactory(workspace=marketer.membership.workspace)
    first = marketer.get("products/", {"page_size": 2}).json()
    assert first["count"] == 5 and len(first["results"]) == 2 and first["next"]
    last = marketer.get("products/", {"page_size": 2, "page": 3}).json()
    assert len(last["results"]) == 1 and last["next"] is None
    assert marketer.get("products/", {"page": 9}).status_code == 404


def test_viewer_reads_everything_but_writes_nothing(member):
    viewer = member(Role.VIEWER)
    ProductFactory(workspace=viewer.membership.workspace)
    for path in ("brands/", "products/", "templates/", "formats/", "products/imports/"):
        assert viewer.get(path).status_code == 200, path


def test_put_replaces_brand_and_template_fields(admin):
    brand = admin.post("brands/", {"name": "Acme", "tone": "Calm"}).json()
    replaced = admin.put(f"brands/{brand['id']}/", {"name": "Acme 2", "tone": "Loud",
                                                    "languages": ["en", "zh"]})
    assert replaced.status_code == 200 and replaced.json()["version"] == 2
    assert BrandKit.objects.get().languages == ["en", "zh"]
    template = admin.post("templates/", {"name": "T", "kind": "story",
                                         "body": "{{ product.name }}"}).json()
    put = admin.put(f"templates/{template['id']}/", {"name": "T2", "kind": "poster",
                                                     "body": "{{ product.sku }}"})
    assert put.status_code == 200 and put.json()["kind"] == "poster"
    assert put.json()["version"] == 2 and PromptTemplate.objects.get().name == "T2"
    missing = admin.put(f"templates/{template['id']}/", {"name": "T3"})
    assert missing.status_code == 400 and {"kind", "body"} <= set(missing.json()["errors"])


def test_own_token_and_member_details(admin):
    from api.models import ApiToken

    token = ApiToken.objects.get()
    detail = admin.get(f"tokens/{token.pk}/").json()
    assert detail["prefix"] == token.prefix and "token" not in detail
    member = admin.get(f"members/{admin.membership.pk}/").json()
    assert member["username"] == admin.membership.user.username and member["role"] == "admin"


def test_brand_kit_delete_is_for_admins_and_refused_while_a_campaign_uses_it(admin, member):
    from tests.factories import CampaignFactory

    brand = BrandKitFactory(workspace=admin.membership.workspace)
    campaign = CampaignFactory(workspace=brand.workspace, brand=brand, name="Spring")
    assert member(Role.MARKETER).delete(f"brands/{brand.pk}/").status_code == 403
    refused = admin.delete(f"brands/{brand.pk}/")
    assert refused.status_code == 400
    assert refused.json()["detail"].startswith(f"{brand.name} is the brand kit of the campaign")
    campaign.delete()
    assert admin.delete(f"brands/{brand.pk}/").status_code == 204
    assert not BrandKit.objects.exists()


def test_logo_file_redirects_to_a_signed_link(admin, member):
    from django.test import Client

    brand = BrandKitFactory(workspace=admin.membership.workspace)
    logo = admin.post(f"brands/{brand.pk}/logos/", {
        "file": SimpleUploadedFile("logo.png", png(transparent_logo()))}, files=True).json()
    response = member(Role.VIEWER).get(f"brands/{brand.pk}/logos/{logo['id']}/file/")
    assert response.status_code == 302
    signed = Client().get(response["Location"])
    assert signed.status_code == 200 and signed["Content-Type"] == "image/png"
    other = BrandKitFactory(workspace=brand.workspace)
    assert admin.get(f"brands/{other.pk}/logos/{logo['id']}/file/").status_code == 404


def test_product_delete_names_the_campaign_that_has_its_assets(marketer, member):
    from campaigns.models import Slot
    from tests.factories import CampaignFactory, asset_make

    product = ProductFactory(workspace=marketer.membership.workspace, name="Trail Shoe")
    campaign = CampaignFactory(workspace=product.workspace, name="Spring")
    slot = Slot.objects.create(campaign=campaign, product=product,
                               format=Format.objects.get(key="gdn-medium-rectangle"))
    asset = asset_make(slot=slot)
    assert member(Role.VIEWER).delete(f"products/{product.pk}/").status_code == 403
    refused = marketer.delete(f"products/{product.pk}/")
    assert refused.status_code == 400 and "“Spring”" in refused.json()["detail"]
    asset.delete()
    assert marketer.delete(f"products/{product.pk}/").status_code == 204
    assert not Product.objects.exists() and not Slot.objects.exists()


def test_template_delete_is_refused_while_a_campaign_chose_it(marketer):
    from tests.factories import CampaignFactory, PromptTemplateFactory

    template = PromptTemplateFactory(workspace=marketer.membership.workspace)
    campaign = CampaignFactory(workspace=template.workspace, name="Spring")
    campaign.templates.add(template)
    refused = marketer.delete(f"templates/{template.pk}/")
    assert refused.status_code == 400 and "“Spring”" in refused.json()["detail"]
    campaign.templates.clear()
    assert marketer.delete(f"templates/{template.pk}/").status_code == 204
    assert not PromptTemplate.objects.exists()


def test_a_scene_template_with_its_copy_lines_through_the_api(marketer):
    """The template's copy lines and background are read and written by the API; a PATCH
    keeps what it leaves out; a bad text mode is a 400 naming the field."""
    response = marketer.post("templates/", {
        "name": "Cafe scene", "kind": "banner", "body": "a cup on a cafe table",
        "background": "scene", "text_mode": "overlay", "headline": "{{ product.name }}",
        "cta": "Shop now", "show_price": True})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["background"], body["text_mode"], body["headline"], body["cta"],
            body["show_price"]) == ("scene", "overlay", "{{ product.name }}", "Shop now", True)
    patched = marketer.patch(f"templates/{body['id']}/", {"cta": "Order now"})
    assert patched.status_code == 200, patched.json()
    template = PromptTemplate.objects.get(pk=body["id"])
    assert (template.cta, template.headline, template.background, template.show_price) == (
        "Order now", "{{ product.name }}", "scene", True)
    bad = marketer.patch(f"templates/{body['id']}/", {"text_mode": "sideways"})
    assert bad.status_code == 400 and "text_mode" in bad.json()["errors"]
    assert PromptTemplate.objects.get(pk=body["id"]).text_mode == "overlay"


def test_an_image_templates_picture_is_uploaded_through_the_api(marketer):
    created = marketer.post("templates/", {
        "name": "Picture", "kind": "banner", "body": "unused", "background": "image",
        "text_mode": "overlay", "headline": "{{ product.name }}"}).json()
    picture = SimpleUploadedFile("wall.png", png(Image.new("RGB", (800, 500), (40, 120, 90))))
    response = marketer.post(f"templates/{created['id']}/background-image/",
                             {"file": picture}, files=True)
    assert response.status_code == 200, response.json()
    body = response.json()
    template = PromptTemplate.objects.get(pk=created["id"])
    assert body["background_image_sha256"] == template.background_image_sha256 != ""
    assert body["version"] == created["version"] + 1
    svg = SimpleUploadedFile("x.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    refused = marketer.post(f"templates/{created['id']}/background-image/", {"file": svg},
                            files=True)
    assert refused.status_code == 400 and "background_image" in refused.json()["errors"]
    assert PromptTemplate.objects.get(pk=created["id"]).version == body["version"]


def test_a_brand_kit_prefers_layouts_through_the_api(admin):
    brand = BrandKitFactory(workspace=admin.membership.workspace)
    ok = admin.patch(f"brands/{brand.pk}/", {"preferred_layouts": ["wide.mirror"]})
    assert ok.status_code == 200, ok.json()
    assert ok.json()["preferred_layouts"] == ["wide.mirror"]
    bad = admin.patch(f"brands/{brand.pk}/", {"preferred_layouts": ["wide.sideways"]})
    assert bad.status_code == 400 and "preferred_layouts" in bad.json()["errors"]
    assert "wide.split" in str(bad.json()["errors"]["preferred_layouts"])  # the valid ones
    brand.refresh_from_db()
    assert brand.preferred_layouts == ["wide.mirror"]
