"""RELIABILITY P9: an X-Forwarded-For written by the client never picks its own throttle
counter; with a trusted proxy, only the address that proxy appended counts."""

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from core.addresses import client_address
from tests.factories import PASSWORD, UserFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def anon_limit(settings):
    settings.ADSTUDIO_API_ANON_RATE = "3/minute"
    return settings


def api_get(url: str, forwarded: str, token: str | None = None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return Client(headers=headers).get(url, REMOTE_ADDR="198.51.100.20",
                                       HTTP_X_FORWARDED_FOR=forwarded)


def statuses(url: str, forwarded_values, token: str | None = None) -> list[int]:
    return [api_get(url, forwarded, token).status_code for forwarded in forwarded_values]


def rotating(n: int, suffix: str = "") -> list[str]:
    return [f"203.0.113.{i}{suffix}" for i in range(1, n + 1)]


def test_P9_rotating_x_forwarded_for_does_not_escape_the_anonymous_limit(anon_limit):
    url = f"/api/v1/workspaces/{WorkspaceFactory().slug}/campaigns/"
    assert anon_limit.ADSTUDIO_TRUSTED_PROXY_COUNT == 0
    assert statuses(url, rotating(4)) == [401, 401, 401, 429]


def test_P9_rotating_x_forwarded_for_does_not_escape_the_bad_token_limit(anon_limit):
    url = f"/api/v1/workspaces/{WorkspaceFactory().slug}/campaigns/"
    codes = statuses(url, rotating(4), token="ads_guess_00000000000000000000")
    assert codes == [401, 401, 401, 429]


def test_P7_refused_callers_are_throttled_on_views_outside_a_workspace_too(anon_limit):
    assert statuses("/api/v1/workspaces/", rotating(4)) == [401, 401, 401, 429]


def test_P9_rotating_x_forwarded_for_does_not_escape_the_sign_in_limit(settings):
    settings.ADSTUDIO_LOGIN_IP_ATTEMPTS = 3
    user = UserFactory()
    codes = []
    for n, forwarded in enumerate(rotating(3)):
        response = Client().post(reverse("login"), {"username": f"guess-{n}", "password": "x"},
                                 REMOTE_ADDR="198.51.100.20", HTTP_X_FORWARDED_FOR=forwarded)
        codes.append(response.status_code)
    signed_in = Client().post(reverse("login"), {"username": user.username,
                                                 "password": PASSWORD},
                              REMOTE_ADDR="198.51.100.20", HTTP_X_FORWARDED_FOR="192.0.2.99")
    assert codes == [200, 200, 200] and signed_in.status_code == 429


def test_P9_behind_one_proxy_the_right_most_address_counts(anon_limit):
    anon_limit.ADSTUDIO_TRUSTED_PROXY_COUNT = 1
    url = f"/api/v1/workspaces/{WorkspaceFactory().slug}/campaigns/"
    # The client prepends a new fake each time; our proxy appended the same real address.
    faked = [f"{fake}, 192.0.2.10" for fake in rotating(4)]
    assert statuses(url, faked) == [401, 401, 401, 429]
    # Another real address (another client behind the same proxy) has its own allowance.
    assert statuses(url, ["192.0.2.11"]) == [401]


def test_P9_the_client_address_rule(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2",
                                   HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7, 10.0.0.1")
    settings.ADSTUDIO_TRUSTED_PROXY_COUNT = 0
    assert client_address(request) == "10.0.0.2"
    settings.ADSTUDIO_TRUSTED_PROXY_COUNT = 1
    assert client_address(request) == "10.0.0.1"
    settings.ADSTUDIO_TRUSTED_PROXY_COUNT = 2
    assert client_address(request) == "203.0.113.7"
    settings.ADSTUDIO_TRUSTED_PROXY_COUNT = 4  # fewer entries than proxies: not via them all
    assert client_address(request) == "10.0.0.2"
    garbage = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="evil")
    settings.ADSTUDIO_TRUSTED_PROXY_COUNT = 1
    assert client_address(garbage) == "10.0.0.2"


def test_P9_drf_is_configured_to_trust_no_forwarded_header_by_default(settings):
    from rest_framework.settings import api_settings

    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == 0
    assert api_settings.NUM_PROXIES == 0  # 0: REMOTE_ADDR; None would trust any client
