"""Where a scene is painted, and how each format is cut from it (pure geometry, no pixels).

A scene master is painted once per product and variant. Every format of the campaign lays out
its layers first; its product box then says where the product must land. Measured in *product
heights* from the product's bottom centre (its anchor), a format is a frame: how much scene it
shows left, right, above and below the product. The master's extent is the union of those
frames (so each of them is a plain crop of it), widened to at most ``max_aspect`` and painted
at a pixel budget. A frame that the master does not cover (a 320x50 strip shows seven product
heights of scene beside it) is outpainted from the master: the master is placed on the
frame's canvas, scaled so that its product lands on the format's, and the model paints the
rest.

Cutting a format from an image (``crop_for``) scales the image by the ratio of the two product
heights and puts the image's anchor on the format's: the background's light and shadow stay
where the product is. Rectangles are ``[x, y, w, h]``; frames ``(left, top, right, bottom)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Rect = tuple[float, float, float, float]
Frame = tuple[float, float, float, float]

# Slack around the union of frames (product heights), so rounding never falls outside it.
MARGIN = 0.05
# Slack around an outpaint's view (a share of each side), for the same reason.
OUTPAINT_SLACK = 0.02


def fitted_size(image_size, box_size) -> tuple[int, int]:
    """The size of an image scaled to fit a box (aspect kept), as the compositor draws it."""
    scale = min(box_size[0] / image_size[0], box_size[1] / image_size[1])
    return (min(box_size[0], max(1, round(image_size[0] * scale))),
            min(box_size[1], max(1, round(image_size[1] * scale))))


def product_rect(box, cutout_size, offset: int = 0) -> tuple[int, int, int, int]:
    """Where the compositor draws a cut-out of ``cutout_size`` in a product layer's ``box``
    (fitted, bottom-centred), in canvas pixels (``offset``: the print bleed)."""
    x, y, w, h = box
    sw, sh = fitted_size(cutout_size, (w, h))
    return x + offset + (w - sw) // 2, y + offset + h - sh, sw, sh


def frame_of(size, rect) -> Frame:
    """The format of ``size`` with its product at ``rect``, in product heights from the
    product's bottom centre."""
    x, y, w, h = rect
    ax, ay = x + w / 2, y + h
    return (-ax / h, -ay / h, (size[0] - ax) / h, (size[1] - ay) / h)


def frame_aspect(frame: Frame) -> float:
    left, top, right, bottom = frame
    return (right - left) / (bottom - top)


@dataclass(frozen=True)
class MasterPlan:
    size: tuple[int, int]  # the master's pixels
    product_rect: tuple[int, int, int, int]  # where the cut-out goes in it


def master_plan(frames: list[Frame], *, cutout_aspect: float, pixels: int,
                max_aspect: float, multiple: int = 16) -> MasterPlan:
    """The master that covers ``frames`` (the formats it is cut for), within ``max_aspect``
    (widened, never cut, to reach it) and about ``pixels`` pixels, sides a multiple of
    ``multiple``."""
    if not frames:
        raise ValueError("a master needs at least one format to cover")
    left = min(f[0] for f in frames) - MARGIN
    top = min(f[1] for f in frames) - MARGIN
    right = max(f[2] for f in frames) + MARGIN
    bottom = max(f[3] for f in frames) + MARGIN
    width, height = right - left, bottom - top
    if width / height > max_aspect:  # too wide for the model: more sky and floor
        grow = width / max_aspect - height
        top, bottom = top - grow / 2, bottom + grow / 2
    elif height / width > max_aspect:
        grow = height / max_aspect - width
        left, right = left - grow / 2, right + grow / 2
    width, height = right - left, bottom - top
    unit = math.sqrt(pixels / (width * height))  # px per product height
    size = (max(multiple, round(width * unit / multiple) * multiple),
            max(multiple, round(height * unit / multiple) * multiple))
    unit = min(size[0] / width, size[1] / height)
    ph = max(1, round(unit))
    pw = max(1, round(ph * cutout_aspect))
    ax, ay = -left * unit, -top * unit
    return MasterPlan(size, (round(ax - pw / 2), round(ay - ph), pw, ph))


def crop_for(image_size, image_rect, size, rect) -> Rect:
    """The part of an image (``image_size``, its product at ``image_rect``) that, scaled to
    ``size``, puts its product on ``rect``. May reach outside the image (see ``covers``)."""
    scale = rect[3] / image_rect[3]  # format px per image px
    ax, ay = image_rect[0] + image_rect[2] / 2, image_rect[1] + image_rect[3]
    fx, fy = rect[0] + rect[2] / 2, rect[1] + rect[3]
    return (ax - fx / scale, ay - fy / scale, size[0] / scale, size[1] / scale)


def covers(image_size, crop: Rect, tolerance: float = 0.5) -> bool:
    x, y, w, h = crop
    return (x >= -tolerance and y >= -tolerance and x + w <= image_size[0] + tolerance
            and y + h <= image_size[1] + tolerance)


def clamp_crop(image_size, crop: Rect) -> tuple[Rect, bool]:
    """``crop`` moved (and, if it must, shrunk about its centre, keeping its aspect) to lie in
    the image; and whether it had to change by more than rounding."""
    x, y, w, h = crop
    exact = covers(image_size, crop)
    shrink = min(1.0, image_size[0] / w, image_size[1] / h)
    if shrink < 1:
        cx, cy = x + w / 2, y + h / 2
        w, h = w * shrink, h * shrink
        x, y = cx - w / 2, cy - h / 2
    x = min(max(x, 0.0), image_size[0] - w)
    y = min(max(y, 0.0), image_size[1] - h)
    return (x, y, w, h), not exact


@dataclass(frozen=True)
class OutpaintPlan:
    size: tuple[int, int]  # the outpaint's canvas, px
    placement: tuple[int, int, int, int]  # where the master goes on it (may reach past it)
    product_rect: tuple[int, int, int, int]  # the product's place on the canvas


def outpaint_plan(master_size, master_rect, size, rect, *, pixels: int) -> OutpaintPlan:
    """The canvas to outpaint for a format that the master does not cover: the format's view
    of the master (``crop_for``), at the master's own resolution, or less to stay within
    ``pixels``; the master is placed on it where that view puts it."""
    cx, cy, cw, ch = crop_for(master_size, master_rect, size, rect)
    # A little more than the view on every side: the product's place on the canvas is
    # rounded to whole pixels, so the format's cut may move by a pixel or two.
    cx, cy, cw, ch = cx - cw * OUTPAINT_SLACK, cy - ch * OUTPAINT_SLACK, \
        cw * (1 + 2 * OUTPAINT_SLACK), ch * (1 + 2 * OUTPAINT_SLACK)
    scale = min(1.0, math.sqrt(pixels / (cw * ch)))
    canvas = (max(8, round(cw * scale)), max(8, round(ch * scale)))
    scale = canvas[0] / cw  # canvas px per master px, after rounding
    placement = (round(-cx * scale), round(-cy * scale), round(master_size[0] * scale),
                 round(master_size[1] * scale))
    mx, my, mw, mh = master_rect
    product = (round((mx - cx) * scale), round((my - cy) * scale), max(1, round(mw * scale)),
               max(1, round(mh * scale)))
    return OutpaintPlan(canvas, placement, product)
