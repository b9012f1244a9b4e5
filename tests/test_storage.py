"""Stored files: a private bucket on a real S3-compatible server (SeaweedFS, which checks
signatures) and the local folder, both reached only by signed links that expire (P5)."""

import hashlib
import io
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image

from campaigns.services import campaign_create, campaign_generate
from core.files import PrivateS3Storage, file_url
from rendering.jobs.run import render_next
from rendering.models import Asset, JobStatus, RenderJob
from tests.factories import PASSWORD, MembershipFactory

ROOT = Path(__file__).resolve().parent.parent


def fetch(url: str) -> tuple[int, bytes, dict]:
    """GET ``url`` as a browser would: no credentials but what the URL carries."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def png_bytes(size=(8, 6)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "#c0ffee").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def s3_storage(settings, seaweedfs):
    """The default storage is the private bucket on SeaweedFS, as ADSTUDIO_S3_BUCKET makes it."""
    settings.ADSTUDIO_FILE_URL_SECONDS = 300
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "core.files.PrivateS3Storage", "OPTIONS": seaweedfs.storage_options()}}
    assert isinstance(default_storage, PrivateS3Storage)
    return seaweedfs


def stored(content: bytes, suffix=".png") -> str:
    return default_storage.save(f"ws/1/tests/{uuid.uuid4().hex}{suffix}", ContentFile(content))


# --- Object storage ---


def test_upload_and_presigned_download(s3_storage):
    content = png_bytes()
    name = stored(content)
    head = s3_storage.client().head_object(Bucket=s3_storage.bucket, Key=name)
    assert head["ContentLength"] == len(content) and head["ContentType"] == "image/png"
    url = file_url(name, filename="banner.png")
    assert url.startswith(f"{s3_storage.endpoint_url}/{s3_storage.bucket}/{name}?")
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=300" in url
    status, body, headers = fetch(url)
    assert status == 200 and body == content
    assert headers["Content-Type"] == "image/png"
    assert 'filename="banner.png"' in headers["Content-Disposition"]


def test_P5_expired_presigned_url_is_denied(s3_storage):
    name = stored(b"expires")
    with time_machine.travel(time.time() - 301, tick=False):
        old = file_url(name)  # issued 301 s ago, valid for 300 s
    status, body, _ = fetch(old)
    assert status == 403 and b"expired" in body
    assert fetch(file_url(name))[0] == 200  # the same object, a fresh link


def test_P5_tampered_presigned_url_is_denied(s3_storage):
    name, other = stored(b"mine"), stored(b"someone else's")
    url = file_url(name)
    signature = url.split("X-Amz-Signature=")[1][:64]
    flipped = ("0" if signature[-1] != "0" else "1")
    assert fetch(url.replace(signature, signature[:-1] + flipped))[0] == 403
    assert fetch(url.replace(name, other))[0] == 403  # a valid signature for another key
    assert fetch(url.replace("X-Amz-Expires=300", "X-Amz-Expires=86400"))[0] == 403
    assert fetch(url)[:2] == (200, b"mine")


def test_P5_unsigned_url_is_denied(s3_storage):
    name = stored(b"private")
    assert fetch(f"{s3_storage.endpoint_url}/{s3_storage.bucket}/{name}")[0] == 403
    assert fetch(f"{s3_storage.endpoint_url}/{s3_storage.bucket}/")[0] == 403  # no listing


def test_P5_stored_objects_get_no_public_acl(s3_storage):
    sent = []
    client = default_storage.connection.meta.client
    handler = client.meta.events.register(
        "before-call.s3.PutObject", lambda params, **_: sent.append(params["headers"]))
    try:
        name = stored(png_bytes())
    finally:
        client.meta.events.unregister("before-call.s3.PutObject", handler)
    assert sent and not any("x-amz-acl" in {k.lower() for k in h} for h in sent)
    grants = s3_storage.client().get_object_acl(Bucket=s3_storage.bucket, Key=name)["Grants"]
    public = {"http://acs.amazonaws.com/groups/global/AllUsers",
              "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"}
    assert not [g for g in grants if g["Grantee"].get("URI") in public]


def test_presigned_urls_name_the_public_endpoint_browsers_use(settings, seaweedfs):
    public = seaweedfs.endpoint_url.replace("127.0.0.1", "localhost")
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "core.files.PrivateS3Storage",
        "OPTIONS": seaweedfs.storage_options(public_endpoint_url=public)}}
    name = stored(b"via the public address")
    url = file_url(name)
    assert url.startswith(f"{public}/")
    assert fetch(url)[:2] == (200, b"via the public address")
    # The host is part of what was signed: the same link at another address is refused.
    assert fetch(url.replace(public, seaweedfs.endpoint_url))[0] == 403


@pytest.mark.django_db
def test_storage_faults_are_oserrors_and_the_health_check_names_them(client, settings,
                                                                       seaweedfs):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "core.files.PrivateS3Storage", "OPTIONS": seaweedfs.storage_options()}}
    healthy = client.get(reverse("healthz"))
    assert healthy.status_code == 200 and healthy.json()["storage"] == "ok"
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "core.files.PrivateS3Storage",
        "OPTIONS": seaweedfs.storage_options(secret_key="not-the-secret")}}
    with pytest.raises(OSError, match="object storage failed"):
        stored(b"refused")
    broken = client.get(reverse("healthz"))
    assert broken.status_code == 503 and broken.json()["storage"] == "failed: OSError"


def test_settings_switch_to_the_private_bucket_when_ADSTUDIO_S3_BUCKET_is_set(seaweedfs,
                                                                             tmp_path):
    script = (
        "import django; django.setup()\n"
        "from django.core.files.base import ContentFile\n"
        "from django.core.files.storage import default_storage\n"
        "from core.files import file_url\n"
        "name = default_storage.save('settings/hello.txt', ContentFile(b'from settings'))\n"
        "print(type(default_storage._wrapped).__name__, file_url(name))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ADSTUDIO_", "DJANGO_"))}
    public = seaweedfs.endpoint_url.replace("127.0.0.1", "localhost")
    env.update(DJANGO_SETTINGS_MODULE="adstudio.settings", ADSTUDIO_VAR_DIR=str(tmp_path),
               ADSTUDIO_S3_BUCKET=seaweedfs.bucket, ADSTUDIO_S3_ENDPOINT_URL=seaweedfs.endpoint_url,
               ADSTUDIO_S3_PUBLIC_URL=public, ADSTUDIO_S3_ACCESS_KEY_ID=seaweedfs.access_key,
               ADSTUDIO_S3_SECRET_ACCESS_KEY=seaweedfs.secret_key, ADSTUDIO_FILE_URL_SECONDS="120")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    backend, url = result.stdout.split()[-2:]
    assert backend == "PrivateS3Storage"
    assert url.startswith(f"{public}/{seaweedfs.bucket}/settings/") and "X-Amz-Expires=120" in url
    assert fetch(url)[:2] == (200, b"from settings")


# --- A render on object storage, end to end ---


@pytest.fixture
def queued_job(catalog, tiny_model):
    workspace, brand, products, formats = catalog
    campaign = campaign_create(workspace=workspace, user=None, name="c", brand=brand,
                               products=products[:1], formats=formats[:1])
    return campaign_generate(campaign=campaign, user=None, seed=99).jobs[0]


def test_a_render_is_stored_in_the_bucket_and_served_by_a_presigned_link(
        s3_storage, queued_job, client, media_root):
    [asset] = render_next()
    bucket = s3_storage.client()
    for key, content_type in ((asset.file.name, "image/png"),
                              (asset.thumbnail.name, "image/webp")):
        assert bucket.head_object(Bucket=s3_storage.bucket, Key=key)["ContentType"] == \
            content_type
    png = bucket.get_object(Bucket=s3_storage.bucket, Key=asset.file.name)["Body"].read()
    assert hashlib.sha256(png).hexdigest() == asset.sha256
    assert not media_root.exists() or not any(media_root.rglob("*.png"))  # nothing local

    member = MembershipFactory(workspace=asset.workspace)
    assert client.login(username=member.user.username, password=PASSWORD)
    response = client.get(reverse("asset-file", kwargs={"ws": asset.workspace.slug,
                                                        "asset_id": asset.pk}))
    assert response.status_code == 302
    assert response["Location"].startswith(f"{s3_storage.endpoint_url}/{s3_storage.bucket}/")
    status, body, headers = fetch(response["Location"])
    assert status == 200 and body == png and headers["Content-Type"] == "image/png"
    with Image.open(io.BytesIO(body)) as image:
        assert image.size == (asset.width, asset.height)


def test_F13_a_render_whose_bucket_refuses_the_write_is_queued_again(settings, seaweedfs,
                                                                     queued_job):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "core.files.PrivateS3Storage",
        "OPTIONS": seaweedfs.storage_options(secret_key="not-the-secret")}}
    assert render_next() == []
    job = RenderJob.objects.get(pk=queued_job.pk)
    assert job.status == JobStatus.QUEUED and job.attempt == 1
    assert job.error.startswith("Could not store the image")
    assert not Asset.objects.filter(job=job).exists()


# --- The local folder (the embedded default) ---


def test_local_files_are_served_by_a_signed_link(client, settings):
    settings.ADSTUDIO_FILE_URL_SECONDS = 300
    content = png_bytes()
    url = file_url(stored(content), filename="logo.png")
    assert url.startswith("/files/")
    response = client.get(url)  # no session: the signature is the permission
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["Content-Disposition"] == 'inline; filename="logo.png"'


def test_P5_a_tampered_or_unsigned_local_link_is_denied(client):
    url = file_url(stored(b"local"))
    token = url.removeprefix("/files/")
    payload, _, signature = token.rpartition(":")
    flipped = "A" if signature[0] != "A" else "B"
    assert client.get(f"/files/{payload}:{flipped}{signature[1:]}").status_code == 403
    other = file_url(stored(b"another")).removeprefix("/files/")
    assert client.get(f"/files/{payload}:{other.rpartition(':')[2]}").status_code == 403
    assert client.get("/files/ws/1/tests/x.png").status_code == 404  # not even a route
    assert client.get("/files/not-a-token").status_code == 403
    assert client.get(url).status_code == 200


def test_P5_an_expired_local_link_is_denied(client, settings):
    settings.ADSTUDIO_FILE_URL_SECONDS = 300
    url = file_url(stored(b"soon gone"))
    with time_machine.travel(time.time() + 299, tick=False):
        assert client.get(url).status_code == 200
    with time_machine.travel(time.time() + 301, tick=False):
        response = client.get(url)
    assert response.status_code == 403 and b"expired" in response.content


def test_a_valid_link_to_a_deleted_file_is_404(client):
    name = stored(b"deleted")
    url = file_url(name)
    default_storage.delete(name)
    assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_dashboard_file_urls_check_the_workspace_then_redirect_to_a_signed_link(client, catalog):
    workspace = catalog[0]
    job = RenderJob.objects.create(workspace=workspace, recipe={})
    name = stored(png_bytes())
    asset = Asset.objects.create(workspace=workspace, job=job, file=name, thumbnail=name,
                                 width=8, height=6, sha256="0", recipe={})
    member = MembershipFactory(workspace=workspace)
    client.force_login(member.user)
    response = client.get(reverse("asset-file", kwargs={"ws": workspace.slug,
                                                        "asset_id": asset.pk}))
    assert response.status_code == 302 and response["Location"].startswith("/files/")
    assert response["Cache-Control"] == "private, max-age=150"
    assert client.get(response["Location"]).status_code == 200
    stranger = MembershipFactory()
    client.force_login(stranger.user)
    assert client.get(reverse("asset-file", kwargs={"ws": stranger.workspace.slug,
                                                    "asset_id": asset.pk})).status_code == 404
