"""Quality checks on a stored asset: the copy reads exactly, and the brand rules hold.

Runs on the cpu queue after every render (``rendering.check_asset``), never on a GPU worker's
time. A native-text render whose copy reads wrong is rendered again with a new seed, up to
ADSTUDIO_COPY_RERENDER_LIMIT times, then once more in overlay mode; each attempt is a render
job of its own, and each resulting asset has its own checks.
"""

from __future__ import annotations

import io
import logging
import time
from collections import Counter

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from PIL import Image

from brands.models import BrandKit
from rendering.compose.ad_copy import NATIVE_ROLES, NO_TEXT_NEGATIVE
from rendering.jobs.enqueue import asset_checks_enqueue
from rendering.models import Asset, CheckKind, QualityCheck, RenderJob
from rendering.quality.brand_checks import (
    FAIL,
    PASS,
    UNVERIFIED,
    CheckResult,
    copy_rules_check,
    logo_check,
    palette_check,
    safe_zone_check,
    weight_check,
)
from rendering.quality.design_checks import design_checks
from rendering.quality.overlay_check import verify_overlay
from rendering.quality.text_check import (
    ROLE_LABELS,
    detect_text,
    read_native,
    read_overlay,
    reading_doubt,
    reading_problem,
)

logger = logging.getLogger(__name__)


def asset_checks_reconcile(*, older_than_s: int = 300, window_s: int = 900) -> int:
    """Queue the checks again for recent assets that have none (their doorbell was lost, e.g.
    the broker was down when they were stored). Run by beat with the job reconciler; an asset
    is retried only inside the window, so one whose checks keep failing is not retried
    forever. Returns how many were queued."""
    from datetime import timedelta

    from django.utils import timezone

    from rendering.models import Asset

    now = timezone.now()
    missing = list(Asset.objects.filter(
        created_at__lt=now - timedelta(seconds=older_than_s),
        created_at__gte=now - timedelta(seconds=older_than_s + window_s),
        checks__isnull=True).values_list("id", flat=True)[:500])
    for asset_id in missing:
        asset_checks_enqueue(asset_id)
    return len(missing)


