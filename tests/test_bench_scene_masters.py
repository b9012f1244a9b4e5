"""bench/scene_masters.py keeps working: a campaign of 2 products x 4 formats planned with
scene templates needs one master per product and fewer GPU jobs and pixels than one render per
format; one product painted for real with the tiny model, every ad on its scene (nothing
appended; no timing thresholds)."""

import pytest

from bench import scene_masters

FORMATS = 4  # rectangle, mobile banner, leaderboard, large rectangle


@pytest.mark.django_db(transaction=True)  # on-commit callbacks run for real, as in the bench
def test_scene_masters_bench_plans_one_master_per_product(tiny_model):
    before = scene_masters.BENCHMARKS.read_text(encoding="utf-8")
    report = scene_masters.main(["--products", "2", "--formats", str(FORMATS), "--paint", "1",
                                 "--no-append"])

    assert scene_masters.BENCHMARKS.read_text(encoding="utf-8") == before  # --no-append
    scene, picture = report.plans
    assert picture.gpu_jobs == 2 * FORMATS and picture.masters == 0
    assert scene.masters == 2 and scene.compositions == 2 * FORMATS
    assert scene.gpu_jobs == scene.masters + scene.outpaints < picture.gpu_jobs
    assert 0 < scene.megapixels < picture.megapixels
    painted = report.painted
    assert painted["succeeded"] == painted["jobs"] and painted["ads"] == FORMATS
    assert painted["aligned"] == FORMATS
    assert report.table.count("\n") == 3  # header, rule, two plans
