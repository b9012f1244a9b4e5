"""F15: files a killed process left without a row are swept after a grace period, on the
local media folder and on a real S3 server; a referenced file, or a young one, never is."""

import io
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from PIL import Image

from adstudio.orphan_files import orphan_files_sweep, referenced_file_names
from adstudio.tasks import sweep_orphan_files
from brands.services import product_photo_add
from campaigns.models import Slot
from core.files import PrivateS3Storage
from rendering.models import Format
from tests.factories import CampaignFactory, ProductFactory, asset_make
from tests.services import wait_for

ROOT = Path(__file__).resolve().parent.parent
GRACE = 3600
DAY_AGO = time.time() - 86400


def png_bytes(size=(32, 24)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "#c0ffee").save(buffer, format="PNG")
    return buffer.getvalue()


def saved(name: str, content: bytes) -> str:
    return default_storage.save(name, ContentFile(content))


def exists(name: str) -> bool:
    return default_storage.exists(name)


@pytest.fixture
def stored_rows(db):
    """A rendered asset (file and thumbnail) and a product photo, as the services store them."""
    product = ProductFactory()
    campaign = CampaignFactory(workspace=product.workspace)
    slot = Slot.objects.create(campaign=campaign, product=product,
                               format=Format.objects.get(key="meta-story"))
    asset = asset_make(slot=slot)
    photo = product_photo_add(user=None, product=product,
                              uploaded=SimpleUploadedFile("p.png", png_bytes()))
    return [asset.file.name, asset.thumbnail.name, photo.file.name]


def age(media_root: Path, *names: str, when: float = DAY_AGO) -> None:
    for name in names:
        os.utime(media_root / name, (when, when))


# --- Local media folder ---


