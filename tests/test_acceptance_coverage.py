"""Acceptance: on real PyPI projects, every module's coverage figures equal coverage.py's own JSON report.

For each target the harness runs once; then ``coverage json`` is run independently on the same data file
(no contexts, coverage.py's defaults) and every module of the harness's scorecard is compared with it:
statements, executed lines, branches, covered branches, missing lines and missing arcs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import realtargets
from conftest import run_harness, tree_checksum

pytestmark = [pytest.mark.slow, pytest.mark.acceptance]


def _coverage_json(root: Path, out: Path) -> dict[str, dict]:  # type: ignore[type-arg]
    work = root / ".harness-cache" / "work"
    data = root / "reports" / "raw" / "coverage" / ".coverage"
    subprocess.run([sys.executable, "-m", "coverage", "json", f"--data-file={data}", "-o", str(out),
                    "--fail-under=0"], cwd=work, check=True, capture_output=True)
    files = json.loads(out.read_text())["files"]
    return {Path(k).relative_to(work).as_posix() if Path(k).is_absolute() else k: v for k, v in files.items()}


@pytest.mark.parametrize("name", ["toolz", "itsdangerous", "starlette-exporter"])
def test_figures_equal_coverage_json(name: str, tmp_path: Path) -> None:
    root = realtargets.prepare(name, tmp_path / "src")
    before = tree_checksum(root)
    result = run_harness("run", root, "--set", "runtime.runs=1", *realtargets.harness_config(name))
    assert result.returncode in (0, 1), result.output  # measured: targets met or missed, never a tool error
    assert tree_checksum(root) == before

    scorecard = json.loads((root / "reports" / "scorecard.json").read_text())
    reference = _coverage_json(root, tmp_path / "reference.json")
    matched = 0
    modules = [m for m in scorecard["modules"] if m["coverage"] is not None]
    assert modules, "no module was measured"
    for m in modules:
        ref = reference[m["path"]]
        cov = m["coverage"]
        nums = cov["numbers"]
        s = ref["summary"]
        assert (nums["statements"], nums["executed"], nums["branches"], nums["covered_branches"]) == (
            s["num_statements"], s["covered_lines"], s["num_branches"], s["covered_branches"]), m["module"]
        assert cov["missing_lines"] == ref["missing_lines"], m["module"]
        assert cov["missing_arcs_text"] == [f"{a}->{b if b > 0 else 'exit'}" for a, b in ref["missing_branches"]]
        assert cov["excluded_lines"] == ref["excluded_lines"]
        matched += 1
    source_modules = {p for p in reference if not any(x in p for x in ("tests/", "test_", "conftest"))}
    assert {m["path"] for m in modules} == source_modules  # no module lost or invented
    omitted = [m for m in scorecard["modules"] if m["coverage"] is None]
    for m in omitted:  # left out by the target's own [coverage:run] omit: n/a, and coverage.py agrees
        assert m["path"] not in reference
        assert {v["metric"]: v["status"] for v in m["verdicts"]}["branch_coverage"] == "n/a"
    print(f"\n{name}: coverage figures match coverage json for {matched}/{len(modules)} measured modules"
          f" ({len(omitted)} omitted by the target's coverage config)")
    assert matched == len(modules) == len(scorecard["modules"]) - len(omitted)