def _open(name: str) -> Image.Image:
    with default_storage.open(name, "rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
        image.load()
    return image.convert("RGB")


def text_check(image: Image.Image, *, copy: dict, mode: str, layout: dict,
               detections: list[dict]) -> CheckResult | None:
    """Verify the copy: the layer's lines against a reference rendering of the same string,
    fonts, size, colour and box (OCR for layouts from before fonts were recorded), the model's
    by OCR among the detected text. Pass only when every line is exactly as written; "not
    verified" when some line could not be checked (named for the reviewer); None when the
    asset carries no copy."""
    native = [role for role in NATIVE_ROLES.get(mode, ()) if copy.get(role)]
    lines = layout.get("lines", [])
    overlay = (verify_overlay(image, layout, copy) if all(line.get("runs") for line in lines)
               else read_overlay(image, layout))
    readings = overlay + read_native(detections, copy, native)
    missing, refused = layout.get("missing", []), layout.get("refused", {})
    if not readings and not missing and not refused:
        return None
    wrong = [r for r in readings if r.wrong]
    doubtful = [r for r in readings if r.status == "not_verified"]
    details = {"mode": mode, "readings": [r.as_dict() for r in readings], "missing": missing,
               "refused": refused, "native_failed": any(r.source == "native" for r in wrong)}
    if wrong or missing or refused:
        reasons = [reading_problem(r) for r in wrong] + [
            f"{ROLE_LABELS.get(role, role)} did not fit at a readable size "
            f"({settings.ADSTUDIO_MIN_TEXT_PX} px) and was left out." for role in missing
        ] + [f"{reason} It was left out." for reason in refused.values()]
        return CheckResult(CheckKind.TEXT, FAIL, " ".join(reasons), details)
    if doubtful:
        checked = len(readings) - len(doubtful)
        return CheckResult(CheckKind.TEXT, UNVERIFIED, " ".join(
            [reading_doubt(r) for r in doubtful]
            + [f"The other {checked} line{'s are' if checked != 1 else ' is'} exact."
               if checked else ""]).strip(), details)
    how = [f"{n} set by us, matched against a reference rendering" if method == "reference"
           else f"{n} read back by OCR" for method, n in
           Counter(r.method for r in readings).items()]
    return CheckResult(CheckKind.TEXT, PASS, f"All {len(readings)} copy lines are exactly as "
                       f"written ({'; '.join(how)}).", details)


def _logo_image(style: dict | None) -> Image.Image | None:
    logo = (style or {}).get("logo")
    if not logo:
        return None
    with default_storage.open(logo["file"], "rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
        image.load()
    return image


def _run(asset: Asset) -> list[tuple[CheckResult, float]]:
    recipe = asset.recipe or {}
    fmt = recipe.get("format") or {}
    copy = recipe.get("copy") or {}
    mode = recipe.get("text_mode", "native")
    layout = recipe.get("typography") or {}
    brand = BrandKit.objects.filter(pk=(recipe.get("brand") or {}).get("id"),
                                    workspace_id=asset.workspace_id).first()
    image = _open(asset.file.name)
    results = []

    def timed(check, *args, **kwargs):
        started = time.perf_counter()
        result = check(*args, **kwargs)
        if result is not None:
            results.append((result, time.perf_counter() - started))

    composed = recipe.get("engine") == "compose" and bool(asset.design)
    if composed:
        # A layered design is verified against itself (exact copy, exact product); its safe
        # zones and logo are the layout's, so no OCR runs.
        started = time.perf_counter()
        for result in design_checks(asset, image):
            results.append((result, time.perf_counter() - started))
            started = time.perf_counter()
        detections, detect_seconds = [], 0.0
    else:
        started = time.perf_counter()
        needs_detection = fmt.get("safe_zone") or any(
            copy.get(role) for role in NATIVE_ROLES.get(mode, ()))
        detections = detect_text(image) if needs_detection else []
        detect_seconds = time.perf_counter() - started
        timed(text_check, image, copy=copy, mode=mode, layout=layout, detections=detections)
    timed(palette_check, image, brand.palette if brand else [])
    if not composed:
        if layout.get("logo_box") or (mode != "native" and (recipe.get("brand_style") or {})
                                      .get("logo")):
            timed(logo_check, image, _logo_image(recipe.get("brand_style")),
                  layout.get("logo_box"))
        if fmt.get("safe_zone"):
            timed(safe_zone_check, image.size, fmt["safe_zone"], detections)
    if fmt.get("max_kilobytes"):
        timed(weight_check, image, stored_bytes=asset.file.size,
              max_kilobytes=fmt["max_kilobytes"], channel=fmt.get("channel") or "this channel")
    if copy:
        timed(copy_rules_check, copy, banned_terms=brand.banned_terms if brand else [],
              channel=fmt.get("channel", ""))
    # Detection is shared by the text and safe-zone checks: count it once, on the first.
    return [(r, s + (detect_seconds if i == 0 else 0)) for i, (r, s) in enumerate(results)]


def asset_checks_run(*, asset_id: int) -> list[QualityCheck]:
    """Run every check that applies to an asset and store the verdicts (replacing earlier
    ones): the copy read back by OCR, palette, logo, safe zones, file weight, banned terms and
    character limits. A native-text render whose copy reads wrong is queued again."""
    asset = Asset.objects.select_related("job").filter(pk=asset_id).first()
    if asset is None:
        return []
    results = _run(asset)
    with transaction.atomic():
        Asset.objects.select_for_update().filter(pk=asset.pk).first()  # one writer per asset
        text = next((r for r, _ in results if r.kind == CheckKind.TEXT), None)
        if text is not None and text.details.get("native_failed"):
            rerender = asset_copy_rerender(asset=asset)
            if rerender is not None:
                text.details["rerender"] = rerender
                text.reason += (" Rendering it again in overlay mode (exact copy)."
                                if rerender["text_mode"] == "overlay" else
                                f" Rendering it again with a new seed (attempt "
                                f"{rerender['copy_attempt']}).")
        stored = []
        for result, seconds in results:
            check, _ = QualityCheck.objects.update_or_create(
                asset=asset, kind=result.kind,
                defaults={"status": result.status, "reason": result.reason[:1000],
                          "details": result.details, "seconds": round(seconds, 3)})
            stored.append(check)
        QualityCheck.objects.filter(asset=asset).exclude(pk__in=[c.pk for c in stored]).delete()
    return stored


def asset_copy_rerender(*, asset: Asset) -> dict | None:
    """Queue the next attempt for an asset whose native copy read wrong: a new seed while
    attempts last, then overlay mode. Returns what was queued, or None when nothing is left
    to try (or it was queued already). Call inside a transaction."""
    from rendering.compose.recipes import new_seed
    from rendering.jobs.enqueue import jobs_create

    source = asset.job.recipe if asset.job_id else asset.recipe
    if source.get("text_mode", "native") == "overlay" or asset.slot_id is None:
        return None
    previous = RenderJob.objects.filter(slot_id=asset.slot_id, recipe__copy_retry_of=asset.pk)
    if previous.exists():  # the checks ran twice: the retry is queued already
        job = previous.first()
        return {"job_id": job.pk, "copy_attempt": job.recipe["copy_attempt"],
                "text_mode": job.recipe["text_mode"]}
    attempt = int(source.get("copy_attempt", 1)) + 1
    recipe = {**source, "seed": new_seed(), "copy_attempt": attempt, "copy_retry_of": asset.pk}
    for key in ("typography", "brand_style"):
        recipe.pop(key, None)
    if attempt > settings.ADSTUDIO_COPY_RERENDER_LIMIT + 1:
        recipe["text_mode"] = "overlay"
        recipe["prompt"] = source["prompt"].replace(source.get("copy_prompt") or "\0", "")
        recipe["copy_prompt"] = ""
        recipe["negative_prompt"] = ", ".join(
            n for n in (source.get("negative_prompt", ""), NO_TEXT_NEGATIVE) if n)
    [job] = jobs_create([RenderJob(
        workspace_id=asset.workspace_id, slot_id=asset.slot_id,
        created_by=asset.job.created_by if asset.job_id else None,
        variant=asset.job.variant if asset.job_id else 0, recipe=recipe)])
    return {"job_id": job.pk, "copy_attempt": attempt, "text_mode": recipe["text_mode"]}
