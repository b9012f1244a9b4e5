"""docs/reliability.md lists every RELIABILITY id with the tests named by it; this keeps the
table and the suite in step (an id with no test, or a test naming an id the table lacks,
fails)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "docs" / "reliability.md"


def _ids_in_table() -> dict[str, str]:
    return {m.group(1): m.group(2) for m in
            re.finditer(r"^\| ([FBP]\d+) \|.*\| (.*) \|$", TABLE.read_text(), re.M)}


def _tests_by_id() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / "tests").rglob("test_*.py"):
        for m in re.finditer(r"^\s*def (test_([FBP]\d+)_\w+)", path.read_text(), re.M):
            found.setdefault(m.group(2), set()).add(m.group(1))
    return found


def test_every_reliability_id_has_a_test_named_by_it():
    table, tests = _ids_in_table(), _tests_by_id()
    expected = ({f"F{i}" for i in range(1, 17)} | {f"B{i}" for i in range(1, 17)}
                | {f"P{i}" for i in range(1, 14)})
    assert expected <= set(table), f"missing from docs/reliability.md: {expected - set(table)}"
    assert not [i for i in table if not tests.get(i)], "ids with no test named by them"
    assert set(tests) <= set(table), f"tests name ids not in the table: {set(tests) - set(table)}"


def test_the_table_names_only_tests_that_exist():
    tests = {name for names in _tests_by_id().values() for name in names}
    for id_, cell in _ids_in_table().items():
        named = set(re.findall(r"`(test_\w+)`", cell))
        assert named, f"{id_} lists no test"
        assert named <= tests, f"{id_} lists tests that do not exist: {named - tests}"
