"""bench/price_change.py keeps working: 2 products x 2 formats generated, every price
changed, the stale assets recomposed with no job on the gpu queue; nothing appended (no timing
thresholds: it is a benchmark, not a test of speed)."""

import pytest

from bench import price_change


@pytest.mark.django_db(transaction=True)  # on-commit callbacks run for real, as in the bench
def test_price_change_bench_recomposes_with_no_gpu_job():
    before = price_change.BENCHMARKS.read_text(encoding="utf-8")
    report = price_change.main(["--products", "2", "--formats", "2", "--no-append"])

    assert price_change.BENCHMARKS.read_text(encoding="utf-8") == before  # --no-append
    assert report.gpu_jobs == 0
    assert report.new_assets == 4
    assert report.new_price_everywhere
    assert report.jobs_by_queue == {"cpu": 8}  # 4 generated, 4 recomposed
    generate, price, rerender = report.steps
    assert (generate.assets, rerender.assets) == (4, 4)
    assert len(rerender.compose) == 4
    assert "4 assets marked stale" in price.note
    assert "0 on the gpu queue" in rerender.note
    assert report.table.count("\n") == 4  # header, rule, three steps
