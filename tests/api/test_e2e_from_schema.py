"""An outside client drives AdStudio from its OpenAPI schema, over HTTP, with a Bearer token:
create a brand, import a feed, add a template, create a campaign, generate, wait for the
renders, approve, export. Operations are looked up by operationId, never by hard-coded paths.
"""

from __future__ import annotations

import io
import time
import uuid
import zipfile
from urllib.parse import urljoin

import pytest
import requests

from api.tokens import api_token_create
from brands.models import Role
from tests.factories import MembershipFactory, WorkspaceFactory

FEED = (
    "id,title,price,description,product_highlight\n"
    "TS-1,Trail Shoe,89.00 USD,Light and fast,grippy sole\n"
    "RJ-2,Rain Jacket,129.00 USD,Stays dry,taped seams\n"
)


class SchemaClient:
    """Calls operations by operationId, checking each answer against the documented one."""

    def __init__(self, base: str, schema: dict, ws: str):
        self.base, self.schema, self.ws = base, schema, ws
        self.operations = {
            op["operationId"]: (path, method, op)
            for path, item in schema["paths"].items()
            for method, op in item.items() if isinstance(op, dict) and "operationId" in op
        }

    def _component(self, ref: str) -> dict:
        return self.schema["components"]["schemas"][ref.rsplit("/", 1)[1]]

    def call(self, operation_id: str, token: str, *, expect: int, params=None, json=None,
             files=None, headers=None, **path_params):
        path, method, op = self.operations[operation_id]
        url = self.base + path.format(ws=self.ws, **path_params)
        response = requests.request(
            method, url, params=params, json=json, files=files, timeout=120,
            allow_redirects=False,  # a documented redirect is an answer of its own
            headers={"Authorization": f"Bearer {token}", **(headers or {})})
        assert response.status_code == expect, (operation_id, response.text)
        documented = op["responses"][str(expect)]
        content = documented.get("content", {}).get("application/json")
        if content is not None:
            body = response.json()
            schema = content["schema"]
            if "$ref" in schema:
                component = self._component(schema["$ref"])
                missing = set(component.get("required", [])) - set(body)
                assert not missing, (operation_id, missing)
            return body
        return response


@pytest.mark.django_db(transaction=True)
def test_outside_client_runs_a_campaign_from_the_openapi_schema(live_server, tiny_model):
    workspace = WorkspaceFactory()
    marketer = api_token_create(
        membership=MembershipFactory(workspace=workspace, role=Role.MARKETER),
        name="e2e").secret
    admin = api_token_create(
        membership=MembershipFactory(workspace=workspace, role=Role.ADMIN), name="e2e").secret
    approver = api_token_create(
        membership=MembershipFactory(workspace=workspace, role=Role.APPROVER), name="e2e").secret

    schema = requests.get(f"{live_server.url}/api/schema/?format=json", timeout=60).json()
    assert schema["openapi"].startswith("3.")
    api = SchemaClient(live_server.url, schema, workspace.slug)

    brand = api.call("brands_create", admin, expect=201, json={
        "name": "Acme Outdoor", "palette": [{"name": "Ocean", "hex": "#0A4F8C",
                                             "role": "primary"}],
        "style_keywords": ["clean", "sunlit"], "languages": ["en"]})
    queued_import = api.call("products_import_create", marketer, expect=202,
                             files={"file": ("feed.csv", FEED.encode(), "text/csv")})
    for _ in range(100):  # a cpu worker imports it (in-process here): poll its progress
        report = api.call("products_imports_retrieve", marketer, expect=200,
                          import_id=queued_import["id"])
        if report["status"] not in ("queued", "running"):
            break
        time.sleep(0.1)
    assert report["status"] == "succeeded"
    assert report["rows_created"] == 2 and report["rows_failed"] == 0
    products = api.call("products_list", marketer, expect=200)["results"]
    api.call("templates_create", marketer, expect=201, json={
        "name": "Banner", "kind": "banner",
        "body": "A banner for {{ product.name }} by {{ brand.name }}"})
    preview = api.call("templates_preview_unsaved", marketer, expect=200, json={
        "body": "{{ product.name }}", "brand": brand["id"], "product": products[0]["id"]})
    assert preview["prompt"].startswith(products[0]["name"])
    formats = api.call("formats_list", marketer, expect=200, params={"page_size": 200})
    banner = next(f for f in formats["results"] if f["key"] == "gdn-medium-rectangle")
    campaign = api.call("campaigns_create", marketer, expect=201, json={
        "name": "Spring", "brand": brand["id"], "products": [p["id"] for p in products],
        "formats": [banner["id"]], "variants_per_slot": 1})

    key = str(uuid.uuid4())
    queued = api.call("campaigns_generate_create", marketer, expect=202, json={},
                      headers={"Idempotency-Key": key}, campaign_id=campaign["id"])
    replay = api.call("campaigns_generate_create", marketer, expect=202, json={},
                      headers={"Idempotency-Key": key}, campaign_id=campaign["id"])
    assert replay == queued and queued["count"] == 2

    deadline = time.monotonic() + 120
    while True:
        jobs = api.call("jobs_list", marketer, expect=200,
                        params={"campaign": campaign["id"]})["results"]
        if all(job["status"] in ("succeeded", "failed", "cancelled") for job in jobs):
            break
        assert time.monotonic() < deadline, jobs
        time.sleep(0.5)
    assert len(jobs) == 2 and {job["status"] for job in jobs} == {"succeeded"}

    assets = api.call("assets_list", approver, expect=200,
                      params={"campaign": campaign["id"], "review_state": "in_review"})
    assert assets["count"] == 2
    for asset in assets["results"]:
        detail = api.call("assets_retrieve", approver, expect=200, asset_id=asset["id"])
        assert detail["recipe"]["output_size"] == [300, 250]
        approval = api.call("assets_approve_create", approver, expect=200,
                            json={"sha256": detail["sha256"]}, asset_id=asset["id"])
        assert approval["to_state"] == "approved"
    redirect = api.call("assets_download_retrieve", marketer, expect=302,
                        asset_id=assets["results"][0]["id"])
    png = requests.get(urljoin(live_server.url, redirect.headers["Location"]), timeout=60)
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"

    link = api.call("campaigns_export_create", marketer, expect=200,
                    campaign_id=campaign["id"])["url"]
    download = requests.get(link, timeout=60)  # the signed link is the permission
    assert download.status_code == 200
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        pngs = [name for name in archive.namelist() if name.endswith(".png")]
    assert len(pngs) == 2
