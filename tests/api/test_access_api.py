"""P1, P2 and P7 through the API: every workspace URL, every write, bursts."""

import re

import pytest
from django.utils import timezone

from api.models import WebhookEndpoint
from api.tokens import api_token_create
from api.urls import router
from brands.access import PERMISSIONS
from brands.models import (
    BrandKit,
    BrandLogo,
    FeedImport,
    FeedSource,
    Invitation,
    Membership,
    Product,
    ProductPhoto,
    Role,
)
from campaigns.models import Campaign
from rendering.models import Asset, Format, PromptTemplate, RenderJob
from tests.api.conftest import ApiClient, api_for
from tests.factories import (
    BrandKitFactory,
    CampaignFactory,
    MembershipFactory,
    ProductFactory,
    PromptTemplateFactory,
)

pytestmark = pytest.mark.django_db

# Writes that every member may make: their own tokens and email settings, and previews that
# save nothing.
OPEN_WRITES = {("ApiTokenViewSet", "create"), ("ApiTokenViewSet", "revoke"),
               ("MemberViewSet", "notifications"),
               ("PromptTemplateViewSet", "preview"),
               ("PromptTemplateViewSet", "preview_unsaved")}


def _objects_of(workspace) -> dict:
    """One object of every kind an API URL names, all in ``workspace``."""
    admin = MembershipFactory(workspace=workspace, role=Role.ADMIN)
    brand = BrandKitFactory(workspace=workspace)
    job = RenderJob.objects.create(workspace=workspace, recipe={}, status="failed")
    asset = Asset.objects.create(workspace=workspace, job=job, file="x.png", thumbnail="x.webp",
                                 width=1, height=1, sha256="0", recipe={})
    product = ProductFactory(workspace=workspace)
    return {
        "brand_id": brand.pk,
        "logo_id": BrandLogo.objects.create(brand=brand, name="l", file="l.png", width=1,
                                            height=1, sha256="0").pk,
        "product_id": product.pk,
        "photo_id": ProductPhoto.objects.create(product=product, file="p.png", cutout="c.png",
                                                width=1, height=1, sha256="0").pk,
        "import_id": FeedImport.objects.create(workspace=workspace, filename="f.csv").pk,
        "source_id": FeedSource.objects.create(workspace=workspace, name="Shop",
                                               url="https://shop.example.com/feed.xml").pk,
        "template_id": PromptTemplateFactory(workspace=workspace).pk,
        "format_id": Format.objects.create(workspace=workspace, key="own", name="Own",
                                           channel="x", kind="custom", width=100,
                                           height=100).pk,
        "campaign_id": CampaignFactory(workspace=workspace, brand=brand).pk,
        "job_id": job.pk,
        "asset_id": asset.pk,
        "token_id": api_token_create(membership=admin, name="theirs").token.pk,
        "webhook_id": WebhookEndpoint.objects.create(workspace=workspace, url="http://x.test/",
                                                     secret="s", events=["job.failed"]).pk,
        "member_id": admin.pk,
        "invitation_id": Invitation.objects.create(
            workspace=workspace, email="invitee@example.com", role=Role.VIEWER,
            token_sha256="0" * 64, sent_at=timezone.now(), expires_at=timezone.now()).pk,
    }


def _routes():
    """(basename, action, method, path pattern) for every API route."""
    for pattern in router.urls:
        for method, action in list(pattern.callback.actions.items()):
            if method != "head":  # added by DRF for every GET
                yield pattern.name, action, method, str(pattern.pattern)


def _path(pattern: str, ids: dict) -> str:
    params = re.findall(r"<(?:\w+:)?(\w+)>", pattern)
    missing = [p for p in params if p not in ids]
    assert not missing, f"add an object for {missing} to _objects_of"
    path = pattern
    for name in params:
        path = re.sub(rf"<(?:\w+:)?{name}>", str(ids[name]), path)
    return path


def _call(client: ApiClient, method: str, path: str):
    return getattr(client.client, method)(client.url(path), {}, content_type="application/json")


@pytest.fixture
def two_workspaces(db):
    mine = api_for(MembershipFactory(role=Role.ADMIN))
    theirs = MembershipFactory(role=Role.ADMIN)
    return mine, theirs, _objects_of(theirs.workspace)


def test_P1_other_workspaces_objects_are_404_on_every_detail_url(two_workspaces):
    mine, _, their_ids = two_workspaces
    checked = 0
    for name, action, method, pattern in _routes():
        if not re.search(r"<(?:\w+:)?\w+_id>", pattern):
            continue
        response = _call(mine, method, _path(pattern, their_ids))
        assert response.status_code == 404, (name, action, method, response.content)
        assert response.json() == {"detail": "Not found."}
        checked += 1
    assert checked >= 40
    assert Product.objects.count() == BrandKit.objects.count() == 1  # nothing was changed
    assert RenderJob.objects.get().status == "failed"


def test_P1_a_workspace_you_are_not_in_is_404_on_every_url(two_workspaces):
    mine, theirs, their_ids = two_workspaces
    outsider = ApiClient(mine.secret, theirs.workspace.slug)
    for name, action, method, pattern in _routes():
        response = _call(outsider, method, _path(pattern, their_ids))
        assert response.status_code == 404, (name, action, method)
        assert response.json() == {"detail": "No such workspace."}


