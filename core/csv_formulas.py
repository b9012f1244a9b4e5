"""CSV files a spreadsheet opens safely (RELIABILITY.md B16).

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to
Excel, LibreOffice and Google Sheets, so a product named ``=HYPERLINK(...)`` would run when a
marketer opens the export. Every CSV AdStudio writes goes through ``csv_writer`` below, which
prefixes such text with ``'`` (OWASP's "CSV Injection" advice): the spreadsheet shows the text.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell_neutralise(value: Any) -> Any:
    """``value`` as a spreadsheet reads it as text, never as a formula.

    Numbers stay numbers (a spreadsheet reads ``-5`` as minus five, not a formula, and our
    code, not a user, wrote it); any other value is written as its text, prefixed with ``'``
    when that text starts like a formula.
    """
    if value is None or isinstance(value, bool | int | float | Decimal):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _NeutralisingWriter:
    def __init__(self, writer):
        self._writer = writer

    def writerow(self, row: Iterable[Any]):
        return self._writer.writerow([csv_cell_neutralise(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(stream, **options) -> _NeutralisingWriter:
    """``csv.writer(stream, **options)`` whose every cell goes through ``csv_cell_neutralise``."""
    return _NeutralisingWriter(csv.writer(stream, **options))
