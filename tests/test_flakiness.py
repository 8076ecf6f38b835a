"""The flakiness collector's pure logic: detection power, run plans, unstable ids, outcomes, classes."""

from __future__ import annotations

import itertools
import json
import shlex
from collections.abc import Sequence
from pathlib import Path

import pytest

from harness.collectors import flakiness as fl
from harness.collectors import suite_runs
from harness.collectors.records import RunRecord, TestResult, UnstableIdsError, check_clean
from harness.config import Config, FlakinessSettings, RuntimeSettings, load_config
from harness.errors import ConfigError
from harness.model import FlakyClass, FlakyTest, detectable_probability, runs_needed


def record(*tests: str | tuple[str, str] | tuple[str, str, str], order: str = "declared") -> RunRecord:
    """``"id"`` passed; ``("id", "failed")``; ``("id", "passed", "gw0")`` with its xdist worker."""
    results = []
    for t in tests:
        nodeid, outcome, worker = (t, "passed", None) if isinstance(t, str) else (*t, None)[:3]
        results.append(TestResult(nodeid=nodeid, outcome=outcome, phase="call", duration=0.01, worker=worker))
    return RunRecord(order=order, seed=0, exitstatus=0, collected=len(results), collection_errors=(),
                     tests=tuple(results))


# ------------------------------------------------------------------------------------------- detection power


@pytest.mark.parametrize(("p", "confidence", "n"), [
    (0.25, 0.95, 11),  # the default number of runs: 1 - 0.75**11 = 0.958; 0.75**10 leaves 0.944
    (0.5, 0.95, 5),
    (0.1, 0.95, 29),
    (0.01, 0.95, 299),
    (1.0, 0.95, 1),
    (0.25, 0.99, 17),
])
def test_runs_needed(p: float, confidence: float, n: int) -> None:
    assert runs_needed(p, confidence) == n
    assert 1 - (1 - p) ** n >= confidence > 1 - (1 - p) ** (n - 1)


@pytest.mark.parametrize(("runs", "expected"), [
    (1, 0.95), (11, 0.2384), (12, 0.2209), (20, 0.1391), (100, 0.0295)])
def test_detectable_probability(runs: int, expected: float) -> None:
    p = detectable_probability(runs)
    assert p == pytest.approx(expected, abs=1e-4)
    assert 1 - (1 - p) ** runs == pytest.approx(0.95)


def test_no_runs_detect_nothing() -> None:
    assert detectable_probability(0) is None


@pytest.mark.parametrize("p", [0.0, 1.5, -0.1])
def test_runs_needed_refuses_a_probability_outside_0_1(p: float) -> None:
    with pytest.raises(ValueError, match=r"^probability must be in \(0, 1\]$"):
        runs_needed(p)


def test_default_runs_catch_a_25_percent_flake_at_95_percent() -> None:
    n = FlakinessSettings().runs
    assert n == 11
    assert 1 - 0.75 ** n >= 0.95


@pytest.mark.parametrize("value", [0, 1, 1001])
def test_flakiness_runs_out_of_range_is_a_config_error(tmp_path, value: int) -> None:
    with pytest.raises(ConfigError, match=r"flakiness\.runs"):
        load_config(tmp_path, environ={}, cli={"flakiness.runs": value})


# ------------------------------------------------------------------------------------------- the shared runs


def _cfg(flaky_runs: int = 11, runtime_runs: int = 3, flakiness: bool = True, runtime: bool = True,
         seed: int = 0) -> Config:
    return Config(flakiness=FlakinessSettings(enabled=flakiness, runs=flaky_runs, seed=seed),
                  runtime=RuntimeSettings(enabled=runtime, runs=runtime_runs))


def test_plan_without_flakiness_is_the_runtime_runs() -> None:
    assert suite_runs.plan(_cfg(flakiness=False)) == [suite_runs.RunSpec()] * 3
    assert suite_runs.plan(_cfg(flakiness=False, runtime=False)) == []


