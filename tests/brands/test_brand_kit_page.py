"""The brand kit page as a design tool: logos with a primary one and delete, fonts served for
their preview, palette contrasts, one id per input; product thumbnails; the header's sections."""

import io
import re
from collections import Counter

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from django.urls import reverse
from PIL import Image

from brands import services
from brands.models import AuditEvent, BrandLogo, Role
from brands.palette import contrast_ratio, palette_contrasts
from brands.selectors import brand_logo_primary
from brands.templatetags.shell import section_of
from tests.factories import PASSWORD, BrandKitFactory, MembershipFactory, SlotFactory, asset_make

pytestmark = pytest.mark.django_db
DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (40, 20), (10, 80, 140, 0)).save(buffer, format="PNG")
    return buffer.getvalue()


def _logo(brand, user, name):
    return services.brand_logo_add(brand=brand, user=user, name=name, uploaded=SimpleUploadedFile(
        f"{name}.png", _png(), content_type="image/png"))


def _login(client, role):
    membership = MembershipFactory(role=role)
    assert client.login(username=membership.user.username, password=PASSWORD)
    return membership


def url(name, membership, **kwargs):
    return reverse(name, kwargs={"ws": membership.workspace.slug, **kwargs})


def test_first_logo_is_primary_until_another_is_made_primary_and_ads_go_stale():
    admin = MembershipFactory(role=Role.ADMIN)
    brand = BrandKitFactory(workspace=admin.workspace)
    first, second = _logo(brand, admin.user, "Mark"), _logo(brand, admin.user, "Wordmark")
    assert brand_logo_primary(brand) == first
    slot = SlotFactory(campaign__workspace=admin.workspace, campaign__brand=brand)
    asset = asset_make(slot=slot)

    services.brand_logo_make_primary(logo=second, user=admin.user)

    brand.refresh_from_db()
    asset.refresh_from_db()
    assert brand_logo_primary(brand) == second and brand.version == 2
    assert asset.stale_at is not None and "logo" in asset.stale_reason
    assert AuditEvent.objects.filter(verb="brand_logo.made_primary", object_id=second.pk).exists()
    services.brand_logo_make_primary(logo=second, user=admin.user)  # already primary
    brand.refresh_from_db()
    assert brand.version == 2


def test_deleting_the_primary_logo_hands_over_and_removes_its_file(
        django_capture_on_commit_callbacks):
    from django.core.files.storage import default_storage

    admin = MembershipFactory(role=Role.ADMIN)
    brand = BrandKitFactory(workspace=admin.workspace)
    first, second = _logo(brand, admin.user, "Mark"), _logo(brand, admin.user, "Wordmark")
    with django_capture_on_commit_callbacks(execute=True):
        services.brand_logo_delete(logo=first, user=admin.user)
    brand.refresh_from_db()
    assert list(brand.logos.all()) == [second] and brand_logo_primary(brand) == second
    assert brand.version == 2 and not default_storage.exists(first.file.name)
    services.brand_logo_delete(logo=second, user=admin.user)
    brand.refresh_from_db()
    assert brand_logo_primary(brand) is None and brand.version == 3


def test_a_kit_cannot_have_two_primary_logos():
    brand = BrandKitFactory()
    _logo(brand, None, "A")
    BrandLogo.objects.filter(brand=brand).update(is_primary=True)
    with pytest.raises(IntegrityError):
        BrandLogo.objects.create(brand=brand, name="B", file="x.png", width=1, height=1,
                                 sha256="0", is_primary=True)


def test_logo_actions_are_for_admins_of_the_logos_workspace(client):
    marketer = _login(client, Role.MARKETER)
    brand = BrandKitFactory(workspace=marketer.workspace)
    logo = _logo(brand, None, "Mark")
    assert client.post(url("brand-logo-delete", marketer, logo_id=logo.pk)).status_code == 403
    assert client.post(url("brand-logo-primary", marketer, logo_id=logo.pk)).status_code == 403
    admin = _login(client, Role.ADMIN)  # of another workspace
    assert client.post(url("brand-logo-delete", admin, logo_id=logo.pk)).status_code == 404
    assert BrandLogo.objects.filter(pk=logo.pk).exists()
    own = _logo(BrandKitFactory(workspace=admin.workspace), None, "Own")
    other = _logo(own.brand, None, "Other")
    assert client.post(url("brand-logo-primary", admin, logo_id=other.pk)).status_code == 302
    assert brand_logo_primary(own.brand) == other
    assert client.post(url("brand-logo-delete", admin, logo_id=own.pk)).status_code == 302
    assert not BrandLogo.objects.filter(pk=own.pk).exists()


