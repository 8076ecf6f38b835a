"""JUnit XML corners against a golden file (tests/golden/junit_corners.xml; UPDATE_GOLDEN=1 rewrites it): a run
without facts (no time, version, commit or baseline), a failing figure that also regressed, an n/a cell without a
reason and a cell not measured."""

from __future__ import annotations

from dataclasses import replace

import reportdata
from test_reports import check_golden

from harness.model import Metric, Regression, RunMeta, Status
from harness.reporters import junit


def test_junit_corners_golden() -> None:
    sc = reportdata.scorecard()
    _, calc, util = sc.modules
    verdicts = tuple(
        replace(v, status=Status.NOT_MEASURED, value=None, reason="mutmut broke") if v.metric is Metric.MUTATION_SCORE
        else replace(v, status=Status.NA, value=None, reason="") if v.metric is Metric.BRANCH_COVERAGE else v
        for v in util.verdicts)
    sc = replace(sc, modules=(calc, replace(util, verdicts=verdicts)), meta=RunMeta(),
                 regressions=(Regression("demo.calc", Metric.LINE_COVERAGE, 90.0, 80.0, 0.5),))
    check_golden("junit_corners.xml", junit.report(sc))
