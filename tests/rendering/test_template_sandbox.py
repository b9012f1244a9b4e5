"""B13: the template language is bounded: what loops go over, filter arguments, work, output."""

import pytest
from django.core.exceptions import ValidationError

from rendering.compose.prompts import compose_prompt, validate_template_body
from rendering.models import PromptTemplate, RenderJob
from rendering.templates import prompt_template_save
from tests.factories import BrandKitFactory, ProductFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

LONG = '"' + "a" * 150 + '"'
# The issue's attacks: 3.4 M loop steps; megabytes of digits; a 500; a 500 after saving.
NESTED_LITERAL_LOOPS = (f"{{% for a in {LONG} %}}{{% for b in {LONG} %}}{{% for c in {LONG} %}}"
                        "x{% endfor %}{% endfor %}{% endfor %}")
ATTACKS = {
    NESTED_LITERAL_LOOPS: "A loop can only go over a list field",
    "{{ product.price|floatformat:999999 }}": "takes a whole number from -6 to 6, not 999999",
    "{{ product.price|floatformat:9999999 }}": "takes a whole number from -6 to 6, not 9999999",
    "{{ product.price|floatformat:evil }}": "Unknown field 'evil'",
    "{% if evil %}x{% endif %}": "Unknown field 'evil'",
    "{% with x=evil %}{{ x }}{% endwith %}": "Unknown field 'evil'",
}


def _messages(body) -> list[str]:
    with pytest.raises(ValidationError) as excinfo:
        validate_template_body(body)
    return excinfo.value.messages


def _compose(body, **product_fields):
    workspace = WorkspaceFactory()
    brand = BrandKitFactory(workspace=workspace)
    product = ProductFactory(workspace=workspace, **product_fields)
    template = PromptTemplate(workspace=workspace, name="Spring", body=body)
    return compose_prompt(template=template, brand=brand, product=product).prompt


@pytest.mark.parametrize(("body", "message"), ATTACKS.items())
def test_B13_the_issue_attacks_are_refused_at_save_with_a_reason(body, message):
    workspace = WorkspaceFactory()
    with pytest.raises(ValidationError) as excinfo:
        prompt_template_save(user=None, workspace=workspace, name="t", kind="banner", body=body)
    assert any(message in m for m in excinfo.value.messages), excinfo.value.messages
    assert not PromptTemplate.objects.filter(workspace=workspace).exists()


@pytest.mark.parametrize(("body", "message"), [
    ('{% for c in "abc" %}{{ c }}{% endfor %}', "not \"abc\""),
    ("{% for c in product.name %}{{ c }}{% endfor %}", "not product.name"),
    ("{% for f in product.features %}{% for c in f %}{% endfor %}{% endfor %}", "not f"),
    ("{% for f in product.features|first %}{% endfor %}", "cut with slice, not with 'first'"),
    ("{% for a, b in product.features %}{% endfor %}", "one plain name for the item"),
    ("{% for product in product.features %}{% endfor %}", "'product' is a field name"),
    ("{% for a in brand.colors %}{% for b in brand.colors %}{% for c in brand.colors %}"
     "{% endfor %}{% endfor %}{% endfor %}", "nested 2 deep at most"),
    ("{% for f in product.features %}{% endfor %}{{ f }}", "Unknown field 'f'"),
    ("{{ forloop.counter }}", "Unknown field 'forloop.counter'"),
])
def test_B13_loops_only_go_over_list_fields_two_deep(body, message):
    messages = _messages(body)
    assert any(message in m for m in messages), messages


def test_B13_loops_over_list_fields_with_forloop_and_slice_render():
    body = ("{% for f in product.features|slice:\":2\" reversed %}{{ f|upper }}"
            "{% if not forloop.last %}, {% endif %}{% endfor %}; "
            "{% for k in brand.style_keywords %}{% for f in product.features %}"
            "{{ forloop.counter }}{% endfor %}{% endfor %}")
    prompt = _compose(body, features=["light", "warm", "dry"])
    assert prompt.startswith("WARM, LIGHT; 123123123")


