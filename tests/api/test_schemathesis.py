"""Schemathesis drives every operation of the OpenAPI schema against a live server with
generated requests: no answer may be a server error, and every answer (status code, content
type, body) must be one the schema documents.

Bounded for CI: a fixed number of examples per operation, derandomized (the same requests
on every run), no shrinking. The workspace path parameter and the ids of the seeded objects
are pinned so the requests reach real objects; deletions run last.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from adstudio.celery import app as celery_app
from api.tokens import api_token_create
from brands.models import FeedImport, FeedSource, Role
from campaigns import services as campaign_services
from rendering.models import PromptTemplate
from tests.conftest import use_broker
from tests.factories import MembershipFactory, asset_make

EXAMPLES_PER_OPERATION = 10  # valid requests; as many again that break the schema
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance,
          content_type_conformance]


@pytest.fixture
def no_workers():
    """Renders are queued on a broker nobody reads: generate answers, nothing renders."""
    broker, eager = celery_app.conf.broker_url, celery_app.conf.task_always_eager
    use_broker(celery_app, "memory://", eager=False)
    yield
    use_broker(celery_app, broker, eager=eager)


def _seed(catalog) -> tuple[str, dict]:
    workspace, brand, products, formats = catalog
    admin = MembershipFactory(workspace=workspace, role=Role.ADMIN)
    viewer = MembershipFactory(workspace=workspace, role=Role.VIEWER)
    marketer = MembershipFactory(workspace=workspace, role=Role.MARKETER)
    secret = api_token_create(membership=admin, name="schemathesis").secret
    other_token = api_token_create(membership=admin, name="to revoke").token
    campaign = campaign_services.campaign_create(
        workspace=workspace, user=admin.user, name="Fuzzed", brand=brand,
        products=products, formats=formats[:2], variants_per_slot=1)
    assets = [asset_make(slot=slot, author=marketer.user) for slot in campaign.slots.all()[:3]]
    source = FeedSource.objects.create(workspace=workspace, name="Shop",
                                       url="https://shop.example.com/feed.csv")
    feed_import = FeedImport.objects.create(workspace=workspace, source=source, filename="f")
    ids = {
        "brand_id": [brand.pk], "product_id": [p.pk for p in products],
        "template_id": list(PromptTemplate.objects.filter(workspace=workspace)
                            .values_list("pk", flat=True)[:2]),
        "format_id": [f.pk for f in formats[:2]], "campaign_id": [campaign.pk],
        "token_id": [other_token.pk], "member_id": [viewer.pk],
        "asset_id": [a.pk for a in assets], "job_id": [a.job_id for a in assets],
        "source_id": [source.pk], "import_id": [feed_import.pk],
    }
    return workspace.slug, {"secret": secret, **ids}


def _pin(raw: dict, slug: str, ids: dict[str, list[int]]) -> dict:
    """The schema with ``ws`` fixed to the seeded workspace and seeded ids as the only ids."""
    for item in raw["paths"].values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter["in"] != "path":
                    continue
                if parameter["name"] == "ws":
                    parameter["schema"] = {"type": "string", "enum": [slug]}
                elif parameter["name"] in ids:
                    parameter["schema"] = {"type": "integer", "enum": ids[parameter["name"]]}
    return raw


def _fuzz(operation, base_url: str, headers: dict, answered: Counter,
          mode: GenerationMode) -> list[str]:
    """Run the operation's generated cases; the failures as text, without shrinking them."""
    failures: list[str] = []

    @hypothesis_settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, database=None,
                         deadline=None, phases=[Phase.explicit, Phase.generate],
                         suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        try:
            response = case.call(base_url=base_url, headers=headers, timeout=60,
                                 allow_redirects=False)
            answered[response.status_code] += 1
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as exc:
            failures.append(f"{mode} {operation.method.upper()} {operation.path}: {exc}"[:3000])

    run()
    return failures


@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_no_server_error_and_no_schema_violation(
        live_server, catalog, no_workers, settings):
    settings.ADSTUDIO_API_RATE = "100000/minute"  # the limit itself is tested elsewhere (P7)
    slug, seeded = _seed(catalog)
    headers = {"Authorization": f"Bearer {seeded.pop('secret')}"}
    raw = requests.get(f"{live_server.url}/api/schema/?format=json", timeout=60).json()
    schema = schemathesis.openapi.from_dict(_pin(raw, slug, seeded))

    operations = [result.ok() for result in schema.get_all_operations()]
    operations.sort(key=lambda op: op.method.upper() == "DELETE")  # deletions last
    answered: Counter[int] = Counter()
    started = time.monotonic()
    failures = [failure for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
                for operation in operations
                for failure in _fuzz(operation, live_server.url, headers, answered, mode)]
    cases = sum(answered.values())
    elapsed = time.monotonic() - started
    print(f"schemathesis: {len(operations)} operations, {cases} cases, "
          f"{len(failures)} failures, {elapsed:.0f} s, answers {sorted(answered.items())}")
    assert len(operations) >= 80
    # The cases reached the API as the seeded admin: most got past authentication.
    assert sum(n for code, n in answered.items() if code < 300) >= len(operations)
    assert answered[401] < cases / 10
    assert not failures, "\n\n".join(failures[:10])
