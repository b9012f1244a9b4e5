"""Path converters for API ids: only numbers the database can hold match (RELIABILITY B15).

``abc`` or a number past 64 bits in an id position matches no route, so it is a 404 (JSON
under /api/, see api.errors) instead of a database overflow.
"""

from __future__ import annotations

ID_MAX = 2**63 - 1  # a BigAutoField (DEFAULT_AUTO_FIELD) and PositiveBigIntegerField


class IdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= ID_MAX:
            raise ValueError(f"{value} is not an id")
        return number

    def to_url(self, value) -> str:
        return str(int(value))

