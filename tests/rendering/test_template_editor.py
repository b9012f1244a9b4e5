"""B13 through the dashboard: the template editor's preview and save, and generate."""

import pytest
from django.urls import reverse

from brands.models import Role
from rendering.models import Format, PromptTemplate, RenderJob
from tests.factories import PASSWORD, BrandKitFactory, MembershipFactory, ProductFactory
from tests.rendering.test_template_sandbox import ATTACKS

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketer(client):
    membership = MembershipFactory(role=Role.MARKETER)
    assert client.post(reverse("login"), {"username": membership.user.username,
                                          "password": PASSWORD}).status_code == 302
    return membership


def url(name, membership, **kwargs):
    return reverse(name, kwargs={"ws": membership.workspace.slug, **kwargs})


def _body_errors(response) -> list[str]:
    return list(response.context["form"].errors.get("body", []))


@pytest.mark.parametrize(("body", "message"), ATTACKS.items())
def test_B13_editor_preview_and_save_refuse_the_attacks(client, marketer, body, message):
    ws = marketer.workspace
    fields = {"name": "Banner", "kind": "banner", "body": body,
              "preview-product": ProductFactory(workspace=ws).pk,
              "preview-brand": BrandKitFactory(workspace=ws).pk, "preview-language": "en"}
    preview = client.post(url("template-create", marketer), {**fields, "preview": "1"})
    assert preview.status_code == 400
    assert any(message in m for m in _body_errors(preview)), _body_errors(preview)
    saved = client.post(url("template-create", marketer), {**fields, "save": "1"})
    assert saved.status_code == 400
    assert any(message in m for m in _body_errors(saved)), _body_errors(saved)
    assert not PromptTemplate.objects.exists()


def test_B13_a_stored_bad_template_opens_in_the_editor_and_its_preview_says_why(client,
                                                                               marketer):
    ws = marketer.workspace
    bad = PromptTemplate.objects.create(workspace=ws, kind="banner", name="Old",
                                        body="{{ product.price|floatformat:9999999 }}")
    assert client.get(url("template-edit", marketer, template_id=bad.pk)).status_code == 200
    preview = client.post(url("template-edit", marketer, template_id=bad.pk), {
        "name": "Old", "kind": "banner", "body": bad.body, "preview": "1",
        "preview-product": ProductFactory(workspace=ws).pk,
        "preview-brand": BrandKitFactory(workspace=ws).pk, "preview-language": "en"})
    assert preview.status_code == 400
    assert any("from -6 to 6, not 9999999" in m for m in _body_errors(preview))


def test_B13_generate_from_the_dashboard_with_a_stored_bad_template_says_why(client, marketer):
    from campaigns.services import campaign_create

    ws = marketer.workspace
    fmt = Format.objects.filter(workspace=None).order_by("id").first()
    bad = PromptTemplate.objects.create(
        workspace=ws, kind=fmt.kind, name="Old",
        body=next(body for body in ATTACKS if body.startswith("{% for")))
    campaign = campaign_create(workspace=ws, user=marketer.user, name="Spring",
                               brand=BrandKitFactory(workspace=ws),
                               products=[ProductFactory(workspace=ws)], formats=[fmt],
                               templates=[bad])
    response = client.post(url("campaign-generate", marketer, campaign_id=campaign.pk),
                           follow=True)
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert any("The template Old needs fixing: A loop can only go over a list field" in m
               for m in shown), shown
    assert not RenderJob.objects.exists()


def test_the_editor_saves_an_image_template_with_its_picture_or_nothing(client, marketer):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (640, 400), (40, 120, 90)).save(buffer, format="PNG")
    fields = {"name": "Picture", "kind": "banner", "body": "unused", "background": "image",
              "text_mode": "overlay", "headline": "{{ product.name }}", "save": "1"}
    bad = client.post(url("template-create", marketer), {
        **fields, "background_image": SimpleUploadedFile("x.svg", b"<svg/>")})
    assert bad.status_code == 400
    assert "SVG" in str(bad.context["form"].errors) or "svg" in str(bad.context["form"].errors)
    assert not PromptTemplate.objects.filter(name="Picture").exists()  # nothing half-saved
    saved = client.post(url("template-create", marketer), {
        **fields, "background_image": SimpleUploadedFile("wall.png", buffer.getvalue())})
    assert saved.status_code == 302
    template = PromptTemplate.objects.get(name="Picture")
    assert template.background == "image" and template.background_image_sha256
