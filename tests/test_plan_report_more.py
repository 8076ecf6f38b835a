"""plan.md corners: nothing to plan, a metric with no need, quarantined tests, notes, a one-item batch."""

from __future__ import annotations

from harness.model import Metric
from harness.notes import text_note
from harness.plan import ModulePlan, Need, Plan, WorkItem
from harness.reporters import plan_report


def _module(needs: tuple[Need, ...], items: tuple[WorkItem, ...]) -> ModulePlan:
    return ModulePlan(module="pkg.a", path="pkg/a.py", tier=None, tier_weight=1.0, statements=10, decisions=2,
                      complexity=3, complexity_weight=1.2, needs=needs, units=1, weighted_gap=1.2, items=items)


def test_nothing_to_plan_with_quarantined_tests_and_notes() -> None:
    quarantined = (WorkItem(kind="quarantine", module="pkg.a", function="", line=None,
                            text="repair `tests/test_a.py::test_x` (state-leak)", test="tests/test_a.py::test_x"),)
    text = plan_report.markdown(Plan(project="demo", run_time=None, modules=(), met=("pkg.a",),
                                     notes=(text_note("3 runs"),), quarantined=quarantined))
    assert "From the last run (reports/scorecard.json)" in text
    assert "Every module meets its targets: nothing to plan." in text
    assert "## Tests that cannot judge mutants" in text and "- repair `tests/test_a.py::test_x` (state-leak)" in text
    assert "## Modules meeting every target (or with nothing to measure)" in text and "`pkg.a`" in text
    assert "## Notes" in text and "- 3 runs" in text


def test_a_metric_with_no_need_and_a_single_item_batch() -> None:
    needs = (Need(Metric.BRANCH_COVERAGE, 80.0, 90.0, 1, "branches", ">="),
             Need(Metric.LINE_COVERAGE, 95.0, 90.0, 0, "statements", ">="))
    item = WorkItem(kind="arc", module="pkg.a", function="f", line=3, text="line 3->5 in f: the else of 'if x'",
                    arc=(3, 5))
    text = plan_report.markdown(Plan(project="demo", run_time="2026-11-21", modules=(_module(needs, (item,)),),
                                     met=(), batch_size=1))
    row = next(line for line in text.splitlines() if line.startswith("| 1 | `pkg.a`"))
    assert "95.0 % ✅" in row and "80.0 % / >= 90 % (+1 branches)" in row
    assert " | - | " in row  # a metric the module needs nothing for
    assert "| line coverage | 95.0 % | >= 90 % | met |" in text
    assert "### Batch 1: item 1 (`pkg.a`)" in text
    assert "1. [ ] `pkg.a` line 3->5 in f: the else of 'if x'" in text
