"""`harness trend` for one module: a run that did not measure it, its tests' cost, a run outside git, colours."""

from __future__ import annotations

import io
from dataclasses import replace

import reportdata
from rich.console import Console

from harness.reporters import trend

MODULE = "harness.collectors.mutation_driver"


def _drawn(*, colour: bool) -> list[str]:
    first, second = reportdata.trend_entries()[:2]
    entries = [replace(first, commit=None, modules={}), second]  # outside git, and without the module
    out = Console(file=io.StringIO(), width=150, color_system="standard" if colour else None, force_terminal=colour)
    out.print(trend.table(entries, module=MODULE))
    return [line.rstrip() for line in out.file.getvalue().splitlines()]  # type: ignore[attr-defined]


def test_module_trend_rows() -> None:
    lines = _drawn(colour=False)
    assert lines[0].strip() == f"last 2 runs of {MODULE}"
    assert lines[3:] == [
        f"2026-11-28 09:15:02+00:00  {trend.DASH}         abc123def456  not measured"
        + " " * 35 + "n/a  5 missed, 1 regressed",
        "2026-11-29 17:40:59+00:00  89abcdef  abc123def456        80.0 %  83.3 %    60.0 %  50.0 %      0.75 s  ok",
    ]


def test_module_trend_verdicts_are_green_when_ok_and_bold_red_when_missed() -> None:
    lines = _drawn(colour=True)
    assert lines[3].endswith("\x1b[1;31m5 missed, 1 regressed\x1b[0m")
    assert "\x1b[32mok" in lines[4]
