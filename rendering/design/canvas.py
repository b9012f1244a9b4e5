"""The canvas the compositor draws on: the image, the bleed offset, and (for the product
check) which pixels the layers above the product paint."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image


@dataclass
class Canvas:
    image: Image.Image
    offset: int
    cover: np.ndarray | None = None  # pixels painted by layers above the product (tracking)
    product: dict = field(default_factory=dict)

    def paint(self, src, x: int, y: int, mask: Image.Image | None, size=None) -> None:
        """Composite ``src`` (an image, or a colour over ``size``) at trim-free canvas
        coordinates (x, y) through ``mask`` (L or the RGBA image's alpha), clipped."""
        width, height = size or (src.size if isinstance(src, Image.Image) else mask.size)
        left, top = max(0, -x), max(0, -y)
        right = min(width, self.image.width - x)
        bottom = min(height, self.image.height - y)
        if right <= left or bottom <= top:
            return
        crop = (left, top, right, bottom)
        if (left, top, right, bottom) != (0, 0, width, height):
            src = src.crop(crop) if isinstance(src, Image.Image) else src
            mask = mask.crop(crop) if mask is not None else None
        at = (x + left, y + top)
        self.blend(src, at, (x + right, y + bottom), mask)
        if self.cover is not None:
            region = self.cover[at[1]:y + bottom, at[0]:x + right]
            if mask is None:
                region[...] = True
            else:
                alpha = mask.getchannel("A") if mask.mode == "RGBA" else mask
                region |= np.asarray(alpha) > 0

    def blend(self, src, at: tuple[int, int], end: tuple[int, int],
              mask: Image.Image | None) -> None:
        """Put the clipped ``src`` (an image, or a colour over at..end) on the image through
        ``mask``; rendering/design/layer_images.py blends onto a transparent layer instead."""
        if isinstance(src, Image.Image):
            self.image.paste(src, at, mask)
        else:
            self.image.paste(src, (*at, *end), mask)
