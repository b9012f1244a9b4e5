"""Sign-in brute force is answered with 429 for a cooling-off period (RELIABILITY.md P7)."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import time_machine
from django.test import RequestFactory
from django.urls import reverse

from adstudio.login import client_address
from tests.factories import PASSWORD, UserFactory
from tests.services import RedisServer, free_port

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def limits(settings):
    settings.ADSTUDIO_LOGIN_ATTEMPTS = 3
    settings.ADSTUDIO_LOGIN_IP_ATTEMPTS = 5
    settings.ADSTUDIO_LOGIN_LOCKOUT_SECONDS = 600
    return settings


@pytest.fixture(params=["locmem", "redis"])
def shared_cache(request, settings, tmp_path):
    """The process's memory (the default) and a real Redis (what web processes share)."""
    if request.param == "locmem":
        yield
        return
    redis = RedisServer(tmp_path)
    redis.start()
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": redis.url}}
    yield
    redis.stop()


def sign_in(client, username, password, address="198.51.100.1"):
    return client.post(reverse("login"), {"username": username, "password": password},
                       REMOTE_ADDR=address)


def test_P7_login_brute_force_is_throttled(client, limits, shared_cache):
    user = UserFactory()
    for _ in range(3):
        assert sign_in(client, user.username, "wrong").status_code == 200
    refused = sign_in(client, user.username, PASSWORD)  # even the right password waits
    assert refused.status_code == 429
    assert "Too many failed sign-ins" in refused.content.decode()
    assert "try again in 10 minutes" in refused.content.decode()
    assert 590 <= int(refused["Retry-After"]) <= 600
    assert "_auth_user_id" not in client.session
    with time_machine.travel(time.time() + 601, tick=False):
        assert sign_in(client, user.username, PASSWORD).status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a_correct_sign_in_before_the_limit_works_and_clears_the_count(client, limits):
    user = UserFactory()
    for _ in range(2):
        assert sign_in(client, user.username, "wrong").status_code == 200
    assert sign_in(client, user.username, PASSWORD).status_code == 302
    client.logout()
    for _ in range(2):  # a fresh allowance: the success cleared the username's count
        assert sign_in(client, user.username, "wrong").status_code == 200
    assert sign_in(client, user.username, PASSWORD).status_code == 302


def test_a_locked_username_does_not_lock_out_other_people(client, limits):
    victim, colleague = UserFactory(), UserFactory()
    for _ in range(3):
        sign_in(client, victim.username, "wrong", address="203.0.113.9")
    # The colleague behind the same address signs in: the address has not reached its limit.
    assert sign_in(client, colleague.username, PASSWORD, address="203.0.113.9").status_code == 302
    client.logout()
    # The username lock holds from every address: spreading guesses gains nothing.
    assert sign_in(client, victim.username, PASSWORD, address="192.0.2.77").status_code == 429


def test_P7_one_address_guessing_many_usernames_is_throttled(client, limits):
    user = UserFactory()
    for n in range(5):  # one guess per username stays under each username's limit
        assert sign_in(client, f"guess-{n}", "wrong", address="203.0.113.50").status_code == 200
    assert sign_in(client, user.username, PASSWORD, address="203.0.113.50").status_code == 429
    assert sign_in(client, user.username, PASSWORD, address="192.0.2.1").status_code == 302


def test_sign_in_still_works_when_the_cache_is_down(client, limits, settings):
    settings.CACHES = {"default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        "OPTIONS": {"socket_connect_timeout": 0.5}}}
    user = UserFactory()
    assert sign_in(client, user.username, "wrong").status_code == 200
    assert sign_in(client, user.username, PASSWORD).status_code == 302


def test_the_client_address_comes_from_the_trusted_proxy_only(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2",
                                   HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    settings.ADSTUDIO_TRUSTED_PROXY_COUNT = 0
    assert client_address(request) == "10.0.0.2"  # a client-written header is ignored
    settings.ADSTUDIO_TRUSTED_PROXY_COUNT = 1
    assert client_address(request) == "203.0.113.7"  # what our proxy saw, not 6.6.6.6


def test_the_cache_is_the_redis_of_REDIS_URL_when_set(tmp_path):
    script = ("import django; django.setup(); from django.conf import settings; "
              "print(settings.CACHES['default']['BACKEND'], settings.CACHES['default']"
              ".get('LOCATION', '-'))")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ADSTUDIO_", "DJANGO_", "REDIS_URL", "CACHE_URL"))}
    env.update(DJANGO_SETTINGS_MODULE="adstudio.settings", ADSTUDIO_VAR_DIR=str(tmp_path))

    def cache_for(**extra):
        result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env={**env, **extra},
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr[-2000:]
        return result.stdout.split()[-2:]

    assert cache_for(REDIS_URL="redis://redis:6379/0") == [
        "django.core.cache.backends.redis.RedisCache", "redis://redis:6379/0"]
    assert cache_for(REDIS_URL="redis://redis:6379/0", CACHE_URL="redis://cache:6379/2")[1] \
        == "redis://cache:6379/2"
    assert cache_for()[0] == "django.core.cache.backends.locmem.LocMemCache"
