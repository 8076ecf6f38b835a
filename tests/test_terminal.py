"""The terminal scorecard: figures never cut at any width from 60 to 200 columns, the goldens captured from real
terminals (tmux at 60, 80, 120 and 200 columns, and a pipe) reproduced exactly, and the verdict lines.

Regenerate the goldens with ``python tests/termdemo.py --update`` (needs tmux) and review the diff.
"""

from __future__ import annotations

import io
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import reportdata
import termdemo
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table

from harness.cli import print_scorecard
from harness.model import Metric, ModuleScorecard, Scorecard, Status, Verdict
from harness.reporters import terminal, trend
from harness.reporters.fmt import shown_columns

ELLIPSIS = terminal.ELLIPSIS
CELL_GAP = re.compile(r"\s{2,}")  # columns are at least two blanks apart; a cell holds at most single blanks


def render_report(sc: Scorecard, width: int, *, wrap: bool) -> str:
    """What `harness run` prints on a console ``width`` columns wide, as text."""
    console = Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False)
    print_scorecard(sc, console, Path("reports"), wrap=wrap)
    return termdemo.normalise(console.file.getvalue())  # type: ignore[attr-defined]


def render(sc: Scorecard, width: int) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False)
    console.print(terminal.render(sc, width))
    return console.file.getvalue()  # type: ignore[attr-defined]


def is_name(token: str, names: list[str]) -> bool:
    """``token`` is a module name, whole, shortened in the middle, or a piece of one folded over lines."""
    if ELLIPSIS not in token:
        return any(token in n for n in names)
    head, _, tail = token.partition(ELLIPSIS)
    return any(n.startswith(head) and n.endswith(tail) for n in names) or any(
        n.startswith(head) and tail.endswith("]") for n in names)  # the tier kept after a shortened module


def assert_figures_whole(text: str, sc: Scorecard) -> None:
    """Every module's (and TOTAL's) cells appear whole, on one line, in order; an ellipsis only in a name."""
    rows = terminal.rows(sc)
    names = [r.name for r in rows]
    lines = text.splitlines()
    for line in lines:
        for token in CELL_GAP.split(line.strip()):
            if ELLIPSIS in token:
                assert is_name(token, names), f"an ellipsis outside a module name: {token!r} in {line!r}"
    if "─" in text:  # the table: a line per row, its cells after the (maybe shortened) name
        for row in rows:
            want = [c.plain for c in row.cells]
            found = [CELL_GAP.split(ln.strip()) for ln in lines]
            assert any(t[1:] == want and is_name(t[0], [row.name]) for t in found if len(t) > 1), (
                f"row {row.name} with cells {want} not found whole in:\n{text}")
    else:  # the blocks, in row order after the title: "name  verdict", then a line per figure "label  figure"
        heads = terminal.headers(sc)[:-1]
        blocks = [b.splitlines() for b in re.split(r"\n\s*\n", text.strip("\n"))][1:]
        assert len(blocks) >= len(rows), text
        for row, block in zip(rows, blocks, strict=False):
            k = next(i for i, ln in enumerate(block) if ln.startswith("  "))
            assert re.sub(r"\s", "", "".join(block[:k])) == re.sub(r"\s", "", row.name + row.cells[-1].plain)
            got = [CELL_GAP.split(ln.strip())[:2] for ln in block[k: k + len(heads)]]
            assert got == [[h, row.cells[i].plain] for i, h in enumerate(heads)], (row.name, got)


def assert_fits(text: str, width: int) -> None:
    for line in text.splitlines():
        assert cell_len(line.rstrip()) <= width, f"{cell_len(line)} > {width}: {line!r}"


# --------------------------------------------------------------------------------------------------- goldens


@pytest.mark.parametrize("width", [*termdemo.WIDTHS, None], ids=lambda w: f"tmux-{w}" if w else "piped")
def test_renderer_reproduces_the_captured_goldens(width: int | None) -> None:
    """tmux captures are a terminal (lines wrapped to the width); the piped run is 80 columns, lines whole."""
    expected = termdemo.golden_path(width).read_text(encoding="utf-8")
    got = render_report(reportdata.long_names_scorecard(), width or 80, wrap=width is not None)
    assert got == expected, f"{termdemo.golden_path(width).name} differs; `python tests/termdemo.py --update`"


@pytest.mark.parametrize("width", [*termdemo.WIDTHS, None], ids=lambda w: f"tmux-{w}" if w else "piped")
def test_no_figure_is_cut_in_the_goldens(width: int | None) -> None:
    text = termdemo.golden_path(width).read_text(encoding="utf-8")
    assert_figures_whole(text, reportdata.long_names_scorecard())
    assert_fits(text.split("note:")[0], width or 80)


