"""Reporters on a hand-made scorecard: golden Markdown and JUnit, the Stryker JSON against the official
schema, the HTML pages' content, badges, and what ``write_all`` puts on disk.

Golden files live in tests/golden/; timestamps, paths and the harness version are scrubbed. Regenerate them
with ``UPDATE_GOLDEN=1 pytest tests/test_reports.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
import reportdata

from harness import __version__
from harness.history import Figures, HistoryEntry
from harness.model import Metric, Mutant, MutantStatus, MutationCounts, Regression, Scorecard, Status
from harness.reporters import badge, html, junit, markdown, stryker, write_all

GOLDEN = Path(__file__).parent / "golden"
SCHEMA = Path(stryker.__file__).resolve().parent.parent / "schemas" / stryker.SCHEMA_FILE


def scrub(text: str, root: Path | str) -> str:
    """Replace what changes between runs and machines: ISO timestamps, the project root, the version."""
    text = text.replace(str(root), "<ROOT>")
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)?", "<TIME>", text)
    return text.replace(f"quality-harness {__version__}", "quality-harness <VERSION>").replace(
        f'value="{__version__}"', 'value="<VERSION>"'
    )


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        if not os.environ.get("UPDATE_GOLDEN"):
            pytest.fail(f"golden file {path} was missing and has been written; review it and rerun")
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file (UPDATE_GOLDEN=1)"


@pytest.fixture
def demo(tmp_path: Path) -> tuple[Path, Scorecard]:
    root = reportdata.write_sources(tmp_path / "demo")
    return root, reportdata.scorecard(str(root))


def regressed(sc: Scorecard) -> Scorecard:
    """The demo scorecard as the ratchet leaves it: demo.util's line coverage and the runtime regressed."""
    regs = (
        Regression("demo.util", Metric.LINE_COVERAGE, 100.0, 97.5, 0.5),
        Regression("project", Metric.SUITE_RUNTIME, 0.5, 1.5, 50.0),
    )
    return replace(sc, regressions=regs, meta=replace(sc.meta, baseline="reports/baseline.json (<TIME>)"))


# --------------------------------------------------------------------------------------------------- golden


def test_markdown_summary_golden(demo: tuple[Path, Scorecard]) -> None:
    root, sc = demo
    check_golden("summary.md", scrub(markdown.summary(regressed(sc)), root))


def test_markdown_module_page_golden(demo: tuple[Path, Scorecard]) -> None:
    root, sc = demo
    check_golden("module_demo.calc.md", scrub(markdown.module_page(sc.modules[1], sc), root))


def test_junit_golden(demo: tuple[Path, Scorecard]) -> None:
    root, sc = demo
    check_golden("junit.xml", scrub(junit.report(regressed(sc)), root))


def test_scrub_removes_what_changes(tmp_path: Path) -> None:
    text = f"{tmp_path}/x at 2026-01-02T03:04:05+00:00 by quality-harness {__version__}"
    assert scrub(text, tmp_path) == "<ROOT>/x at <TIME> by quality-harness <VERSION>"


# --------------------------------------------------------------------------------------------------- JUnit


def test_junit_has_one_case_per_module_and_metric_with_figures(demo: tuple[Path, Scorecard]) -> None:
    _root, sc = demo
    doc = ET.fromstring(junit.report(regressed(sc)))
    cases = doc.findall(".//testcase")
    per_module = [(c.get("classname"), c.get("name")) for c in cases if c.get("classname") != "project"]
    assert len(per_module) == len(set(per_module)) == 3 * 4
    failures = {
        (c.get("classname"), c.get("name")): c.find("failure") for c in cases if c.find("failure") is not None
    }
    line = failures[("demo.calc", "line coverage")]
    assert line is not None and line.get("type") == "target-missed"
    assert "80.0 %" in (line.get("message") or "") and ">= 85 %" in (line.get("message") or "")
    reg = failures[("demo.util", "line coverage")]
    assert reg is not None and reg.get("type") == "regressed"
    assert "fell from 100.0 % to 97.5 %" in (reg.get("message") or "")
    assert ("project", "suite runtime") in failures  # above target but regressed beyond the tolerance
    assert doc.get("failures") == str(len(failures)) == "6"
    assert doc.get("tests") == str(len(cases))