@pytest.mark.parametrize(("body", "message"), [
    ("{{ product.price|floatformat:-7 }}", "from -6 to 6, not -7"),
    ('{{ product.price|floatformat:"999999g" }}', "from -6 to 6, not 999999"),
    ("{{ product.price|floatformat:format.width }}", "a number written in the template"),
    ("{{ product.description|truncatechars:99999 }}", "from 0 to 4000, not 99999"),
    ("{{ product.description|truncatewords:evil }}", "Unknown field 'evil'"),
    ('{{ product.name|slice:"::0" }}', "takes a slice like"),
    ('{{ product.name|slice:":99999" }}', "numbers from -1000 to 1000"),
    ('{{ product.slogan|default:"' + "x" * 300 + '" }}', "at most 200 characters"),
    ("{{ product.features|join:brand.secret }}", "Unknown field 'brand.secret'"),
    ("{{ product.name|yesno:product.features }}", "takes a text, not the list"),
    ("{% if product.name|truncatechars:evil %}x{% endif %}", "Unknown field 'evil'"),
    ("{% firstof product.slogan evil %}", "Unknown field 'evil'"),
])
def test_B13_filter_arguments_are_checked_against_each_filters_spec(body, message):
    messages = _messages(body)
    assert any(message in m for m in messages), messages


def test_B13_filter_arguments_in_range_render():
    prompt = _compose('{{ product.price|floatformat:1 }} {{ product.price|floatformat:"-3" }} '
                      "{{ product.slogan|default:product.name }} {{ product.name|slice:\":4\" }} "
                      "{{ product.features|join:brand.name }}",
                      name="Lamp", price="12.50", slogan="", features=["a", "b"])
    assert prompt.startswith("12.5 12.500 Lamp Lamp aBrand")


def test_B13_render_stops_past_the_work_budget_with_a_reason():
    # Valid at save time, but 100 x 100 loop steps for this product: refused, not run.
    body = ("{% for a in product.features %}{% for b in product.features %}{% endfor %}"
            "{% endfor %}")
    validate_template_body(body)
    with pytest.raises(ValidationError, match="The template Spring does too much work"):
        _compose(body, features=[f"f{n}" for n in range(100)])


def test_B13_render_stops_conditions_that_write_nothing_but_burn_cpu():
    # 400 loop steps x 100 conditions over a 5,000-character field: seconds if run whole.
    condition = "{% if product.description|title|length > 5 %}{% endif %}"
    body = ("{% for a in product.features %}{% for b in product.features %}"
            + condition * 60 + "{% endfor %}{% endfor %}")
    validate_template_body(body)
    with pytest.raises(ValidationError, match="takes too long to render|does too much work"):
        _compose(body, description="word " * 1000, features=[f"f{n}" for n in range(20)])


def test_B13_render_stops_past_the_output_limit_with_a_reason():
    body = "{% for f in product.features %}{{ product.description }}{% endfor %}"
    with pytest.raises(ValidationError, match="gives more than 8,000 characters"):
        _compose(body, description="d" * 5000, features=["a", "b"])


@pytest.mark.parametrize("body", ATTACKS)
def test_B13_a_template_stored_before_the_bounds_is_refused_when_composed(body):
    with pytest.raises(ValidationError) as excinfo:
        _compose(body)
    assert any(m.startswith("The template Spring needs fixing:") and ATTACKS[body] in m
               for m in excinfo.value.messages), excinfo.value.messages


def test_B13_a_copy_line_stored_before_the_bounds_is_refused_when_composed():
    from rendering.compose.ad_copy import compose_copy

    workspace = WorkspaceFactory()
    template = PromptTemplate(workspace=workspace, name="t", body="x",
                              headline="{{ product.price|floatformat:evil }}",
                              cta="{{ product.price|floatformat:9999999 }}")
    with pytest.raises(ValidationError, match="The headline needs fixing: Unknown field 'evil'"):
        compose_copy(template=template, brand=BrandKitFactory(workspace=workspace),
                     product=ProductFactory(workspace=workspace))


@pytest.mark.parametrize("where", ["body", "headline"])
def test_B13_generate_with_a_stored_bad_template_is_refused_and_queues_nothing(where):
    from campaigns.services import campaign_create, campaign_generate
    from rendering.models import Format

    workspace = WorkspaceFactory()
    fmt = Format.objects.filter(workspace=None).order_by("id").first()
    fields = {"body": "A {{ product.name }}", where: "{{ product.price|floatformat:9999999 }}"}
    bad = PromptTemplate.objects.create(workspace=workspace, kind=fmt.kind, name="Old", **fields)
    campaign = campaign_create(workspace=workspace, user=None, name="Spring",
                               brand=BrandKitFactory(workspace=workspace),
                               products=[ProductFactory(workspace=workspace)], formats=[fmt],
                               templates=[bad])
    with pytest.raises(ValidationError, match="needs fixing: Filter 'floatformat' takes a whole"):
        campaign_generate(campaign=campaign, user=None)
    assert not RenderJob.objects.exists()
