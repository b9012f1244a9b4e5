"""Exact, deterministic pixel maths for the compositor: linear gradients by angle, antialiased
rounded rectangles and soft alpha ramps, all in numpy float64 and rounded once to 8 bits."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image


def linear_gradient(size: tuple[int, int], colors: list[tuple[int, int, int]],
                    angle: float) -> Image.Image:
    """An RGB image of ``size`` with ``colors`` evenly spaced along a CSS-style gradient line:
    ``angle`` degrees, 0 bottom to top, 90 left to right; the line is long enough that the
    corners get the end colours (CSS ``linear-gradient``)."""
    width, height = size
    rad = math.radians(angle)
    # direction in image coordinates (y down), snapped so 0/90/180/270 are exactly axial
    dx, dy = round(math.sin(rad), 12) + 0.0, round(-math.cos(rad), 12) + 0.0
    length = abs(width * dx) + abs(height * dy)
    xs = np.arange(width, dtype=np.float64) + 0.5 - width / 2
    ys = np.arange(height, dtype=np.float64) + 0.5 - height / 2
    t = (xs[None, :] * dx + ys[:, None] * dy) / length + 0.5 if length else np.zeros((1, 1))
    t = np.broadcast_to(np.clip(t, 0.0, 1.0), (height, width))
    stops = np.asarray(colors, dtype=np.float64)
    where = np.linspace(0.0, 1.0, len(stops))
    channels = [np.rint(np.interp(t, where, stops[:, c])).astype(np.uint8) for c in range(3)]
    return Image.merge("RGB", [Image.fromarray(c, "L") for c in channels])


def rounded_coverage(width: int, height: int, radius: float) -> np.ndarray:
    """How much of each pixel (0..1) a rounded rectangle filling ``width`` x ``height`` covers:
    the signed distance to its edge at each pixel centre, antialiased over one pixel."""
    radius = max(0.0, min(float(radius), width / 2, height / 2))
    if radius < 0.5:
        return np.ones((height, width), dtype=np.float64)
    xs = np.abs(np.arange(width, dtype=np.float64) + 0.5 - width / 2) - (width / 2 - radius)
    ys = np.abs(np.arange(height, dtype=np.float64) + 0.5 - height / 2) - (height / 2 - radius)
    qx, qy = np.maximum(xs, 0)[None, :], np.maximum(ys, 0)[:, None]
    outside = np.sqrt(qx * qx + qy * qy)
    inside = np.minimum(np.maximum(xs[None, :], ys[:, None]), 0)
    distance = outside + inside - radius
    return np.clip(0.5 - distance, 0.0, 1.0)


def ramp(width: int, height: int, gradient: str | None) -> np.ndarray | float:
    """The alpha factor of a gradient: 1 at the start side, 0 at the side it goes to,
    smoothstep-eased (soft at both ends); 1 everywhere without a gradient."""
    if gradient is None:
        return 1.0
    along = width if gradient in ("to-left", "to-right") else height
    t = (np.arange(along, dtype=np.float64) + 0.5) / along
    if gradient in ("to-left", "to-top"):
        t = t[::-1]
    fade = 1 - t * t * (3 - 2 * t)
    return fade[None, :] if gradient in ("to-left", "to-right") else fade[:, None]


def shape_mask(width: int, height: int, *, radius: float, opacity: float,
               gradient: str | None) -> Image.Image:
    """The 8-bit alpha of a shape layer: coverage x opacity x gradient ramp."""
    alpha = rounded_coverage(width, height, radius) * opacity * ramp(width, height, gradient)
    alpha = np.broadcast_to(alpha, (height, width))
    return Image.fromarray(np.rint(alpha * 255).astype(np.uint8), "L")
