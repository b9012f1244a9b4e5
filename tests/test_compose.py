"""docker-compose.yml, .env.example, the Dockerfile and adstudio/settings/ agree with each other."""

import json
import re
from pathlib import Path

import pytest
import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text()
COMPOSE = yaml.safe_load(COMPOSE_TEXT)
SERVICES = COMPOSE["services"]
# The AdStudio processes: everything built from this repository's Dockerfile.
APP_SERVICES = {name: s for name, s in SERVICES.items() if "build" in s}
# Used by docker-compose.yml itself (domains, the database password), never by adstudio/settings/.
COMPOSE_ONLY = {"SITE_DOMAIN", "FILES_DOMAIN", "POSTGRES_PASSWORD"}


def settings_variables() -> set[str]:
    source = "\n".join(path.read_text()
                        for path in sorted((ROOT / "adstudio" / "settings").glob("*.py")))
    return set(re.findall(r"\benv(?:\.\w+)?\(\s*\"([A-Z][A-Z0-9_]*)\"", source))


def example_variables() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))


def interpolated_variables() -> set[str]:
    return set(re.findall(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*)", COMPOSE_TEXT))


def flag(command: list[str], *names: str) -> str | None:
    for i, part in enumerate(command):
        if part in names:
            return command[i + 1]
    return None


def test_the_settings_read_variables_and_the_parser_finds_them():
    found = settings_variables()
    assert {"DATABASE_URL", "REDIS_URL", "ADSTUDIO_S3_BUCKET", "DJANGO_SECRET_KEY"} <= found


def test_env_example_lists_every_variable_settings_reads():
    missing = settings_variables() - example_variables()
    assert not missing, f"add to .env.example (with the default): {sorted(missing)}"


def test_env_example_lists_nothing_settings_no_longer_reads():
    stale = example_variables() - settings_variables() - COMPOSE_ONLY
    assert not stale, f"not read by adstudio/settings/ any more: {sorted(stale)}"


@pytest.mark.parametrize("service", sorted(APP_SERVICES))
def test_every_variable_compose_passes_exists_in_settings_and_env_example(service):
    passed = set(APP_SERVICES[service].get("environment") or {})
    assert passed, service
    assert passed <= settings_variables(), passed - settings_variables()
    assert passed <= example_variables(), passed - example_variables()
    assert APP_SERVICES[service]["env_file"] == ".env"


def test_every_variable_compose_interpolates_is_in_env_example():
    missing = interpolated_variables() - example_variables()
    assert not missing, missing
    assert interpolated_variables() - settings_variables() <= COMPOSE_ONLY


def test_exactly_one_beat():
    beats = [name for name, s in APP_SERVICES.items()
             if "beat" in s["command"] or "-B" in s["command"] or "--beat" in s["command"]]
    assert beats == ["beat"]
    assert SERVICES["beat"].get("deploy", {}).get("replicas", 1) == 1


def test_the_gpu_worker_takes_one_job_at_a_time_from_the_gpu_queue():
    worker = SERVICES["gpu-worker"]
    command = worker["command"]
    assert command[:4] == ["celery", "-A", "adstudio", "worker"]
    assert flag(command, "-Q", "--queues") == "gpu"
    assert flag(command, "-c", "--concurrency") == "1"
    assert flag(command, "--prefetch-multiplier") == "1"
    [device] = worker["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and device["count"] == 1
    assert "cu" in worker["build"]["args"]["TORCH_INDEX_URL"]  # a CUDA build of torch


def test_every_queue_a_task_is_routed_to_has_a_worker():
    served = set()
    for service in APP_SERVICES.values():
        queues = flag(service["command"], "-Q", "--queues")
        served |= set(queues.split(",")) if queues else set()
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    assert routed | {settings.CELERY_TASK_DEFAULT_QUEUE} <= served
    assert flag(SERVICES["cpu-worker"]["command"], "-Q") == "cpu,default"


def test_redis_keeps_every_message():
    command = SERVICES["redis"]["command"]
    assert flag(command, "--appendonly") == "yes"
    assert flag(command, "--maxmemory-policy") == "noeviction"


@pytest.mark.parametrize(("service", "path"), [
    ("postgres", "/var/lib/postgresql/data"), ("redis", "/data"), ("seaweedfs", "/data"),
    ("gpu-worker", "/models"),
])
def test_state_lives_on_named_volumes(service, path):
    mounts = dict(volume.split(":")[::-1][-2:] for volume in SERVICES[service]["volumes"])
    assert mounts[path] in COMPOSE["volumes"]


@pytest.mark.parametrize("service", ["postgres", "redis", "seaweedfs", "web", "gpu-worker",
                                     "cpu-worker"])
def test_services_have_health_checks(service):
    assert SERVICES[service]["healthcheck"]["test"]


def test_app_services_wait_for_healthy_services_and_migrations():
    for name in ("web", "gpu-worker", "cpu-worker", "beat"):
        depends = SERVICES[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}, name
        for service in ("postgres", "redis", "seaweedfs"):
            assert depends[service] == {"condition": "service_healthy"}, name


def test_the_store_has_one_identity_allowed_only_its_bucket():
    text = COMPOSE["configs"]["seaweedfs-identities"]["content"]
    values = {"ADSTUDIO_S3_ACCESS_KEY_ID": "k", "ADSTUDIO_S3_SECRET_ACCESS_KEY": "s",
              "ADSTUDIO_S3_BUCKET": "b"}
    config = json.loads(re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], text))
    [identity] = config["identities"]
    assert identity["credentials"] == [{"accessKey": "k", "secretKey": "s"}]
    assert identity["actions"] and all(a.endswith(":b") for a in identity["actions"])
    assert "anonymous" not in text
    command = SERVICES["seaweedfs"]["command"]
    assert "-s3.config=/etc/seaweedfs/s3.json" in command


def test_the_dockerfile_builds_a_non_root_cpu_image_by_default():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.MULTILINE)
    assert re.search(r'^ARG TORCH_INDEX_URL="https://download\.pytorch\.org/whl/cpu"$',
                     dockerfile, re.MULTILINE)
    assert "fonts-dejavu-core" in dockerfile and "fonts-noto-cjk" in dockerfile
    users = re.findall(r"^USER (\S+)$", dockerfile, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
