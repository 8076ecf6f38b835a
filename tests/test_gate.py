"""The gate: a table of value/target pairs (boundaries included) for every comparison kind."""

from __future__ import annotations

from dataclasses import replace

import pytest

from harness.aggregate import Results, aggregate
from harness.config import Config, Targets
from harness.discover import ModuleInfo, Project
from harness.gate import gate, verdict
from harness.model import (
    CoverageNumbers,
    Metric,
    ModuleCoverage,
    ModuleFlakiness,
    ModuleMutation,
    MutationCounts,
    Status,
    SuiteRuntime,
    Verdict,
)


@pytest.mark.parametrize(
    ("metric", "numerator", "denominator", "target", "expected"),
    [
        # minimum targets: value >= target passes, the boundary included
        (Metric.BRANCH_COVERAGE, 300, 4, 75.0, Status.PASS),  # exactly 75 %
        (Metric.BRANCH_COVERAGE, 299, 4, 75.0, Status.FAIL),  # 74.75 %
        (Metric.BRANCH_COVERAGE, 100 * 2, 3, 66.67, Status.FAIL),  # 66.666.. % < 66.67
        (Metric.BRANCH_COVERAGE, 100 * 2, 3, 66.66, Status.PASS),
        (Metric.LINE_COVERAGE, 100 * 333, 1000, 33.3, Status.PASS),  # decimal target read exactly
        (Metric.LINE_COVERAGE, 100 * 99, 100, 100.0, Status.FAIL),  # a critical module demanding 100 %
        (Metric.LINE_COVERAGE, 100 * 100, 100, 100.0, Status.PASS),
        (Metric.MUTATION_SCORE, 100 * 7, 10, 70.0, Status.PASS),
        (Metric.MUTATION_SCORE, 100 * 69, 100, 70.0, Status.FAIL),
        (Metric.MUTATION_SCORE, 0, 5, 0.0, Status.PASS),  # a 0 % target accepts 0 %
        # maximum targets: value < target passes, the boundary fails
        (Metric.SUITE_RUNTIME, 9.99, 1, 10.0, Status.PASS),
        (Metric.SUITE_RUNTIME, 10.0, 1, 10.0, Status.FAIL),
        (Metric.SUITE_RUNTIME, 10.01, 1, 10.0, Status.FAIL),
        (Metric.FLAKY_RATE, 0, 50, 1.0, Status.PASS),
        (Metric.FLAKY_RATE, 100 * 1, 100, 1.0, Status.FAIL),  # exactly 1 % is not < 1 %
        (Metric.FLAKY_RATE, 100 * 1, 101, 1.0, Status.PASS),
        (Metric.FLAKY_RATE, 0, 10, 0.0, Status.PASS),  # a 0 target is met only by exactly 0
        (Metric.FLAKY_RATE, 100, 10, 0.0, Status.FAIL),
        # nothing to measure is n/a, never pass or fail
        (Metric.BRANCH_COVERAGE, 0, 0, 75.0, Status.NA),
        (Metric.MUTATION_SCORE, None, 1, 70.0, Status.NA),
    ],
)
def test_verdict_table(metric: Metric, numerator: float | None, denominator: int, target: float,
                       expected: Status) -> None:
    targets = Targets(**{metric.value: target})
    v = verdict(metric, targets, numerator, denominator, measured=True, na_reason="nothing")
    assert v.status is expected
    if expected is Status.NA:
        assert v.value is None and v.reason == "nothing"
    else:
        assert v.value == pytest.approx(numerator / denominator)  # type: ignore[operator]


def test_unmeasured_metric_is_skipped_not_failed() -> None:
    v = verdict(Metric.MUTATION_SCORE, Targets(), None, measured=False)
    assert v.status is Status.SKIPPED


def _project() -> Project:
    mods = (ModuleInfo("pkg", "pkg/__init__.py", ""), ModuleInfo("pkg.core", "pkg/core.py", ""),
            ModuleInfo("pkg.util", "pkg/util.py", ""))
    return Project(root=__import__("pathlib").Path("/x"), name="pkg", import_roots=("",), source=("pkg",),
                   tests=("tests",), modules=mods)


def _cov(stmts: int, run: int, br: int, cbr: int) -> ModuleCoverage:
    return ModuleCoverage(CoverageNumbers(statements=stmts, executed=run, branches=br, covered_branches=cbr))


