"""harness.metrics: the one metric table and its readers."""

from __future__ import annotations

import pytest

from harness.metrics import METRICS, MODULE_METRICS, PROJECT_GATED, SHARD_PART, Metric, Reading
from harness.model import (
    CoverageNumbers,
    FlakyClass,
    FlakyTest,
    ModuleCoverage,
    ModuleFlakiness,
    ModuleMutation,
    ModuleScorecard,
    MutationCounts,
    ProjectTotals,
    SuiteRuntime,
)

CARD = ModuleScorecard(
    "pkg.a", "pkg/a.py",
    coverage=ModuleCoverage(CoverageNumbers(statements=8, executed=6, branches=4, covered_branches=1)),
    mutation=ModuleMutation(MutationCounts(killed=3, survived=1)),
    flakiness=ModuleFlakiness(tests_run=5),
)


@pytest.mark.parametrize(("metric", "value"), [
    (Metric.LINE_COVERAGE, 75.0), (Metric.BRANCH_COVERAGE, 25.0), (Metric.MUTATION_SCORE, 75.0),
    (Metric.FLAKY_RATE, 0.0),
])
def test_module_readers_give_the_models_own_percentages(metric: Metric, value: float) -> None:
    assert METRICS[metric].module_value(CARD) == value


def test_a_module_without_a_result_reads_none_and_the_spec_says_why() -> None:
    empty = ModuleScorecard("pkg.b", "pkg/b.py")
    for metric in MODULE_METRICS:
        assert METRICS[metric].module(empty) is None
        assert METRICS[metric].missing


def test_project_readers() -> None:
    totals = ProjectTotals(coverage=CoverageNumbers(statements=4, executed=1), runtime=SuiteRuntime((1.0, 3.0), 2, 9))
    assert METRICS[Metric.LINE_COVERAGE].project_value(totals) == 25.0
    assert METRICS[Metric.SUITE_RUNTIME].project_value(totals) == 2.0
    assert METRICS[Metric.FLAKY_RATE].project_value(totals) is None  # 0 of 0 tests: n/a
    assert METRICS[Metric.MUTATION_SCORE].project_value(totals) is None
    assert set(PROJECT_GATED) <= set(METRICS)


def test_reading_is_na_on_zero_or_missing() -> None:
    assert Reading(1, 0).value() is None
    assert Reading(None).value() is None
    assert Reading(1, 4).value() == 25.0
    assert Reading(2.5).value(scale=1) == 2.5


NOT_IN_REPORT = "not in coverage.py's report (omitted by the target's coverage config?)"


def test_the_table() -> None:
    rows = {m: (s.label, s.unit, s.kind, s.scale, s.per_module, s.plan_unit, s.missing, s.partial)
            for m, s in METRICS.items()}
    assert rows == {
        Metric.LINE_COVERAGE: ("line coverage", "%", "min", 100, True, "statements", NOT_IN_REPORT, ""),
        Metric.BRANCH_COVERAGE: ("branch coverage", "%", "min", 100, True, "branches", NOT_IN_REPORT, ""),
        Metric.MUTATION_SCORE: ("mutation score", "%", "min", 100, True, "mutants",
                                "no mutation result for this module", SHARD_PART),
        Metric.FLAKY_RATE: ("flaky rate", "%", "max", 100, True, "flaky tests", "no tests execute this module", ""),
        Metric.SUITE_RUNTIME: ("suite runtime", "s", "max", 1, False, "", "", ""),
    }
    assert list(METRICS) == [*MODULE_METRICS, Metric.SUITE_RUNTIME]
    assert SHARD_PART == "a shard's partial score: `harness merge` gates the whole run"


def test_module_readings_and_their_na_reasons() -> None:
    flaky = FlakyTest("t::a", 1, 10, FlakyClass.ORDER_DEPENDENT, "pytest t::a")
    card = ModuleScorecard("pkg.a", "pkg/a.py", coverage=ModuleCoverage(CoverageNumbers()),
                           mutation=ModuleMutation(MutationCounts(killed=2, survived=2), not_mutated_reason=""),
                           flakiness=ModuleFlakiness(tests_run=4, flaky=(flaky,)))
    readings = {m: METRICS[m].module(card) for m in MODULE_METRICS}
    assert readings == {Metric.LINE_COVERAGE: Reading(0, 0, "no statements"),
                        Metric.BRANCH_COVERAGE: Reading(0, 0, "no branches"),
                        Metric.MUTATION_SCORE: Reading(2, 4, "no valid mutants"),
                        Metric.FLAKY_RATE: Reading(1, 4, "no tests execute this module")}
    unmutated = ModuleScorecard("pkg.b", "pkg/b.py", mutation=ModuleMutation(MutationCounts(),
                                                                              not_mutated_reason="no functions"))
    assert METRICS[Metric.MUTATION_SCORE].module(unmutated) == Reading(0, 0, "no functions")
    assert METRICS[Metric.SUITE_RUNTIME].module(card) is None


def test_project_readings_and_their_na_reasons() -> None:
    totals = ProjectTotals(coverage=CoverageNumbers(statements=4, executed=1, branches=8, covered_branches=6),
                           mutation=MutationCounts(killed=3, survived=1), runtime=SuiteRuntime((1.0, 3.0), 2, 9),
                           tests_run=10, flaky_tests=2)
    readings = {m: s.project(totals) for m, s in METRICS.items()}
    assert readings == {Metric.LINE_COVERAGE: Reading(1, 4), Metric.BRANCH_COVERAGE: Reading(6, 8),
                        Metric.MUTATION_SCORE: Reading(3, 4), Metric.FLAKY_RATE: Reading(2, 10, "no tests run"),
                        Metric.SUITE_RUNTIME: Reading(2.0, 1, "no timed run")}
    assert METRICS[Metric.SUITE_RUNTIME].project(ProjectTotals()) == Reading(None, 1, "no timed run")
    assert METRICS[Metric.BRANCH_COVERAGE].project_value(totals) == 75.0
