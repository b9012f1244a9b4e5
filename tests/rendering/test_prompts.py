import pytest
from django.core.exceptions import ValidationError

from rendering.compose.prompts import POSITIVE_MAGIC, compose_prompt, validate_template_body
from rendering.models import PromptTemplate
from rendering.templates import prompt_template_save
from tests.factories import BrandKitFactory, ProductFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("body", [
    "{{ product.cost_price }}",
    "{{ product.workspace.memberships }}",
    "{{ brand.workspace.slug }}",
    "{{ user.password }}",
    "{{ settings.SECRET_KEY }}",
])
def test_B11_unknown_fields_rejected_at_save_time(body):
    workspace = WorkspaceFactory()
    with pytest.raises(ValidationError, match="Unknown field"):
        prompt_template_save(user=None, workspace=workspace, name="t", kind="banner", body=body)
    assert not PromptTemplate.objects.filter(workspace=workspace).exists()


@pytest.mark.parametrize(("body", "message"), [
    ("{{ product.__class__.__mro__ }}", "may not begin with underscores"),
    ("{% load static %}", "'{% load %}' is not allowed"),
    ("{% include 'base.html' %}", "'{% include %}' is not allowed"),
    ("{% extends 'base.html' %}", "'{% extends %}' is not allowed"),
    ("{% debug %}", "'{% debug %}' is not allowed"),
    ("{% url 'admin:index' %}", "'{% url %}' is not allowed"),
    ("{{ product.name|safe }}", "Filter 'safe' is not allowed"),
    ("{{ product.name|pprint }}", "Filter 'pprint' is not allowed"),
    ("{% for x in product.features %}{{ x.__dict__ }}{% endfor %}", "underscores"),
    ("{% if product.name %}open", "Unclosed tag"),
])
def test_B11_python_internals_and_unsafe_tags_rejected(body, message):
    with pytest.raises(ValidationError) as excinfo:
        validate_template_body(body)
    assert any(message in m for m in excinfo.value.messages), excinfo.value.messages


def test_B11_if_conditions_are_checked_too():
    with pytest.raises(ValidationError, match="Unknown field 'product.secret'"):
        validate_template_body("{% if product.secret == 1 %}x{% endif %}")


def test_template_with_loops_and_conditions_is_accepted_and_versioned():
    workspace = WorkspaceFactory()
    body = ("{{ product.name|upper }} {% for f in product.features %}{{ f }}, {% endfor %}"
            "{% if product.slogan %}“{{ product.slogan }}”{% endif %}")
    template = prompt_template_save(user=None, workspace=workspace, name="t", kind="banner",
                                    body=body)
    assert template.version == 1
    same = prompt_template_save(user=None, workspace=workspace, template=template, name="t renamed",
                                kind="banner", body=body)
    assert same.version == 1  # a rename is not a new version of the prompt
    changed = prompt_template_save(user=None, workspace=workspace, template=template, name="t",
                                   kind="banner", body=body + " at dawn")
    assert changed.version == 2
    assert list(changed.revisions.values_list("version", flat=True).order_by("version")) == [1, 2]


def _compose(body, language="en", **brand_fields):
    workspace = WorkspaceFactory()
    brand = BrandKitFactory(workspace=workspace, **brand_fields)
    product = ProductFactory(workspace=workspace, name="Trail Tent", slogan="Home & away",
                             features=["1.4 kg", "3-minute pitch"])
    template = PromptTemplate(workspace=workspace, body=body, negative_prompt="text errors")
    return compose_prompt(template=template, brand=brand, product=product, language=language)


def test_composed_prompt_has_fields_language_suffix_and_negatives():
    composed = _compose(
        'Banner for {{ product.name }} by {{ brand.name }}: "{{ product.slogan }}", '
        '{{ product.features|join:", " }}.'
    )
    assert composed.prompt.startswith('Banner for Trail Tent by Brand')
    assert '"Home & away"' in composed.prompt  # no HTML escaping in prompts
    assert "1.4 kg, 3-minute pitch" in composed.prompt
    assert composed.prompt.endswith(POSITIVE_MAGIC["en"])
    assert composed.negative_prompt == "blurry, low quality, watermark, text errors"


def test_chinese_prompt_gets_the_chinese_suffix():
    composed = _compose("{{ product.name }}的海报", language="zh")
    assert composed.prompt == "Trail Tent的海报" + POSITIVE_MAGIC["zh"]


def test_banned_term_in_the_composed_prompt_is_refused():
    with pytest.raises(ValidationError, match="banned term 'tent'"):
        _compose("A cheap {{ product.name }}", banned_terms=["tent"])


def test_unsupported_language_is_refused_with_the_choices():
    with pytest.raises(ValidationError, match="Use one of: en, zh"):
        _compose("{{ product.name }}", language="xx")


def test_a_template_a_campaign_chose_cannot_be_deleted():
    from brands.models import AuditEvent
    from rendering.templates import prompt_template_delete
    from tests.factories import CampaignFactory

    workspace = WorkspaceFactory()
    template = prompt_template_save(user=None, workspace=workspace, name="t", kind="banner",
                                    body="x")
    campaign = CampaignFactory(workspace=workspace, name="Spring")
    campaign.templates.add(template)
    with pytest.raises(ValidationError, match="chosen in the campaign “Spring”"):
        prompt_template_delete(template=template, user=None)
    assert PromptTemplate.objects.filter(pk=template.pk).exists()
    campaign.templates.clear()
    prompt_template_delete(template=template, user=None)
    assert not PromptTemplate.objects.exists()
    assert list(AuditEvent.objects.order_by("id").values_list("verb", flat=True)) == [
        "template.created", "template.deleted"]
    event = AuditEvent.objects.get(verb="template.deleted")
    assert (event.verb, event.object_id, event.data["name"]) == ("template.deleted",
                                                                  template.pk, "t")
