"""The compositor's image layers: background (fill or cover-cropped image), the product
cut-out over its soft shadow, shapes and the logo, each drawn onto the canvas."""

from __future__ import annotations

import numpy as np
from django.core.exceptions import ValidationError
from PIL import Image, ImageFilter

from rendering.compose.contrast import hex_rgb
from rendering.design.canvas import Canvas
from rendering.design.input_files import open_image
from rendering.design.pixel_cache import remember
from rendering.design.shapes import linear_gradient, shape_mask


def draw_background(canvas: Canvas, layer: dict, inputs, path: str) -> None:
    source = layer["source"]
    size = canvas.image.size
    if source["type"] == "fill":
        fill = source["fill"]
        if fill["type"] == "solid":
            canvas.image.paste(hex_rgb(fill["color"]), (0, 0, *size))
        else:
            colors = tuple(hex_rgb(c) for c in fill["colors"])
            canvas.image.paste(remember(("linear", size, colors, fill["angle"]),
                                        lambda: linear_gradient(size, colors, fill["angle"])))
        return
    sha = source["sha256"]
    image = open_image(inputs[sha], sha, "RGB", f"{path}.source.sha256", layer["id"])
    if source.get("crop"):
        canvas.image.paste(_cropped(image, sha, size, tuple(source["crop"]),
                                    f"{path}.source.crop", layer["id"]))
        return
    canvas.image.paste(_cover(image, sha, size, tuple(layer["focus"])))


def _cropped(image: Image.Image, sha: str, size, crop, path: str, layer_id: str):
    """The ``crop`` part of the image scaled to the canvas (a format cut from a scene)."""
    x, y, w, h = crop
    if x + w > image.width + 0.5 or y + h > image.height + 0.5:
        raise ValidationError({path: [f"layer '{layer_id}': the crop {list(crop)} reaches "
                                      f"outside the {image.width}x{image.height} image."]})
    box = (x, y, min(x + w, image.width), min(y + h, image.height))
    return remember(("crop", sha, size, box),
                    lambda: image.resize(size, Image.Resampling.LANCZOS, box=box))


def _cover(image: Image.Image, sha: str, size, focus) -> Image.Image:
    def make():
        if image.size == size:
            return image
        scale = max(size[0] / image.width, size[1] / image.height)
        src_w, src_h = size[0] / scale, size[1] / scale
        left = min(max(focus[0] * image.width - src_w / 2, 0), image.width - src_w)
        top = min(max(focus[1] * image.height - src_h / 2, 0), image.height - src_h)
        return image.resize(size, Image.Resampling.LANCZOS,
                            box=(left, top, left + src_w, top + src_h))
    return remember(("cover", sha, size, focus), make)


def _fit(image_size, box_size) -> tuple[int, int]:
    scale = min(box_size[0] / image_size[0], box_size[1] / image_size[1])
    return (min(box_size[0], max(1, round(image_size[0] * scale))),
            min(box_size[1], max(1, round(image_size[1] * scale))))


def scaled_cutout(layer: dict, inputs, path: str) -> Image.Image:
    sha, box = layer["sha256"], layer["box"]
    cutout = open_image(inputs[sha], sha, "RGBA", f"{path}.sha256", layer["id"])
    size = _fit(cutout.size, box[2:])

    def make():
        return cutout if size == cutout.size else cutout.resize(size, Image.Resampling.LANCZOS)
    return remember(("fit", sha, size), make)


def product_place(layer: dict, scaled: Image.Image, offset: int) -> tuple[int, int]:
    x, y, w, h = layer["box"]
    return x + offset + (w - scaled.width) // 2, y + offset + h - scaled.height


def draw_product(canvas: Canvas, layer: dict, inputs, path: str) -> None:
    scaled = scaled_cutout(layer, inputs, path)
    px, py = product_place(layer, scaled, canvas.offset)
    shadow = layer.get("shadow")
    if shadow and shadow["opacity"] > 0:
        mask, pad = _shadow_mask(layer["sha256"], scaled, shadow)
        dx, dy = shadow["offset"]
        canvas.paint(hex_rgb(shadow["color"]), px + dx - pad, py + dy - pad, mask)
    canvas.paint(scaled, px, py, scaled)
    canvas.product = {"x": px, "y": py, "image": scaled}


def _shadow_mask(sha: str, scaled: Image.Image, shadow: dict) -> tuple[Image.Image, int]:
    blur = shadow["blur"]
    pad = int(np.ceil(3 * blur)) + 1

    def make():
        alpha = np.asarray(scaled.getchannel("A"), dtype=np.float64) * shadow["opacity"]
        mask = Image.new("L", (scaled.width + 2 * pad, scaled.height + 2 * pad), 0)
        mask.paste(Image.fromarray(np.rint(alpha).astype(np.uint8), "L"), (pad, pad))
        return mask.filter(ImageFilter.GaussianBlur(blur)) if blur > 0 else mask
    return remember(("shadow", sha, scaled.size, shadow["opacity"], blur), make), pad


def draw_shape(canvas: Canvas, layer: dict, inputs, path: str) -> None:
    x, y, w, h = layer["box"]
    radius = layer["radius"]
    if layer["shape"] == "badge" and radius == 0:
        radius = min(w, h) / 2  # a badge is round unless it says otherwise
    key = ("shape", w, h, radius, layer["opacity"], layer["gradient"])
    mask = remember(key, lambda: shape_mask(w, h, radius=radius, opacity=layer["opacity"],
                                            gradient=layer["gradient"]))
    canvas.paint(hex_rgb(layer["color"]), x + canvas.offset, y + canvas.offset, mask)


def draw_logo(canvas: Canvas, layer: dict, inputs, path: str) -> None:
    sha = layer["sha256"]
    x, y, w, h = layer["box"]
    image = open_image(inputs[sha], sha, "RGBA", f"{path}.sha256", layer["id"])
    size = _fit(image.size, (w, h))
    fitted = remember(("fit", sha, size), lambda: image if size == image.size
                      else image.resize(size, Image.Resampling.LANCZOS))
    lx = x + {"left": 0, "center": (w - size[0]) // 2, "right": w - size[0]}[layer["align"]]
    ly = y + {"top": 0, "middle": (h - size[1]) // 2, "bottom": h - size[1]}[layer["valign"]]
    canvas.paint(fitted, lx + canvas.offset, ly + canvas.offset, fitted)
