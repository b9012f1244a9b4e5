"""B13 through the REST API: template create, preview (saved and unsaved) and generate."""

import pytest

from rendering.models import Format, PromptTemplate, RenderJob
from tests.factories import BrandKitFactory, ProductFactory
from tests.rendering.test_template_sandbox import ATTACKS


def _errors(response) -> list[str]:
    return [m for messages in response.json().get("errors", {}).values() for m in messages]


@pytest.mark.parametrize(("body", "message"), ATTACKS.items())
def test_B13_api_create_and_unsaved_preview_refuse_the_attacks(marketer, body, message):
    ws = marketer.membership.workspace
    created = marketer.post("templates/", {"name": "Bad", "kind": "banner", "body": body})
    assert created.status_code == 400
    assert any(message in m for m in created.json()["errors"]["body"]), created.json()
    preview = marketer.post("templates/preview/", {
        "body": body, "brand": BrandKitFactory(workspace=ws).pk,
        "product": ProductFactory(workspace=ws).pk})
    assert preview.status_code == 400
    assert any(message in m for m in preview.json()["errors"]["body"]), preview.json()
    assert not PromptTemplate.objects.exists()


@pytest.mark.parametrize(("body", "message"), ATTACKS.items())
def test_B13_api_preview_of_a_stored_bad_template_is_a_400_with_the_reason(marketer, body,
                                                                          message):
    ws = marketer.membership.workspace
    bad = PromptTemplate.objects.create(workspace=ws, kind="banner", name="Old", body=body)
    response = marketer.post(f"templates/{bad.pk}/preview/", {
        "brand": BrandKitFactory(workspace=ws).pk, "product": ProductFactory(workspace=ws).pk})
    assert response.status_code == 400
    assert any("The template Old needs fixing" in m and message in m
               for m in _errors(response)), response.json()


def test_B13_api_generate_with_a_stored_bad_template_is_a_400_and_queues_nothing(marketer):
    from campaigns.services import campaign_create

    ws = marketer.membership.workspace
    fmt = Format.objects.filter(workspace=None).order_by("id").first()
    bad = PromptTemplate.objects.create(workspace=ws, kind=fmt.kind, name="Old",
                                        body="A {{ product.name }}",
                                        headline="{{ product.price|floatformat:evil }}")
    campaign = campaign_create(workspace=ws, user=marketer.membership.user, name="Spring",
                               brand=BrandKitFactory(workspace=ws),
                               products=[ProductFactory(workspace=ws)], formats=[fmt],
                               templates=[bad])
    response = marketer.post(f"campaigns/{campaign.pk}/generate/", {})
    assert response.status_code == 400
    assert "The headline needs fixing: Unknown field 'evil'" in response.json()["detail"]
    assert not RenderJob.objects.exists()