def test_goldens_show_every_layout_and_cell_state() -> None:
    """60: blocks; 80: names shortened; 120: headers wrapped, names whole; 200: headers on one line."""
    text = {w: termdemo.golden_path(w).read_text(encoding="utf-8") for w in termdemo.WIDTHS}
    assert "─" not in text[60] and "mutation score   not measured" in text[60]
    assert "harness.c…t_adapter   100.0 %" in text[80]
    assert ELLIPSIS not in text[120] and "harness.reporters.terminal_layout_with_a_very_long_name" in text[120]
    assert "line coverage  branch coverage" in text[200]
    for w in termdemo.WIDTHS:
        for state in ("80.0 %", "n/a", "not measured", "MISSED", "REGRESSED", "ok"):
            assert state in text[w], (w, state)
        assert re.search(r"\s-\s", text[w]), w  # the "-" of a metric not measured in the run
        assert "time: coverage 12.3 s · runs 8.1 s · flakiness 2.0 s · mutation 95.4 s · total 118 s" in " ".join(
            text[w].split())


def test_piped_run_matches_its_golden() -> None:
    """The entry point through a real pipe: no terminal, rich's default 80 columns, no escape sequence."""
    assert termdemo.capture_piped() == termdemo.golden_path(None).read_text(encoding="utf-8")


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
@pytest.mark.parametrize("width", [80, 200])
def test_tmux_capture_matches_its_golden(width: int) -> None:
    assert termdemo.capture_tmux(width) == termdemo.golden_path(width).read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------------------ any width


def layout_kind(sc: Scorecard, width: int) -> tuple[object, ...]:
    """What changes the table's shape at ``width``: blocks, or the figure columns' widths and how names show."""
    lay = terminal.layout(terminal.headers(sc), terminal.rows(sc), width)
    return ("blocks",) if lay is None else (lay.widths, lay.fold, lay.name_width < max(
        cell_len(r.name) for r in terminal.rows(sc)))


def breakpoints(sc: Scorecard, widths: range) -> list[int]:
    """Both sides of every width where the layout changes kind, the ends, and every 10th width between."""
    kinds = {w: layout_kind(sc, w) for w in widths}
    picked = {widths[0], widths[-1], *widths[::10]}
    for w in widths[1:]:
        if kinds[w] != kinds[w - 1]:
            picked |= {w - 1, w}
    return sorted(picked)


def test_the_layout_changes_kind_at_the_widths_the_fast_sweep_renders() -> None:
    """The fast sweep below renders where the layout switches (blocks, shortened names, wrapped headers, full
    names), so a cut figure at a switch is caught without rendering all 141 widths (the slow sweep does)."""
    sc = reportdata.long_names_scorecard()
    kinds = {layout_kind(sc, w) for w in range(60, 201)}
    assert len(kinds) >= 3, kinds  # blocks, shortened names, and whole names at least
    picked = breakpoints(sc, range(60, 201))
    assert {layout_kind(sc, w) for w in picked} == kinds and len(picked) < 60


def test_every_layout_switch_from_60_to_200_keeps_every_figure_whole() -> None:
    sc = reportdata.long_names_scorecard()
    for width in breakpoints(sc, range(60, 201)):
        text = render(sc, width)
        assert_fits(text, width)
        assert_figures_whole(text, sc)


@pytest.mark.slow
def test_every_width_from_60_to_200_keeps_every_figure_whole() -> None:
    sc = reportdata.long_names_scorecard()
    for width in range(60, 201):
        text = render(sc, width)
        assert_fits(text, width)
        assert_figures_whole(text, sc)


STATUSES = [Status.PASS, Status.FAIL, Status.NA, Status.SKIPPED, Status.NOT_MEASURED]
component = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=24)
module_name = st.lists(component, min_size=1, max_size=5).map(".".join)


def _module(name: str, tier: str | None, statuses: list[Status]) -> ModuleScorecard:
    base = reportdata.scorecard().modules[1]
    verdicts = tuple(Verdict(m, s, 100.0 if s in (Status.PASS, Status.FAIL) else None, 90.0, "min")
                     for m, s in zip(shown_columns(tuple(Metric)), statuses, strict=True))
    return replace(base, module=name, tier=tier, verdicts=verdicts)


# 25 random scorecards per run (new ones each run; the slow sweep above renders every width of the goldens').
@settings(max_examples=25, deadline=None)
@given(width=st.integers(60, 200),
       modules=st.lists(st.tuples(module_name, st.sampled_from([None, "core", "a-long-tier-name"]),
                                  st.lists(st.sampled_from(STATUSES), min_size=4, max_size=4)),
                        min_size=1, max_size=6, unique_by=lambda m: m[0]))