def test_font_file_is_served_only_inside_its_workspace(client):
    admin = _login(client, Role.ADMIN)
    brand = BrandKitFactory(workspace=admin.workspace)
    with open(DEJAVU, "rb") as fh:
        font = services.brand_font_add(brand=brand, user=None,
                                       uploaded=SimpleUploadedFile("f.ttf", fh.read()))
    served = client.get(url("brand-font-file", admin, font_id=font.pk), follow=True)
    assert served.status_code == 200 and b"".join(served.streaming_content)[:4] == b"\0\1\0\0"
    page = client.get(url("brand-edit", admin, brand_id=brand.pk)).content.decode()
    assert "@font-face" in page and url("brand-font-file", admin, font_id=font.pk) in page
    stranger = _login(client, Role.ADMIN)
    assert client.get(url("brand-font-file", stranger, font_id=font.pk)).status_code == 404


def test_brand_kit_page_has_unique_ids_swatches_contrast_and_the_primary_badge(client):
    admin = _login(client, Role.ADMIN)
    brand = BrandKitFactory(workspace=admin.workspace, palette=[
        {"role": "primary", "name": "Ocean", "hex": "#0A4F8C"},
        {"role": "accent", "name": "Lemon", "hex": "#FFE14D"},
        {"role": "background", "name": "Sand", "hex": "#F5EFE6"}])
    _logo(brand, None, "Mark")
    _logo(brand, None, "Wordmark")
    page = client.get(url("brand-edit", admin, brand_id=brand.pk)).content.decode()
    ids = Counter(re.findall(r'\sid="([^"]+)"', page))
    assert [i for i, n in ids.items() if n > 1] == []
    assert {"id_name", "logo_name", "logo_file", "font_file", "id_palette"} <= set(ids)
    assert 'type="color"' in page or "palette-editor" in page
    assert page.count("Low contrast for text") == 1  # the lemon, not the ocean
    assert page.count("Primary: on composed ads") == 1 and page.count(">Make primary") == 1


def test_contrast_ratio_follows_wcag():
    assert contrast_ratio("#000", "#FFFFFF") == 21.0
    assert contrast_ratio("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)
    rows = palette_contrasts([{"role": "text", "name": "Ink", "hex": "#1B1B1B"},
                              {"role": "background", "name": "Night", "hex": "#202020"}])
    assert rows[0]["on_background"] < 1.2 and rows[0]["warning"]
    assert rows[1]["on_background"] is None and not rows[1]["warning"]


def test_product_list_shows_thumbnails_in_a_fixed_number_of_queries(
        client, django_assert_max_num_queries):
    from brands.models import ProductPhoto
    from tests.factories import ProductFactory

    admin = _login(client, Role.ADMIN)
    for n in range(4):
        product = ProductFactory(workspace=admin.workspace)
        ProductPhoto.objects.create(product=product, file=f"p{n}.png", width=1, height=1,
                                    sha256="0", cutout=f"c{n}.png" if n % 2 else "")
    with django_assert_max_num_queries(8):
        page = client.get(url("product-list", admin)).content.decode()
    assert page.count('alt="Photo of ') == 4 and page.count('alt="Cut-out of ') == 2


@pytest.mark.parametrize("url_name, section", [
    ("workspace", "home"), ("campaign-detail", "campaigns"), ("template-edit", "templates"),
    ("brand-edit", "brands"), ("product-edit", "products"), ("feed-import-report", "products"),
    ("feed-source-edit", "feeds"), ("review-queue", "review"), ("asset-detail", "review"),
    ("member-list", "members"), ("api-tokens", "tokens"), ("operator", "ops"), (None, "")])
def test_every_page_belongs_to_its_navigation_section(url_name, section):
    assert section_of(url_name) == section


def test_header_marks_the_current_section_and_offers_a_skip_link(client):
    marketer = _login(client, Role.MARKETER)
    page = client.get(url("brand-list", marketer)).content.decode()
    current = re.findall(r'<a class="nav-link[^"]*" href="([^"]+)" aria-current="page"', page)
    assert current == [url("brand-list", marketer)]
    assert 'href="#main"' in page and '<main id="main"' in page
    assert 'aria-controls="nav-panel"' in page and 'id="shortcuts-toggle"' in page
    assert reverse("operator") not in page  # the operator view is for staff only