def test_P1_session_users_get_the_same_404(client, two_workspaces):
    mine, theirs, their_ids = two_workspaces
    client.force_login(mine.membership.user)
    url = f"/api/v1/workspaces/{mine.ws}/products/{their_ids['product_id']}/"
    assert client.get(url).status_code == 404
    assert client.get(f"/api/v1/workspaces/{mine.ws}/products/").status_code == 200
    assert client.get(f"/api/v1/workspaces/{theirs.workspace.slug}/products/").status_code == 404


def test_P4_session_post_without_csrf_token_is_403(catalog):
    from django.test import Client

    membership = MembershipFactory(workspace=catalog[0], role=Role.ADMIN)
    client = Client(enforce_csrf_checks=True)
    client.force_login(membership.user)
    response = client.post(f"/api/v1/workspaces/{catalog[0].slug}/brands/", {"name": "New"},
                           content_type="application/json")
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    assert BrandKit.objects.count() == 1  # the catalog's own


def test_P2_every_write_names_the_permission_it_needs():
    from django.urls import resolve

    for name, action, method, pattern in _routes():
        if method == "get":
            continue
        view = resolve(f"/api/v1/workspaces/ws/{_path(pattern, _ANY_IDS)}").func.cls
        needed = view.permission_for(action, method)
        if needed == "workspace.view":
            assert (view.__name__, action) in OPEN_WRITES, (name, action, method)
        assert needed in PERMISSIONS, needed


_ANY_IDS = dict.fromkeys(("brand_id", "logo_id", "product_id", "import_id", "template_id",
                          "format_id", "campaign_id", "job_id", "asset_id", "token_id",
                          "webhook_id", "member_id", "invitation_id", "source_id"), 1)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.APPROVER, Role.MARKETER])
def test_P2_roles_cannot_write_what_their_role_lacks(role):
    from django.urls import resolve

    membership = MembershipFactory(role=role)
    ids = _objects_of(membership.workspace)
    client = api_for(membership)
    refused = 0
    for name, action, method, pattern in _routes():
        if method == "get" and action != "list":
            continue
        path = _path(pattern, ids)
        needed = resolve(client.url(path)).func.cls.permission_for(action, method)
        if role in PERMISSIONS[needed]:
            continue
        response = _call(client, method, path)
        assert response.status_code == 403, (name, action, method, response.content)
        assert response.json()["detail"] == f"Your role ({role}) cannot do this ({needed})."
        refused += 1
    assert refused >= {Role.VIEWER: 25, Role.APPROVER: 20, Role.MARKETER: 10}[role]
    # Nothing changed: no new rows, the failed job was not retried.
    assert Campaign.objects.count() == Product.objects.count() == 1
    assert PromptTemplate.objects.count() == 1 and BrandKit.objects.count() == 1
    assert RenderJob.objects.get().status == "failed"
    assert Membership.objects.filter(workspace=membership.workspace).count() == 2
    assert WebhookEndpoint.objects.count() == 1


def test_P2_approver_cannot_approve_own_asset(catalog):
    workspace = catalog[0]
    approver = api_for(MembershipFactory(workspace=workspace, role=Role.APPROVER))
    job = RenderJob.objects.create(workspace=workspace, recipe={}, status="succeeded",
                                   created_by=approver.membership.user)
    asset = Asset.objects.create(workspace=workspace, job=job, file="x.png", thumbnail="x.webp",
                                 width=1, height=1, sha256="0", recipe={})
    response = approver.post(f"assets/{asset.pk}/approve/", {})
    assert response.status_code == 403
    assert response.json() == {"detail": "You made this asset, so someone else must approve it."}
    asset.refresh_from_db()
    assert asset.review_state == "in_review"


def test_P7_api_burst_is_throttled(settings, admin):
    settings.ADSTUDIO_API_RATE = "5/minute"
    statuses = [admin.get("brands/").status_code for _ in range(8)]
    assert statuses == [200] * 5 + [429] * 3
    response = admin.get("brands/")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "throttled" in response.json()["detail"].lower()


def test_P7_anonymous_burst_is_throttled(settings, client):
    settings.ADSTUDIO_API_ANON_RATE = "2/minute"
    bad_token = {"HTTP_AUTHORIZATION": "Bearer ads_guess_guess"}
    statuses = [client.get("/api/v1/workspaces/x/brands/", **bad_token).status_code
                for _ in range(3)]
    statuses.append(client.get("/api/v1/workspaces/x/brands/").status_code)
    assert statuses == [401, 401, 429, 429]


def test_workspaces_list_and_detail_respect_scope(two_workspaces):
    mine, theirs, _ = two_workspaces
    MembershipFactory(user=mine.membership.user, workspace=theirs.workspace, role=Role.VIEWER)
    listed = mine.client.get("/api/v1/workspaces/").json()
    assert [w["slug"] for w in listed["results"]] == [mine.ws]  # a token: its workspace only
    detail = mine.get("").json()
    assert detail["role"] == "admin" and detail["gpu_seconds_this_month"] == 0
    assert ApiClient(mine.secret, theirs.workspace.slug).get("").status_code == 404
    stranger = api_for(MembershipFactory(role=Role.VIEWER))
    assert ApiClient(stranger.secret, mine.ws).get("").status_code == 404
