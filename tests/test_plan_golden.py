"""The whole gap plan of the demo run, built from its scorecard and sources and written as Markdown, against its
golden file (tests/golden/plan.md; UPDATE_GOLDEN=1 rewrites it): two ranked modules, one of them in a tier,
coverage, mutant and flaky items grouped by function, batches, quarantined tests, met modules and notes."""

from __future__ import annotations

from dataclasses import replace

import reportdata
from test_reports import check_golden

from harness import plan as planning
from harness.config import Config, Tier
from harness.gate import gate
from harness.model import QuarantineCause, QuarantinedTest
from harness.reporters import plan_report


def demo_plan() -> planning.Plan:
    sc = reportdata.scorecard()
    empty, calc, util = sc.modules
    cfg = Config(tiers=(("core", Tier(modules=("demo.calc",), weight=3.0)),))
    twin = replace(calc, module="demo.calc_twin", flakiness=None)  # the same gaps, no tier, no flaky test
    quarantined = (QuarantinedTest("tests/test_calc.py::test_pickle", QuarantineCause.PICKLING,
                                   "pickles a mutated class", "pytest tests/test_calc.py::test_pickle"),
                   QuarantinedTest("tests/test_calc.py::test_state", QuarantineCause.STATE_LEAK))
    sc = gate(replace(sc, modules=(empty, replace(calc, tier="core"), twin, util), quarantined=quarantined), cfg)
    sources = {"demo.calc": reportdata.CALC, "demo.calc_twin": reportdata.CALC, "demo.util": reportdata.UTIL}
    return planning.build(sc, cfg, sources, batch_size=4, notes=("demo/util.py changed after the run",))


def test_demo_plan_markdown_golden() -> None:
    check_golden("plan.md", plan_report.markdown(demo_plan()))
