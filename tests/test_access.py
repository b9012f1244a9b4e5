"""Workspace scoping and roles for every dashboard URL (RELIABILITY.md P1, P4)."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from adstudio.urls import workspace_patterns
from brands.access import PERMISSIONS, can
from brands.models import (
    BrandFont,
    BrandLogo,
    FeedImport,
    FeedSource,
    Invitation,
    Membership,
    ProductPhoto,
    Role,
)
from campaigns.models import Campaign, ReviewEvent
from rendering.models import Asset, PromptTemplate, RenderJob
from tests.factories import (
    BrandKitFactory,
    CampaignFactory,
    MembershipFactory,
    ProductFactory,
    PromptTemplateFactory,
    RenderJobFactory,
    SlotFactory,
)

pytestmark = pytest.mark.django_db


def _objects_of(workspace):
    """One object of each kind a workspace URL can name, all in ``workspace``."""
    brand = BrandKitFactory(workspace=workspace)
    product = ProductFactory(workspace=workspace)
    campaign = CampaignFactory(workspace=workspace, brand=brand)
    job = RenderJobFactory(workspace=workspace)
    asset = Asset.objects.create(workspace=workspace, job=job, file="x.png",
                                 thumbnail="x.webp", width=1, height=1, sha256="0", recipe={})
    slot = SlotFactory(campaign=campaign, product=product)
    return {
        "slot_id": slot.pk,
        "member_id": MembershipFactory(workspace=workspace, role=Role.VIEWER).pk,
        "invitation_id": Invitation.objects.create(
            workspace=workspace, email="invitee@example.com", role=Role.VIEWER,
            token_sha256="0" * 64, sent_at=timezone.now(), expires_at=timezone.now()).pk,
        "brand_id": brand.pk,
        "logo_id": BrandLogo.objects.create(brand=brand, name="l", file="l.png", width=1,
                                            height=1, sha256="0").pk,
        "font_id": BrandFont.objects.create(brand=brand, family="F", file="f.ttf",
                                            sha256="0").pk,
        "product_id": product.pk,
        "photo_id": ProductPhoto.objects.create(product=product, file="p.png", cutout="c.png",
                                                width=1, height=1, sha256="0").pk,
        "import_id": FeedImport.objects.create(workspace=workspace, filename="f.csv").pk,
        "template_id": PromptTemplateFactory(workspace=workspace).pk,
        "campaign_id": campaign.pk,
        "asset_id": asset.pk,
        "index": 0,  # a layer of the asset (asset-layer)
        "event_id": ReviewEvent.objects.create(workspace=workspace, asset=asset,
                                               action="approve", from_state="in_review",
                                               to_state="approved", sha256="0").pk,
        "job_id": job.pk,
        "source_id": FeedSource.objects.create(workspace=workspace, name="Shop",
                                               url="https://shop.example.com/feed.xml").pk,
    }


def _urls(ws_slug, ids):
    for pattern in workspace_patterns:
        params = re.findall(r"<\w+:(\w+)>", str(pattern.pattern))
        missing = [p for p in params if p not in ids]
        assert not missing, f"add an object for {missing} to _objects_of ({pattern.name})"
        yield pattern.name, reverse(pattern.name, kwargs={"ws": ws_slug,
                                                          **{p: ids[p] for p in params}})


@pytest.fixture
def two_workspaces():
    mine = MembershipFactory(role=Role.ADMIN)
    theirs = MembershipFactory(role=Role.ADMIN)
    return mine, theirs, _objects_of(theirs.workspace)


def test_P1_other_workspaces_objects_are_404_on_every_url(client, two_workspaces):
    mine, theirs, their_ids = two_workspaces
    client.force_login(mine.user)
    for name, url in _urls(mine.workspace.slug, their_ids):
        params = re.findall(r"<\w+:(\w+)>", str(
            next(p for p in workspace_patterns if p.name == name).pattern))
        if not params:
            continue
        assert client.post(url).status_code == 404, name
        assert client.get(url).status_code in (404, 405), name  # 405: POST-only view


def test_P1_a_workspace_you_are_not_in_is_404_on_every_url(client, two_workspaces):
    mine, theirs, their_ids = two_workspaces
    client.force_login(mine.user)
    for name, url in _urls(theirs.workspace.slug, their_ids):
        assert client.post(url).status_code == 404, name
        assert client.get(url).status_code in (404, 405), name


def test_anonymous_users_are_sent_to_login_on_every_url(client, two_workspaces):
    _, theirs, their_ids = two_workspaces
    for name, url in _urls(theirs.workspace.slug, their_ids):
        response = client.get(url)
        if response.status_code == 405:
            response = client.post(url)
        assert response.status_code == 302 and response.url.startswith("/login/"), name


@pytest.mark.parametrize(("role", "action", "allowed"), [
    (Role.ADMIN, "brand.edit", True),
    (Role.MARKETER, "brand.edit", False),
    (Role.MARKETER, "campaign.generate", True),
    (Role.MARKETER, "product.import", True),
    (Role.APPROVER, "campaign.generate", False),
    (Role.APPROVER, "product.edit", False),
    (Role.VIEWER, "workspace.view", True),
    (Role.VIEWER, "template.edit", False),
    (Role.ADMIN, "no.such.action", False),
])
def test_permission_matrix(role, action, allowed):
    assert can(Membership(role=role), action) is allowed


READ_ONLY_ACTIONS = {"workspace.view", "campaign.export"}


def test_every_role_may_view_and_only_editors_edit():
    assert PERMISSIONS["workspace.view"] == frozenset(Role.values)
    for action, roles in PERMISSIONS.items():
        if action not in READ_ONLY_ACTIONS:
            assert Role.VIEWER not in roles, action


@pytest.mark.parametrize("role", [Role.VIEWER, Role.APPROVER])
def test_read_only_roles_cannot_change_anything(client, role):
    membership = MembershipFactory(role=role)
    ws = membership.workspace
    product = ProductFactory(workspace=ws, name="Before")
    brand = BrandKitFactory(workspace=ws)
    campaign = CampaignFactory(workspace=ws, brand=brand)
    job = RenderJobFactory(workspace=ws, status="failed")
    source = FeedSource.objects.create(workspace=ws, name="Shop",
                                       url="https://shop.example.com/feed.xml")
    feed_import = FeedImport.objects.create(workspace=ws, source=source, filename="f")
    client.force_login(membership.user)
    posts = [
        (reverse("product-edit", kwargs={"ws": ws.slug, "product_id": product.pk}),
         {"sku": product.sku, "name": "After", "price": "1", "currency": "USD"}),
        (reverse("brand-edit", kwargs={"ws": ws.slug, "brand_id": brand.pk}),
         {"name": "Renamed", "logo_position": "top-left", "languages": ["en"]}),
        (reverse("campaign-generate", kwargs={"ws": ws.slug, "campaign_id": campaign.pk}), {}),
        (reverse("template-create", kwargs={"ws": ws.slug}),
         {"name": "t", "kind": "banner", "body": "x", "save": "1"}),
        (reverse("feed-import", kwargs={"ws": ws.slug}), {}),
        (reverse("job-cancel", kwargs={"ws": ws.slug, "job_id": job.pk}), {}),
        (reverse("campaign-schedule", kwargs={"ws": ws.slug, "campaign_id": campaign.pk}),
         {"mode": "interval", "interval_minutes": 1, "timezone": "UTC", "variants": 1}),
        (reverse("campaign-refresh", kwargs={"ws": ws.slug, "campaign_id": campaign.pk}), {}),
        (reverse("job-retry", kwargs={"ws": ws.slug, "job_id": job.pk}), {}),
        (reverse("campaign-edit", kwargs={"ws": ws.slug, "campaign_id": campaign.pk}),
         {"name": "Renamed"}),
        (reverse("campaign-archive", kwargs={"ws": ws.slug, "campaign_id": campaign.pk}), {}),
        (reverse("feed-source-create", kwargs={"ws": ws.slug}),
         {"name": "New", "kind": "url", "url": "https://shop.example.com/b.xml"}),
        (reverse("feed-source-edit", kwargs={"ws": ws.slug, "source_id": source.pk}),
         {"name": "Renamed", "kind": "url", "url": "https://shop.example.com/b.xml"}),
        (reverse("feed-source-run", kwargs={"ws": ws.slug, "source_id": source.pk}), {}),
        (reverse("feed-import-cancel", kwargs={"ws": ws.slug, "import_id": feed_import.pk}),
         {}),
    ]
    template = PromptTemplateFactory(workspace=ws)
    posts += [(reverse(name, kwargs={"ws": ws.slug, key: obj.pk}), {"confirm": "yes"})
              for name, key, obj in [("brand-delete", "brand_id", brand),
                                     ("product-delete", "product_id", product),
                                     ("template-delete", "template_id", template),
                                     ("campaign-delete", "campaign_id", campaign),
                                     ("feed-source-delete", "source_id", source)]]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    product.refresh_from_db()
    brand.refresh_from_db()
    assert product.name == "Before" and brand.name != "Renamed"
    assert RenderJob.objects.get().status == "failed"  # not retried
    assert RenderJob.objects.count() == 1 and PromptTemplate.objects.get() == template
    assert Campaign.objects.get(pk=campaign.pk).status == "draft"
    assert not campaign.refreshes.exists() and not hasattr(campaign, "refresh_schedule")
    assert list(FeedSource.objects.values_list("name", flat=True)) == ["Shop"]
    assert FeedImport.objects.get().status == "queued"  # neither run again nor cancelled


def test_marketer_cannot_edit_the_brand_kit(client):
    membership = MembershipFactory(role=Role.MARKETER)
    brand = BrandKitFactory(workspace=membership.workspace, name="Keep")
    client.force_login(membership.user)
    url = reverse("brand-edit", kwargs={"ws": membership.workspace.slug, "brand_id": brand.pk})
    response = client.post(url, {"name": "Changed", "logo_position": "top-left",
                                 "languages": ["en"]})
    assert response.status_code == 403
    brand.refresh_from_db()
    assert brand.name == "Keep"


def test_P4_post_without_csrf_token_is_403():
    membership = MembershipFactory(role=Role.ADMIN)
    campaign = CampaignFactory(workspace=membership.workspace)
    client = Client(enforce_csrf_checks=True)
    client.force_login(membership.user)
    url = reverse("campaign-generate", kwargs={"ws": membership.workspace.slug,
                                               "campaign_id": campaign.pk})
    assert client.post(url).status_code == 403
    assert not RenderJob.objects.exists()
    assert Campaign.objects.get(pk=campaign.pk).status == "draft"


def test_operator_view_is_for_staff_only(client):
    from tests.factories import UserFactory

    assert client.get(reverse("operator")).status_code == 302  # to login
    client.force_login(UserFactory())
    assert client.get(reverse("operator")).status_code == 403
    assert client.get(reverse("operator-json")).status_code == 403
    client.force_login(UserFactory(is_staff=True))
    page = client.get(reverse("operator"))
    assert page.status_code == 200 and "Render platform" in page.content.decode()
    status = client.get(reverse("operator-json")).json()
    assert set(status) >= {"workers", "queued", "running", "broker_queue_depth",
                           "images_last_hour", "failures_last_day"}
