"""bench/dashboard.py keeps working: seeding and the in-process measurements at a tiny size,
with the dashboard's query counts equal at two sizes (the benchmark's claim, in small)."""

import pytest

from bench import dashboard
from campaigns.models import ReviewEvent
from rendering.models import Asset, ReviewState

PAGES = ["campaign page", "review queue, page 1", "asset list API, page 1 (50)",
         "asset list API, ?campaign=", "export start (POST, 302)"]


@pytest.mark.django_db
def test_dashboard_bench_query_counts_do_not_grow_with_assets():
    small = dashboard.seed(80, 8, 2, tag="s", sample_per_workspace=1)
    large = dashboard.seed(320, 8, 2, tag="l", sample_per_workspace=1)

    assert (small.assets, large.assets) == (80, 320)
    mine = Asset.objects.filter(workspace__in=large.workspaces)
    assert mine.count() == 320
    assert mine.filter(parent__isnull=False).exists()  # version chains
    assert mine.filter(version__gte=2, parent__version=1).exists()
    live = mine.filter(is_live=True)
    assert live.count() == large.live > 0
    assert not live.exclude(review_state=ReviewState.APPROVED).exists()
    assert mine.filter(review_state=ReviewState.IN_REVIEW).count() == large.in_review > 0
    # Every approved asset has its approval, bound to its file's hash.
    assert ReviewEvent.objects.filter(asset__in=live, action="approve").count() == live.count()

    counts = {}
    for label, seeded in (("small", small), ("large", large)):
        results = dashboard.measure_inprocess(seeded, 2)
        assert results["ZIP download: first byte"].queries  # the ZIP streamed and checked
        for name in PAGES:
            counts[label, name] = set(results[name].queries)
            assert results[name].row(seeded.assets).startswith(f"| {name} |")
    for name in PAGES:
        assert counts["small", name] == counts["large", name], name
        assert len(counts["large", name]) == 1, name