def test_any_scorecard_at_any_width_keeps_every_figure_whole(
        width: int, modules: list[tuple[str, str | None, list[Status]]]) -> None:
    sc = replace(reportdata.scorecard(), modules=tuple(_module(n, t, s) for n, t, s in modules))
    text = render(sc, width)
    assert_fits(text, width)
    assert_figures_whole(text, sc)


# ------------------------------------------------------------------------------------------------ the parts


@pytest.mark.parametrize(("name", "width", "short"), [
    ("harness.collectors.mutation", 23, "harness.col…rs.mutation"),
    ("harness.collectors.mutation", 40, "harness.collectors.mutation"),
    ("harness.collectors.mutation_driver [core]", 19, "harne…driver [core]"),
    ("harness.collectors.mutation_driver [core]", 16, "harness…r [core]"),
])
def test_shorten_keeps_both_ends(name: str, width: int, short: str) -> None:
    assert terminal.shorten(name, width) == short
    assert cell_len(terminal.shorten(name, width)) == min(width, cell_len(name))


def test_names_that_would_shorten_alike_are_folded_whole() -> None:
    base = reportdata.scorecard()
    twins = [f"pkg.{'x' * 30}.{'y' * 10}{k}.{'z' * 30}" for k in range(2)]
    sc = replace(base, modules=tuple(replace(base.modules[1], module=n) for n in twins))
    text = render(sc, 90)
    assert ELLIPSIS not in text
    assert_figures_whole(text, sc)


def test_each_cell_state_has_its_own_text() -> None:
    cells = {s: terminal.rows(replace(reportdata.scorecard(), modules=(_module("m", None, [s] * 4),)))[0]
             for s in STATUSES}
    texts = {s: cells[s].cells[0].plain for s in STATUSES}
    assert texts[Status.NA] == "n/a" and texts[Status.SKIPPED] == "-" and texts[Status.NOT_MEASURED] == "not measured"
    assert texts[Status.PASS] == texts[Status.FAIL] == "100.0 %"  # told apart by colour, the verdict and "missed"
    assert cells[Status.NOT_MEASURED].cells[-1].plain == "NOT MEASURED"
    assert cells[Status.FAIL].cells[-1].plain == "MISSED"


def test_time_line_lists_the_phases_and_the_total() -> None:
    sc = reportdata.long_names_scorecard()
    assert terminal.time_line(sc) == ("time: coverage 12.3 s · runs 8.1 s · flakiness 2.0 s · mutation 95.4 s · "
                                      "total 118 s")
    assert terminal.time_line(reportdata.scorecard()) is None


def test_wrap_never_splits_a_figure() -> None:
    line = "MISSED a.b: line coverage 80.0 % (target >= 85 %): FAIL; cost 0.42 s; mutation not measured"
    for width in range(20, 90):
        parts = terminal.wrap(line, width)
        assert " ".join(p.strip() for p in parts) == line
        assert all(cell_len(p) <= width for p in parts)
        assert not re.search(r"\d\n\s*(%|s\b)|not\n\s*measured", "\n".join(parts)), parts


def test_verdict_lines_name_module_metric_figure_and_target() -> None:
    sc = reportdata.scorecard()
    lines = terminal.verdict_lines(sc)
    missed = [ln for ln in lines if ln.startswith("MISSED")]
    assert len(missed) == sum(1 for mod, _ in sc.violations if mod != "project")
    assert all("(target " in ln and ": FAIL" in ln for ln in missed)


def test_quiet_prints_the_verdict_lines_and_the_closing_line_only() -> None:
    sc = reportdata.long_names_scorecard()
    console = Console(file=io.StringIO(), width=80, color_system=None)
    code = print_scorecard(sc, console, Path("reports"), quiet=True, wrap=False)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert code == 3
    assert text.splitlines() == [*terminal.verdict_lines(sc), text.splitlines()[-1]]
    assert text.splitlines()[-1].startswith("1 cell(s) not measured")


# ------------------------------------------------------------------------------------------------ harness trend


def render_trend(width: int) -> str:
    """What `harness trend` prints on a console ``width`` columns wide (no terminal: no line wrapping)."""
    console = Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False)
    console.print(trend.table(reportdata.trend_entries(), None, console.width))
    return termdemo.normalise(console.file.getvalue())  # type: ignore[attr-defined]


def trend_figures() -> list[list[str]]:
    """Each run's figures as `harness trend` shows them: the four percentages and the runtime."""
    return [[f"{v:.1f} %" if v is not None else "n/a" for v in (e.totals.line_coverage, e.totals.branch_coverage,
                                                                 e.totals.mutation_score, e.totals.flaky_rate)]
            + [f"{e.suite_runtime:.2f} s"] for e in reportdata.trend_entries()]


