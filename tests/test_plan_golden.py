"""The whole gap plan of the demo run, built from its scorecard and sources and written as Markdown, against its
golden file (tests/golden/plan.md; UPDATE_GOLDEN=1 rewrites it): two ranked modules, one of them in a tier,
coverage, mutant and flaky items grouped by function, batches, quarantined tests, met modules and notes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import reportdata
from test_reports import check_golden

from harness import __version__
from harness import plan as planning
from harness.config import Config, Tier
from harness.gate import gate
from harness.model import QuarantineCause, QuarantinedTest
from harness.notes import text_note
from harness.reporters import plan_report


def demo_plan() -> planning.Plan:
    sc = reportdata.scorecard()
    empty, calc, util = sc.modules
    cfg = Config(tiers=(("core", Tier(modules=("demo.calc",), weight=3.0)),))
    assert calc.coverage is not None
    # The same gaps, no tier, no flaky test, and half its branches missed: branch items, described from the AST.
    twin = replace(calc, module="demo.calc_twin", flakiness=None, coverage=replace(
        calc.coverage, numbers=replace(calc.coverage.numbers, covered_branches=3), missing_arcs=((2, 3), (4, 5),
                                                                                                 (13, 14))))
    ghost = replace(twin, module="demo.ghost", path="demo/ghost.py")  # no source: items undescribed
    broken = replace(twin, module="demo.broken", path="demo/broken.py")  # a source that does not parse
    quarantined = (QuarantinedTest("tests/test_calc.py::test_pickle", QuarantineCause.PICKLING,
                                   "pickles a mutated class", "pytest tests/test_calc.py::test_pickle"),
                   QuarantinedTest("tests/test_calc.py::test_state", QuarantineCause.STATE_LEAK))
    modules = (empty, replace(calc, tier="core"), twin, ghost, broken, util)
    sc = gate(replace(sc, modules=modules, quarantined=quarantined), cfg)
    sources = {"demo.calc": reportdata.CALC, "demo.calc_twin": reportdata.CALC, "demo.util": reportdata.UTIL,
               "demo.broken": "def f(:\n    pass\n"}
    return planning.build(sc, cfg, sources, batch_size=4, notes=(text_note("demo/util.py changed after the run"),))


def test_demo_plan_markdown_and_json_golden(tmp_path: Path) -> None:
    plan_report.write(demo_plan(), tmp_path)
    check_golden("plan.md", (tmp_path / "plan.md").read_text(encoding="utf-8"))
    js = (tmp_path / "plan.json").read_text(encoding="utf-8")
    check_golden("plan.json", js.replace(f'"harness_version": "{__version__}"', '"harness_version": "<VERSION>"'))
