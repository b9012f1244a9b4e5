"""Creates and saves write audit rows, as deletes do: one row naming the acting user, in the
change's transaction, and none when a save changes nothing. Verbs are ``<object>.<past
participle>``, the webhook events' tense. Also the one "bump the version when something
changed" rule (core/versioning.py)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from brands.feed_sources import feed_source_save
from brands.models import AuditEvent, BrandKit, Product, Role
from brands.product_fields import clean_product_data
from brands.services import (
    brand_font_add,
    brand_kit_save,
    brand_logo_add,
    product_photo_add,
    product_save,
    workspace_create,
)
from campaigns.refresh import refresh_schedule_save
from campaigns.services import (
    campaign_archive,
    campaign_create,
    campaign_unarchive,
    campaign_update,
)
from core.versioning import values_apply, version_bump_queryset
from rendering.models import Format
from rendering.templates import format_create, prompt_template_save
from tests.api.conftest import api_for
from tests.api.test_catalog_api import png
from tests.brands.test_uploads import otf_font, transparent_logo
from tests.factories import (
    BrandKitFactory,
    MembershipFactory,
    ProductFactory,
    UserFactory,
    WorkspaceFactory,
)

pytestmark = pytest.mark.django_db

SHOP = "http://127.0.0.1:9/feed.xml"  # saving resolves the host: no DNS in tests


class Audit:
    """The audit rows written since the last look."""

    def __init__(self):
        self.seen = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0

    def new(self) -> list[tuple[str, object, str, int]]:
        rows = list(AuditEvent.objects.filter(id__gt=self.seen).order_by("id"))
        if rows:
            self.seen = rows[-1].id
        self.rows = rows
        return [(row.verb, row.actor, row.object_type, row.object_id) for row in rows]


@pytest.fixture
def audit(db):
    return Audit()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def workspace(user):
    return MembershipFactory(user=user, role=Role.ADMIN).workspace


# --- brands ---------------------------------------------------------------------------------

def test_workspace_create_records_who_created_it(audit, user):
    owner = UserFactory()
    workspace = workspace_create(name="Acme", slug="acme", owner=owner, user=user)
    assert audit.new() == [("workspace.created", user, "workspace", workspace.pk)]
    assert audit.rows[0].workspace_id == workspace.pk
    assert audit.rows[0].data == {"name": "Acme", "slug": "acme"}


def test_brand_kit_create_change_and_unchanged_save(audit, user, workspace):
    brand = brand_kit_save(workspace=workspace, user=user, name="Acme", tone="Calm")
    assert audit.new() == [("brand.created", user, "brandkit", brand.pk)]
    assert audit.rows[0].data == {"name": "Acme", "version": 1}

    brand = brand_kit_save(workspace=workspace, user=user, brand=brand, name="Acme", tone="Bold")
    assert brand.version == 2
    assert audit.new() == [("brand.changed", user, "brandkit", brand.pk)]
    assert audit.rows[0].data == {"changed": ["tone"], "version": 2}

    brand = brand_kit_save(workspace=workspace, user=user, brand=brand, name="Acme", tone="Bold")
    assert brand.version == 2 and audit.new() == []


def test_a_refused_brand_kit_save_writes_no_row(audit, user, workspace):
    with pytest.raises(ValidationError):
        brand_kit_save(workspace=workspace, user=user, name="Acme",
                       palette=[{"name": "x", "hex": "blue", "role": "primary"}])
    assert audit.new() == [] and not BrandKit.objects.exists()


def test_a_system_save_records_no_actor(audit, workspace):
    brand = brand_kit_save(workspace=workspace, user=None, name="Acme")
    assert audit.new() == [("brand.created", None, "brandkit", brand.pk)]


def test_font_logo_and_photo_uploads_record_who_added_them(audit, user, workspace):
    brand = BrandKitFactory(workspace=workspace)
    font = brand_font_add(brand=brand, user=user, uploaded=SimpleUploadedFile(
        "brand.otf", otf_font("Brand Sans", "Bold")))
    logo = brand_logo_add(brand=brand, user=user, name="Mark", uploaded=SimpleUploadedFile(
        "logo.png", png(transparent_logo())))
    product = ProductFactory(workspace=workspace)
    photo = product_photo_add(product=product, user=user, uploaded=SimpleUploadedFile(
        "photo.png", png(transparent_logo())))
    assert audit.new() == [("brand_font.created", user, "brandfont", font.pk),
                           ("brand_logo.created", user, "brandlogo", logo.pk),
                           ("product_photo.created", user, "productphoto", photo.pk)]
    fonts, logos, photos = (row.data for row in audit.rows)
    assert fonts == {"brand": brand.pk, "family": "Brand Sans", "style": "Bold"}
    assert logos == {"brand": brand.pk, "name": "Mark"}
    assert photos == {"product": product.pk, "sku": product.sku}


def _product_data(**values):
    return clean_product_data({"sku": "SKU-1", "name": "Trail Shoe", "price": "89.00",
                               "currency": "USD", **values})


def test_product_create_change_and_unchanged_save(audit, user, workspace):
    product = product_save(workspace=workspace, user=user, data=_product_data())
    assert audit.new() == [("product.created", user, "product", product.pk)]
    assert audit.rows[0].data == {"sku": "SKU-1", "version": 1}

    product = product_save(workspace=workspace, user=user, product=product,
                           data=_product_data(price="79.00"))
    assert product.version == 2
    assert audit.new() == [("product.changed", user, "product", product.pk)]
    assert audit.rows[0].data == {"changed": ["price"], "version": 2}

    product = product_save(workspace=workspace, user=user, product=product,
                           data=_product_data(price="79.00"))
    assert product.version == 2 and audit.new() == []


def test_feed_source_create_change_and_unchanged_save(audit, user, workspace, settings):
    settings.ADSTUDIO_FEED_ALLOW_PRIVATE_NETWORKS = True
    fields = {"name": "Shop", "kind": "url", "url": SHOP}
    source = feed_source_save(workspace=workspace, user=user, **fields)
    assert audit.new() == [("feed_source.created", user, "feedsource", source.pk)]
    assert audit.rows[0].data == {"name": "Shop", "kind": "url"}

    source = feed_source_save(workspace=workspace, user=user, source=source,
                              **fields, schedule="daily", schedule_timezone="Europe/Berlin")
    assert audit.new() == [("feed_source.changed", user, "feedsource", source.pk)]
    assert audit.rows[0].data == {"name": "Shop", "kind": "url",
                                  "changed": ["schedule", "schedule_timezone"]}

    # The same settings again (a fresh copy from the database, as a form post has).
    from brands.models import FeedSource

    feed_source_save(workspace=workspace, user=user, source=FeedSource.objects.get(),
                     **fields, schedule="daily", schedule_timezone="Europe/Berlin")
    assert audit.new() == []


def test_feed_source_audit_holds_no_secret(audit, user, workspace, settings):
    settings.ADSTUDIO_FEED_ALLOW_PRIVATE_NETWORKS = True
    source = feed_source_save(workspace=workspace, user=user, name="Shop", kind="url", url=SHOP)
    feed_source_save(workspace=workspace, user=user, source=source, auth="header",
                     auth_header_name="X-Api-Key", auth_secret_ref="env:SHOP_FEED_TOKEN")
    assert [verb for verb, *_ in audit.new()] == ["feed_source.created", "feed_source.changed"]
    assert "env:SHOP_FEED_TOKEN" not in str([row.data for row in audit.rows])


# --- rendering ------------------------------------------------------------------------------

def test_template_create_change_rename_and_unchanged_save(audit, user, workspace):
    fields = {"name": "t", "kind": "banner", "body": "A banner for {{ product.name }}"}
    template = prompt_template_save(workspace=workspace, user=user, **fields)
    assert audit.new() == [("template.created", user, "prompttemplate", template.pk)]
    assert audit.rows[0].data == {"name": "t", "version": 1}

    template = prompt_template_save(workspace=workspace, user=user, template=template,
                                    **{**fields, "body": "A poster for {{ product.name }}"})
    assert template.version == 2
    assert audit.new() == [("template.changed", user, "prompttemplate", template.pk)]
    assert audit.rows[0].data == {"changed": ["body"], "version": 2}

    # A new name is a change, not a new version.
    template = prompt_template_save(workspace=workspace, user=user, template=template,
                                    **{**fields, "name": "u",
                                       "body": "A poster for {{ product.name }}"})
    assert template.version == 2
    assert audit.new() == [("template.changed", user, "prompttemplate", template.pk)]
    assert audit.rows[0].data == {"changed": ["name"], "version": 2}

    template = prompt_template_save(workspace=workspace, user=user, template=template,
                                    **{**fields, "name": "u",
                                       "body": "A poster for {{ product.name }}"})
    assert template.version == 2 and audit.new() == []


def test_format_create_records_who_added_it(audit, user, workspace):
    fmt = format_create(workspace=workspace, user=user, name="Bus shelter", width=1800,
                        height=2700, kind="poster")
    assert audit.new() == [("format.created", user, "format", fmt.pk)]
    assert audit.rows[0].data == {"key": fmt.key, "width": 1800, "height": 2700,
                                  "kind": "poster"}


# --- campaigns ------------------------------------------------------------------------------

@pytest.fixture
def campaign_inputs(workspace):
    products = [ProductFactory(workspace=workspace) for _ in range(2)]
    formats = list(Format.objects.filter(workspace=None, key__in=["meta-story", "print-a4"])
                   .order_by("key"))
    return BrandKitFactory(workspace=workspace), products, formats


def test_campaign_create_change_unchanged_save_and_archive(audit, user, workspace,
                                                           campaign_inputs):
    brand, products, formats = campaign_inputs
    campaign = campaign_create(workspace=workspace, user=user, name="Spring", brand=brand,
                               products=products[:1], formats=formats[:1])
    assert audit.new() == [("campaign.created", user, "campaign", campaign.pk)]
    assert audit.rows[0].data == {"name": "Spring", "slots": 1}

    campaign_update(campaign=campaign, user=user, name="Spring sale", products=products)
    assert audit.new() == [("campaign.changed", user, "campaign", campaign.pk)]
    assert audit.rows[0].data == {"changed": ["name", "products"], "slots_added": 1,
                                  "slots_removed": 0}

    # The same values again, the lists included: nothing changed, nothing recorded.
    campaign_update(campaign=campaign, user=user, name="Spring sale", products=products,
                    formats=formats[:1])
    assert audit.new() == []

    campaign_archive(campaign=campaign, user=user)
    campaign_unarchive(campaign=campaign, user=user)
    assert audit.new() == [("campaign.archived", user, "campaign", campaign.pk),
                           ("campaign.unarchived", user, "campaign", campaign.pk)]


def test_refresh_schedule_create_change_and_unchanged_save(audit, user, workspace,
                                                           campaign_inputs):
    brand, products, formats = campaign_inputs
    campaign = campaign_create(workspace=workspace, user=None, name="Weekly", brand=brand,
                               products=products, formats=formats)
    audit.new()
    rule = {"kind": "cron", "cron": "0 9 * * 1", "tz": "Europe/Berlin"}
    schedule = refresh_schedule_save(campaign=campaign, user=user, formats=formats, **rule)
    assert audit.new() == [("refresh_schedule.created", user, "refreshschedule", schedule.pk)]

    refresh_schedule_save(campaign=campaign, user=user, formats=formats[:1], variants=2, **rule)
    assert audit.new() == [("refresh_schedule.changed", user, "refreshschedule", schedule.pk)]
    assert audit.rows[0].data["changed"] == ["variants", "formats"]

    refresh_schedule_save(campaign=campaign, user=user, formats=formats[:1], variants=2,
                          auto_rerender_stale=True, **rule)
    assert audit.new() == [("refresh_schedule.changed", user, "refreshschedule", schedule.pk)]
    assert audit.rows[0].data["changed"] == ["auto_rerender_stale"]

    refresh_schedule_save(campaign=campaign, user=user, formats=formats[:1], variants=2,
                          auto_rerender_stale=True, **rule)
    assert audit.new() == []


def test_an_audit_row_rolls_back_with_its_save(audit, user, workspace):
    with pytest.raises(RuntimeError), transaction.atomic():
        brand_kit_save(workspace=workspace, user=user, name="Acme")
        raise RuntimeError("the request failed after the save")
    assert audit.new() == [] and not BrandKit.objects.exists()


# --- through the API ------------------------------------------------------------------------

def test_an_api_post_records_the_token_user(audit):
    membership = MembershipFactory(workspace=WorkspaceFactory(), role=Role.ADMIN)
    client = api_for(membership)
    audit.new()  # the token's own row
    response = client.post("brands/", {"name": "Acme", "tone": "Calm"})
    assert response.status_code == 201, response.json()
    assert audit.new() == [("brand.created", membership.user, "brandkit", response.json()["id"])]

    assert client.patch(f"brands/{response.json()['id']}/", {"tone": "Calm"}).status_code == 200
    assert audit.new() == []  # nothing changed
    assert client.patch(f"brands/{response.json()['id']}/", {"tone": "Bold"}).status_code == 200
    assert audit.new() == [("brand.changed", membership.user, "brandkit", response.json()["id"])]

    listed = client.get("audit-events/", {"verb": "brand.changed"})  # the API's audit log
    assert listed.status_code == 200, listed.json()
    assert [(e["verb"], e["object_type"]) for e in listed.json()["results"]] == [
        ("brand.changed", "brandkit")]


# --- one version rule -----------------------------------------------------------------------

def test_values_apply_bumps_the_version_once_and_only_on_a_change():
    product = ProductFactory(name="Shoe", slogan="Fast")
    assert product.version == 1
    assert values_apply(product, {"name": "Shoe", "slogan": "Fast"}) == []
    assert product.version == 1
    assert values_apply(product, {"name": "Boot", "slogan": "Dry"}) == ["name", "slogan"]
    assert (product.version, product.name, product.slogan) == (2, "Boot", "Dry")
    # Unversioned values change without a new version, and are named.
    assert values_apply(product, {"name": "Boot"}, unversioned={"slogan": "Wet"}) == ["slogan"]
    assert product.version == 2


def test_version_bump_queryset_bumps_each_row_once():
    first, second = ProductFactory(), ProductFactory()
    Product.objects.filter(pk=second.pk).update(version=5)
    assert version_bump_queryset(Product.objects.filter(pk__in=[first.pk, second.pk]),
                                 slogan="New") == 2
    assert dict(Product.objects.values_list("pk", "version")) == {first.pk: 2, second.pk: 6}