def assert_trend_whole(text: str, width: int) -> None:
    """No ellipsis anywhere, every line within ``width``, and each run's figures whole, in order, on the line of
    its run (the table) or on its figures' lines (the narrow form)."""
    assert ELLIPSIS not in text, text
    assert_fits(text, width)
    if "─" in text:
        rows = [ln for ln in text.splitlines() if re.match(r"\d{4}-\d\d-\d\d", ln)]
        assert [[c for c in CELL_GAP.split(r.strip())[3:8]] for r in rows] == trend_figures(), text
    else:
        runs = [b for b in re.split(r"\n\s*\n", text.strip("\n"))[1:]]
        for block, want in zip(runs, trend_figures(), strict=True):
            got = re.findall(r"(?:line|branch|mutation|flaky|runtime) (\d+\.\d+ [%s]|n/a)", block)
            assert got == want, (got, want, block)


@pytest.mark.parametrize("width", [*termdemo.WIDTHS, None], ids=lambda w: f"tmux-{w}" if w else "piped")
def test_trend_renderer_reproduces_the_captured_goldens(width: int | None) -> None:
    expected = termdemo.golden_path(width, "trend").read_text(encoding="utf-8")
    assert render_trend(width or 80) == expected, "trend goldens differ; `python tests/termdemo.py --update`"


@pytest.mark.parametrize("width", [*termdemo.WIDTHS, None], ids=lambda w: f"tmux-{w}" if w else "piped")
def test_no_figure_is_cut_in_the_trend_goldens(width: int | None) -> None:
    assert_trend_whole(termdemo.golden_path(width, "trend").read_text(encoding="utf-8"), width or 80)


def trend_shape(text: str) -> str:
    if "─" not in text:
        return "lines"
    return "whole table" if "2026-11-28 09:15:02+00:00" in text else "wrapped table"


SHAPES = ["lines", "wrapped table", "whole table"]  # from narrow to wide


def trend_switches(widths: range) -> list[int]:
    """The first width of each wider shape (found by bisection: the shape only widens with the width)."""
    firsts = []
    for shape in SHAPES[1:]:
        lo, hi = widths[0], widths[-1]
        while lo < hi:
            mid = (lo + hi) // 2
            if SHAPES.index(trend_shape(render_trend(mid))) >= SHAPES.index(shape):
                hi = mid
            else:
                lo = mid + 1
        firsts.append(lo)
    return firsts


def test_the_trend_at_each_shape_switch_keeps_every_figure_whole() -> None:
    """Both sides of each switch (lines, wrapped table, whole table) and every 10th width from 60 to 200."""
    firsts = trend_switches(range(60, 201))
    assert 60 < firsts[0] < firsts[1] < 200, firsts
    for width in sorted({*range(60, 201, 10), 200, *firsts, *(w - 1 for w in firsts)}):
        text = render_trend(width)
        assert_trend_whole(text, width)
        assert trend_shape(text) == SHAPES[sum(width >= f for f in firsts)], width


@pytest.mark.slow
def test_the_trend_at_every_width_keeps_every_figure_whole() -> None:
    shapes = []
    for width in range(60, 201):
        text = render_trend(width)
        assert_trend_whole(text, width)
        shapes.append(trend_shape(text))
    assert sorted(set(shapes), key=SHAPES.index) == SHAPES and shapes == sorted(shapes, key=SHAPES.index)


def test_the_old_trend_table_cut_its_figures_at_80_columns() -> None:
    """The check above fails on what `harness trend` printed before (rich's default table shrinking columns)."""
    console = Console(file=io.StringIO(), width=80, color_system=None, force_terminal=False)
    old = Table(title="last 3 runs")
    for head in ("time", "commit", "config", "line", "branch", "mutation", "flaky", "runtime", "verdict"):
        old.add_column(head, no_wrap=head in ("time", "commit", "config"))
    for e, figures in zip(reportdata.trend_entries(), trend_figures(), strict=True):
        old.add_row(e.time, (e.commit or "")[:8], e.config_fingerprint or "", *figures, "ok")
    console.print(old)
    with pytest.raises(AssertionError):
        assert_trend_whole(console.file.getvalue(), 80)  # type: ignore[attr-defined]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
@pytest.mark.parametrize("width", [80, 200])
def test_tmux_trend_capture_matches_its_golden(width: int) -> None:
    assert termdemo.capture_tmux(width, kind="trend") == termdemo.golden_path(width, "trend").read_text(
        encoding="utf-8")


@pytest.mark.slow  # the fast suite pipes the scorecard (test_piped_run_matches_its_golden): the same console
def test_piped_trend_matches_its_golden() -> None:
    assert termdemo.capture_piped("trend") == termdemo.golden_path(None, "trend").read_text(encoding="utf-8")
