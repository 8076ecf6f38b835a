"""The ``harness`` command end to end: exit codes, one-line errors, and the target left untouched.

Cases that fail before any tool runs are fast; the ones that run pytest are marked slow.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import run_harness, tree_checksum

from harness.cli import main

FAST = ["--set", "runtime.runs=1", "--set", "flakiness.enabled=false", "--set", "mutation.enabled=false",
        "--workers", "1"]


def _main(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("files", "args", "code", "message"),
    [
        (None, ["--set", "colour=1"], 2, "unknown config key 'colour'"),
        (None, ["--set", "targets.branch_coverage='high'"], 2,
         "config key 'targets.branch_coverage' must be a number"),
        (None, ["--set", "targets.branch_coverage=150"], 2, "config key 'targets.branch_coverage' must be in 0-100"),
        ({"config/quality.toml": "[targets]\nline_coverage = -5\n"}, [], 2,
         "config key 'targets.line_coverage' must be in 0-100"),
        ({"config/quality.toml": "wokers = 2\n"}, [], 2, "unknown config key 'wokers' (did you mean 'workers'?)"),
        ({"simple/broken.py": "def f(:\n    pass\n"}, [], 2, "syntax error in simple/broken.py line 1"),
    ],
)
def test_bad_input_exits_2_with_one_line(target_project: Callable[..., Path], capsys: pytest.CaptureFixture[str],
                                         files: dict[str, str] | None, args: list[str], code: int,
                                         message: str) -> None:
    root = target_project()
    if files:
        from conftest import write_tree

        write_tree(root, files)
    before = tree_checksum(root)
    rc, _, err = _main(capsys, "run", root, *args)
    assert rc == code
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert tree_checksum(root) == before


def test_missing_path_and_not_a_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = _main(capsys, "run", tmp_path / "nope")
    assert rc == 2 and "does not exist" in err
    (tmp_path / "README.md").write_text("not python")
    rc, _, err = _main(capsys, "run", tmp_path)
    assert rc == 2 and "is not a Python project" in err


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["run", "--workers", "many"])
    assert info.value.code == 2
    assert "invalid int value" in capsys.readouterr().err


def test_config_command_lists_every_key(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _main(capsys, "config")
    assert rc == 0 and "targets.branch_coverage = 75.0" in out


@pytest.mark.slow
def test_gate_end_to_end_exit_1_then_0(target_project: Callable[..., Path],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    root = target_project()
    before = tree_checksum(root)
    rc, out, _ = _main(capsys, "run", root, *FAST, "--set", "targets.branch_coverage=80")
    assert rc == 1
    assert "MISSED simple.calc: branch coverage 75.0 % (target >= 80 %): FAIL" in out
    rc, out, _ = _main(capsys, "run", root, *FAST, "--set", "targets.branch_coverage=75")
    assert rc == 0 and "all targets met" in out
    assert tree_checksum(root) == before  # the target's files are unchanged
    doc = json.loads((root / "reports" / "scorecard.json").read_text())
    assert doc["format"] == 1 and doc["kind"] == "scorecard" and doc["passed"] is True
    calc = json.loads((root / "reports" / "modules" / "simple.calc.json").read_text())["module"]
    assert calc["coverage"]["missing_arcs_text"] == ["4->5"] and calc["coverage"]["missing_lines"] == [5]
    assert "Missing arcs: 4->5" in (root / "reports" / "modules" / "simple.calc.md").read_text()


@pytest.mark.slow
def test_failing_test_is_quarantined_and_the_rest_measured(target_project: Callable[..., Path]) -> None:
    """A broken test no longer sinks the run: the scorecard is written, the test listed with its cause and a
    command that reproduces it; the figures are the rest of the suite's (same as without the test)."""
    root = target_project(tests__test_bad="def test_broken():\n    assert 1 == 2\n")
    (root / "tests" / "test_bad").rename(root / "tests" / "test_bad.py")
    before = tree_checksum(root)
    result = run_harness("run", root, *FAST)
    assert result.returncode == 0, result.output
    assert "QUARANTINED tests/test_bad.py::test_broken: broken: failed in the clean (coverage) run" in result.stdout
    assert "1 test(s) quarantined" in result.stdout
    assert "Traceback" not in result.output
    assert tree_checksum(root) == before
    card = json.loads((root / "reports" / "scorecard.json").read_text())
    assert [(q["nodeid"], q["cause"]) for q in card["quarantined"]] == [("tests/test_bad.py::test_broken", "broken")]
    calc = next(m for m in card["modules"] if m["module"] == "simple.calc")
    assert calc["coverage"]["missing_lines"] == [5]  # as without the broken test


@pytest.mark.slow
def test_no_tests_collected_exit_3(target_project: Callable[..., Path]) -> None:
    root = target_project()
    (root / "tests" / "test_calc.py").write_text("# no tests here\n")
    result = run_harness("run", root, *FAST)
    assert result.returncode == 3
    assert "no tests collected" in result.stderr and "Traceback" not in result.output


@pytest.mark.slow
def test_tests_importing_nothing_from_source_is_no_data(target_project: Callable[..., Path]) -> None:
    root = target_project()
    (root / "tests" / "test_calc.py").write_text("def test_nothing():\n    assert True\n")
    result = run_harness("run", root, *FAST)
    assert result.returncode == 3
    assert "coverage.py saw no executed line" in result.stderr
