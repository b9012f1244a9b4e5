"""The compositor's cache of decoded, scaled and drawn inputs (images, cut-outs, gradients,
shape masks, shadows): a small thread-safe LRU bounded by count and by pixel bytes."""

from __future__ import annotations

import threading
from collections import OrderedDict

from PIL import Image

_CACHE_SIZE = 48
_decoded: OrderedDict = OrderedDict()
_lock = threading.Lock()
_CACHE_BYTES = 256 * 1024 * 1024


def _cost(value) -> int:
    return value.width * value.height * len(value.getbands()) if isinstance(value, Image.Image) \
        else 64


def remember(key, make):
    """A small LRU (by pixel bytes) of decoded, scaled and drawn inputs; keys of inputs start
    with a verified sha256, so a hit is always the same pixels. Thread-safe; the values are
    never modified (layers paste from them)."""
    with _lock:
        if key in _decoded:
            _decoded.move_to_end(key)
            return _decoded[key]
    value = make()
    with _lock:
        _decoded[key] = value
        total = sum(_cost(v) for v in _decoded.values())
        while len(_decoded) > _CACHE_SIZE or (total > _CACHE_BYTES and len(_decoded) > 1):
            _, dropped = _decoded.popitem(last=False)
            total -= _cost(dropped)
    return value


def cache_clear() -> None:
    """Forget every cached input (tests and bench/compose.py measure a cold compose)."""
    with _lock:
        _decoded.clear()