def test_F15_old_orphans_go_referenced_and_young_files_stay(stored_rows, media_root):
    ws = stored_rows[0].split("/")[1]
    full = png_bytes()
    truncated = saved(f"ws/{ws}/assets/991/1/{uuid.uuid4().hex}.png", full[: len(full) // 2])
    orphan = saved(f"ws/{ws}/logos/{uuid.uuid4().hex}.png", full)
    young = saved(f"ws/{ws}/assets/992/1/{uuid.uuid4().hex}.png", full)
    not_ours = saved("elsewhere/kept.txt", b"an operator's file")
    age(media_root, *stored_rows, truncated, orphan, not_ours)  # old, but referenced

    report = orphan_files_sweep(grace_seconds=GRACE)

    assert not exists(truncated) and not exists(orphan)
    assert all(exists(name) for name in stored_rows)
    assert exists(young) and exists(not_ours)
    assert (report.scanned, report.referenced, report.young, report.removed) == (6, 3, 1, 2)
    assert report.removed_bytes == len(full) // 2 + len(full) and report.failed == 0


def test_F15_nothing_younger_than_the_grace_period_is_removed(stored_rows, media_root):
    ws = stored_rows[0].split("/")[1]
    orphan = saved(f"ws/{ws}/fonts/{uuid.uuid4().hex}.ttf", b"font")
    age(media_root, orphan, when=time.time() - GRACE + 60)
    assert orphan_files_sweep(grace_seconds=GRACE).removed == 0 and exists(orphan)
    age(media_root, orphan, when=time.time() - GRACE - 60)
    assert orphan_files_sweep(grace_seconds=GRACE).removed == 1 and not exists(orphan)


def test_F15_dry_run_counts_and_removes_nothing(stored_rows, media_root, capsys):
    ws = stored_rows[0].split("/")[1]
    orphan = saved(f"ws/{ws}/photos/{uuid.uuid4().hex}.png", b"x" * 10)
    age(media_root, orphan)
    call_command("sweep_orphan_files", "--dry-run", "--grace-seconds", str(GRACE))
    assert "Would remove (dry run): scanned 4, referenced 3, young 0, removed 1, " \
           "removed_bytes 10" in capsys.readouterr().out
    assert exists(orphan)
    call_command("sweep_orphan_files", "--grace-seconds", str(GRACE))
    assert not exists(orphan)


def test_F15_every_file_field_of_every_model_counts_as_a_reference(stored_rows):
    assert set(stored_rows) <= referenced_file_names()


def test_F15_a_row_committed_after_the_listing_keeps_its_file(stored_rows, media_root,
                                                             monkeypatch):
    # A writer slower than the grace period commits its row while the sweep runs.
    from adstudio import orphan_files
    from rendering.models import Asset

    late = saved(f"ws/{stored_rows[0].split('/')[1]}/assets/993/1/late.png", png_bytes())
    age(media_root, late)
    original = orphan_files.referenced_file_names

    def references_then_a_late_commit():
        names = original()
        Asset.objects.filter(file=stored_rows[0]).update(file=late)
        return names

    monkeypatch.setattr(orphan_files, "referenced_file_names", references_then_a_late_commit)
    report = orphan_files.orphan_files_sweep(grace_seconds=GRACE)
    assert exists(late) and report.removed == 0


def test_F15_the_sweep_is_a_beat_task_on_the_cpu_queue(settings, stored_rows, media_root):
    assert sweep_orphan_files.name == "adstudio.sweep_orphan_files"
    assert settings.CELERY_TASK_ROUTES["adstudio.sweep_orphan_files"] == {"queue": "cpu"}
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-orphan-files"]
    assert entry["task"] == "adstudio.sweep_orphan_files"
    assert entry["options"]["expires"] == entry["schedule"]  # missed ticks do not pile up
    grace, render = (settings.ADSTUDIO_ORPHAN_FILE_GRACE_SECONDS,
                     settings.ADSTUDIO_RENDER_HARD_TIME_LIMIT)
    assert grace >= 10 * render  # far longer than any render and its storage write
    orphan = saved("health/left-behind.txt", b"ok")
    age(media_root, orphan)
    sweep_orphan_files.apply()  # as a worker runs it
    assert not exists(orphan) and all(exists(name) for name in stored_rows)


WRITER = """
import sys, time, django
django.setup()
from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile

class Stalls:
    def __init__(self, data):
        self.data = data
    def chunks(self, chunk_size=None):
        yield self.data[: len(self.data) // 2]
        print("half written", flush=True)
        time.sleep(600)  # killed here
        yield self.data[len(self.data) // 2:]

class StallingStorage(FileSystemStorage):  # the real local write, its source stalled halfway
    def _save(self, name, content):
        return super()._save(name, Stalls(content.read()))

settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "__main__.StallingStorage"}}
from brands.models import Product
from brands.services import product_photo_add

with open(sys.argv[2], "rb") as photo:
    product_photo_add(user=None, product=Product.objects.get(pk=int(sys.argv[1])),
                      uploaded=SimpleUploadedFile("photo.png", photo.read()))
"""


def database_url() -> str:
    """This test session's database, for another process."""
    from django.db import connection

    database = connection.settings_dict
    if database["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{database['NAME']}"
    return (f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST']}:"
            f"{database['PORT']}/{database['NAME']}")


@pytest.mark.django_db(transaction=True)
def test_F15_a_service_killed_mid_write_leaves_no_row_and_a_file_the_sweep_removes(
        media_root, tmp_path):
    from brands.models import ProductPhoto

    product = ProductFactory()
    kept = product_photo_add(user=None, product=product,
                             uploaded=SimpleUploadedFile("p.png", png_bytes()))
    noise = Image.frombytes("RGB", (300, 300), os.urandom(300 * 300 * 3))
    noise.save(tmp_path / "photo.png")  # ~270 kB: the half written reaches the disk
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ADSTUDIO_", "DJANGO_"))}
    env.update(DJANGO_SETTINGS_MODULE="adstudio.settings", ADSTUDIO_VAR_DIR=str(tmp_path),
               ADSTUDIO_MEDIA_ROOT=str(media_root), DATABASE_URL=database_url())
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(product.pk),
                               str(tmp_path / "photo.png")], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "half written", writer.stderr.read()[-3000:]
        writer.send_signal(signal.SIGKILL)
        assert writer.wait(timeout=30) == -signal.SIGKILL
    finally:
        writer.kill()
    [partial] = [path for path in (media_root / f"ws/{product.workspace_id}/photos").iterdir()
                 if path.name != Path(kept.file.name).name]
    assert 0 < partial.stat().st_size < (tmp_path / "photo.png").stat().st_size
    assert list(ProductPhoto.objects.values_list("file", flat=True)) == [kept.file.name]

    assert orphan_files_sweep(grace_seconds=GRACE).removed == 0  # too young yet
    report = orphan_files_sweep(grace_seconds=GRACE,
                                now=timezone.now() + timedelta(seconds=GRACE + 1))
    assert not partial.exists() and report.removed == 1
    assert exists(kept.file.name)


# --- Object storage (SeaweedFS, a real S3 server) ---


@pytest.fixture
def s3_storage(settings, seaweedfs):
    """The private bucket, under a prefix of this test's own (the bucket is shared)."""
    options = seaweedfs.storage_options(location=f"f15-{uuid.uuid4().hex[:8]}")
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "core.files.PrivateS3Storage", "OPTIONS": options}}
    assert isinstance(default_storage, PrivateS3Storage)
    return seaweedfs, options


