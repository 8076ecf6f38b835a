"""The terminal table and verdict lines, rendered by rich to text."""

from __future__ import annotations

import reportdata
from rich.console import Console

from harness.reporters import terminal


def _render(sc) -> str:  # type: ignore[no-untyped-def]
    console = Console(width=200, record=True, color_system=None)
    console.print(terminal.table(sc))
    return console.export_text()


def test_table_has_a_row_per_module_and_totals() -> None:
    sc = reportdata.scorecard()
    text = _render(sc)
    for card in sc.modules:
        assert card.module in text
    assert "TOTAL" in text
    assert "MISSED" in text and "n/a" in text


def test_verdict_lines_name_module_metric_figure_and_target() -> None:
    sc = reportdata.scorecard()
    lines = terminal.verdict_lines(sc)
    missed = [ln for ln in lines if ln.startswith("MISSED")]
    assert len(missed) == sum(1 for mod, _ in sc.violations if mod != "project")
    assert all("(target " in ln and ": FAIL" in ln for ln in missed)
