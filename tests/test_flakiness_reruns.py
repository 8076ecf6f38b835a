"""The flakiness collector when its re-runs go wrong: a test its id cannot select, an old rerun folder, the
coverage run's extra tests, the runtime phase off. The re-runs are replaced by recorded answers (no pytest)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from test_flakiness import record

from harness.collectors import flakiness as fl
from harness.collectors.records import RunRecord, TestResult
from harness.collectors.suite_runs import RunSpec
from harness.config import Config, CoverageSettings, FlakinessSettings, RuntimeSettings
from harness.discover import Project
from harness.errors import ToolError
from harness.model import FlakyClass


class Answers:
    """A Rerunner that answers from a table: ``unselectable`` ids raise ToolError, ``failing`` ids fail."""

    def __init__(self, unselectable: set[str], failing: set[str]) -> None:
        self.unselectable, self.failing = unselectable, failing
        self.count, self.seconds, self.asked = 0, 0.5, []

    def __call__(self, *_: Any) -> Answers:  # stands in for the class: analyse builds its own Rerunner
        return self

    def fails(self, sequence: Sequence[str]) -> bool:
        self.count += 1
        self.asked.append(tuple(sequence))
        if sequence[-1] in self.unselectable:
            raise ToolError(f"re-running {sequence[-1]} by its node id did not run it")
        return sequence[-1] in self.failing

    def command_fails(self, command: str) -> bool:
        self.count += 1
        return False


def _timed(*tests: TestResult, xdist: bool = True, wall: float = 2.0) -> RunRecord:
    return RunRecord(order="declared", seed=0, exitstatus=0, collected=len(tests), collection_errors=(),
                     tests=tests, wall_seconds=wall, xdist=xdist)


def _analyse(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, answers: Answers, cfg: Config,
             clean: RunRecord, records: Sequence[RunRecord]) -> fl.FlakinessResult:
    monkeypatch.setattr(fl, "Rerunner", answers)
    return fl.analyse(None, cfg, tmp_path, tmp_path / "raw", clean,  # type: ignore[arg-type]
                      records, [RunSpec("declared")] * len(records), {"m": ["t.py::a", "t.py::b"]})


def test_a_flaky_test_that_cannot_be_rerun_by_its_id_stays_flaky_unclassified(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    answers = Answers(unselectable={"t.py::a"}, failing=set())
    clean = record("t.py::b", ("t.py::a", "failed"))
    result = _analyse(monkeypatch, tmp_path, answers, Config(), clean, [record("t.py::a", "t.py::b")])
    (flaky,) = result.flaky
    assert (flaky.nodeid, flaky.kind) == ("t.py::a", FlakyClass.UNCLASSIFIED)
    assert flaky.detail == "not classified: re-running t.py::a by its node id did not run it"
    assert flaky.reproduce.startswith("python -m pytest ") and flaky.reproduce.endswith(" t.py::a")


def test_a_parallel_only_failure_that_cannot_be_rerun_alone_is_classified_as_flaky_not_parallel_unsafe(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Not shown to pass alone: the parallel-unsafe class needs that proof, so it goes to classification."""
    answers = Answers(unselectable={"t.py::a"}, failing=set())
    parallel = _timed(TestResult("t.py::a", "failed", "call", 1, worker="gw0", start=10, stop=11),
                      TestResult("t.py::b", "passed", None, 1, worker="gw1", start=10.5, stop=11.5))
    serial = _timed(TestResult("t.py::a", "passed", None, 1, start=1, stop=2),
                    TestResult("t.py::b", "passed", None, 1, start=2, stop=3), xdist=False)
    result = _analyse(monkeypatch, tmp_path, answers, Config(), serial, [parallel])
    assert result.parallel_unsafe == ()
    assert [(f.nodeid, f.kind) for f in result.flaky] == [("t.py::a", FlakyClass.UNCLASSIFIED)]
    assert answers.asked[0] == ("t.py::a",)  # first question: does it fail alone?


def test_the_coverage_runs_extra_tests_are_not_judged_for_flakiness(monkeypatch: pytest.MonkeyPatch,
                                                                    tmp_path: Path) -> None:
    """coverage.pytest_args widen the coverage run (e.g. slow tests too): a test only it ran is not counted."""
    cfg = Config(coverage=CoverageSettings(pytest_args=("-m", "not acceptance")))
    clean = record("t.py::a", ("t.py::slow", "failed"))
    result = _analyse(monkeypatch, tmp_path, Answers(set(), set()), cfg, clean, [record("t.py::a")])
    assert result.tests_run == 1 and result.broken == () and "t.py::slow" not in result.outcomes
    without = _analyse(monkeypatch, tmp_path, Answers(set(), set()), Config(), clean, [record("t.py::a")])
    assert without.broken == (("t.py::slow", ""),)


@pytest.mark.parametrize(("runtime", "extra_runs", "extra_seconds"), [
    (RuntimeSettings(enabled=False), 3, 6.5),  # every repeated run is this phase's own, plus the reruns
    (RuntimeSettings(runs=1), 2, 4.5),          # the fastest xdist run is the runtime phase's
])
def test_extra_cost_counts_the_runtime_phases_runs_only_when_it_is_on(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, runtime: RuntimeSettings, extra_runs: int,
        extra_seconds: float) -> None:
    cfg = Config(runtime=runtime, flakiness=FlakinessSettings(runs=3))
    runs = [_timed(TestResult("t.py::a", "passed", None, 1)) for _ in range(3)]
    result = _analyse(monkeypatch, tmp_path, Answers(set(), set()), cfg, record("t.py::a"), runs)
    assert (result.extra_runs, result.extra_seconds) == (extra_runs, extra_seconds)


def test_rerunner_clears_the_last_runs_files_and_refuses_a_test_its_id_did_not_run(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    out = tmp_path / "reruns"
    out.mkdir()
    (out / "rerun-0007.json").write_text("{}")
    (out / "keep.txt").write_text("not ours")
    project = Project(tmp_path, "p", ("",), ("p",), ("tests",), ())
    rerun = fl.Rerunner(project, Config(), tmp_path, out)
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]

    class Ran:
        returncode, wall_seconds = 4, 0.25

    monkeypatch.setattr(fl, "run_pytest", lambda *a: Ran())
    monkeypatch.setattr(fl, "load_record", lambda *a, **k: record("t.py::other"))
    with pytest.raises(ToolError, match=r"re-running t.py::a by its node id did not run it \(pytest exit 4\)"):
        rerun.fails(["t.py::other", "t.py::a"])
    assert (rerun.count, rerun.seconds) == (1, 0.25)


def test_flaky_tests_over_max_classified_are_listed_unclassified_without_reruns(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    answers = Answers(set(), set())
    cfg = Config(flakiness=FlakinessSettings(max_classified=1))
    clean = record(("t.py::a", "failed"), ("t.py::b", "failed"))
    result = _analyse(monkeypatch, tmp_path, answers, cfg, clean, [record("t.py::a", "t.py::b")])
    first, second = result.flaky
    assert first.kind is not FlakyClass.UNCLASSIFIED and first.nodeid == "t.py::a"
    assert (second.nodeid, second.kind, second.detail) == (
        "t.py::b", FlakyClass.UNCLASSIFIED, "not re-run: over flakiness.max_classified")
    assert not any(seq[-1] == "t.py::b" for seq in answers.asked)