def test_plan_alternates_orders_and_xdist_with_recorded_seeds() -> None:
    specs = suite_runs.plan(_cfg(), seed=100)
    assert [(s.order, s.xdist) for s in specs[:6]] == [
        ("declared", True), ("reversed", False), ("shuffle", True),
        ("declared", False), ("reversed", True), ("shuffle", False)]
    assert len(specs) == 11
    assert [s.seed for s in specs if s.order == "shuffle"] == [100, 101, 102]
    assert all(s.seed == 0 for s in specs if s.order != "shuffle")
    # every combination of order and xdist appears; the runtime phase gets its 3 xdist runs from these
    assert {(s.order, s.xdist) for s in specs} == set(itertools.product(suite_runs.ORDERS, (True, False)))
    assert sum(s.xdist for s in specs) >= 3


@pytest.mark.parametrize(("flaky_runs", "runtime_runs", "total", "xdist"), [
    (11, 3, 11, 6), (2, 3, 4, 3), (4, 5, 7, 5), (20, 1, 20, 10)])
def test_plan_adds_xdist_runs_the_runtime_phase_lacks(flaky_runs: int, runtime_runs: int, total: int,
                                                      xdist: int) -> None:
    specs = suite_runs.plan(_cfg(flaky_runs, runtime_runs), seed=1)
    assert (len(specs), sum(s.xdist for s in specs)) == (total, xdist)


def test_plan_seeds_come_from_config_or_are_drawn() -> None:
    assert [s.seed for s in suite_runs.plan(_cfg(seed=7)) if s.order == "shuffle"] == [7, 8, 9]
    drawn = [s.seed for s in suite_runs.plan(_cfg()) if s.order == "shuffle"]
    assert all(s > 0 for s in drawn) and drawn == list(range(drawn[0], drawn[0] + 3))


# ------------------------------------------------------------------------------------------- ids and outcomes


@pytest.mark.parametrize(("nodeid", "base"), [
    ("t.py::test_x", "t.py::test_x"),
    ("t.py::test_x[a-1]", "t.py::test_x"),
    ("tests/t.py::TestC::test_x[2024-01-01T10:00]", "tests/t.py::TestC::test_x"),
    ("t.py::test_x[a[b]]", "t.py::test_x"),
    ("t.py::test_x[a::b]", "t.py::test_x"),
])
def test_base_id(nodeid: str, base: str) -> None:
    assert fl.base_id(nodeid) == base


@pytest.mark.parametrize(("runs", "unstable"), [
    pytest.param([["a[1]", "a[2]"], ["a[1]", "a[2]"]], set(), id="stable params"),
    pytest.param([["a[t1]", "b"], ["a[t2]", "b"], ["a[t3]", "b"]], {"a[t1]", "a[t2]", "a[t3]"}, id="token"),
    pytest.param([["a[x]", "a[t1]"], ["a[x]", "a[t2]"]], {"a[t1]", "a[t2]"}, id="only the varying id"),
    pytest.param([["a[1]", "b"], ["b"]], set(), id="function missing from a run: not unstable"),
    pytest.param([["a", "b"], ["b"]], set(), id="plain test missing from a run"),
])
def test_unstable_ids(runs: list[list[str]], unstable: set[str]) -> None:
    ids = [[f"t.py::{n}" for n in run] for run in runs]
    assert fl.unstable_ids([record(*r) for r in ids]) == {f"t.py::{n}" for n in unstable}


@pytest.mark.parametrize(("outcomes", "flaky", "broken"), [
    (["passed"] * 12, False, False),
    (["failed"] * 12, False, True),
    (["passed"] * 11 + ["failed"], True, False),
    (["failed", "passed"] * 6, True, False),
    (["error"] + ["passed"] * 3, True, False),  # an error in setup or teardown is a failure too
    (["skipped", "failed", "skipped"], False, True),  # skips do not count as runs
    (["skipped", "passed"], False, False),
])
def test_observe_flaky_and_broken(outcomes: list[str], flaky: bool, broken: bool) -> None:
    obs = fl.observe([record(("t.py::x", o)) for o in outcomes])
    ran = [o for o in outcomes if o != "skipped"]
    assert (obs["t.py::x"].flaky, obs["t.py::x"].broken) == (flaky, broken)
    assert obs["t.py::x"].runs == len(ran)
    assert obs["t.py::x"].failures == sum(o in ("failed", "error") for o in ran)


