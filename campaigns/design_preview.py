"""The canvas editor's preview: a changed design of a composed asset drawn as a PNG at once,
on the web process's CPU, with nothing stored and no job.

The design is checked exactly as a save checks it (campaigns/design_edits.py: the editing
role, the schema with the field named, only the asset's own or its workspace's fonts, logos,
cut-outs and painted scenes) and must keep the asset's size; then the compositor draws it.
Decoded and scaled inputs come from the compositor's own cache (rendering/design/pixel_cache.py)
and the input files' bytes from a small cache here, so a preview after a one-pixel move costs
only the drawing and the PNG encoding.
"""

from __future__ import annotations

import functools

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from PIL import Image

from campaigns.design_edits import asset_design_check
from rendering.design.compositor import compose, encode_png
from rendering.models import Asset

# Formats bigger than this (print) are previewed scaled down: the page shows them fitted.
PREVIEW_MAX_SIDE = 1600


@functools.lru_cache(maxsize=24)
def _stored_bytes(name: str, digest: str) -> bytes:
    """A stored input file's bytes; keyed by its hash too, and the compositor checks the hash,
    so a cached entry can never pass for a changed file."""
    with default_storage.open(name, "rb") as handle:
        return handle.read()


def design_input_bytes(inputs: dict[str, str]) -> dict[str, bytes]:
    """The bytes of each input file by its hash (from ``{sha256: stored name}``)."""
    return {digest: _stored_bytes(name, digest) for digest, name in inputs.items()}


def asset_design_preview(*, asset: Asset, user, design) -> bytes:
    """The PNG of ``design`` as the next version of ``asset`` would look: the same bytes a
    save composes (formats over PREVIEW_MAX_SIDE px are scaled to fit it). A ValidationError
    names the field a marketer must fix (text that no longer fits its box included);
    PermissionDenied for a role that may not edit."""
    design, inputs = asset_design_check(asset=asset, user=user, design=design)
    expected = (asset.design or {}).get("size")
    if design["size"] != expected:
        raise ValidationError({"size": [f"The design must keep the asset's size "
                                        f"{expected[0]}x{expected[1]}."]})
    try:
        image = compose(design, design_input_bytes(inputs))
    except FileNotFoundError:
        raise ValidationError({"design": ["An input file of this design is gone from storage; "
                                          "generate the slot again."]}) from None
    if max(image.size) > PREVIEW_MAX_SIDE:
        image.thumbnail((PREVIEW_MAX_SIDE, PREVIEW_MAX_SIDE), Image.Resampling.LANCZOS)
    return encode_png(image)