# --------------------------------------------------------------------------------------------------- Stryker


def test_stryker_report_is_valid_against_the_official_schema(demo: tuple[Path, Scorecard]) -> None:
    """Hand-made mutants of every status (toolz's real run is checked in test_reports_browser.py)."""
    root, sc = demo
    sources = {c.module: (root / c.path).read_text() for c in sc.modules}
    doc = stryker.report(sc, sources)
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.validate(doc, schema)
    assert doc["schemaVersion"] == "2"
    calc = doc["files"]["demo/calc.py"]
    assert calc["source"] == reportdata.CALC and len(calc["mutants"]) == len(reportdata.MUTANTS)


def test_stryker_statuses_give_our_mutation_score(demo: tuple[Path, Scorecard]) -> None:
    """Stryker's score = (Killed + Timeout) / (Killed + Timeout + Survived + NoCoverage) must equal ours."""
    _root, sc = demo
    doc = stryker.report(sc, {})
    for card in sc.modules:
        if not card.mutation or not card.mutation.mutants:
            continue
        statuses = [m["status"] for m in doc["files"][card.path]["mutants"]]
        detected = sum(s in ("Killed", "Timeout") for s in statuses)
        valid = detected + sum(s in ("Survived", "NoCoverage") for s in statuses)
        assert card.mutation.counts.score == pytest.approx(100 * detected / valid)


def test_every_status_maps_to_a_schema_status() -> None:
    allowed = json.loads(SCHEMA.read_text())["properties"]["files"]["additionalProperties"]["properties"][
        "mutants"
    ]["items"]["properties"]["status"]["enum"]
    assert set(stryker.STRYKER_STATUS) == set(MutantStatus)
    assert set(stryker.STRYKER_STATUS.values()) <= set(allowed)


def _mutant(diff: str, line: int | None) -> Mutant:
    return Mutant("m.x_f__mutmut_1", "m", "f", line, MutantStatus.SURVIVED, diff)


SOURCE = ["def f(a, b):", "    if a < b:", "        return a + b", "    return 0"]


@pytest.mark.parametrize(
    ("diff", "line", "span"),
    [
        # one changed line: narrowed to the differing characters
        ("-    if a < b:\n+    if a <= b:\n", 2, stryker.Span(2, 11, 2, 11, "=")),  # an insertion
        ("-        return a + b\n+        return a - b\n", 3, stryker.Span(3, 18, 3, 19, "-")),
        # mutmut's hunk numbers are function-relative: the removed text is looked up near the given line
        ("@@ -1,2 +1,2 @@\n-    return 0\n+    return 1\n", 1, stryker.Span(4, 12, 4, 13, "1")),
        # no line known: found by its text
        ("-    return 0\n+    return None\n", None, stryker.Span(4, 12, 4, 13, "None")),
        # two removed lines
        ("-    if a < b:\n-        return a + b\n+    pass\n", 2, stryker.Span(2, 5, 3, 21, "pass")),
        # text not in the source: the given line, whole line replaced
        ("-    gone()\n+    other()\n", 3, stryker.Span(3, 5, 3, 9, "other")),
    ],
)
def test_locate(diff: str, line: int | None, span: stryker.Span) -> None:
    assert stryker.locate(_mutant(diff, line), SOURCE) == span


def test_stryker_thresholds_follow_the_mutation_targets(demo: tuple[Path, Scorecard]) -> None:
    _root, sc = demo
    assert stryker.thresholds(sc) == (70, 70)
    assert stryker.thresholds(replace(sc, modules=())) == stryker.DEFAULT_THRESHOLDS


# --------------------------------------------------------------------------------------------------- HTML


def _history() -> list[HistoryEntry]:
    return [
        HistoryEntry(
            time=f"2026-11-{d:02d}T00:00:00+00:00",
            project="demo",
            suite_runtime=1.0 + d / 10,
            totals=Figures(line_coverage=80 + d, branch_coverage=70 + d),
            modules={"demo.calc": Figures(line_coverage=70 + d, mutation_score=50 + d)},
        )
        for d in range(1, 6)
    ]