def test_observe_leaves_out_unstable_ids_and_tests_that_never_ran() -> None:
    runs = [record("t.py::a[t1]", ("t.py::s", "skipped")), record("t.py::a[t2]", ("t.py::s", "skipped"))]
    assert fl.observe(runs, fl.unstable_ids(runs)) == {}


def test_preceding_is_the_same_process_only() -> None:
    r = record(("a", "passed", "gw0"), ("b", "passed", "gw1"), ("c", "passed", "gw0"), ("v", "failed", "gw0"),
               ("d", "passed", "gw0"))
    assert fl.preceding(r, "v") == ["a", "c"]
    assert fl.preceding(record("a", "b", "v", "c"), "v") == ["a", "b"]
    assert fl.preceding(record("v", "a"), "v") == []


def test_preceding_follows_the_tests_own_worker_and_needs_the_test() -> None:
    r = record(("b", "passed", "gw1"), ("a", "passed", "gw0"), ("v", "failed", "gw0"))
    assert fl.preceding(r, "v") == ["a"]
    with pytest.raises(KeyError, match="'v'"):
        fl.preceding(record("a", "b"), "v")


def test_observe_goes_on_past_a_skipped_or_unstable_test() -> None:
    runs = [record(("t.py::s", "skipped"), "t.py::a[t1]", "t.py::x"), record("t.py::a[t2]", ("t.py::x", "failed"))]
    obs = fl.observe(runs, fl.unstable_ids(runs))
    assert obs == {"t.py::x": fl.Observation("t.py::x", failed_in=(1,), passed_in=(0,))}


def test_outcomes_stop_once_both_results_were_seen() -> None:
    results = iter([True, True, False, True, False])
    calls = []

    def check() -> bool:
        calls.append(1)
        return next(results)

    assert fl.outcomes(check, 5) == {True, False} and len(calls) == 3
    assert fl.outcomes(lambda: False, 3) == {False}
    assert fl.outcomes(lambda: True, 0) == frozenset()


def test_context_run_is_the_cheapest_to_replay() -> None:
    runs = [record("a", "b", "v"), record("v", "a"), record("a", "v")]
    assert fl.context_run(runs, [0, 2], "v") == 2
    assert fl.context_run(runs, [0, 1, 2], "v") == 1


# ------------------------------------------------------------------------------------------- classification


@pytest.mark.parametrize(("items", "culprits", "found"), [
    (list("abcdefgh"), {"e"}, ["e"]),
    (list("abcdefgh"), {"a"}, ["a"]),
    (list("abcdefghi"), {"i"}, ["i"]),
    (["p"], {"p"}, ["p"]),
    (list("abcd"), {"a", "d"}, list("abcd")),  # needs both halves: the smallest reproducing set is kept
])
def test_bisect(items: list[str], culprits: set[str], found: list[str]) -> None:
    calls = []

    def reproduces(subset: Sequence[str]) -> bool:
        calls.append(subset)
        return culprits <= set(subset)

    assert fl.bisect(items, reproduces) == found
    assert len(calls) <= 2 * len(items).bit_length()


class Suite:
    """A simulated target: ``fails(sequence)`` says whether the last test of a one-process run failed."""

    def __init__(self, rule: str) -> None:
        self.rule = rule
        self.calls = 0

    def fails(self, sequence: Sequence[str]) -> bool:
        self.calls += 1
        victim, before = sequence[-1], set(sequence[:-1])
        assert victim == "v"
        if self.rule == "polluter":  # fails after p
            return "p" in before
        if self.rule == "two polluters":  # fails only after both p and q
            return {"p", "q"} <= before
        if self.rule == "setter":  # fails unless s ran before
            return "s" not in before
        if self.rule == "alternating":  # a random flake: every other execution
            return self.calls % 2 == 0
        if self.rule == "random after p":  # fails after p, but only every other time
            return "p" in before and self.calls % 2 == 0
        if self.rule == "fails every rerun":  # passed in some runs, fails in every rerun: non-deterministic
            return True
        raise AssertionError(self.rule)


