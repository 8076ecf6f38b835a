"""End to end: the ratchet fails a run whose module regressed, though every target is still met; history keeps
both runs; ``harness baseline update`` and ``--baseline FILE`` work on real runs."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import run_harness

pytestmark = pytest.mark.slow

# Targets of 0 leave the ratchet as the only thing that can fail; only the coverage phase runs (fast).
QUICK = [
    "--set",
    "runtime.enabled=false",
    "--set",
    "flakiness.enabled=false",
    "--set",
    "mutation.enabled=false",
    "--set",
    "targets.line_coverage=0",
    "--set",
    "targets.branch_coverage=0",
    "--workers",
    "1",
]

TWO_TESTS = """
    from simple.calc import add, classify


    def test_add():
        assert add(1, 2) == 3


    def test_classify():
        assert classify(-1) == "neg"
        assert classify(5) == "pos"
"""
ONE_TEST = """
    from simple.calc import add, classify


    def test_add():
        assert add(1, 2) == 3
"""


def test_deleting_a_test_fails_the_next_run_naming_the_module(target_project: Callable[..., Path]) -> None:
    root = target_project(tests__test_calc_py=TWO_TESTS)
    first = run_harness("run", root, *QUICK)
    assert first.returncode == 0, first.output
    assert "REGRESSED" not in first.output

    (root / "tests" / "test_calc.py").write_text(ONE_TEST.replace("\n    ", "\n").lstrip())
    second = run_harness("run", root, *QUICK)
    assert second.returncode == 1, second.output
    assert "REGRESSED simple.calc: line coverage fell from 87.5 % to 37.5 %" in second.output
    assert "REGRESSED simple.calc: branch coverage fell from 75.0 % to 0.0 %" in second.output
    assert "0 target(s) missed, 2 regression(s) against the baseline" in second.output
    assert "MISSED" not in second.output  # every target is still met

    reports = root / "reports"
    doc = json.loads((reports / "history.json").read_text())
    assert doc["format"] == 1 and doc["kind"] == "history"
    runs = doc["entries"]
    assert len(runs) == 2
    assert [r["passed"] for r in runs] == [True, False] and [r["regressed"] for r in runs] == [0, 2]
    assert runs[0]["modules"]["simple.calc"]["line_coverage"] == 87.5
    assert runs[1]["modules"]["simple.calc"]["line_coverage"] == 37.5

    failures = ET.parse(reports / "junit.xml").getroot().findall(".//failure[@type='regressed']")
    assert {f.get("message") for f in failures} == {
        "line coverage fell from 87.5 % to 37.5 % (ratchet tolerance 0.5 points)",
        "branch coverage fell from 75.0 % to 0.0 % (ratchet tolerance 0.5 points)",
    }
    assert "## Regressions against the baseline" in (reports / "scorecard.md").read_text()
    assert 'data-module="simple.calc" data-failed="1"' in (reports / "html" / "index.html").read_text()

    # The regressed run is no baseline: the next run is still compared with the first one.
    third = run_harness("run", root, *QUICK)
    assert third.returncode == 1 and "REGRESSED simple.calc" in third.output

    trend = run_harness("trend", root, env={"COLUMNS": "200"})
    assert trend.returncode == 0 and trend.output.count("87.5 %") == 1 and trend.output.count("37.5 %") == 2


def test_baseline_update_then_explicit_baseline(target_project: Callable[..., Path], tmp_path: Path) -> None:
    root = target_project(tests__test_calc_py=TWO_TESTS)
    assert run_harness("run", root, *QUICK).returncode == 0
    base = tmp_path / "quality-baseline.json"
    update = run_harness("baseline", "update", root, "--output", base)
    assert update.returncode == 0, update.output
    assert json.loads(base.read_text())["kind"] == "baseline"

    (root / "tests" / "test_calc.py").write_text(ONE_TEST.replace("\n    ", "\n").lstrip())
    # Accept the drop: a fresh baseline from the lower run makes the default ratchet pass again ...
    assert run_harness("run", root, *QUICK, "--set", "ratchet.enabled=false").returncode == 0
    assert run_harness("baseline", "update", root).returncode == 0
    assert run_harness("run", root, *QUICK).returncode == 0
    # ... while the saved, older baseline still fails it.
    old = run_harness("run", root, *QUICK, "--baseline", base)
    assert old.returncode == 1 and "REGRESSED simple.calc: line coverage" in old.output
    assert f"ratchet baseline: {base}" in old.output
    missing = run_harness("run", root, *QUICK, "--baseline", tmp_path / "nope.json")
    assert missing.returncode == 2 and "nope.json, which does not exist" in missing.output


def test_unreadable_history_fails_before_measuring(target_project: Callable[..., Path]) -> None:
    root = target_project()
    (root / "reports").mkdir()
    (root / "reports" / "history.json").write_text('{"format": 99, "kind": "history", "entries": []}')
    result = run_harness("run", root, *QUICK)
    assert result.returncode == 3
    assert "history.json is not a history file of format 1 (found format 99)" in result.output
    assert not (root / ".harness-cache" / "work").exists()  # refused before any tool ran (no work copy)
