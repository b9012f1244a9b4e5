"""bench/compose.py keeps working: one repeat on two formats, nothing appended, every row of
its table present with positive times (no timing thresholds: it is a benchmark, not a test of
speed)."""

from bench import compose

FORMATS = ("gdn-medium-rectangle", "responsive-landscape")


def _rows(table: str) -> dict[str, list[str]]:
    lines = table.splitlines()
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = {}
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert len(cells) == len(header), line
        rows[cells[0]] = dict(zip(header, cells, strict=True))
    return rows


def test_compose_bench_runs_on_two_formats(tiny_model_dir):
    before = compose.BENCHMARKS.read_text(encoding="utf-8")
    table = compose.main(["--repeat", "1", "--no-append", "--formats", ",".join(FORMATS),
                          "--tiny-model", str(tiny_model_dir)])

    assert compose.BENCHMARKS.read_text(encoding="utf-8") == before  # --no-append
    rows = _rows(table)
    assert set(rows) == {*FORMATS, *(f"price change: {k}" for k in FORMATS),
                         *(f"tiny model render: {k}" for k in compose.RENDER_FORMATS)}
    for key in FORMATS:
        row = rows[key]
        for column in ("layout ms", "first call ms", "p50 ms", "p95 ms", "PNG KB"):
            assert float(row[column]) > 0, (key, column)
        assert row["p50 / GPU render"].endswith("%")
        price = rows[f"price change: {key}"]
        assert float(price["p50 ms"]) > 0 and float(price["p95 ms"]) > 0
    assert rows["gdn-medium-rectangle"]["size"] == "300x250"
    for key in compose.RENDER_FORMATS:
        render = rows[f"tiny model render: {key}"]
        assert "TINY" in render["design / notes"]
        assert float(render["first call ms"]) > 0 and float(render["p50 ms"]) > 0
        assert render["p50 / GPU render"] == ""  # a tiny model's time is not a GPU's


def test_percentile_interpolates():
    assert compose.percentile([5.0], 0.95) == 5.0
    assert compose.percentile([1.0, 2.0, 3.0, 4.0, 5.0], 0.5) == 3.0
    assert compose.percentile(list(map(float, range(1, 21))), 0.95) == 19.05
