"""The coverage collector's parser, on a captured coverage.py 7.17.3 JSON report (``--show-contexts``)."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import SIMPLE_PROJECT, write_tree

from harness.collectors.coverage import parse_report
from harness.config import Config
from harness.discover import discover

ARTIFACT = Path(__file__).parent / "artifacts" / "coverage" / "simple-7.17.3.json"


def _project(tmp_path: Path):  # type: ignore[no-untyped-def]
    return discover(write_tree(tmp_path, SIMPLE_PROJECT), Config())


def test_parse_captured_report(tmp_path: Path) -> None:
    doc = json.loads(ARTIFACT.read_text())
    result = parse_report(doc, _project(tmp_path), tmp_path / "work")
    calc = result["simple.calc"]
    n = calc.numbers
    assert (n.statements, n.executed, n.excluded) == (8, 7, 2)
    assert (n.branches, n.covered_branches, n.partial_branches) == (4, 3, 1)
    assert n.line_percent == 87.5 and n.branch_percent == 75.0
    assert calc.missing_lines == (5,)
    assert calc.excluded_lines == (13, 14)  # '# pragma: no cover' honoured
    assert calc.missing_arcs_text == ("4->5",)
    assert calc.tests == ("tests/test_calc.py::test_add", "tests/test_calc.py::test_classify")
    init = result["simple"].numbers
    assert init.statements == 0 and init.line_percent is None  # n/a, not 0 % or 100 %


def test_absolute_paths_inside_the_work_copy_are_mapped(tmp_path: Path) -> None:
    doc = json.loads(ARTIFACT.read_text())
    work = tmp_path / "cache" / "work"
    doc["files"] = {str(work / k): v for k, v in doc["files"].items()}
    result = parse_report(doc, _project(tmp_path), work)
    assert set(result) == {"simple", "simple.calc"}


def test_exit_arcs_are_printed_like_coverage_py() -> None:
    from harness.model import ModuleCoverage

    assert ModuleCoverage.format_arc((12, -1)) == "12->exit"
    assert ModuleCoverage.format_arc((223, 219)) == "223->219"
