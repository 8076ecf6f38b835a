"""The verdict lines under the terminal scorecard: cells not measured with the tests involved, quarantined tests
with their evidence and reproduction, and the baseline a regression is judged against."""

from __future__ import annotations

from dataclasses import replace

import reportdata

from harness.model import Metric, QuarantineCause, QuarantinedTest, Regression, RunMeta, Unmeasured
from harness.reporters import terminal


def test_verdict_lines_name_causes_tests_reproductions_and_the_baseline() -> None:
    sc = reportdata.scorecard()
    sc = replace(
        sc,
        unmeasured=(Unmeasured("demo.calc", Metric.MUTATION_SCORE, "mutmut crashed", tests=("t::a", "t::b")),
                    Unmeasured("demo.util", Metric.LINE_COVERAGE, "no data")),
        quarantined=(QuarantinedTest("t::q", QuarantineCause.STATE_LEAK, "fails after t::p", "pytest t::p t::q"),
                     QuarantinedTest("t::r", QuarantineCause.MANUAL)),
        regressions=(Regression("demo.util", Metric.LINE_COVERAGE, 100.0, 90.0, 0.5),),
        meta=replace(sc.meta, baseline="reports/baseline.json"))
    lines = terminal.verdict_lines(sc)
    assert lines[-6:] == [
        "NOT MEASURED demo.calc: mutation score: mutmut crashed (tests: t::a, t::b)",
        "NOT MEASURED demo.util: line coverage: no data",
        "QUARANTINED t::q: state-leak: fails after t::p; reproduce: pytest t::p t::q",
        "QUARANTINED t::r: manual",
        "ratchet baseline: reports/baseline.json",
        "REGRESSED demo.util: line coverage fell from 100.0 % to 90.0 % (ratchet tolerance 0.5 points)",
    ]
    given = terminal.verdict_lines(replace(sc, meta=RunMeta()))
    assert "ratchet baseline: given" in given