def test_gate_applies_per_module_overrides_and_na() -> None:
    cfg = Config(overrides=(("pkg.core", {"branch_coverage": 100.0}),))
    card = aggregate(_project(), Results(coverage={"pkg": _cov(0, 0, 0, 0), "pkg.core": _cov(10, 10, 4, 3),
                                                   "pkg.util": _cov(10, 9, 4, 3)}),
                     metrics=(Metric.LINE_COVERAGE, Metric.BRANCH_COVERAGE))
    result = gate(card, cfg)
    by_module = {m.module: {v.metric: v for v in m.verdicts} for m in result.modules}
    assert by_module["pkg"][Metric.LINE_COVERAGE].status is Status.NA
    assert by_module["pkg.core"][Metric.BRANCH_COVERAGE].status is Status.FAIL  # 75 % < 100 % override
    assert by_module["pkg.core"][Metric.BRANCH_COVERAGE].target == 100.0
    assert by_module["pkg.util"][Metric.BRANCH_COVERAGE].status is Status.PASS  # 75 % >= default 75 %
    assert by_module["pkg.util"][Metric.LINE_COVERAGE].status is Status.PASS  # 90 % >= 85 %
    assert [(m, v.metric) for m, v in result.violations] == [("pkg.core", Metric.BRANCH_COVERAGE)]
    assert not result.passed
    assert gate(card, Config()).passed


def test_project_verdicts_runtime_and_flaky_rate() -> None:
    card = aggregate(_project(), Results(
        suite_runtime=SuiteRuntime(wall_seconds=(12.0, 8.0, 9.0), workers=2, tests=5),
        flakiness={"pkg.core": ModuleFlakiness(tests_run=3)}, tests_run=200, flaky_tests=1),
        metrics=(Metric.SUITE_RUNTIME, Metric.FLAKY_RATE))
    result = gate(card, Config())
    project = {v.metric: v for v in result.totals.verdicts}
    assert project[Metric.SUITE_RUNTIME].status is Status.PASS  # median 9 s < 10 s
    assert project[Metric.FLAKY_RATE].status is Status.PASS  # 0.5 % < 1 %
    strict = gate(replace(card, totals=replace(card.totals, flaky_tests=2)), Config())
    assert {v.metric: v.status for v in strict.totals.verdicts}[Metric.FLAKY_RATE] is Status.FAIL


def test_module_without_mutants_is_na_with_reason() -> None:
    mutation = {"pkg.core": ModuleMutation(counts=MutationCounts(), not_mutated_reason="only module-level code")}
    card = gate(aggregate(_project(), Results(mutation=mutation), metrics=(Metric.MUTATION_SCORE,)), Config())
    v = {v.metric: v for v in card.modules[1].verdicts}[Metric.MUTATION_SCORE]
    assert v.status is Status.NA and v.reason == "only module-level code"


def test_unmeasured_cells_never_pass_and_keep_their_cause() -> None:
    """A cell a collector could not measure is NOT_MEASURED (not n/a, not its stale figure) and the card is
    incomplete; the other cells keep their verdicts."""
    from harness.model import Unmeasured

    mutation = {"pkg.core": ModuleMutation(counts=MutationCounts(killed=9, survived=1)),
                "pkg.util": ModuleMutation(counts=MutationCounts(killed=9, survived=1))}
    cause = "every test covering it was quarantined"
    card = aggregate(_project(), Results(
        mutation=mutation, suite_runtime=SuiteRuntime(wall_seconds=(1.0,), workers=1, tests=3),
        unmeasured=(Unmeasured("pkg.core", Metric.MUTATION_SCORE, cause, ("t::a",)),
                    Unmeasured("project", Metric.SUITE_RUNTIME, "xdist failed"))),
        metrics=(Metric.MUTATION_SCORE, Metric.SUITE_RUNTIME))
    result = gate(card, Config())
    core = {v.metric: v for v in result.modules[1].verdicts}[Metric.MUTATION_SCORE]
    util = {v.metric: v for v in result.modules[2].verdicts}[Metric.MUTATION_SCORE]
    runtime = {v.metric: v for v in result.totals.verdicts}[Metric.SUITE_RUNTIME]
    assert (core.status, core.value, core.reason) == (Status.NOT_MEASURED, None, cause)
    assert util.status is Status.PASS
    assert runtime.status is Status.NOT_MEASURED and runtime.reason == "xdist failed"
    assert not result.complete and not result.passed and not result.modules[1].passed
    assert result.modules[2].passed
    assert gate(replace(card, unmeasured=()), Config()).complete


def test_a_lower_is_better_target_of_zero_reads_equals_zero() -> None:
    """flaky rate 0.0 % (target < 0 %): PASS read as a contradiction; the gate passes exactly 0 there."""
    from harness.reporters.fmt import verdict_text

    zero = Verdict(metric=Metric.FLAKY_RATE, status=Status.PASS, value=0.0, target=0.0, kind="max")
    assert zero.comparison == "=" and verdict_text(zero) == "flaky rate 0.0 % (target = 0 %): PASS"
    assert replace(zero, target=1.0).comparison == "<"
    assert replace(zero, kind="min", target=0.0).comparison == ">="
