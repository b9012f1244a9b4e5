"""P6 and the health endpoint."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent


def _manage(*args, **env):
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("ADSTUDIO_",
                                                                             "DJANGO_"))}
    environment.update({"DJANGO_SETTINGS_MODULE": "adstudio.settings", **env})
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=120)


def test_P6_check_deploy_is_clean_on_production_settings(tmp_path):
    result = _manage("check", "--deploy", "--fail-level", "WARNING",
                     ADSTUDIO_PRODUCTION="1", DJANGO_SECRET_KEY=secrets.token_urlsafe(60),
                     DJANGO_ALLOWED_HOSTS="ads.example.com", ADSTUDIO_VAR_DIR=str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_P6_production_refuses_the_development_secret_key(tmp_path):
    result = _manage("check", ADSTUDIO_PRODUCTION="1", ADSTUDIO_VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_the_default_settings_would_fail_the_deploy_check(tmp_path):
    # The embedded default is for trying AdStudio, and the check says so.
    result = _manage("check", "--deploy", "--fail-level", "WARNING",
                     ADSTUDIO_VAR_DIR=str(tmp_path))
    assert result.returncode != 0 and "SECRET_KEY" in result.stdout + result.stderr


@pytest.mark.django_db
def test_health_reports_database_broker_and_storage(client, media_root):
    response = client.get(reverse("healthz"))
    body = response.json()
    assert response.status_code == 200
    assert body == {"healthy": True, "database": "ok", "broker": "in-process",
                    "storage": "ok", "render": "in-process (no GPU workers)"}
    assert not list((media_root / "health").iterdir())  # its probe file is gone
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_health_is_503_when_storage_fails(client, settings, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the media folder should be")
    settings.MEDIA_ROOT = blocker
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["storage"].startswith("failed")
