"""Run records (the plugin's JSON) and the runtime figures derived from them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.collectors.records import (
    RunRecord,
    TestResult,
    broken_files,
    check_clean,
    failing_ids,
    load_record,
    parse_record,
)
from harness.collectors.runtime import durations_by_test, parse
from harness.errors import ArtifactError, NoDataError, ToolError


def _doc(tests: list[tuple[str, str, float]], **extra: Any) -> dict[str, Any]:
    return {"format": 1, "kind": "run-record", "order": "declared", "seed": 0, "exitstatus": 0, "collected": 3,
            "collection_errors": [],
            "tests": [{"nodeid": n, "outcome": o, "phase": None, "duration": d} for n, o, d in tests], **extra}


def _record(tests: list[tuple[str, str, float]], wall: float, xdist: bool = True) -> RunRecord:
    return parse_record(_doc(tests), wall, xdist)


def test_parse_record_outcomes() -> None:
    r = _record([("t::a", "passed", 0.1), ("t::b", "failed", 0.2), ("t::c", "skipped", 0.0),
                 ("t::d", "error", 0.3)], 1.0)
    assert failing_ids(r) == ["t::b", "t::d"]
    assert [t.ran for t in r.tests] == [True, True, False, True]
    with pytest.raises(ArtifactError):
        parse_record({"kind": "other"})


def test_runtime_is_median_of_xdist_runs_and_module_cost() -> None:
    records = [
        _record([("t::fast", "passed", 0.1), ("t::slow", "passed", 2.0)], 4.0),
        _record([("t::fast", "passed", 0.3), ("t::slow", "passed", 1.0)], 2.0),
        _record([("t::fast", "passed", 0.2), ("t::slow", "passed", 3.0)], 3.0),
        _record([("t::fast", "passed", 9.0), ("t::slow", "passed", 9.0)], 99.0, xdist=False),  # not timed
    ]
    suite, by_module = parse(records, {"m.a": ("t::fast", "t::slow"), "m.b": ("t::fast",), "m.c": ()},
                             workers=2, slowest=1)
    assert suite.wall_seconds == (4.0, 2.0, 3.0) and suite.median == 3.0
    assert (suite.minimum, suite.maximum, suite.tests, suite.workers) == (2.0, 4.0, 2, 2)
    assert by_module["m.a"].test_seconds == pytest.approx(0.2 + 2.0)
    assert [t.nodeid for t in by_module["m.a"].slowest] == ["t::slow"]
    assert by_module["m.b"].tests == 1 and by_module["m.c"].tests == 0
    assert durations_by_test(records[:1]) == {"t::fast": 0.1, "t::slow": 2.0}


def test_run_varying_ids_are_not_counted_once_per_run() -> None:
    records = [_record([("t::a", "passed", 0.1), (f"t::b[{i}]", "passed", 0.1)], 1.0) for i in range(3)]
    suite, _ = parse(records, {}, workers=1)
    assert suite.tests == 2


def test_skipped_tests_are_not_timed() -> None:
    assert durations_by_test([_record([("t::s", "skipped", 0.5)], 1.0)]) == {}


def test_check_clean_refuses_empty_and_broken_collection(tmp_path: Path) -> None:
    log = tmp_path / "pytest.log"
    with pytest.raises(NoDataError, match="no tests collected"):
        check_clean(_record([], 1.0), log)
    broken = parse_record(_doc([], collection_errors=[{"nodeid": "tests/test_x.py", "message": "E  boom"},
                                                      {"nodeid": "tests/test_y.py", "message": "E  bang"}]))
    with pytest.raises(ToolError, match=r"test collection failed in tests/test_x.py: E  boom \(\+1 more\)"):
        check_clean(broken, log)


def test_missing_record_names_the_log(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    log.write_text("ImportError: no module named thing\n")
    with pytest.raises(ToolError, match="pytest wrote no results") as info:
        load_record(tmp_path / "missing.json", log)
    assert "no module named thing" in str(info.value)
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ArtifactError, match="unreadable"):
        load_record(tmp_path / "bad.json", log)


def _timed(worker: str | None, start: float, stop: float) -> TestResult:
    return TestResult("t::x", "passed", None, stop - start, worker=worker, start=start, stop=stop)


def test_tests_overlap_only_when_they_ran_at_once_on_different_workers() -> None:
    a = _timed("gw0", 0.5, 1.0)
    assert a.overlaps(_timed("gw1", 0.2, 3.0)) and _timed("gw1", 0.2, 3.0).overlaps(a)
    assert not a.overlaps(_timed("gw0", 0.2, 3.0))  # one worker runs one test at a time
    # back to back (one starts as the other ends) is not at once, in either order
    assert not a.overlaps(_timed("gw1", 1.0, 2.0)) and not _timed("gw1", 1.0, 2.0).overlaps(a)
    assert not a.overlaps(_timed("gw1", 0.1, 0.5)) and not _timed("gw1", 0.1, 0.5).overlaps(a)
    unrecorded = _timed("gw1", 0.0, 0.0)
    assert not a.overlaps(unrecorded) and not unrecorded.overlaps(a)


def test_broken_files_name_the_session_when_pytest_gives_no_file() -> None:
    broken = parse_record(_doc([], collection_errors=[{"nodeid": "", "message": "E  conftest"},
                                                      {"nodeid": "tests/test_y.py"}]))
    assert broken_files(broken) == [("<session>", "E  conftest"), ("tests/test_y.py", "")]


def test_runtime_defaults_serial_runs_cpu_and_five_slowest() -> None:
    tests = [(f"t::{i}", "passed", float(i)) for i in range(7)]
    serial = [parse_record(_doc(tests), 2.0, False, 1.5), parse_record(_doc(tests[:3]), 4.0, False, 2.5)]
    suite, by_module = parse(serial, {"m": [n for n, _, _ in tests]}, workers=1)
    # no pytest-xdist run: the serial runs are timed instead
    assert (suite.wall_seconds, suite.cpu_seconds, suite.tests) == ((2.0, 4.0), (1.5, 2.5), 7)
    assert [t.nodeid for t in by_module["m"].slowest] == ["t::6", "t::5", "t::4", "t::3", "t::2"]
    empty, none = parse([], {"m": ["t::a"]}, workers=2)
    assert (empty.tests, empty.wall_seconds, empty.median) == (0, (), None)
    assert none["m"].tests == 0 and none["m"].test_seconds == 0


FULL_RECORD = {
    "format": 1, "kind": "run-record", "order": "shuffled", "seed": 42, "exitstatus": 1, "collected": 2,
    "collection_errors": [{"nodeid": "tests/test_b.py", "message": "E  SyntaxError"}],
    "tests": [{"nodeid": "t::a", "outcome": "failed", "phase": "call", "duration": 0.25, "message": "E  assert 1",
               "worker": "gw1", "start": 100.5, "stop": 100.75},
              {"nodeid": "t::b"}],
}


def test_parse_record_reads_every_field_and_defaults_the_missing_ones() -> None:
    got = parse_record(FULL_RECORD, 3.5, False, 2.25)
    assert got == RunRecord(
        order="shuffled", seed=42, exitstatus=1, collected=2,
        collection_errors=(("tests/test_b.py", "E  SyntaxError"),),
        tests=(TestResult("t::a", "failed", "call", 0.25, "E  assert 1", "gw1", 100.5, 100.75),
               TestResult("t::b", "passed", None, 0.0, "", None, 0.0, 0.0)),
        wall_seconds=3.5, xdist=False, cpu_seconds=2.25)
    bare = parse_record({"format": 1, "kind": "run-record", "collection_errors": [{"nodeid": "x"}]})
    assert bare == RunRecord(order="declared", seed=0, exitstatus=0, collected=0, collection_errors=(("x", ""),),
                             tests=(), wall_seconds=0.0, xdist=True, cpu_seconds=0.0)


@pytest.mark.parametrize("doc", [{"format": 1, "kind": "other"}, {"format": 2, "kind": "run-record"}, {}])
def test_parse_record_refuses_other_documents(doc: dict[str, Any]) -> None:
    with pytest.raises(ArtifactError, match=r"^not a harness run record of format 1$"):
        parse_record(doc)


def test_load_record_passes_the_run_figures_on(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    path.write_text(json.dumps(FULL_RECORD), encoding="utf-8")
    got = load_record(path, tmp_path / "log", 3.5, False, 2.25)
    assert got == parse_record(FULL_RECORD, 3.5, False, 2.25)
    plain = load_record(path, tmp_path / "log")
    assert (plain.wall_seconds, plain.xdist, plain.cpu_seconds) == (0.0, True, 0.0)


def test_check_clean_names_a_lone_collection_error_of_the_session(tmp_path: Path) -> None:
    broken = parse_record(_doc([], collection_errors=[{"nodeid": "", "message": "E  conftest"}]))
    with pytest.raises(ToolError, match=r"^test collection failed in <session>: E  conftest; log: "):
        check_clean(broken, tmp_path / "log")
