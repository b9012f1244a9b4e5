"""The OpenAPI schema tells integrators the truth: the errors each operation can answer, text
written for them (not internal docstrings), null for a missing URL, refused bad filters, and
uploads as multipart only."""

import re

import pytest

from brands.models import Role
from tests.api.conftest import api_for
from tests.factories import MembershipFactory, ProductFactory

pytestmark = pytest.mark.django_db

ERROR_REF = "#/components/schemas/Error"
# Words and shapes of developer documentation, which must not reach the API reference.
INTERNAL = re.compile(
    r"\bservices?\b|\bselectors?\b|\bmixin|queryset|serializer|docstring|self\.|kwargs|"
    r"\b(?:brands|campaigns|rendering|api|adstudio)\.[a-z_]+\b(?<!\.md)|"
    r"\b[a-z]+_[a-z_]+\(\)", re.IGNORECASE)
CAMEL_CASE = re.compile(r"\b[A-Z][a-z]+[A-Z]\w*")  # class names: WorkspaceScoped
PRODUCT_WORDS = {"AdStudio", "TrueType", "OpenType", "WebP"}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        return Client().get("/api/schema/?format=json").json()


def operations(schema):
    for path, item in schema["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and "operationId" in op:
                yield path, method.upper(), op


def texts(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("description", "summary") and isinstance(value, str):
                yield value
            else:
                yield from texts(value)
    elif isinstance(node, list):
        for value in node:
            yield from texts(value)


def test_every_operation_documents_its_error_answers_with_the_error_body(schema):
    assert schema["components"]["schemas"]["Error"]["required"] == ["detail"]
    for path, method, op in operations(schema):
        responses = op["responses"]
        expected = {"401", "403", "429"}
        if method in ("POST", "PUT", "PATCH") and "requestBody" in op:
            expected |= {"400", "413", "415"}
        if any(p["in"] == "query" for p in op.get("parameters", [])):
            expected.add("400")
        if "{" in path:
            expected.add("404")
        missing = expected - set(responses)
        assert not missing, (op["operationId"], missing)
        for code in expected:
            schema_ref = responses[code]["content"]["application/json"]["schema"]["$ref"]
            assert schema_ref == ERROR_REF, (op["operationId"], code)
        assert "Retry-After" in responses["429"]["headers"]


def test_generate_documents_the_idempotency_conflict(schema):
    generate = schema["paths"]["/api/v1/workspaces/{ws}/campaigns/{campaign_id}/generate/"]
    assert "422" in generate["post"]["responses"]


def test_no_description_is_an_internal_docstring(schema):
    found = {match.group() for text in texts(schema)
             for pattern in (INTERNAL, CAMEL_CASE) for match in pattern.finditer(text)}
    assert found <= PRODUCT_WORDS, found - PRODUCT_WORDS


def test_ids_in_paths_are_integers_in_the_database_range(schema):
    campaign = schema["paths"]["/api/v1/workspaces/{ws}/campaigns/{campaign_id}/"]["get"]
    param = next(p for p in campaign["parameters"] if p["name"] == "campaign_id")
    assert param["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}


def test_page_size_and_filters_document_their_valid_values(schema):
    jobs = schema["paths"]["/api/v1/workspaces/{ws}/jobs/"]["get"]
    params = {p["name"]: p["schema"] for p in jobs["parameters"]}
    assert params["page_size"] == {"type": "integer", "minimum": 1, "maximum": 200}
    assert set(params["status"]["enum"]) == {"queued", "running", "succeeded", "failed",
                                             "cancelled"}
    assert params["campaign"]["maximum"] == 2**63 - 1


def test_uploads_are_multipart_only(schema):
    uploads = [op for _, _, op in operations(schema)
               if "multipart/form-data" in op.get("requestBody", {}).get("content", {})]
    assert {op["operationId"] for op in uploads} >= {
        "brands_fonts_create", "brands_logos_create", "products_photos_create",
        "products_import_create"}
    for _, _, op in operations(schema):
        content = op.get("requestBody", {}).get("content", {})
        assert "application/x-www-form-urlencoded" not in content, op["operationId"]
        assert len(content) <= 1, (op["operationId"], list(content))


def test_a_missing_product_url_is_null_not_an_empty_string(schema, workspace):
    product = schema["components"]["schemas"]["Product"]["properties"]["landing_url"]
    assert product["format"] == "uri" and product["nullable"] is True
    client = api_for(MembershipFactory(workspace=workspace, role=Role.VIEWER))
    listed = ProductFactory(workspace=workspace, landing_url="", image_url="")
    body = client.get(f"products/{listed.pk}/").json()
    assert body["landing_url"] is None and body["image_url"] is None