def test_html_index_lists_every_module_with_coloured_verdicts(demo: tuple[Path, Scorecard]) -> None:
    _root, sc = demo
    page = html.render_index(regressed(sc), _history())
    rows = re.findall(r'<tr data-module="([^"]+)" data-failed="(\d)">', page)
    assert rows == [("demo", "0"), ("demo.calc", "1"), ("demo.util", "1")]
    assert 'href="modules/demo.calc.html"' in page
    assert 'class="num fail" data-v="80.000000"' in page  # calc's line coverage misses 85 %
    assert 'class="num pass" data-v="83.333333"' in page
    assert "TOTAL (3 modules)" in page and "83.3 %" in page
    assert 'id="filter"' in page and "sortable" in page
    assert "<polyline" in page  # trend sparklines from the history
    assert "fell from 100.0 % to 97.5 %" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing from the network
    assert "https://" not in page


def test_html_module_page_marks_lines_and_shows_mutants_inline(demo: tuple[Path, Scorecard]) -> None:
    root, sc = demo
    calc = sc.modules[1]
    page = html.render_module(calc, sc, (root / calc.path).read_text(), _history())
    assert re.search(r'<tr id="L5" class="missed"', page)
    assert re.search(r'<tr id="L4" class="partial" title="partial branch: line 4 never jumped to 5"', page)
    assert re.search(r'<tr id="L13" class="partial"', page)
    # the survivor of line 4 sits right after line 4, as a diff
    after4 = page.split('id="L4"', 1)[1].split('id="L5"', 1)[0]
    assert "demo.calc.x_classify__mutmut_2" in after4
    assert '<span class="del">-    elif n == 0:</span><span class="add">+    elif n == 1:</span>' in after4
    assert "x_classify__mutmut_1" not in page.split('id="source"', 1)[1]  # killed: counted, not shown
    assert "order-dependent" in page and "pytest -p no:randomly tests/test_state.py::test_set" in page
    assert "tests/test_calc.py::test_classify" in page.split('id="slowest"', 1)[1]
    assert "&lt;" in page.split('id="L2"', 1)[1].split("</tr>", 1)[0]  # source is escaped


def test_html_module_page_without_source(demo: tuple[Path, Scorecard]) -> None:
    _root, sc = demo
    page = html.render_module(sc.modules[1], sc, None)
    assert "could not be read" in page


def test_sparkline_scales_and_leaves_gaps() -> None:
    assert html.sparkline([]) == "" and html.sparkline([None, 50.0]) == ""
    svg = html.sparkline([0.0, None, 50.0, 100.0], width=30, height=20)
    assert svg.count("<polyline") == 1  # the gap splits off a lone first point
    assert 'points="20.0,10.0 30.0,2.0"' in svg


# --------------------------------------------------------------------------------------------------- badges


def test_badges_one_per_metric_coloured_by_the_gate(demo: tuple[Path, Scorecard]) -> None:
    _root, sc = demo
    out = badge.badges(sc)
    assert set(out) == {f"{m.value}.svg" for m in badge.BADGE_METRICS}
    assert badge.COLOUR[Status.FAIL] in out["line_coverage.svg"]
    assert "83.3 %" in out["line_coverage.svg"]
    assert badge.COLOUR[Status.PASS] in out["branch_coverage.svg"]
    for text in out.values():
        ET.fromstring(text)  # well-formed SVG


# ------------------------------------------------------------------------------------------------ write_all


def test_write_all_writes_every_report(demo: tuple[Path, Scorecard], tmp_path: Path) -> None:
    _root, sc = demo
    reports = tmp_path / "reports"
    written = write_all(sc, reports, history=_history())
    names = {p.relative_to(reports).as_posix() for p in written}
    assert {
        "scorecard.json",
        "scorecard.md",
        "junit.xml",
        "html/index.html",
        "html/modules/demo.calc.html",
        "badges/mutation_score.svg",
        "mutation-report.json",
    } <= names
    assert all(p.exists() for p in written)
    doc = json.loads((reports / "mutation-report.json").read_text())
    assert doc["format"] == 1 and doc["kind"] == "stryker-report"
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    assert "def classify(n):" in (reports / "html/modules/demo.calc.html").read_text()


