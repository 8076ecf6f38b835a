"""CLI corners: the closing line and exit code for each kind of run, config as Markdown, bad plan options,
Ctrl-C and a crash log that cannot be written."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import reportdata

from harness import cli
from harness.model import Metric, QuarantineCause, QuarantinedTest, Unmeasured
from harness.reporters import write_all


def _say() -> tuple[list[str], Any]:
    said: list[str] = []
    return said, lambda text, style="": said.append(text)


def test_conclude_for_each_kind_of_run() -> None:
    sc = reportdata.scorecard()
    said, say = _say()
    assert cli._conclude(sc, say) == 1 and said[-1].endswith("target(s) missed")
    unmeasured = replace(sc, unmeasured=(Unmeasured("demo.calc", Metric.MUTATION_SCORE, "mutmut broke"),))
    assert cli._conclude(unmeasured, say) == 3
    assert said[-1].startswith("1 cell(s) not measured") and "target(s) missed among the measured ones" in said[-1]
    passing = replace(sc, modules=(sc.modules[0],), totals=replace(sc.totals, verdicts=()))
    assert passing.passed
    quarantined = replace(passing, quarantined=(QuarantinedTest("tests/t.py::t", QuarantineCause.BROKEN),))
    said.clear()
    assert cli._conclude(quarantined, say) == 0
    assert said[0].startswith("1 test(s) quarantined") and said[-1] == "all targets met"
    empty = replace(passing, unmeasured=(Unmeasured("demo", Metric.LINE_COVERAGE, "x"),))
    assert cli._conclude(empty, say) == 3 and "no target missed among the measured ones" in said[-1]


def test_config_as_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["config", "--markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("| key | default | meaning |\n|---|---|---|\n") and "| `workers` | `0` |" in out


@pytest.mark.parametrize("option", ["--batch", "--top"])
def test_plan_refuses_negative_numbers(tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str) -> None:
    assert cli.main(["plan", str(tmp_path), option, "-1"]) == 2
    assert "--batch and --top take a number >= 0" in capsys.readouterr().err


def test_ctrl_c_exits_130(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(*a: Any) -> int:
        raise KeyboardInterrupt

    monkeypatch.setitem(cli.COMMANDS, "config", interrupted)
    assert cli.main(["config"]) == 130
    assert "interrupted; completed results are kept" in capsys.readouterr().err


def test_a_crash_whose_log_cannot_be_written(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    def broken(*a: Any) -> int:
        raise RuntimeError("")

    def no_temp(*a: Any, **k: Any) -> Any:
        raise OSError("read-only")

    monkeypatch.setitem(cli.COMMANDS, "config", broken)
    monkeypatch.setattr(tempfile, "mkstemp", no_temp)
    assert cli.main(["config"]) == 4
    err = capsys.readouterr().err
    assert "internal error, a harness bug (RuntimeError); its traceback could not be written to a file" in err


def test_trend_refuses_fewer_than_one_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["trend", str(tmp_path), "--last", "0"]) == 2
    assert "--last takes a number >= 1" in capsys.readouterr().err


def test_plan_with_nothing_to_plan_lists_quarantined_tests_and_notes(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    root = reportdata.write_sources(tmp_path / "demo")
    (root / "tests").mkdir()
    (root / "tests" / "test_calc.py").write_text("def test_add():\n    pass\n", encoding="utf-8")
    sc = reportdata.scorecard(root=str(root))
    util = sc.modules[2]  # meets every default target
    sc = replace(sc, modules=(util,), quarantined=(QuarantinedTest("tests/t.py::t", QuarantineCause.BROKEN,
                                                                   "fails alone", "pytest tests/t.py::t"),))
    write_all(sc, root / "reports", source_root=root)
    (root / "demo" / "util.py").unlink()  # a module whose source is gone: the plan notes it
    assert cli.main(["plan", str(root)]) == 0
    out = capsys.readouterr().out
    assert "every module meets its targets: nothing to plan" in out
    assert "quarantined: `tests/t.py::t`" in out
    assert "note: " in out and "plan: " in out


def test_print_scorecard_without_phase_times(tmp_path: Path) -> None:
    import io

    from rich.console import Console

    buf = io.StringIO()
    sc = reportdata.scorecard()
    assert not sc.meta.phase_seconds
    assert cli.print_scorecard(sc, Console(file=buf, width=120), tmp_path, wrap=False) == 1
    text = buf.getvalue()
    assert "time: " not in text and f"reports: {tmp_path}" in text and "note: 3 suite runs in 2 orders" in text
