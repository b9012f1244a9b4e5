"""RELIABILITY B15 and B3: malformed requests get a 4xx with the API's JSON error body; never
a 500 and never one of Django's HTML pages from under /api/."""

import json

import pytest
from django.test import Client

from brands.models import Role
from tests.api.conftest import api_for
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

PAST_64_BITS = 2**64 + 1


@pytest.fixture
def marketer(catalog):
    workspace, brand, products, formats = catalog
    client = api_for(MembershipFactory(workspace=workspace, role=Role.MARKETER))
    body = {"name": "Launch", "brand": brand.pk, "products": [p.pk for p in products],
            "formats": [formats[0].pk], "variants_per_slot": 1}
    response = client.post("campaigns/", body)
    assert response.status_code == 201, response.content
    client.campaign = response.json()
    return client


def json_error(response, status: int) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def test_B15_options_on_a_view_without_an_object_answers_the_allowed_methods(marketer):
    response = marketer.client.options(marketer.url("members/me/notifications/"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body["allowed_methods"]) == {"GET", "HEAD", "PUT"}
    assert body["schema"] == "/api/schema/"


def test_B15_options_on_an_action_and_a_detail_url_never_fail(marketer):
    campaign = marketer.campaign["id"]
    for path in (f"campaigns/{campaign}/generate/", f"campaigns/{campaign}/",
                 "campaigns/", "assets/review-queue/"):
        response = marketer.client.options(marketer.url(path))
        assert response.status_code == 200, (path, response.content)
        assert "GET" in response.json()["allowed_methods"] or path.endswith("generate/")


def test_B15_slot_ids_past_64_bits_are_a_field_error(marketer):
    response = marketer.post(f"campaigns/{marketer.campaign['id']}/generate/",
                             {"slots": [PAST_64_BITS]})
    body = json_error(response, 400)
    assert "slots" in body["errors"]


def test_B15_related_ids_past_64_bits_are_a_field_error(marketer):
    response = marketer.post("campaigns/", {"name": "Other", "brand": PAST_64_BITS,
                                            "products": [-1], "formats": [PAST_64_BITS]})
    body = json_error(response, 400)
    assert {"brand", "products", "formats"} <= set(body["errors"])


def test_B15_asset_ids_past_64_bits_are_a_field_error(catalog):
    approver = api_for(MembershipFactory(workspace=catalog[0], role=Role.APPROVER))
    response = approver.post("assets/bulk-approve/", {"assets": [PAST_64_BITS]})
    assert "assets" in json_error(response, 400)["errors"]


@pytest.mark.parametrize("path, name", [
    ("jobs/?campaign={big}", "campaign"), ("assets/?campaign={big}", "campaign"),
    ("assets/?slot=abc", "slot"), ("assets/?live=maybe", "live"),
    ("assets/?review_state=lost", "review_state"), ("jobs/?status=sleeping", "status"),
    ("campaigns/?status=old", "status"), ("templates/?kind=flyer", "kind"),
    ("campaigns/?page_size=0", "page_size"), ("campaigns/?page_size=abc", "page_size"),
    ("campaigns/?page_size=201", "page_size"), ("campaigns/?page=-1", "page"),
])
def test_B15_invalid_filters_and_page_sizes_are_refused_naming_the_parameter(
        marketer, path, name):
    response = marketer.get(path.format(big=PAST_64_BITS))
    assert json_error(response, 400)["errors"] == {name: response.json()["errors"][name]}


def test_valid_filters_still_filter(marketer):
    assert marketer.get("campaigns/", {"status": "draft", "page_size": 1}).json()["count"] == 1
    assert marketer.get("jobs/", {"campaign": marketer.campaign["id"]}).json()["count"] == 0
    assert marketer.get("assets/", {"live": "false", "stale": "true"}).json()["count"] == 0


def test_B15_json_nested_5000_deep_is_a_400(marketer):
    body = "[" * 5000 + "]" * 5000
    response = marketer.client.post(marketer.url("campaigns/"), body,
                                    content_type="application/json")
    assert "nested" in json_error(response, 400)["detail"]
    shallow = "[" * 65 + "]" * 65
    response = marketer.client.post(marketer.url("campaigns/"), shallow,
                                    content_type="application/json")
    assert "nested" in json_error(response, 400)["detail"]


def test_B15_malformed_json_is_a_400(marketer):
    response = marketer.client.post(marketer.url("campaigns/"), "{'name': ",
                                    content_type="application/json")
    json_error(response, 400)


@pytest.mark.parametrize("path", ["campaigns/abc/", f"campaigns/{PAST_64_BITS}/",
                                  "campaigns/0/", "no-such-collection/",
                                  "brands/1/logos/abc/file/"])
def test_B15_a_non_integer_or_oversized_id_is_a_json_404(marketer, path):
    json_error(marketer.get(path), 404)


def test_B15_an_unknown_api_url_is_a_json_404_and_the_dashboard_keeps_html():
    json_error(Client().get("/api/v2/nothing/"), 404)
    page = Client().get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


def test_B15_an_unsupported_body_type_is_a_json_415(marketer):
    response = marketer.client.post(marketer.url("campaigns/"), "name=x",
                                    content_type="application/x-www-form-urlencoded")
    json_error(response, 415)


def test_B3_a_json_body_over_the_limit_is_a_json_413(marketer, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = json.dumps({"name": "x" * 2000})
    response = marketer.client.post(marketer.url("campaigns/"), body,
                                    content_type="application/json")
    assert "too large" in json_error(response, 413)["detail"]


def test_B3_any_body_over_the_request_limit_is_a_json_413_under_api(marketer, settings):
    settings.ADSTUDIO_MAX_REQUEST_BYTES = 512
    response = marketer.client.post(marketer.url("products/import/"),
                                    {"file": ("feed.csv", b"x" * 1000)})
    assert "too large" in json_error(response, 413)["detail"]


def test_a_crash_under_api_answers_json_500(rf):
    from api.errors import server_error

    response = server_error(rf.get("/api/v1/workspaces/"))
    assert response.status_code == 500
    assert json.loads(response.content)["detail"].startswith("Something went wrong")


def test_B3_a_form_field_over_the_memory_limit_in_an_upload_is_a_json_413(catalog, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    admin = api_for(MembershipFactory(workspace=catalog[0], role=Role.ADMIN))
    response = admin.post(f"brands/{catalog[1].pk}/logos/", {"name": "x" * 5000}, files=True)
    assert "too large" in json_error(response, 413)["detail"]
