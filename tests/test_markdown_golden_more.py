"""The Markdown summary of a run that could not measure everything, against its golden file
(tests/golden/summary_incomplete.md; UPDATE_GOLDEN=1 rewrites it): a cell not measured with its tests, a
quarantined test, a parallel-unsafe pair, the CPU time beside the wall time and the flakiness phase's power."""

from __future__ import annotations

from dataclasses import replace

import reportdata
from test_reports import _incomplete, check_golden

from harness.config import Config
from harness.gate import gate
from harness.model import Metric, QuarantineCause, QuarantinedTest, Unmeasured
from harness.reporters import markdown


def test_incomplete_summary_golden() -> None:
    sc = _incomplete()
    runtime = sc.totals.runtime
    assert runtime is not None
    sc = replace(
        sc, unmeasured=(*sc.unmeasured, Unmeasured("demo.util", Metric.LINE_COVERAGE, "no coverage data")),
        quarantined=(*sc.quarantined, QuarantinedTest("tests/test_y.py::test_manual", QuarantineCause.MANUAL)),
        totals=replace(sc.totals, flaky_runs=11, runtime=replace(runtime, cpu_seconds=(3.5, 3.0, 4.0))),
        meta=replace(sc.meta, dirty=True))
    check_golden("summary_incomplete.md", markdown.summary(gate(sc, Config())))


def test_module_page_corners_golden() -> None:
    """A module page in diff mode (two changed functions, nothing missing), sampled, with functions out of
    mutmut's reach, an n/a verdict with its reason and flaky tests with and without a polluter."""
    from harness.model import (
        CoverageNumbers,
        FlakyClass,
        FlakyTest,
        ModuleChanges,
        ModuleCoverage,
        MutationCounts,
        Status,
    )

    sc = reportdata.scorecard()
    calc = sc.modules[1]
    assert calc.mutation is not None and calc.flakiness is not None
    changes = ModuleChanges(since="origin/main", lines=(2, 3, 9), functions=("classify", "add"),
                            coverage=CoverageNumbers(statements=3, executed=3, branches=2, covered_branches=1),
                            missing_lines=(), mutation=MutationCounts(killed=3, survived=1))
    flaky = FlakyTest("tests/test_calc.py::test_add", 1, 10, FlakyClass.NON_DETERMINISTIC,
                      "pytest tests/test_calc.py::test_add",
                      detail="failed and passed in the same order")
    card = replace(
        calc, changes=changes, coverage=ModuleCoverage(numbers=CoverageNumbers(statements=4, executed=4)),
        mutation=replace(calc.mutation, population=40, unmutable_functions=("decorated", "other")),
        flakiness=replace(calc.flakiness, flaky=(*calc.flakiness.flaky, flaky)),
        verdicts=tuple(replace(v, status=Status.NA, value=None, reason="no branches")
                       if v.metric is Metric.BRANCH_COVERAGE else v for v in calc.verdicts))
    check_golden("module_corners.md", markdown.module_page(card, sc))
