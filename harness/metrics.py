"""The one metric table: each metric's label, unit, direction, scope, plan unit and *readers*.

Gate, ratchet, history, plan, badges and every reporter loop over :data:`METRICS` instead of naming metrics one
by one. A reader turns a module's scorecard (or the project's totals) into a :class:`Reading`: the counts the
figure is made of, and why it is n/a when there is nothing to divide. ``None`` means the collector left no
result for that module (not in coverage.py's report, not mutated, no test executes it).
:mod:`harness.model` re-exports ``Metric``, ``MetricSpec``, ``METRICS`` and ``MODULE_METRICS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.model import ModuleScorecard, ProjectTotals


class Metric(StrEnum):
    LINE_COVERAGE = "line_coverage"
    BRANCH_COVERAGE = "branch_coverage"
    MUTATION_SCORE = "mutation_score"
    SUITE_RUNTIME = "suite_runtime"
    FLAKY_RATE = "flaky_rate"


@dataclass(frozen=True)
class Reading:
    """A figure's parts: ``value = scale * numerator / denominator`` (scale 100 for "%"); n/a (``na_reason``)
    when the numerator is None or the denominator 0."""

    numerator: int | float | None
    denominator: int = 1
    na_reason: str = ""

    def value(self, scale: int = 100) -> float | None:
        if self.numerator is None or self.denominator <= 0:
            return None
        return scale * self.numerator / self.denominator


ModuleReader = Callable[["ModuleScorecard"], Reading | None]
ProjectReader = Callable[["ProjectTotals"], Reading | None]


def _line(card: ModuleScorecard) -> Reading | None:
    n = card.coverage.numbers if card.coverage else None
    return Reading(n.executed, n.statements, "no statements") if n else None


def _branch(card: ModuleScorecard) -> Reading | None:
    n = card.coverage.numbers if card.coverage else None
    return Reading(n.covered_branches, n.branches, "no branches") if n else None


def _mutation(card: ModuleScorecard) -> Reading | None:
    mut = card.mutation
    if mut is None:
        return None
    return Reading(mut.counts.detected, mut.counts.valid, mut.not_mutated_reason or "no valid mutants")


def _flaky(card: ModuleScorecard) -> Reading | None:
    fl = card.flakiness
    return Reading(len(fl.flaky), fl.tests_run, "no tests execute this module") if fl else None


def _line_total(t: ProjectTotals) -> Reading | None:
    return Reading(t.coverage.executed, t.coverage.statements) if t.coverage else None


def _branch_total(t: ProjectTotals) -> Reading | None:
    return Reading(t.coverage.covered_branches, t.coverage.branches) if t.coverage else None


def _mutation_total(t: ProjectTotals) -> Reading | None:
    return Reading(t.mutation.detected, t.mutation.valid) if t.mutation else None


def _flaky_total(t: ProjectTotals) -> Reading | None:
    return Reading(t.flaky_tests, t.tests_run, "no tests run")


def _runtime_total(t: ProjectTotals) -> Reading | None:
    return Reading(t.runtime.median if t.runtime else None, 1, "no timed run")


def _no_module_figure(card: ModuleScorecard) -> Reading | None:
    return None


def _no_project_figure(totals: ProjectTotals) -> Reading | None:
    return None


@dataclass(frozen=True)
class MetricSpec:
    """Everything the harness knows about one metric, in one place.

    ``higher_is_better``: a minimum target (value >= target: coverage, score) or a maximum (value < target:
    runtime, flaky rate). ``per_module``: a column of every module's scorecard (else project-level only).
    ``plan_unit``: what one unit of the plan's gap counts for this metric. ``module``/``project``: the readers;
    ``missing``: why a module the collector left no result for is n/a; ``partial``: a module figure present in a
    run that does not gate the metric is a partial one (a shard's mutation score), skipped with this reason.
    """

    label: str
    unit: str  # "%" or "s"
    higher_is_better: bool
    per_module: bool
    plan_unit: str = ""
    module: ModuleReader = _no_module_figure
    project: ProjectReader = _no_project_figure
    missing: str = ""
    partial: str = ""

    @property
    def kind(self) -> str:
        """The target's kind: "min" (value >= target) or "max" (value < target)."""
        return "min" if self.higher_is_better else "max"

    @property
    def scale(self) -> int:
        """What a reading's fraction is multiplied by: 100 for percentages."""
        return 100 if self.unit == "%" else 1

    def module_value(self, card: ModuleScorecard) -> float | None:
        reading = self.module(card)
        return reading.value(self.scale) if reading else None

    def project_value(self, totals: ProjectTotals) -> float | None:
        reading = self.project(totals)
        return reading.value(self.scale) if reading else None


_NOT_IN_REPORT = "not in coverage.py's report (omitted by the target's coverage config?)"
SHARD_PART = "a shard's partial score: `harness merge` gates the whole run"

# The one metric table, in the order every table and badge lists them.
METRICS: dict[Metric, MetricSpec] = {
    Metric.LINE_COVERAGE: MetricSpec("line coverage", "%", True, True, "statements", _line, _line_total,
                                     _NOT_IN_REPORT),
    Metric.BRANCH_COVERAGE: MetricSpec("branch coverage", "%", True, True, "branches", _branch, _branch_total,
                                       _NOT_IN_REPORT),
    Metric.MUTATION_SCORE: MetricSpec("mutation score", "%", True, True, "mutants", _mutation, _mutation_total,
                                      "no mutation result for this module", SHARD_PART),
    Metric.FLAKY_RATE: MetricSpec("flaky rate", "%", False, True, "flaky tests", _flaky, _flaky_total,
                                  "no tests execute this module"),
    Metric.SUITE_RUNTIME: MetricSpec("suite runtime", "s", False, False, project=_runtime_total),
}
MODULE_METRICS: tuple[Metric, ...] = tuple(m for m, s in METRICS.items() if s.per_module)
# The metrics the gate checks for the project as a whole, in the order its verdicts are listed.
PROJECT_GATED: tuple[Metric, ...] = (Metric.SUITE_RUNTIME, Metric.FLAKY_RATE)
