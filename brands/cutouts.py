"""The cut-out of every product photo (CREATIVE.md, "The real product is in the ad").

A photo's cut-out is made by the cpu task ``brands.make_cutout`` once the photo's row commits
(services.product_photo_add publishes it), shown on the product page over a checkerboard, and
replaced by hand when it is wrong (``photo_cutout_replace``). The pixels come from the pure
function brands.cutout.cutout_make; this module reads and stores the files and the row.

A cut-out is made from one version of the photo: ``cutout_source_sha256`` is the photo's
``sha256`` it was made from, and a result is written only while the photo still has that file,
so a slow run never puts an old photo's cut-out on a newer one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from brands.audit import audit_record
from brands.cutout import ALPHA, CLASSICAL, MODEL_PREFIX, Cutout, CutoutError, cutout_make
from brands.models import ProductPhoto
from brands.signals import product_cutout_changed
from brands.uploads import UploadRejected, clean_image_upload, storage_key
from core.broker import broker_queue_depth, task_publish
from core.files import files_delete_on_commit

logger = logging.getLogger(__name__)

FOLDER = "cutouts"
TASK = "brands.make_cutout"
UPLOADED = "uploaded"  # cutout_method of a cut-out the user supplied
RECONCILE_AFTER = timedelta(minutes=5)  # a photo this old without a cut-out: its task again
RECONCILE_BATCH = 100
NOT_TRANSPARENT = (
    "A cut-out needs a transparent background: upload a PNG (or WebP) whose background is "
    "see-through. This image has no transparent pixels, so it would cover the whole ad."
)
CUTOUT_FIELDS = (
    "cutout", "cutout_sha256", "cutout_method", "cutout_note", "cutout_box", "cutout_coverage",
    "cutout_source_sha256", "cutout_made_at",
)  # fmt: skip


def photo_cutout_make(*, photo: ProductPhoto) -> ProductPhoto | None:
    """Cut the photo out and store the result on its row; returns the row as it now is (None
    when the photo was deleted meanwhile).

    A photo that already has a cut-out (or a failure note) for its current file is left as it
    is: a duplicate doorbell changes nothing, and a cut-out the user uploaded stays. A photo
    that cannot be cut out (CutoutError) gets the reason as its note and no file. Call it
    outside a transaction: the matting runs before any row is locked.
    """
    photo = ProductPhoto.objects.select_related("product").filter(pk=photo.pk).first()
    if photo is None or _done(photo, photo.sha256):
        return photo
    source_name, source_sha = photo.file.name, photo.sha256
    with default_storage.open(source_name, "rb") as handle:
        data = handle.read()
    try:
        cut = cutout_make(data)
    except CutoutError as exc:
        logger.info("photo %s could not be cut out: %s", photo.pk, exc.message)
        return _settle(photo.pk, source_name, source_sha, cut=None, note=exc.message)
    key = _store(cut.png, workspace_id=photo.product.workspace_id)
    return _settle(photo.pk, source_name, source_sha, cut=cut, key=key, method=cut.method,
                   note=cut.note)


def photo_cutout_replace(*, photo: ProductPhoto, upload, user) -> ProductPhoto:
    """Replace the photo's cut-out with a PNG (or WebP) the user made, checked like any upload
    (brands.uploads) and required to have a transparent background; audited.

    Raises ValidationError with a sentence for the user; nothing changes then.
    """
    try:
        image = clean_image_upload(upload, purpose="photo")
    except UploadRejected as exc:
        raise ValidationError(exc.message, code="upload_rejected") from exc
    if not image.has_alpha:
        raise ValidationError(NOT_TRANSPARENT, code="cutout_not_transparent")
    try:
        # An alpha channel that shows through is used exactly as it is ("alpha"); one that is
        # all but opaque would be matted like a photo, which is not what the user sent.
        cut = cutout_make(image.content, matting=None)
    except CutoutError as exc:  # checked above already; kept so a refusal is never a 500
        raise ValidationError(exc.message, code="upload_rejected") from exc
    if cut.method != ALPHA:
        raise ValidationError(NOT_TRANSPARENT, code="cutout_not_transparent")
    key = _store(cut.png, workspace_id=_workspace_id(photo))
    try:
        with transaction.atomic():
            current = ProductPhoto.objects.select_for_update().get(pk=photo.pk)
            previous = {"method": current.cutout_method, "sha256": current.cutout_sha256}
            old_file = current.cutout.name
            _apply(current, cut=cut, key=key, method=UPLOADED, note=cut.note,
                   source_sha=current.sha256)
            audit_record(
                workspace_id=_workspace_id(current), actor=user,
                verb="product_photo.cutout_replaced", obj=current,
                data={"product": current.product_id, "cutout_sha256": cut.sha256,
                      "coverage": cut.coverage, "previous": previous},
            )
            files_delete_on_commit([old_file] if old_file != key else [])
    except Exception:
        default_storage.delete(key)
        raise
    return current


def method_label(method: str) -> str:
    """How a cut-out was made, in words for the product page ("" when there is none)."""
    if method == ALPHA:
        return "From the photo's own transparency"
    if method == CLASSICAL:
        return "By colour against a plain background (no matting model)"
    if method.startswith(MODEL_PREFIX):
        return f"By the matting model {method.removeprefix(MODEL_PREFIX)}"
    if method == UPLOADED:
        return "Uploaded by hand"
    return method


@dataclass(frozen=True)
class CutoutReconcileReport:
    published: int
    skipped_busy: bool = False


def photo_cutouts_reconcile(*, now=None) -> CutoutReconcileReport:
    """Run by beat (from brands.reconcile_feed_imports): photos older than five minutes that
    have no cut-out for their current file get their task again (a lost doorbell, a worker
    killed mid-run). Nothing is published while the cpu queue already holds a batch, so a
    busy worker is not handed duplicates every minute."""
    route = settings.CELERY_TASK_ROUTES.get(TASK, {})
    depth = broker_queue_depth(route.get("queue", "cpu"))
    if depth is not None and depth >= RECONCILE_BATCH:
        return CutoutReconcileReport(published=0, skipped_busy=True)
    cutoff = (now or timezone.now()) - RECONCILE_AFTER
    due = list(
        ProductPhoto.objects.filter(cutout_made_at__isnull=True, uploaded_at__lt=cutoff)
        .order_by("pk").values_list("pk", flat=True)[:RECONCILE_BATCH]
    )
    for photo_id in due:
        task_publish("brands.make_cutout", args=[photo_id])
    return CutoutReconcileReport(published=len(due))


# --- helpers ------------------------------------------------------------------------------

def _done(photo: ProductPhoto, source_sha: str) -> bool:
    return photo.cutout_made_at is not None and photo.cutout_source_sha256 == source_sha


def _workspace_id(photo: ProductPhoto) -> int:
    return photo.product.workspace_id


def _store(png: bytes, *, workspace_id: int) -> str:
    key = storage_key(workspace_id=workspace_id, folder=FOLDER, extension="png")
    return default_storage.save(key, ContentFile(png))


def _settle(photo_id: int, source_name: str, source_sha: str, *, cut: Cutout | None,
            key: str = "", method: str = "", note: str = "") -> ProductPhoto | None:
    """Write a result for the photo file ``source_name`` (hash ``source_sha``) under the row
    lock, unless the photo has another file now or its cut-out was made meanwhile; a stored
    file that is not kept is removed."""
    kept = False
    try:
        with transaction.atomic():
            current = ProductPhoto.objects.select_for_update().filter(pk=photo_id).first()
            if current is None:
                return None
            if current.file.name != source_name or current.sha256 != source_sha:
                logger.info("photo %s changed while it was cut out; result dropped", photo_id)
                return current
            if _done(current, source_sha):  # another run (or the user) was first
                return current
            old_file = current.cutout.name
            _apply(current, cut=cut, key=key, method=method, note=note, source_sha=source_sha)
            files_delete_on_commit([old_file] if old_file != key else [])
            kept = True
            return current
    finally:
        if key and not kept:
            default_storage.delete(key)


def _apply(photo: ProductPhoto, *, cut: Cutout | None, key: str, method: str, note: str,
           source_sha: str) -> None:
    photo.cutout = key
    photo.cutout_sha256 = cut.sha256 if cut else ""
    photo.cutout_method = method if cut else ""
    photo.cutout_note = note
    photo.cutout_box = (
        {"box": list(cut.box), "crop_box": list(cut.crop_box), "photo_size": list(cut.photo_size)}
        if cut else None
    )
    photo.cutout_coverage = cut.coverage if cut else None
    photo.cutout_source_sha256 = source_sha
    photo.cutout_made_at = timezone.now()
    photo.save(update_fields=list(CUTOUT_FIELDS))
    product_cutout_changed.send(sender=ProductPhoto, product_id=photo.product_id)
