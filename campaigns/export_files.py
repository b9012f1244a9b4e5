"""The files a campaign export writes for one asset (campaigns/export.py streams them): the
image within its channel's weight limit, and on request the layered package a designer can
finish elsewhere (the design, each layer alone, the input files and a README).

Weight: the approved PNG goes out as it is when it fits ``Format.max_kilobytes`` (1 KB = 1000
bytes, as the file_weight check counts); otherwise ``encode_within`` picks an optimized PNG or
the highest JPEG quality that fits (the same answer the check gave on the review screen). An
image that cannot fit even at the lowest JPEG quality still goes out as its PNG, with a note.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from PIL import Image, UnidentifiedImageError

from rendering.design.layer_images import layer_entries, layer_pngs
from rendering.design.recipe import recipe_inputs
from rendering.design.schema import design_validate, layer_inputs
from rendering.models import Asset
from rendering.quality.brand_checks import JPEG_QUALITIES, encode_within

INPUT_ROLES = {"background": "background", "product": "cutout", "logo": "logo", "text": "font"}
FONT_SUFFIXES = {b"\x00\x01\x00\x00": ".ttf", b"true": ".ttf", b"OTTO": ".otf",
                 b"ttcf": ".ttc", b"wOFF": ".woff", b"wOF2": ".woff2"}
NO_LAYERS = "none: a flat model render has no layers"


@dataclass(frozen=True)
class ExportFile:
    """The image an export writes: ``data`` None means the stored (approved) file as it is."""

    name: str
    format: str
    quality: int | None = None
    data: bytes | None = None
    note: str = ""


def asset_export_file(asset: Asset, *, png_name: str) -> ExportFile:
    """The asset's image within its format's weight limit, named ``png_name`` (``.jpg`` when
    re-encoded as JPEG), with a note whenever it is not simply the approved PNG."""
    fmt = asset.slot.format
    if not fmt.max_kilobytes:
        return ExportFile(png_name, "PNG")
    limit = fmt.max_kilobytes * 1000
    stored = default_storage.size(asset.file.name)
    if stored <= limit:
        return ExportFile(png_name, "PNG")
    with default_storage.open(asset.file.name, "rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
        image.load()
    where = f"{fmt.channel or fmt.name}'s {fmt.max_kilobytes} KB limit"
    found = encode_within(image, max_bytes=limit)
    if found is None:
        return ExportFile(png_name, "PNG", note=(
            f"OVER THE LIMIT: {stored / 1000:.1f} KB does not fit {where} even as JPEG quality "
            f"{JPEG_QUALITIES[1]}; exported as the approved PNG. Use a simpler image or ask the "
            "channel for a larger limit."))
    kind, quality, data = found
    if kind == "JPEG":
        return ExportFile(png_name.removesuffix(".png") + ".jpg", "JPEG", quality, data,
                          f"Re-encoded as JPEG quality {quality} to fit {where} (the approved "
                          f"PNG is {stored / 1000:.1f} KB).")
    return ExportFile(png_name, "PNG", None, data,
                      f"Re-encoded as an optimized PNG (the same pixels) to fit {where} (the "
                      f"approved PNG is {stored / 1000:.1f} KB).")


def layer_package(asset: Asset, *, folder: str) -> tuple[list[tuple[str, bytes]], str]:
    """The asset's layered package under ``folder/`` as (name, bytes) files, and what the
    manifest's ``layers`` column says: the folder, why there is none, or why it is missing."""
    if not asset.design:
        return [], NO_LAYERS
    try:
        design = design_validate(asset.design)
        inputs = recipe_inputs(asset.recipe or {})
        layers = layer_pngs(design, inputs)
    except (OSError, ValidationError) as exc:
        reason = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        return [], f"left out: its input files could not be read ({reason})"
    named = _input_names(design, inputs)
    files = [(f"{folder}/design.json", (json.dumps(asset.design, indent=2, sort_keys=True,
                                                   ensure_ascii=False) + "\n").encode())]
    files += [(f"{folder}/layers/{name}", data) for name, data in layers]
    files += [(f"{folder}/inputs/{name}", inputs[sha]) for sha, name in named.items()]
    files.append((f"{folder}/README.txt", _readme(asset, design, named).encode()))
    return files, f"{folder}/"


def _input_names(design: dict, inputs: dict[str, bytes]) -> dict[str, str]:
    """Each input file the design uses, named by its role and hash prefix."""
    names: dict[str, str] = {}
    for layer in design["layers"]:
        for _, sha in layer_inputs(layer):
            if sha not in names:
                role = INPUT_ROLES[layer["kind"]]
                names[sha] = f"{role}-{sha[:12]}{_suffix(inputs[sha], role)}"
    return names


def _suffix(data: bytes, role: str) -> str:
    if role == "font":
        return FONT_SUFFIXES.get(data[:4], ".font")
    try:
        kind = Image.open(io.BytesIO(data)).format or ""
    except (UnidentifiedImageError, OSError):
        return ".bin"
    return {"JPEG": ".jpg"}.get(kind, f".{kind.lower()}" if kind else ".bin")


def _readme(asset: Asset, design: dict, named: dict[str, str]) -> str:
    width, height = design["size"]
    bleed = design["bleed"]
    full = f"{width + 2 * bleed}x{height + 2 * bleed}"
    lines = [
        f"{asset.slot.product.name} - {asset.slot.format.name} {width}x{height}, version "
        f"{asset.version} (asset {asset.pk})",
        "",
        "design.json  The design document (schema adstudio.design/1), as stored: the layers",
        "             bottom to top, boxes [x, y, width, height] in pixels of the format.",
        f"             Its sha256 over the canonical JSON is {asset.design_sha256 or '-'}.",
        f"layers/      Each layer alone: an RGBA PNG of the whole {full} px canvas"
        f"{f' (the format plus {bleed} px bleed)' if bleed else ''},",
        "             transparent where the layer paints nothing. Stack them in order, 01 at",
        "             the bottom, with normal alpha blending to get the approved image (to",
        "             within one or two levels of rounding where a layer is see-through).",
    ]
    for entry in layer_entries(design):
        what = entry["kind"] + (f" ({entry['role']})" if entry["role"] else "")
        if entry["kind"] == "text":
            what += f": \"{entry['text']}\", {entry['size']} px, {entry['color']}"
        elif entry["kind"] in ("background", "shape"):
            what += ": " + " ".join(filter(None, (entry["source"], entry["color"])))
        lines.append(f"  {entry['name']:<24} {what}, box {', '.join(map(str, entry['box']))}")
    lines.append("inputs/      The files the layers are drawn from, by role and hash prefix:")
    roles = {"cutout": "the product's cut-out from the catalog photo",
             "logo": "the brand logo", "font": "the brand font",
             "background": "the background image"}
    for sha, name in named.items():
        lines.append(f"  {name:<24} {roles[name.split('-', 1)[0]]} (sha256 {sha})")
    if not named:
        lines.append("  (none: every layer is drawn from the design alone)")
    return "\n".join(lines) + "\n"
