"""Feed files in Merchant Center formats read row by row: CSV, TSV, RSS 2.0 and Atom (B4, B10)."""

from __future__ import annotations

import tracemalloc

import pytest

from brands.feed_formats import (
    CP1252_NOTE,
    DTD_REFUSED,
    NOT_CSV,
    FeedFormatError,
    FeedRow,
    feed_encoding_detect,
    feed_format_detect,
    feed_rows,
)

G = 'xmlns:g="http://base.google.com/ns/1.0"'


def _write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def test_a_csv_feed_yields_merchant_center_values_with_row_numbers(tmp_path):
    path = _write(tmp_path, "feed.csv", (
        "g:id,Title,price,product_highlight,product_highlight,additional_image_link,colour\n"
        "SKU-1,Blue mug,12.00 EUR,Dishwasher safe,Holds 300 ml,"
        '"https://cdn.test/a.jpg,https://cdn.test/b.jpg",blue\n'
        "\n"
        "SKU-2,Red mug,14.00 EUR,,,,\n"))
    assert feed_format_detect(path) == "csv"
    assert list(feed_rows(path)) == [
        FeedRow(2, {"id": "SKU-1", "title": "Blue mug", "price": "12.00 EUR",
                    "product_highlight": ["Dishwasher safe", "Holds 300 ml"],
                    "additional_image_link": ["https://cdn.test/a.jpg", "https://cdn.test/b.jpg"],
                    "colour": "blue"}),
        FeedRow(4, {"id": "SKU-2", "title": "Red mug", "price": "14.00 EUR",
                    "product_highlight": [], "additional_image_link": [], "colour": ""}),
    ]


def test_a_merchant_center_tsv_feed_is_read_with_tabs(tmp_path):
    path = _write(tmp_path, "feed.tsv", "id\ttitle\tprice\tdescription\n"
                                        "SKU-1\tBlue mug, large\t12.00 EUR\tA mug; for tea\n")
    assert feed_format_detect(path) == "tsv"
    [row] = feed_rows(path)
    assert row.values == {"id": "SKU-1", "title": "Blue mug, large", "price": "12.00 EUR",
                          "description": "A mug; for tea"}
    assert list(feed_rows(path, format="tsv")) == [row]


def test_a_semicolon_separated_windows_1252_csv_is_read(tmp_path):
    path = _write(tmp_path, "feed.csv", "id;title;price\nSKU-1;Crème brûlée;4,50 EUR\n"
                  .encode("cp1252"))
    assert feed_encoding_detect(path) == "cp1252" and "Windows-1252" in CP1252_NOTE
    [row] = feed_rows(path)
    assert row.values == {"id": "SKU-1", "title": "Crème brûlée", "price": "4,50 EUR"}


def test_a_utf16_file_with_a_byte_order_mark_is_read_and_one_without_is_refused(tmp_path):
    text = "id\ttitle\tprice\nSKU-1\tMug\t1.00 EUR\n"
    with_bom = _write(tmp_path, "bom.tsv", text.encode("utf-16"))
    assert [row.values["title"] for row in feed_rows(with_bom)] == ["Mug"]
    without = _write(tmp_path, "nobom.tsv", text.encode("utf-16-le"))
    with pytest.raises(FeedFormatError, match="UTF-16 or binary") as refused:
        list(feed_rows(without, format="csv"))
    assert str(refused.value) == NOT_CSV


def test_bad_rows_are_reported_and_the_others_go_on(tmp_path):
    path = _write(tmp_path, "feed.csv", (
        "id,title,price\n"
        "SKU-1,Mug,1.00 EUR,surplus\n"
        f'SKU-2,"{"x" * 200_000}",2.00 EUR\n'
        "SKU-3,Cup,3.00 EUR\n"))
    rows = list(feed_rows(path))
    assert rows[0].line == 2 and rows[0].values == {"id": "SKU-1"}
    assert "the header has 3 columns" in rows[0].error
    assert rows[1].line == 3 and "could not be read" in rows[1].error
    assert rows[-1] == FeedRow(4, {"id": "SKU-3", "title": "Cup", "price": "3.00 EUR"})


@pytest.mark.parametrize(("content", "message"), [
    ("", "The file is empty"),
    ("id,name\nSKU-1,Mug\n", "missing the required column(s) title, price"),
])
def test_a_file_without_the_required_header_is_refused(tmp_path, content, message):
    with pytest.raises(FeedFormatError, match=message.replace("(", r"\(").replace(")", r"\)")):
        list(feed_rows(_write(tmp_path, "feed.csv", content), format="csv"))


def test_a_decoding_error_half_way_keeps_the_rows_before_it(tmp_path):
    good = "".join(f"SKU-{n},Mug {n},1.00 EUR\n" for n in range(4000))  # > 64 KB sniffed
    path = _write(tmp_path, "feed.csv", b"id,title,price\n" + good.encode() + b"SKU-X,\xff,1\n")
    rows = []
    with pytest.raises(FeedFormatError, match="not valid UTF-8 after row"):
        for row in feed_rows(path):
            rows.append(row)
    assert len(rows) >= 3000 and rows[0].values["id"] == "SKU-0"


RSS = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" {G}>
<channel><title>Shop</title><link>https://shop.test/</link>
<item>
  <g:id>SKU-1</g:id><title>Plain title</title><g:title>Blue mug</g:title>
  <link>https://shop.test/mug</link><description>A mug</description>
  <g:price>12.00 EUR</g:price><g:image_link>https://cdn.test/1.jpg</g:image_link>
  <g:additional_image_link>https://cdn.test/2.jpg</g:additional_image_link>
  <g:additional_image_link>https://cdn.test/3.jpg</g:additional_image_link>
  <g:product_highlight>Holds 300 ml</g:product_highlight>
  <g:shipping><g:country>DE</g:country><g:service>Standard</g:service>
    <g:price>4.99 EUR</g:price></g:shipping>
  <g:custom_label_0>summer</g:custom_label_0><g:size>S</g:size><g:size>M</g:size>
