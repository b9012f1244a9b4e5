"""Catalog tasks: thin (ids in, one service call), with stable names; all on the cpu queue."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


def _malformed(task: str, object_id, args, kwargs) -> bool:
    if isinstance(object_id, int) and not args and not kwargs:
        return False
    logger.error("%s got malformed arguments %r %r %r; ignoring", task, object_id, args, kwargs)
    return True


@shared_task(name="brands.run_feed_import", ignore_result=True, acks_late=True,
             reject_on_worker_lost=True)
def run_feed_import(import_id=None, *args, **kwargs) -> None:
    """The doorbell of a queued import: claim it and run it (a duplicate finds it claimed)."""
    if _malformed("run_feed_import", import_id, args, kwargs):
        return
    from brands.feed_jobs import feed_import_claim
    from brands.feed_run import feed_import_execute

    claim = feed_import_claim(import_id=import_id)
    if claim is not None:
        feed_import_execute(claim=claim)


@shared_task(name="brands.run_feed_source", ignore_result=True)
def run_feed_source(source_id=None, *args, **kwargs) -> None:
    """A feed source's scheduled tick: queue an import (none while one is queued or running)."""
    if _malformed("run_feed_source", source_id, args, kwargs):
        return
    from brands.feed_sources import feed_source_run
    from brands.models import FeedSource

    source = FeedSource.objects.filter(pk=source_id).first()
    if source is not None:
        feed_source_run(source=source, user=None)


@shared_task(name="brands.fetch_product_photo", ignore_result=True, acks_late=True,
             soft_time_limit=300, time_limit=330)
def fetch_product_photo(product_id=None, *args, **kwargs) -> None:
    """Download a product's feed images (image_link, then additional_image_link) as photos."""
    if _malformed("fetch_product_photo", product_id, args, kwargs):
        return
    from brands.models import Product
    from brands.photo_fetch import PhotoFetchError, product_photo_fetch

    product = Product.objects.filter(pk=product_id).first()
    if product is None:
        return
    for url in [product.image_url, *product.additional_image_urls][:11]:
        if not url:
            continue
        try:
            product_photo_fetch(product=product, url=url)
        except PhotoFetchError as exc:  # other photos stay; the next import tries again
            logger.warning("photo of product %s from %s: %s", product_id, url, exc)


@shared_task(name="brands.make_cutout", ignore_result=True, acks_late=True,
             reject_on_worker_lost=True, soft_time_limit=120, time_limit=150)
def make_cutout(photo_id=None, *args, **kwargs) -> None:
    """Cut a product photo out (brands.cutouts); a duplicate finds it done and does nothing."""
    if _malformed("make_cutout", photo_id, args, kwargs):
        return
    from brands.cutouts import photo_cutout_make
    from brands.models import ProductPhoto

    photo = ProductPhoto.objects.filter(pk=photo_id).first()
    if photo is not None:
        photo_cutout_make(photo=photo)


@shared_task(name="brands.reconcile_feed_imports", ignore_result=True)
def reconcile_feed_imports() -> None:
    """Beat, every minute: feed imports of a killed worker run again, and photos whose cut-out
    was never made get their task again."""
    from brands.cutouts import photo_cutouts_reconcile
    from brands.feed_jobs import feed_imports_reconcile

    report = feed_imports_reconcile()
    if report.requeued or report.failed or report.published:
        logger.info("reconciled feed imports: %s", report)
    cutouts = photo_cutouts_reconcile()
    if cutouts.published:
        logger.info("reconciled photo cut-outs: %s", cutouts)
