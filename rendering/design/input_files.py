"""The compositor's input files: each one a design's layers need is present and hashes to its
name, and images decode (once, through rendering/design/pixel_cache.py) in the mode a layer
draws with."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping

from django.core.exceptions import ValidationError
from PIL import Image, ImageOps, UnidentifiedImageError

from rendering.design.pixel_cache import remember
from rendering.design.schema import layer_inputs


def _fail(path: str, message: str):
    raise ValidationError({path: [message]})


def verify_inputs(doc: dict, inputs: Mapping[str, bytes]) -> None:
    """Every file the layers need is present and hashes to its name."""
    errors: dict[str, list[str]] = {}
    checked: dict[str, bool] = {}
    for i, layer in enumerate(doc["layers"]):
        for name, sha in layer_inputs(layer):
            data = inputs.get(sha)
            if data is None:
                message = (f"layer '{layer['id']}': input file {sha[:12]}… is missing; upload "
                           "it or render the layer again.")
            elif sha not in checked and not isinstance(data, bytes | bytearray | memoryview):
                message = f"layer '{layer['id']}': input {sha[:12]}… must be bytes."
            else:
                if sha not in checked:
                    checked[sha] = hashlib.sha256(data).hexdigest() == sha
                if checked[sha]:
                    continue
                message = (f"layer '{layer['id']}': input file does not match its sha256 "
                           f"{sha[:12]}… (the file changed or the wrong file was given).")
            errors.setdefault(f"layers[{i}].{name}", []).append(message)
    if errors:
        raise ValidationError(errors)


def open_image(data: bytes, sha: str, mode: str, path: str, layer_id: str) -> Image.Image:
    def make():
        try:
            image = Image.open(io.BytesIO(data))
            image = ImageOps.exif_transpose(image)
            if mode == "RGBA":
                image = image.convert("RGBA")
            else:
                image = image.convert("RGBA").convert("RGB") if image.mode == "P" else \
                    image.convert("RGB")
            image.load()
            return image
        except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
            _fail(path, f"layer '{layer_id}': input {sha[:12]}… is not a readable PNG, JPEG or "
                        "WebP image.")
    return remember(("open", sha, mode), make)