@pytest.mark.parametrize(("rule", "failing", "passing", "kind", "sequence", "polluter"), [
    ("polluter", ["a", "p", "b"], ["a", "b"], FlakyClass.ORDER_DEPENDENT, ("p", "v"), "p"),
    ("polluter", ["p"], [], FlakyClass.ORDER_DEPENDENT, ("p", "v"), "p"),
    ("two polluters", ["p", "a", "b", "q"], [], FlakyClass.ORDER_DEPENDENT, ("p", "a", "b", "q", "v"), None),
    ("setter", ["a", "b"], ["a", "s", "b"], FlakyClass.ORDER_DEPENDENT, ("v",), None),
    ("setter", [], ["s"], FlakyClass.ORDER_DEPENDENT, ("v",), None),
    ("alternating", ["a", "b"], ["a"], FlakyClass.NON_DETERMINISTIC, ("v",), None),
    ("alternating", [], [], FlakyClass.NON_DETERMINISTIC, ("v",), None),
    ("random after p", ["p"], [], FlakyClass.NON_DETERMINISTIC, ("v",), None),
    ("fails every rerun", ["a"], ["b"], FlakyClass.NON_DETERMINISTIC, ("v",), None),
])
def test_classify(rule: str, failing: list[str], passing: list[str], kind: FlakyClass,
                  sequence: tuple[str, ...], polluter: str | None) -> None:
    suite = Suite(rule)
    c = fl.classify("v", failing, passing, suite.fails, reruns=3)
    assert (c.kind, c.sequence, c.polluter) == (kind, sequence, polluter)
    assert c.detail


@pytest.mark.parametrize(("rule", "failing", "passing", "detail"), [
    ("polluter", ["a", "p", "b"], [], "fails after `p` (3/3 reruns), passes alone (3/3)"),
    ("two polluters", ["p", "a", "b", "q"], [], "fails after these 4 tests together (3/3 reruns), passes alone "
                                                "(3/3)"),
    ("setter", ["a", "b"], ["a", "s", "b"], "fails alone (3/3), passes after `s`: it relies on state that test "
                                            "leaves"),
    ("alternating", ["a", "b"], ["a"], "passes and fails when run alone"),
    ("fails every rerun", ["a"], ["b"], "fails in its failing order and alone, yet passed in other runs"),
    ("random after p", ["p"], [], "passes and fails with the same tests before it"),
])
def test_classify_says_how_the_class_was_established(rule: str, failing: list[str], passing: list[str],
                                                     detail: str) -> None:
    assert fl.classify("v", failing, passing, Suite(rule).fails, reruns=3).detail == detail


def test_classify_names_every_test_a_needed_state_takes() -> None:
    def fails(sequence: Sequence[str]) -> bool:  # passes only after both s and t
        return not {"s", "t"} <= set(sequence[:-1])

    c = fl.classify("v", [], ["s", "a", "t"], fails, reruns=2)
    assert (c.kind, c.sequence) == (FlakyClass.ORDER_DEPENDENT, ("v",))
    assert c.detail == "fails alone (2/2), passes after these 3 tests together: it relies on state that test leaves"


def test_classify_a_polluter_that_stops_reproducing_is_non_deterministic() -> None:
    calls = []

    def fails(sequence: Sequence[str]) -> bool:  # fails after p in the first 6 runs only
        calls.append(sequence)
        return "p" in sequence[:-1] and len(calls) <= 6

    c = fl.classify("v", ["p"], [], fails, reruns=3)
    assert (c.kind, c.sequence, c.polluter) == (FlakyClass.NON_DETERMINISTIC, ("v",), None)
    assert c.detail == ("failed in its failing order and passed alone, but no smaller set of preceding tests "
                        "made it fail every time")


def test_classify_reruns_only_what_can_decide() -> None:
    suite = Suite("fails every rerun")  # no passing context: nothing to try after the reruns alone
    fl.classify("v", ["a"], [], suite.fails, reruns=3)
    assert suite.calls == 6
    suite = Suite("alternating")
    fl.classify("v", [], [], suite.fails, reruns=3)  # no failing context: alone only
    assert suite.calls == 2


def test_classify_polluter_reruns_are_bounded() -> None:
    suite = Suite("polluter")
    fl.classify("v", [f"t{i}" for i in range(200)] + ["p"], [], suite.fails, reruns=3)
    # failing order 3 + alone 3 + bisection <= 2*log2(201) + confirmation 3
    assert suite.calls <= 3 + 3 + 16 + 3