def test_F15_on_s3_old_orphans_go_referenced_and_young_objects_stay(s3_storage, stored_rows):
    # s3_storage comes first: stored_rows' services write their files to the bucket.
    seaweedfs, options = s3_storage
    ws = stored_rows[0].split("/")[1]
    full = png_bytes()
    truncated = saved(f"ws/{ws}/assets/995/1/{uuid.uuid4().hex}.png", full[:40])
    orphan = saved(f"ws/{ws}/logos/{uuid.uuid4().hex}.png", full)
    time.sleep(1.1)  # S3 times have one-second resolution
    moment = timezone.now()
    time.sleep(1.1)
    young = saved(f"ws/{ws}/assets/996/1/{uuid.uuid4().hex}.png", full)

    report = orphan_files_sweep(grace_seconds=0, now=moment)

    assert not exists(truncated) and not exists(orphan)
    assert exists(young) and all(exists(name) for name in stored_rows)
    assert (report.scanned, report.referenced, report.young, report.removed) == (6, 3, 1, 2)
    assert report.removed_bytes == 40 + len(full)
    report = orphan_files_sweep(grace_seconds=0, now=timezone.now() + timedelta(seconds=5))
    assert (report.scanned, report.referenced, report.removed) == (4, 3, 1)
    assert all(exists(name) for name in stored_rows) and not exists(young)
    prefix = options["location"] + "/"
    keys = [obj["Key"] for obj in seaweedfs.client().list_objects_v2(
        Bucket=seaweedfs.bucket, Prefix=prefix).get("Contents", [])]
    assert sorted(keys) == sorted(prefix + name for name in stored_rows)


S3_WRITER = """
import json, sys, time, django
django.setup()
from core.files import PrivateS3Storage

class Stalls:  # a large file (multipart upload) whose writer is killed after its first part
    closed = False

    def __init__(self):
        self.sent = 0
    def seekable(self):
        return False
    def read(self, size=-1):
        if self.sent >= 8 * 1024 * 1024:
            time.sleep(600)
        block = b"\\0" * min(size if size > 0 else 1 << 20, 8 * 1024 * 1024 - self.sent)
        self.sent += len(block)
        return block

PrivateS3Storage(**json.loads(sys.argv[2])).save(sys.argv[1], Stalls())
"""


def test_F15_on_s3_a_writer_killed_mid_upload_leaves_parts_the_sweep_aborts(
        s3_storage, stored_rows, tmp_path):
    seaweedfs, options = s3_storage
    name = f"ws/{stored_rows[0].split('/')[1]}/assets/997/1/{uuid.uuid4().hex}.png"
    key = f"{options['location']}/{name}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ADSTUDIO_", "DJANGO_"))}
    env.update(DJANGO_SETTINGS_MODULE="adstudio.settings", ADSTUDIO_VAR_DIR=str(tmp_path))
    writer = subprocess.Popen([sys.executable, "-c", S3_WRITER, name, json.dumps(options)],
                              cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    client = seaweedfs.client()

    def uploading():
        uploads = client.list_multipart_uploads(Bucket=seaweedfs.bucket,
                                                Prefix=key).get("Uploads", [])
        return uploads and client.list_parts(Bucket=seaweedfs.bucket, Key=key,
                                             UploadId=uploads[0]["UploadId"]).get("Parts")

    try:
        wait_for(uploading, timeout=60, what="the writer to upload its first part")
        writer.send_signal(signal.SIGKILL)
        assert writer.wait(timeout=30) == -signal.SIGKILL
    finally:
        writer.kill()
    assert not exists(name)  # an unfinished upload is no object, and holds no row
    report = orphan_files_sweep(grace_seconds=GRACE)
    assert report.aborted_uploads == 0  # too young yet
    report = orphan_files_sweep(grace_seconds=GRACE,
                                now=timezone.now() + timedelta(seconds=GRACE + 1))
    assert report.aborted_uploads == 1
    assert not client.list_multipart_uploads(Bucket=seaweedfs.bucket,
                                             Prefix=key).get("Uploads")