</item>
<item><id>SKU-2</id><title>Red mug</title><price>14.00 EUR</price></item>
</channel></rss>"""


def test_an_rss_feed_yields_g_elements_lists_and_plain_tags(tmp_path):
    path = _write(tmp_path, "feed.xml", RSS)
    assert feed_format_detect(path) == "xml"
    first, second = feed_rows(path)
    assert first == FeedRow(1, {
        "id": "SKU-1", "title": "Blue mug", "link": "https://shop.test/mug",
        "description": "A mug", "price": "12.00 EUR", "image_link": "https://cdn.test/1.jpg",
        "additional_image_link": ["https://cdn.test/2.jpg", "https://cdn.test/3.jpg"],
        "product_highlight": ["Holds 300 ml"], "shipping": "DE:Standard:4.99 EUR",
        "custom_label_0": "summer", "size": ["S", "M"]})
    assert second == FeedRow(2, {"id": "SKU-2", "title": "Red mug", "price": "14.00 EUR"})


def test_an_atom_feed_reads_link_href_and_keeps_its_own_id_apart(tmp_path):
    path = _write(tmp_path, "feed.atom", f"""\ufeff
<feed xmlns="http://www.w3.org/2005/Atom" {G}>
<title>Shop</title><link rel="self" href="https://shop.test/feed.atom"/>
<entry>
  <id>urn:uuid:1225c695</id><g:id>TV_123</g:id><title>LG 22" TV</title>
  <link rel="alternate" href="https://shop.test/tv"/><link rel="enclosure" href="x.mp4"/>
  <g:price>159.00 EUR</g:price><g:availability>in_stock</g:availability>
</entry>
</feed>""")
    assert feed_format_detect(path) == "xml"
    [row] = feed_rows(path)
    assert row.values == {"id": "TV_123", "atom_id": "urn:uuid:1225c695", "title": 'LG 22" TV',
                          "link": "https://shop.test/tv", "price": "159.00 EUR",
                          "availability": "in_stock"}


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<rss><channel><item><title>&lol4;</title></item></channel></rss>"""
XXE = """<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<rss><channel><item><title>&secret;</title></item></channel></rss>"""


@pytest.mark.parametrize("attack", [BILLION_LAUGHS, XXE], ids=["billion-laughs", "xxe"])
def test_B4_xml_feeds_with_entity_attacks_are_refused(tmp_path, attack):
    rows = []
    with pytest.raises(FeedFormatError) as refused:
        for row in feed_rows(_write(tmp_path, "feed.xml", attack)):
            rows.append(row)
    assert str(refused.value) == DTD_REFUSED and rows == []


def test_an_xml_feed_broken_half_way_keeps_the_items_before_it(tmp_path):
    path = _write(tmp_path, "feed.xml", f"<rss {G}><channel><item><g:id>A</g:id></item>"
                                        "<item><g:id>B</g:id></channel>")
    rows = []
    with pytest.raises(FeedFormatError, match="not well-formed after item 1"):
        for row in feed_rows(path):
            rows.append(row)
    assert [row.values["id"] for row in rows] == ["A"]


def test_an_xml_file_that_is_not_a_product_feed_is_refused(tmp_path):
    with pytest.raises(FeedFormatError, match="no <item> or <entry>"):
        list(feed_rows(_write(tmp_path, "feed.xml", "<catalog><product/></catalog>")))


def _write_big_rss(path, items):
    with open(path, "w", encoding="utf-8") as out:
        out.write(f'<?xml version="1.0"?><rss version="2.0" {G}><channel><title>Big</title>\n')
        for n in range(items):
            out.write(f"<item><g:id>SKU-{n}</g:id><g:title>Product number {n}</g:title>"
                      f"<g:description>{'A fine product. ' * 10}</g:description>"
                      f"<g:price>{n % 100}.99 EUR</g:price>"
                      f"<g:image_link>https://cdn.test/{n}.jpg</g:image_link>"
                      f"<g:additional_image_link>https://cdn.test/{n}b.jpg"
                      "</g:additional_image_link></item>\n")
        out.write("</channel></rss>\n")


def test_B10_xml_feed_of_100k_items_streams_in_bounded_memory(tmp_path):
    path = tmp_path / "big.xml"
    _write_big_rss(path, 100_000)
    tracemalloc.start()
    try:
        count, last = 0, None
        for row in feed_rows(path):
            count, last = count + 1, row
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 100_000 and last.values["id"] == "SKU-99999" and last.line == 100_000
    assert peak < 4 * 1024 * 1024, f"peak {peak / 1024 / 1024:.1f} MiB"


def test_B10_csv_feed_of_100k_rows_streams_in_bounded_memory(tmp_path):
    path = tmp_path / "big.csv"
    with open(path, "w", encoding="utf-8") as out:
        out.write("id,title,price,description\n")
        for n in range(100_000):
            out.write(f"SKU-{n},Product {n},{n % 100}.99 EUR,{'A fine product. ' * 10}\n")
    tracemalloc.start()
    try:
        count = sum(1 for _ in feed_rows(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 100_000
    assert peak < 4 * 1024 * 1024, f"peak {peak / 1024 / 1024:.1f} MiB"