def test_reproduce_command_replays_the_order_and_quotes_ids() -> None:
    cmd = fl.reproduce_command(["tests/t.py::test_p", "tests/t.py::test_v[a b]"],
                               pytest_args=("-o", "addopts=--import-mode=importlib"))
    assert cmd.startswith("python -m pytest -p harness_pytest ")
    argv = shlex.split(cmd)
    assert argv[-2:] == ["tests/t.py::test_p", "tests/t.py::test_v[a b]"]
    assert {"--harness-order=declared", "--harness-seed=0", "no:xdist", "no:randomly"} <= set(argv)
    assert argv.index("addopts=") < argv.index("addopts=--import-mode=importlib")  # the user's args win


def test_by_module_attributes_tests_to_the_modules_they_execute() -> None:
    judged = fl.observe([record("a", "b", ("v", "failed"), "u[1]"), record("a", "b", "v", "u[2]")])
    victim = FlakyTest("v", 1, 2, FlakyClass.ORDER_DEPENDENT, "cmd", "a")
    tests_by_module = {"pkg.x": ["a", "v"], "pkg.y": ["b"], "pkg.z": [], "pkg.w": ["u[0]"]}
    out = fl.by_module(tests_by_module, judged, [victim])
    assert set(out) == {"pkg.x", "pkg.y"}  # modules no judged test executes are n/a
    assert (out["pkg.x"].tests_run, out["pkg.x"].flaky, out["pkg.x"].rate) == (2, (victim,), 50.0)
    assert (out["pkg.y"].tests_run, out["pkg.y"].flaky, out["pkg.y"].rate) == (1, (), 0.0)


def test_detection_note_states_the_floor() -> None:
    note = fl.detection_note(12, 11).text
    assert "22.1 %" in note and "not proof" in note
    assert "; nothing is seen failing with 95 % confidence" in fl.detection_note(0, 0).text


def test_xdist_workers_collecting_different_ids_is_named() -> None:
    # captured from pytest-xdist 3.8.0 when each worker drew its own random parametrize id
    message = "To see why this happens see 'Known limitations' in documentation for pytest-xdist"
    rec = RunRecord(order="declared", seed=0, exitstatus=1, collected=3,
                    collection_errors=(("gw1", message),), tests=())
    with pytest.raises(UnstableIdsError, match=r"workers collected different test ids"):  # -> serial
        check_clean(rec, Path("pytest.log"))


def test_selectable_replaces_unstable_ids_by_their_function() -> None:
    unstable = {"t.py::s[123]", "t.py::s[456]"}
    assert fl.selectable(["t.py::a", "t.py::s[123]", "t.py::s[456]", "t.py::s[ok]", "t.py::b"], unstable) == [
        "t.py::a", "t.py::s", "t.py::s[ok]", "t.py::b"]


# ------------------------------------------------------------------------------------------- result, report


def _result(**overrides: object) -> fl.FlakinessResult:
    victim = FlakyTest("t.py::v", 4, 12, FlakyClass.ORDER_DEPENDENT, "python -m pytest t.py::p t.py::v",
                       "t.py::p")
    values: dict[str, object] = dict(
        runs=12, repeated=11, tests_run=40, flaky=(victim,), broken=(), unstable=("t.py::s[1]", "t.py::s[2]"),
        by_module={}, suite_seconds=2.0, extra_seconds=20.0, extra_runs=8, reruns=12, seeds=(5, 6, 7))
    values.update(overrides)
    result = fl.FlakinessResult(**values)  # type: ignore[arg-type]
    return fl.replace(result, notes=tuple(fl._notes(result)))


def test_notes_state_power_seeds_unstable_ids_and_extra_time() -> None:
    notes = "\n".join(n.text for n in _result().notes)
    assert "12 runs judged" in notes and ">= 22.1 %" in notes
    assert "seeds 5, 6, 7" in notes
    assert "`t.py::s` (2 different ids, e.g. `[1]`)" in notes
    assert "20.0 s (8 runs beyond the runtime phase's and 12 classification reruns) = 10.0x one" in notes


def test_no_timed_run_means_no_multiple() -> None:
    result = _result(suite_seconds=None, unstable=(), seeds=())
    assert result.extra_multiple is None
    assert len(result.notes) == 1  # only the detection power


