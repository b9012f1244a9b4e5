"""Export: a campaign's approved (live) assets as one streamed ZIP with a manifest CSV.

Files are named by channel convention, ``campaign_product_format_WxH_vN.png``. The download
is a signed link that expires (ADSTUDIO_EXPORT_LINK_SECONDS); it stays bound to the member who
made it, who must still be allowed to export when it is used.

Stale live assets (made from a product, brand kit or template that changed since) are left out
unless the link was made with ``include_stale``; the ZIP then lists them in ``stale.csv``.
Included ones carry their reason in the manifest's ``stale_reason`` column.

Each image fits its channel's weight limit (campaigns/export_files.py): the approved PNG when it
fits, else an optimized PNG or a JPEG (``.jpg``); the manifest's ``export_*`` columns say what
was written and ``export_note`` why, and an image that cannot fit is sent as its PNG with a
note. A link made with ``layers`` also carries, per composed asset, a folder named like its
file with the design, each layer as an RGBA PNG, the input files and a README.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse
from django.utils.text import slugify

from brands.access import can
from brands.audit import audit_record
from brands.models import Membership
from campaigns.export_files import asset_export_file, layer_package
from campaigns.models import Campaign, ReviewAction, ReviewEvent
from campaigns.review import approved_hashes, asset_approval_verify
from core.csv_formulas import csv_writer
from rendering.models import Asset

_SALT = "adstudio.campaign-export"
MANIFEST_COLUMNS = ("file", "campaign", "sku", "product", "format", "channel", "width",
                    "height", "version", "asset_id", "sha256", "approved_by", "approved_at",
                    "seed", "model", "stale_reason",
                    # appended (readers of the first columns keep working): what was written
                    "export_format", "jpeg_quality", "export_bytes", "export_sha256",
                    "weight_limit_kb", "export_note", "layers")
STALE_COLUMNS = ("campaign", "sku", "product", "format", "width", "height", "version",
                 "asset_id", "stale_reason", "stale_since")


def export_filename(campaign: Campaign, asset: Asset) -> str:
    slot = asset.slot
    parts = [slugify(campaign.name) or f"campaign-{campaign.pk}",
             slugify(slot.product.sku) or f"product-{slot.product_id}",
             slot.format.key, f"{asset.width}x{asset.height}", f"v{asset.version}"]
    return "_".join(parts) + ".png"


def export_stale_assets(campaign: Campaign) -> list[Asset]:
    """The live assets that are stale: an export leaves them out unless asked to include them."""
    return list(Asset.objects.filter(slot__campaign=campaign, is_live=True,
                                     stale_at__isnull=False)
                .select_related("slot__product", "slot__format")
                .defer("recipe").order_by("slot__product__sku", "slot__format__key"))


def campaign_export_link(*, campaign: Campaign, user, include_stale: bool = False,
                         layers: bool = False, slots: list[int] | None = None) -> str:
    """A signed, expiring link to download the campaign's approved assets as a ZIP. Stale
    live assets are left out (and listed in the ZIP's stale.csv) unless ``include_stale``;
    ``layers`` adds each composed asset's layered package for a designer; ``slots`` (ids of
    the campaign's slots) limits it to those."""
    membership = Membership.objects.filter(user=user, workspace_id=campaign.workspace_id).first()
    if membership is None or not can(membership, "campaign.export"):
        raise PermissionDenied("Your role cannot export this campaign.")
    live = Asset.objects.filter(slot__campaign=campaign, is_live=True)
    if slots is not None:
        slots = sorted({int(s) for s in slots})
        live = live.filter(slot_id__in=slots)
    if not live.exists():
        raise ValidationError("Nothing to export yet: approve at least one asset first.",
                              code="nothing_approved")
    if not include_stale and not live.filter(stale_at__isnull=True).exists():
        raise ValidationError("Every approved asset of this campaign is stale, so the export "
                              "would be empty. Render them again, or include stale assets.",
                              code="only_stale")
    with transaction.atomic():
        audit_record(workspace_id=campaign.workspace_id, actor=user, verb="campaign.exported",
                     obj=campaign, data={"include_stale": include_stale, "layers": layers,
                                         "slots": slots})
    token = signing.dumps({"c": campaign.pk, "u": user.pk, "s": int(include_stale),
                           "l": int(layers), "o": slots}, salt=_SALT, compress=True)
    return reverse("campaign-export-download", kwargs={"token": token})


@dataclass(frozen=True)
class ExportGrant:
    campaign: Campaign
    user_id: int
    include_stale: bool = False
    layers: bool = False
    slots: list[int] | None = None  # None: the whole campaign


def export_grant_check(*, token: str) -> ExportGrant:
    """Who may download with this link, or why not: a tampered or expired link, another
    workspace, or a maker who lost the right to export."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=settings.ADSTUDIO_EXPORT_LINK_SECONDS)
    except signing.SignatureExpired:
        raise PermissionDenied("This download link has expired. Make a new one.") from None
    except signing.BadSignature:
        raise PermissionDenied("This download link is not valid.") from None
    campaign = Campaign.objects.select_related("workspace").filter(pk=data.get("c")).first()
    if campaign is None:
        raise PermissionDenied("This download link is not valid.")
    membership = Membership.objects.filter(user_id=data.get("u"), workspace=campaign.workspace)
    if not any(can(m, "campaign.export") for m in membership):
        raise PermissionDenied("The person who made this link can no longer export.")
    return ExportGrant(campaign=campaign, user_id=data["u"],
                       include_stale=bool(data.get("s")), layers=bool(data.get("l")),
                       slots=data.get("o"))


def export_assets(campaign: Campaign, *, include_stale: bool = False,
                  slots: list[int] | None = None) -> Iterator[Asset]:
    """The live assets whose files are still the approved ones (others lose their approval),
    each checked just before it is sent, so the download starts after the first file. Stale
    ones only with ``include_stale``; only ``slots``' when given."""
    assets = Asset.objects.filter(slot__campaign=campaign, is_live=True)
    if slots is not None:
        assets = assets.filter(slot_id__in=slots)
    if not include_stale:
        assets = assets.filter(stale_at__isnull=True)
    assets = list(assets.select_related("slot__product", "slot__format")
                  .order_by("slot__product__sku", "slot__format__key"))
    hashes = approved_hashes(asset.pk for asset in assets)
    for asset in assets:
        if asset_approval_verify(asset=asset, approved_sha256=hashes.get(asset.pk, "")):
            yield asset


class _Sink(io.RawIOBase):
    """A write-only stream that hands what zipfile wrote to the response, chunk by chunk."""

    def __init__(self):
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data, self.chunks = b"".join(self.chunks), []
        return data


def campaign_export_stream(campaign: Campaign, *, include_stale: bool = False,
                           layers: bool = False, slots: list[int] | None = None
                           ) -> Iterator[bytes]:
    """The ZIP, produced while it downloads: memory stays at one asset's files (the read
    buffer of an approved PNG sent as it is). Stale live assets left out are listed in
    stale.csv; ``layers`` adds the layered packages."""
    approvals = {}
    for event in (ReviewEvent.objects.filter(asset__slot__campaign=campaign,
                                             asset__is_live=True, action=ReviewAction.APPROVE)
                  .select_related("user").order_by("created_at", "id")):
        approvals[event.asset_id] = event  # the latest wins
    sink = _Sink()
    manifest = io.StringIO()
    writer = csv_writer(manifest)
    writer.writerow(MANIFEST_COLUMNS)
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as archive:
        for asset in export_assets(campaign, include_stale=include_stale, slots=slots):
            png_name = export_filename(campaign, asset)
            out = asset_export_file(asset, png_name=png_name)
            digest, size = hashlib.sha256(), 0
            with archive.open(out.name, "w", force_zip64=True) as target:
                for block in _blocks(asset, out):
                    target.write(block)
                    digest.update(block)
                    size += len(block)
                    yield sink.take()
            package = ""
            if layers:
                files, package = layer_package(asset, folder=png_name.removesuffix(".png"))
                for file_name, data in files:
                    archive.writestr(file_name, data, compress_type=_compression(file_name))
                    yield sink.take()
            approval = approvals.get(asset.pk)
            writer.writerow([
                out.name, campaign.name, asset.slot.product.sku, asset.slot.product.name,
                asset.slot.format.key, asset.slot.format.channel, asset.width, asset.height,
                asset.version, asset.pk, asset.sha256,
                approval.user.username if approval and approval.user else "",
                approval.created_at.isoformat() if approval else "",
                asset.recipe.get("seed", ""), asset.recipe.get("model", ""),
                asset.stale_reason if asset.is_stale else "",
                out.format, out.quality or "", size, digest.hexdigest(),
                asset.slot.format.max_kilobytes or "", out.note, package,
            ])
        archive.writestr("manifest.csv", manifest.getvalue().encode("utf-8"),
                         compress_type=zipfile.ZIP_DEFLATED)
        left_out = [] if include_stale else [
            a for a in export_stale_assets(campaign) if slots is None or a.slot_id in slots]
        if left_out:
            archive.writestr("stale.csv", _stale_csv(campaign, left_out).encode("utf-8"),
                             compress_type=zipfile.ZIP_DEFLATED)
    yield sink.take()


def _compression(name: str) -> int:
    """Images are compressed already; the design, README and fonts are worth deflating."""
    return zipfile.ZIP_STORED if name.endswith((".png", ".jpg", ".webp")) else \
        zipfile.ZIP_DEFLATED


def _blocks(asset: Asset, out) -> Iterator[bytes]:
    """The exported image's bytes: re-encoded ones at once, the approved file as it is in
    1 MiB blocks."""
    if out.data is not None:
        yield out.data
        return
    with default_storage.open(asset.file.name, "rb") as source:
        yield from iter(lambda: source.read(1 << 20), b"")


def _stale_csv(campaign: Campaign, assets: list[Asset]) -> str:
    """The stale live assets an export left out, with why each is stale."""
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(STALE_COLUMNS)
    for asset in assets:
        writer.writerow([campaign.name, asset.slot.product.sku, asset.slot.product.name,
                         asset.slot.format.key, asset.width, asset.height, asset.version,
                         asset.pk, asset.stale_reason, asset.stale_at.isoformat()])
    return out.getvalue()


def export_zip_name(campaign: Campaign) -> str:
    return f"{slugify(campaign.name) or 'campaign'}-approved.zip"
