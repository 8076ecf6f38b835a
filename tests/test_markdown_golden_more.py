"""The Markdown summary of a run that could not measure everything, against its golden file
(tests/golden/summary_incomplete.md; UPDATE_GOLDEN=1 rewrites it): a cell not measured with its tests, a
quarantined test, a parallel-unsafe pair, the CPU time beside the wall time and the flakiness phase's power."""

from __future__ import annotations

from dataclasses import replace

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
        meta={**sc.meta, "dirty": True})
    check_golden("summary_incomplete.md", markdown.summary(gate(sc, Config())))
