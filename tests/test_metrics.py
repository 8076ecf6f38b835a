"""harness.metrics: the one metric table and its readers."""

from __future__ import annotations

import pytest

from harness.metrics import METRICS, MODULE_METRICS, PROJECT_GATED, Metric, Reading
from harness.model import (
    CoverageNumbers,
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
