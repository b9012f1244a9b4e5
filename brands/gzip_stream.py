"""Unpack gzip while a download streams, a bounded piece at a time (B2).

Stages pass bytes on with ``write`` and end with ``close``; the last stage (the caller's file
writer) applies the size cap, so a gzip bomb meets the cap before it meets the memory.
"""

from __future__ import annotations

import zlib

GZIP_MAGIC = b"\x1f\x8b"
PIECE = 64 * 1024  # unpacked bytes handed on at a time


class GzipDamaged(ValueError):
    """The gzip data is corrupt or ends before its last member does."""


class Gunzip:
    """Unpacks gzip data (one member or several, as ``cat a.gz b.gz`` makes) into ``nxt``."""

    def __init__(self, nxt):
        self.nxt = nxt
        self.unpack = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self.done = False  # past the last member: trailing padding is ignored

    def write(self, data: bytes) -> None:
        try:
            while data and not self.done:
                if self.unpack.eof:
                    if not data.startswith(GZIP_MAGIC[: len(data)]):
                        self.done = True
                        return
                    self.unpack = zlib.decompressobj(16 + zlib.MAX_WBITS)
                self.nxt.write(self.unpack.decompress(data, PIECE))
                data = self.unpack.unused_data if self.unpack.eof else self.unpack.unconsumed_tail
        except zlib.error as exc:
            raise GzipDamaged(str(exc)) from exc

    def close(self) -> None:
        if not self.unpack.eof and not self.done:
            raise GzipDamaged("the data ends before the gzip stream does")
        self.nxt.close()


class GzipSniff:
    """Passes the stream on to ``nxt``, through Gunzip when it starts like a .gz file."""

    def __init__(self, nxt):
        self.nxt, self.head, self.stage = nxt, b"", None

    def write(self, data: bytes) -> None:
        if self.stage is None:
            self.head += data
            if len(self.head) < len(GZIP_MAGIC):
                return
            data, self.head = self.head, b""
            self.stage = Gunzip(self.nxt) if data.startswith(GZIP_MAGIC) else self.nxt
        self.stage.write(data)

    def close(self) -> None:
        if self.stage is None and self.head:
            self.nxt.write(self.head)
        (self.stage or self.nxt).close()
