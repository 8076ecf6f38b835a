"""HTML corners: flat sparklines, skipped cells, source lines with excluded, out-of-range and no coverage."""

from __future__ import annotations

from dataclasses import replace

import reportdata

from harness.model import CoverageNumbers, ModuleCoverage
from harness.reporters import html


def test_sparkline_of_a_flat_series_with_a_gap() -> None:
    svg = str(html.sparkline([50.0, None, 50.0, 50.0], label="branch"))
    assert svg.count("<polyline") == 1  # the lone point before the gap draws no line
    assert "<title>branch, last runs: 50.0%, n/a, 50.0%, 50.0%</title>" in svg
    assert str(html.sparkline([None, 3.0])) == ""
    unclamped = str(html.sparkline([1.0, 2.0], lo=None, hi=None, unit=" s"))
    assert "last runs: 1.0 s, 2.0 s" in unclamped


def test_source_lines_marks_and_ignores_lines_outside_the_file() -> None:
    calc = reportdata.scorecard().modules[1]
    cov = ModuleCoverage(numbers=CoverageNumbers(statements=3, executed=2, branches=2, covered_branches=1),
                         missing_lines=(2, 99), excluded_lines=(3, 0), missing_arcs=((1, 2), (99, 100)))
    lines = html.source_lines(replace(calc, coverage=cov, mutation=None), "if x:\n    y()\nz()  # no cover\n")
    assert [ln.css for ln in lines] == ["partial", "missed", "excluded"]
    assert lines[0].note == "partial branch: line 1 never jumped to 2"
    assert html.source_lines(calc, None) == []
    bare = html.source_lines(replace(calc, coverage=None), "")  # mutants but no source line to put them on
    assert bare == []


def test_a_cell_with_no_verdict_is_skipped() -> None:
    cell = html._cell(None)
    assert (cell.text, cell.status) == (html.DASH, "skipped")
