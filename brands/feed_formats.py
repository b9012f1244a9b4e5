"""Read product feeds in Google Merchant Center formats, one row at a time (B4, B10).

CSV and TSV files name their columns in the first row; XML feeds are RSS 2.0 (``<item>``) or
Atom (``<entry>``) with ``g:`` elements (http://base.google.com/ns/1.0). Every format yields
FeedRow values under Merchant Center attribute names; unknown columns and elements keep their
own names. Memory stays flat for any feed size: CSV is read line by line, XML parsed
incrementally with each item dropped once read. XML is parsed by defusedxml and any DTD is
refused, so entity expansion (billion laughs) and external entities (XXE) never run.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import iterparse

FORMATS = ("csv", "tsv", "xml")
G_NS = "http://base.google.com/ns/1.0"
ATOM_NS = "http://www.w3.org/2005/Atom"
ITEM_TAGS = ("item", "entry")
SNIFF_BYTES = 64 * 1024
MAX_HEADER_CHARS = 64 * 1024
REQUIRED_COLUMNS = ("id", "title", "price")
# Always lists, even with one value; any other attribute becomes a list when it repeats.
LIST_ATTRIBUTES = ("additional_image_link", "product_highlight", "features")
# Merchant Center text feeds put several additional image URLs in one cell, comma-separated.
_URL_LIST = re.compile(r",\s*(?=https?://)", re.IGNORECASE)
UNREADABLE_ROW_HINT = "a value is too long or a quote is not closed."
ENCODING_LABELS = {"utf-8-sig": "UTF-8", "cp1252": "Windows-1252", "utf-16": "UTF-16"}
NOT_CSV = "This file looks like UTF-16 or binary, not a CSV; save it as 'CSV UTF-8' and try again."
CP1252_NOTE = (
    "The file is not UTF-8, so it was read as Windows-1252 (Western European). If accents or "
    "symbols look wrong, save the feed as 'CSV UTF-8' and import again."
)
DTD_REFUSED = (
    "The XML feed declares a document type (<!DOCTYPE ...>). Product feeds never need one and "
    "it can hide entity attacks, so AdStudio does not read it; export the feed without it."
)


@dataclass(frozen=True)
class FeedRow:
    line: int  # CSV/TSV: the row number (header = 1); XML: the item's ordinal (1-based)
    values: dict[str, object]  # Merchant Center name -> str, or list[str] for repeated ones
    error: str = ""  # this row could not be read; the importer reports it, the others go on


class FeedFormatError(Exception):
    """The whole file (or the rest of it) cannot be read; the message says why."""


def feed_encoding_detect(path: Path) -> str:
    """The codec a CSV/TSV feed is read with: "utf-8-sig", "cp1252" (say CP1252_NOTE to the
    user) or "utf-16" (with a byte-order mark); FeedFormatError for binary files."""
    with open(path, "rb") as raw:
        return _sniff_encoding(raw.read(SNIFF_BYTES))


def feed_format_detect(path: Path) -> str:
    """ "xml" when the file starts with markup, "tsv" when its first row is tab-separated,
    else "csv"."""
    with open(path, "rb") as raw:
        head = raw.read(SNIFF_BYTES)
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        text = head.decode("utf-16", errors="replace")
    else:
        text = head.replace(b"\x00", b"").decode("utf-8", errors="replace")
    text = text.lstrip("\ufeff \t\r\n")
    if text.startswith("<"):
        return "xml"
    return "tsv" if _delimiter(text.split("\n", 1)[0], ",;\t") == "\t" else "csv"


def feed_rows(path: Path, *, format: str = "auto") -> Iterator[FeedRow]:
    """The products in the feed at ``path``, in file order.

    ``format`` is "csv", "tsv", "xml" or "auto" (feed_format_detect). A whole-file problem
    raises FeedFormatError, possibly after some rows were yielded (a decoding error half-way
    through): the rows before it are good."""
    if format == "auto":
        format = feed_format_detect(path)
    if format not in FORMATS:
        raise ValueError(f"format must be 'auto' or one of {FORMATS}, not {format!r}")
    if format == "xml":
        return _xml_rows(path)
    return _delimited_rows(path, delimiters="\t" if format == "tsv" else ",;\t")


def _sniff_encoding(head: bytes) -> str:
    """UTF-8 (BOM or not) when the first 64 KB decode as UTF-8, else cp1252."""
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    if b"\x00" in head:  # UTF-16/32 text without a BOM, and binary files, are full of NULs
        raise FeedFormatError(NOT_CSV)
    try:
        # Not final unless this is the whole file: a multi-byte character may be cut at 64 KB.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=len(head) < SNIFF_BYTES)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8-sig"


def _delimiter(header_line: str, candidates: str) -> str:
    if len(candidates) == 1:
        return candidates
    try:
        return csv.Sniffer().sniff(header_line, delimiters=candidates).delimiter
    except csv.Error:  # a single column, or nothing the sniffer recognizes
        return ","


def _delimited_rows(path: Path, *, delimiters: str) -> Iterator[FeedRow]:
    with open(path, "rb") as raw:
        encoding = _sniff_encoding(raw.read(SNIFF_BYTES))
        raw.seek(0)
        text = io.TextIOWrapper(raw, encoding=encoding, newline="")
        row_no = 1
        try:
            header_line = text.readline(MAX_HEADER_CHARS)
            if not header_line.strip():
                raise FeedFormatError("The file is empty; the first row must name the columns.")
            if len(header_line) >= MAX_HEADER_CHARS and not header_line.endswith("\n"):
                raise FeedFormatError("The first row is too long to be a header of column names.")
            # csv.reader, not DictReader: a repeated product_highlight column keeps every value.
            reader = csv.reader(itertools.chain([header_line], text),
                                delimiter=_delimiter(header_line, delimiters))
            header = [name.strip().lower().removeprefix("g:") for name in next(reader)]
            columns: dict[str, list[int]] = {}
            for index, name in enumerate(header):
                if name:
                    columns.setdefault(name, []).append(index)
            missing = [name for name in REQUIRED_COLUMNS if name not in columns]
            if missing:
                raise FeedFormatError(
                    f"The feed is missing the required column(s) {', '.join(missing)}; "
                    "the first row must name at least the columns id, title and price.")
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    row_no += 1
                    yield FeedRow(row_no, {}, f"This row could not be read ({exc}): "
                                              + UNREADABLE_ROW_HINT)  # fmt: skip
                    continue
                row_no += 1
                if any(cell.strip() for cell in cells):  # blank lines are not products
                    yield _delimited_row(row_no, cells, columns, len(header))
        except UnicodeDecodeError as exc:
            raise FeedFormatError(f"The file is not valid {ENCODING_LABELS[encoding]} after row "
                                  f"{row_no}; save it as UTF-8 and import again") from exc


def _delimited_row(row_no: int, cells: list[str], columns: dict[str, list[int]],
                   width: int) -> FeedRow:
    def cell(index: int) -> str:
        return cells[index] if index < len(cells) else ""

    if any(value.strip() for value in cells[width:]):  # trailing empty cells are harmless
        return FeedRow(row_no, {"id": cell(columns["id"][0]).strip()}, (
            f"This row has {len(cells)} values but the header has {width} columns; "
            "put quotes around values that contain the delimiter."))
    values: dict[str, object] = {}
    for name, indexes in columns.items():
        if name in LIST_ATTRIBUTES or len(indexes) > 1:
            parts = (_URL_LIST.split(cell(i)) if name == "additional_image_link" else [cell(i)]
                     for i in indexes)
            values[name] = [part.strip() for part in itertools.chain(*parts) if part.strip()]
        else:
            values[name] = cell(indexes[0])
    return FeedRow(row_no, values)


def _xml_rows(path: Path) -> Iterator[FeedRow]:
    ordinal = 0
    open_elements: list[Element] = []
    item_depth = -1  # index in open_elements of the item being read, -1 outside one
    try:
        for event, elem in iterparse(str(path), events=("start", "end"), forbid_dtd=True):
            if event == "start":
                if item_depth < 0 and _split(elem.tag)[1] in ITEM_TAGS:
                    item_depth = len(open_elements)
                open_elements.append(elem)
                continue
            open_elements.pop()
            if len(open_elements) == item_depth:
                item_depth = -1
                ordinal += 1
                yield FeedRow(ordinal, _item_values(elem))
                if open_elements:  # drop the item from the tree: memory stays flat
                    open_elements[-1].remove(elem)
                elem.clear()
    except DTDForbidden as exc:
        raise FeedFormatError(DTD_REFUSED) from exc
    except EntitiesForbidden as exc:
        raise FeedFormatError("The XML feed defines entities; AdStudio does not expand them. "
                              "Export the feed without them.") from exc
    except ExternalReferenceForbidden as exc:
        raise FeedFormatError("The XML feed refers to outside files; AdStudio does not load "
                              "them. Export the feed without them.") from exc
    except ParseError as exc:
        after = f" after item {ordinal}" if ordinal else ""
        raise FeedFormatError(f"The XML feed is not well-formed{after} ({exc}); export it "
                              "again or check it with an XML validator.") from exc
    if ordinal == 0:
        raise FeedFormatError("The XML file has no <item> or <entry> elements; AdStudio reads "
                              "RSS 2.0 and Atom product feeds.")


def _split(tag: str) -> tuple[str, str]:
    """(namespace, local name) of an ElementTree tag like '{ns}name'."""
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return "", tag


def _item_values(item: Element) -> dict[str, object]:
    """g: elements win over plain ones of the same name (Atom's <title> vs <g:title>)."""
    google: dict[str, object] = {}
    plain: dict[str, object] = {}
    for child in item:
        namespace, name = _split(child.tag)
        if namespace == ATOM_NS and name == "id":
            name = "atom_id"  # an Atom entry's own id (a URN), not the product's
        if name == "link" and child.get("rel", "alternate") != "alternate":
            continue  # Atom's rel="self", "enclosure"...: not the product page
        target = google if namespace == G_NS else plain
        _add(target, name.lower(), _element_text(child, name))
    for name, value in plain.items():
        google.setdefault(name, value)
    return google


def _element_text(elem: Element, name: str) -> str:
    if name == "link" and not (elem.text or "").strip() and elem.get("href"):
        return elem.get("href", "").strip()  # Atom: <link href="..."/>
    if len(elem):  # a group like <g:shipping><g:country>US</g:country>...: "US:...:4.99 USD"
        return ":".join((sub.text or "").strip() for sub in elem)
    return (elem.text or "").strip()


def _add(values: dict[str, object], name: str, value: str) -> None:
    if name in LIST_ATTRIBUTES:
        items = values.setdefault(name, [])
        if value:
            items.append(value)
    elif name not in values:
        values[name] = value
    elif isinstance(values[name], list):
        values[name].append(value)
    else:
        values[name] = [values[name], value]