def test_no_stryker_report_without_mutation(demo: tuple[Path, Scorecard], tmp_path: Path) -> None:
    _root, sc = demo
    no_mut = replace(
        sc,
        metrics=(Metric.LINE_COVERAGE, Metric.BRANCH_COVERAGE),
        modules=tuple(replace(c, mutation=None) for c in sc.modules),
        totals=replace(sc.totals, mutation=None),
    )
    names = {p.name for p in write_all(no_mut, tmp_path / "r")}
    assert "mutation-report.json" not in names
    assert MutationCounts().score is None


def test_html_index_shows_tiers_when_any_module_has_one(demo: tuple[Path, Scorecard]) -> None:
    _root, sc = demo
    tiered = replace(
        sc, modules=tuple(replace(c, tier="critical") if c.module == "demo.calc" else c for c in sc.modules)
    )
    page = html.render_index(tiered)
    assert '<th class="sortable">tier</th>' in page and "<td>critical</td>" in page
    assert '<th class="sortable">tier</th>' not in html.render_index(sc)


def _incomplete() -> Scorecard:
    """The demo scorecard with one cell not measured, one quarantined test and one parallel-unsafe pair."""
    from harness.config import Config
    from harness.gate import gate
    from harness.model import FlakyClass, FlakyTest, QuarantineCause, QuarantinedTest, Unmeasured

    sc = reportdata.scorecard()
    module = sc.modules[0].module
    unsafe = FlakyTest("tests/test_db.py::test_a", 2, 12, FlakyClass.PARALLEL_UNSAFE,
                       "python -m pytest -n 2 tests/test_db.py::test_b tests/test_db.py::test_a",
                       "tests/test_db.py::test_b", "failed in 2 parallel run(s)")
    sc = replace(sc, unmeasured=(Unmeasured(module, Metric.MUTATION_SCORE, "every covering test quarantined",
                                            ("tests/test_x.py::test_pickle",)),),
                 quarantined=(QuarantinedTest("tests/test_x.py::test_pickle", QuarantineCause.PICKLING,
                                              "PicklingError: Can't pickle <class 'trampoline.X'>",
                                              "python -m pytest tests/test_x.py::test_pickle"),),
                 totals=replace(sc.totals, parallel_unsafe=(unsafe,)))
    return gate(sc, Config())


def test_not_measured_cells_and_quarantine_are_shown_apart_in_every_report() -> None:
    from harness.plan import build

    sc = _incomplete()
    assert not sc.complete and not sc.passed
    md = markdown.summary(sc)
    assert "⚠️ 1 cell(s) not measured" in md and "⚠️ not measured" in md
    assert "## Not measured" in md and "every covering test quarantined" in md
    assert "## Quarantined tests" in md and "`tests/test_x.py::test_pickle` (pickling)" in md
    assert "## Parallel-unsafe tests" in md and "collides with `tests/test_db.py::test_b`" in md
    page = html.render_index(sc)
    assert 'class="banner unmeasured"' in page and "Quarantined tests" in page and "Parallel-unsafe" in page
    assert 'class="num unmeasured"' in page and ">not measured<" in page
    assert 'type="not-measured"' in junit.report(sc)
    plan = build(sc, __import__("harness.config").config.Config(), {})
    assert [i.test for i in plan.quarantined] == ["tests/test_x.py::test_pickle"]
    assert "cannot judge mutants: pickling" in plan.quarantined[0].text


def test_quarantined_tests_of_a_run_without_mutation_are_not_said_to_be_left_out_of_it() -> None:
    """Flaky and broken tests are quarantined by the flakiness phase; with mutation off, nothing was left out."""
    with_mutation = _incomplete()
    without = replace(with_mutation, metrics=tuple(m for m in with_mutation.metrics if m is not Metric.MUTATION_SCORE))
    for sc, said, unsaid in ((with_mutation, "Left out of the mutation phase", "Mutation was off"),
                             (without, "Mutation was off in this run", "Left out of the mutation phase")):
        for text in (markdown.summary(sc), html.render_index(sc)):
            assert said in text and unsaid not in text