def test_report_is_written_with_its_format_header(tmp_path: Path) -> None:
    path = fl.write_report(_result(), tmp_path)
    doc = json.loads(path.read_text())
    assert (doc["format"], doc["kind"]) == (1, "flakiness")
    assert doc["flaky"][0]["polluter"] == "t.py::p" and doc["extra_multiple"] == 10.0
    assert doc["detectable_probability"] == pytest.approx(0.2209, abs=1e-4)


def test_broken_and_flaky_tests_are_quarantined_with_their_cause() -> None:
    """Broken tests no longer stop the run: they and the flaky ones leave the mutation phase, each named."""
    from harness.config import Config
    from harness.model import QuarantineCause
    from harness.phases import quarantine_from_runs

    broken = (("t.py::b0", "AssertionError: 1 != 2"),)
    clean = RunRecord(order="declared", seed=0, exitstatus=1, collected=3,
                      collection_errors=(("tests/test_opt.py", "ModuleNotFoundError: No module named 'numpy'"),),
                      tests=())
    found = {q.nodeid: q for q in quarantine_from_runs(clean, _result(broken=broken), Config())}
    assert found["t.py::b0"].cause is QuarantineCause.BROKEN and "failed in all 12 runs" in found["t.py::b0"].detail
    assert found["t.py::v"].cause is QuarantineCause.FLAKY and "order-dependent" in found["t.py::v"].detail
    assert found["tests/test_opt.py"].cause is QuarantineCause.BROKEN and "numpy" in found["tests/test_opt.py"].detail
    assert found["t.py::v"].reproduce == "python -m pytest t.py::p t.py::v"


def test_parallel_only_failures_name_the_colliding_test() -> None:
    """Fails only under xdist beside another test, passes in the serial run: parallel-unsafe, partner named."""
    def rec(tests: list[TestResult]) -> RunRecord:
        return RunRecord(order="declared", seed=0, exitstatus=0, collected=3, collection_errors=(),
                         tests=tuple(tests))

    parallel = rec([TestResult("t::db_a", "failed", "call", 1, worker="gw0", start=10, stop=11),
                    TestResult("t::db_b", "passed", None, 1, worker="gw1", start=10.5, stop=11.5),
                    TestResult("t::other", "passed", None, 1, worker="gw1", start=12, stop=13)])
    serial = rec([TestResult("t::db_a", "passed", None, 1, start=1, stop=2),
                  TestResult("t::db_b", "passed", None, 1, start=2, stop=3)])
    obs = fl.observe([parallel, serial])["t::db_a"]
    assert fl.parallel_partners([parallel, serial], obs) == ["t::db_b"]
    only_parallel = fl.observe([parallel, parallel])["t::db_b"]  # never failed: not a candidate anyway
    assert fl.parallel_partners([parallel, parallel], only_parallel) is None


def test_a_reused_coverage_run_is_not_judged_again(tmp_path: Path) -> None:
    """When the coverage run was restored from an identical earlier run (coverage.reuse), the flakiness phase
    judges this run's repeated runs only: the reused outcomes were counted when they were measured."""
    from harness.collectors import flakiness
    from harness.collectors.suite_runs import RunSpec
    from harness.config import Config
    from harness.discover import Project

    project = Project(root=tmp_path, name="p", import_roots=("",), source=("p",), tests=("tests",), modules=())
    repeated = [record("t.py::a", "t.py::b"), record("t.py::b", "t.py::a", order="reversed")]
    specs = [RunSpec("declared"), RunSpec("reversed")]
    both = flakiness.analyse(project, Config(), tmp_path, tmp_path / "raw", record("t.py::a", "t.py::b"),
                             repeated, specs, {"p": ["t.py::a", "t.py::b"]})
    alone = flakiness.analyse(project, Config(), tmp_path, tmp_path / "raw", None, repeated, specs,
                              {"p": ["t.py::a", "t.py::b"]})
    assert (both.runs, both.repeated, both.outcomes["t.py::a"]) == (3, 2, (3, 0))
    assert (alone.runs, alone.repeated, alone.outcomes["t.py::a"]) == (2, 2, (2, 0))
    assert not alone.flaky and not alone.broken and alone.tests_run == 2
