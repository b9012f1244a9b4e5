"""P11: an install with no DJANGO_SECRET_KEY signs with a random key of its own, made on first
start and kept under ADSTUDIO_VAR_DIR, never with a key published in the code."""

import os
import stat
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from adstudio.secret_key import secret_key_read_or_create
from brands.models import Role
from core.files import file_url
from tests.factories import CampaignFactory, MembershipFactory

ROOT = Path(__file__).resolve().parent.parent
# What settings.py signed with before P11, and the placeholder .env.example publishes.
OLD_PUBLISHED_KEY = "insecure-dev-key-set-DJANGO_SECRET_KEY"
ENV_EXAMPLE_KEY = "change-me-to-50-random-characters"
SCRIPT = "from django.conf import settings; print(settings.SECRET_KEY)"


def start(var_dir: Path, **extra) -> subprocess.CompletedProcess:
    """Import the settings in a fresh process, as web, a worker or beat does at start."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ADSTUDIO_", "DJANGO_"))}
    env.update(DJANGO_SETTINGS_MODULE="adstudio.settings", ADSTUDIO_VAR_DIR=str(var_dir), **extra)
    return subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def key_of(var_dir: Path, **extra) -> str:
    result = start(var_dir, **extra)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.split()[-1]


def test_P11_a_fresh_install_makes_a_random_key_and_keeps_it(tmp_path):
    first = key_of(tmp_path / "install-a")
    kept = tmp_path / "install-a" / "secret_key"
    assert kept.read_text().strip() == first
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert first != OLD_PUBLISHED_KEY and OLD_PUBLISHED_KEY not in first
    assert len(first) >= 50 + len("django-insecure-")
    assert key_of(tmp_path / "install-a") == first  # the second start reads the same key
    assert key_of(tmp_path / "install-b") != first  # another install has its own
    assert [p.name for p in (tmp_path / "install-a").iterdir()
            if "secret_key" in p.name] == ["secret_key"]  # no temporary file left behind


def test_P11_a_configured_key_is_used_and_nothing_is_written(tmp_path):
    configured = "k" * 60
    assert key_of(tmp_path, DJANGO_SECRET_KEY=configured) == configured
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize("published", [OLD_PUBLISHED_KEY, ENV_EXAMPLE_KEY])
def test_P11_a_key_published_with_adstudio_is_refused(tmp_path, published):
    result = start(tmp_path, DJANGO_SECRET_KEY=published)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is a value published with AdStudio" in result.stderr


def test_P11_production_still_needs_an_explicit_key(tmp_path):
    result = start(tmp_path, ADSTUDIO_PRODUCTION="1")
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr
    assert not (tmp_path / "secret_key").exists()  # no generated key in production


def test_P11_processes_starting_at_once_agree_on_one_key(tmp_path):
    path = tmp_path / "var" / "secret_key"
    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = set(pool.map(lambda _: secret_key_read_or_create(path=path), range(32)))
    assert len(keys) == 1 and path.read_text().strip() in keys
    assert sorted(p.name for p in path.parent.iterdir()) == ["secret_key"]


def test_P11_links_signed_with_the_old_published_key_are_refused(client, db, settings):
    assert settings.SECRET_KEY != OLD_PUBLISHED_KEY
    name = default_storage.save("ws/1/tests/p11.txt", ContentFile(b"private"))
    assert client.get(file_url(name)).status_code == 200  # a link the install signed works
    forged_file = signing.dumps({"k": name, "e": int(time.time()) + 300, "f": None},
                                key=OLD_PUBLISHED_KEY, salt="core.files", compress=True)
    assert client.get(f"/files/{forged_file}").status_code == 403

    member = MembershipFactory(role=Role.ADMIN)
    campaign = CampaignFactory(workspace=member.workspace)
    forged_export = signing.dumps({"c": campaign.pk, "u": member.user_id},
                                  key=OLD_PUBLISHED_KEY, salt="adstudio.campaign-export",
                                  compress=True)
    response = client.get(f"/exports/{forged_export}/")
    assert response.status_code == 403 and b"not valid" in response.content
