"""Reporter branches the main reporter tests leave: empty sections, diff mode, sampling, folding, badges."""

from __future__ import annotations

from dataclasses import replace
from xml.etree import ElementTree as ET

import reportdata

from harness.config import Config
from harness.gate import gate
from harness.model import (
    CoverageNumbers,
    Metric,
    ModuleChanges,
    MutationCounts,
    Regression,
    Status,
)
from harness.reporters import badge, junit, markdown


def _card(**changes: object):  # type: ignore[no-untyped-def]
    return replace(reportdata.scorecard(), **changes)


def test_summary_without_coverage_mutation_or_runtime_totals() -> None:
    sc = _card()
    sc = replace(sc, totals=replace(sc.totals, coverage=None, mutation=None, runtime=None,
                                    unstable_ids=("tests/t.py::test_x[1700000000]",)))
    text = markdown.summary(sc)
    assert "- Line coverage" not in text and "- Mutation score" not in text and "- Suite runtime" not in text
    assert "- Unstable test ids (not counted): `tests/t.py::test_x[1700000000]`" in text


def test_summary_folds_many_modules_and_lists_notes_and_regressions() -> None:
    sc = reportdata.scorecard()
    calc = sc.modules[1]
    many = tuple(replace(calc, module=f"demo.m{i:02d}") for i in range(markdown.DETAILS_OVER + 1))
    reg = Regression("demo.m00", Metric.LINE_COVERAGE, 90.0, 80.0, 0.5)
    sc = replace(sc, modules=many, regressions=(reg,), meta=replace(sc.meta, baseline="reports/baseline.json"))
    text = markdown.summary(sc)
    assert f"<details><summary>All {len(many)} modules</summary>" in text
    assert text.count("</details>") == 1
    assert "## Regressions against the baseline" in text and "Baseline: reports/baseline.json." in text
    assert "## Notes" in text and "- 3 suite runs in 2 orders" in text


def test_summary_cells_skipped_and_unverdicted_are_dashes() -> None:
    sc = reportdata.scorecard()
    calc = sc.modules[1]
    verdicts = tuple(replace(v, status=Status.SKIPPED, value=None) if v.metric is Metric.MUTATION_SCORE else v
                     for v in calc.verdicts if v.metric is not Metric.FLAKY_RATE)
    sc = replace(sc, modules=(replace(calc, verdicts=verdicts),))
    row = next(line for line in markdown.summary(sc).splitlines() if line.startswith("| `demo.calc`"))
    assert row.count(markdown.DASH) == 2  # the skipped mutation score and the flaky rate with no verdict


def test_diff_mode_summary_and_module_section() -> None:
    sc = reportdata.scorecard()
    calc = sc.modules[1]
    changes = ModuleChanges(since="origin/main", lines=(2, 3, 4), functions=("classify",),
                            coverage=CoverageNumbers(statements=3, executed=2, branches=2, covered_branches=1),
                            missing_lines=(4,), mutation=MutationCounts(killed=1, survived=1))
    bare = ModuleChanges(since="origin/main", lines=(9,))
    sc = replace(sc, modules=(replace(calc, changes=changes), replace(sc.modules[2], changes=bare)))
    text = markdown.summary(sc)
    assert ("- Changed since `origin/main`: 4 lines in 2 modules; changed-lines coverage line 66.7 % (2/3), "
            "branch 50.0 % (1/2); changed functions' mutation score 50.0 % (1/2)") in text
    page = markdown.module_page(sc.modules[0], sc)
    assert "## Changed since `origin/main`" in page and "in `classify`." in page
    assert "missing lines 4" in page and "- Changed functions' mutation score 50.0 % (1/2)" in page
    bare_page = markdown.module_page(sc.modules[1], sc)
    assert "in no function." in bare_page and "Changed-lines coverage" not in bare_page
    no_mutation = replace(sc, modules=(replace(calc, changes=replace(changes, mutation=None)),))
    assert "changed functions' mutation score" not in markdown.summary(no_mutation)


def test_module_page_of_a_sampled_unmutable_module_without_coverage() -> None:
    sc = reportdata.scorecard()
    calc = sc.modules[1]
    assert calc.mutation is not None
    mutation = replace(calc.mutation, population=40, unmutable_functions=("decorated",),
                       not_mutated_reason="partly: decorated functions")
    card = replace(calc, coverage=None, runtime=None, flakiness=None, mutation=mutation, tier="core")
    page = markdown.module_page(card, sc)
    assert "## Coverage" not in page and "## Test cost" not in page and "## Flaky tests" not in page
    assert "tier **core**" in page
    assert f"Sampled: {mutation.counts.total} of 40 mutants; 95 % interval of the score" in page
    assert "Out of mutmut's reach: `decorated`" in page and "Not mutated: partly: decorated functions" in page


def test_junit_regressed_and_not_measured_cases() -> None:
    sc = reportdata.scorecard()
    util = sc.modules[2]
    regs = (Regression("demo.util", Metric.LINE_COVERAGE, 100.0, 99.0, 0.5),  # passing figure, regressed
            Regression("demo.calc", Metric.MUTATION_SCORE, 100.0, 60.0, 0.5),  # failing figure, regressed too
            Regression("demo.gone", Metric.LINE_COVERAGE, 90.0, 10.0, 0.5))  # no verdict of its own
    verdicts = tuple(replace(v, status=Status.NOT_MEASURED, value=None, reason="mutmut broke")
                     if v.metric is Metric.MUTATION_SCORE else v for v in util.verdicts)
    sc = replace(sc, modules=(sc.modules[0], sc.modules[1], replace(util, verdicts=verdicts)), regressions=regs)
    root = ET.fromstring(junit.report(sc))
    failures = {(c.get("classname"), c.get("name")): c.find("failure") for c in root.iter("testcase")}
    assert failures[("demo.util", "mutation score")].get("type") == "not-measured"
    assert failures[("demo.util", "line coverage")].get("type") == "regressed"
    calc_branch = failures[("demo.calc", "mutation score")]
    assert calc_branch.get("type") == "target-missed"
    assert "demo.calc: mutation score" in (calc_branch.text or "") and (calc_branch.text or "").count("\n") == 1
    assert failures[("demo.gone", "line coverage ratchet")].get("type") == "regressed"



def test_badge_status_prefers_fail_then_not_measured_then_pass() -> None:
    sc = reportdata.scorecard()

    def only(status: Status) -> object:
        mods = tuple(replace(c, verdicts=tuple(replace(v, status=status) for v in c.verdicts)) for c in sc.modules)
        return replace(sc, modules=mods, totals=replace(sc.totals, verdicts=()))

    assert badge.status(only(Status.NOT_MEASURED), Metric.LINE_COVERAGE) is Status.NOT_MEASURED  # type: ignore[arg-type]
    assert badge.status(only(Status.NA), Metric.LINE_COVERAGE) is Status.NA  # type: ignore[arg-type]
    assert badge.status(gate(sc, Config()), Metric.MUTATION_SCORE) is Status.FAIL
