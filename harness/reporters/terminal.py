"""The terminal scorecard (rich), laid out for a given width. Returns renderables; only the CLI prints them.

A figure is never cut, at any width. Every figure column is exactly as wide as its widest cell (``not
measured`` included) or its header, whichever is wider; headers wrap onto their words when space is short; only
module names give way, shortened in the middle (``harness.col…rs.mutation``, or folded whole when two would
shorten alike), down to :data:`MIN_NAME` columns. Below that the table cannot fit and :func:`blocks` prints one
block per module instead. A cell is a figure (coloured pass/fail), ``n/a`` (nothing to measure), ``not
measured`` (the tool could not measure it) or ``-`` (the metric was not measured in this run).
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from typing import Any

from rich import box
from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from harness.metrics import PROJECT_GATED
from harness.model import METRICS, Metric, ModuleScorecard, Scorecard, Status, Verdict
from harness.reporters.fmt import (
    METRIC_LABEL,
    NOT_MEASURED,
    duration,
    figure,
    regression_text,
    seconds,
    shown_columns,
    target,
    value_text,
    verdict_text,
)

# The styles (rich reads them case-blind): a met target, an alarm (missed, regressed), a cell without a figure.
GOOD, ALARM, DIM, BOLD = "green", "bold red", "dim", "bold"
STYLE = {Status.PASS: GOOD, Status.FAIL: ALARM, Status.NA: DIM, Status.SKIPPED: DIM, Status.NOT_MEASURED: "bold yellow"}
ELLIPSIS = "\u2026"
MIN_NAME = 16  # the narrowest module column; below it, blocks
GAP = 2  # columns between two cells (collapsed padding + the box's blank divider)
# A rule under the header and above TOTAL; no vertical lines, so every column a figure needs is kept.
RULED = box.Box("    \n    \n ── \n    \n ── \n ── \n    \n    \n")
NAME_HEAD = "module"
COST = "tests cost"
VERDICT = "verdict"
# Rich's options, its defaults left out (padding (0, 1); a Text's overflow "fold"; no_wrap off, as a shortened
# name fits its column). A cell sits on the last line of its row (a folded name, a wrapped header).
TABLE: dict[str, Any] = {"box": RULED, "show_edge": False, "pad_edge": False, "collapse_padding": True}
NAME_COLUMN: dict[str, Any] = {"overflow": "fold", "vertical": "bottom"}
FIGURE_COLUMN: dict[str, Any] = {"vertical": "bottom"}


@dataclass(frozen=True)
class Row:
    """One module (or TOTAL): its name, then one cell per figure column (metrics, tests cost, verdict), and
    the verdicts behind the metric cells (for the blocks' "missed" notes)."""

    name: str
    cells: tuple[Text, ...]
    verdicts: tuple[Verdict | None, ...] = ()
    style: str = ""


@dataclass(frozen=True)
class Layout:
    name_width: int
    widths: tuple[int, ...]  # the figure columns'
    fold: bool = False  # module names folded whole (their shortened forms would collide)


def _cell(v: Verdict | None) -> Text:
    if v is None:
        return Text("-", style=DIM)
    return Text(figure(v), style=STYLE[v.status])  # "-" when skipped, "n/a" for nothing to measure


def _module_verdict(card: ModuleScorecard, sc: Scorecard) -> Text:
    statuses = {v.status for v in card.verdicts}
    if Status.FAIL in statuses:
        return Text("MISSED", style=ALARM)
    if Status.NOT_MEASURED in statuses:
        return Text(NOT_MEASURED.upper(), style=STYLE[Status.NOT_MEASURED])
    if any(r.module == card.module for r in sc.regressions):
        return Text("REGRESSED", style=ALARM)
    return Text("ok", style=GOOD)


def _total_verdict(sc: Scorecard) -> Text:
    if sc.passed:
        return Text("ok", style=GOOD)
    if sc.violations:
        return Text("MISSED", style=ALARM)
    if not sc.complete:
        return Text(NOT_MEASURED.upper(), style=STYLE[Status.NOT_MEASURED])
    return Text("REGRESSED", style=ALARM)


def _cost(card: ModuleScorecard, sc: Scorecard) -> Text:
    if Metric.SUITE_RUNTIME not in sc.metrics:
        return Text("-", style=DIM)
    if any(u.module == card.module and u.metric is Metric.SUITE_RUNTIME for u in sc.unmeasured):
        return Text(NOT_MEASURED, style=STYLE[Status.NOT_MEASURED])
    rt = card.runtime
    return Text(seconds(rt.test_seconds)) if rt and rt.tests else Text("n/a", style=DIM)


def headers(sc: Scorecard) -> list[str]:
    """The figure columns' headers (after ``module``)."""
    return [METRIC_LABEL[m] for m in shown_columns(sc.metrics)] + [COST, VERDICT]


def rows(sc: Scorecard) -> list[Row]:
    """A row per module, then TOTAL (when coverage ran)."""
    shown = shown_columns(sc.metrics)
    out = []
    for card in sc.modules:
        vs = {v.metric: v for v in card.verdicts}
        name = f"{card.module} [{card.tier}]" if card.tier else card.module
        out.append(Row(name, (*(_cell(vs.get(m)) for m in shown), _cost(card, sc), _module_verdict(card, sc)),
                       tuple(vs.get(m) for m in shown)))
    tot = sc.totals
    if tot.coverage is not None:
        project = {v.metric: v for v in tot.verdicts}
        # A metric the project is gated on shows its verdict's cell; the others the project's figure.
        figures = {m: _cell(project.get(m)) if m in PROJECT_GATED
                   else Text(value_text(m, METRICS[m].project_value(tot))) for m in shown}
        runtime = project.get(Metric.SUITE_RUNTIME)
        cost = _cell(runtime) if runtime else Text(seconds(tot.runtime.median) if tot.runtime else "-")
        out.append(Row("TOTAL", (*(figures[m] for m in shown), cost, _total_verdict(sc)),
                       tuple(project.get(m) for m in shown), style=BOLD))
    return out


def shorten(name: str, width: int) -> str:
    """``harness.collectors.mutation`` in 23 columns -> ``harness.col…rs.mutation``: both ends kept, and a
    tier suffix (``name [tier]``) whole while the module keeps 12 columns."""
    if cell_len(name) <= width:
        return name
    module, sep, tier = name.partition(" [")  # a module name has no blank; a tier may
    suffix = sep + tier
    if not sep or width - cell_len(suffix) < 12:
        module, suffix = name, ""
    room = width - cell_len(suffix)
    head = (room - 1) // 2
    tail = room - 1 - head
    return module[:head] + ELLIPSIS + (module[-tail:] if tail else "") + suffix


def _widest(table_rows: list[Row], column: int, head: list[str]) -> int:
    """The width of figure column ``column``: its widest cell or header line."""
    return max(cell_len(text) for text in [*head, *(r.cells[column].plain for r in table_rows)])


def layout(heads: list[str], table_rows: list[Row], width: int) -> Layout | None:
    """Column widths that fit ``width`` with every figure whole, or None when no table can (use blocks).

    Tried in order: headers on one line and full names; headers wrapped onto their words and full names;
    wrapped headers and names shortened to the room left, when that is at least MIN_NAME columns.
    """
    names = [r.name for r in table_rows]
    full_name = max(cell_len(n) for n in [*names, NAME_HEAD])
    natural = tuple(_widest(table_rows, i, [h]) for i, h in enumerate(heads))
    compact = tuple(_widest(table_rows, i, h.split()) for i, h in enumerate(heads))
    gaps = GAP * len(heads)
    for widths in (natural, compact):
        if full_name + sum(widths) + gaps <= width:
            return Layout(full_name, widths)
    room = width - sum(compact) - gaps
    if room < MIN_NAME:
        return None
    short = [shorten(n, room) for n in names]
    return Layout(room, compact, fold=len(set(short)) < len(set(names)))


def table(sc: Scorecard, width: int) -> Table | None:
    """The scorecard table for a console ``width`` columns wide; None when it cannot fit (see :func:`blocks`)."""
    heads = headers(sc)
    table_rows = rows(sc)
    lay = layout(heads, table_rows, width)
    if lay is None:
        return None
    t = Table(title=f"quality scorecard: {sc.project}", **TABLE)
    # Only folded names and headers ever wrap: every other cell fits its column by construction.
    t.add_column(NAME_HEAD, width=lay.name_width, **NAME_COLUMN)
    for i, head in enumerate(heads[:-1]):
        t.add_column(head, width=lay.widths[i], justify="right", **FIGURE_COLUMN)
    t.add_column(VERDICT, width=lay.widths[-1], **FIGURE_COLUMN)  # left-aligned, rich's default
    for row in table_rows:
        if row.name == "TOTAL":
            t.add_section()
        name = row.name if lay.fold else shorten(row.name, lay.name_width)
        t.add_row(Text(name, style=row.style), *row.cells)
    return t


def blocks(sc: Scorecard) -> Group:
    """One block per module (and TOTAL) for consoles too narrow for the table: a line per figure, labels
    left, figures right-aligned, and a missed target named after its figure."""
    heads = headers(sc)[:-1]
    table_rows = rows(sc)
    label_width = max(cell_len(h) for h in heads)
    figure_width = max(r.cells[i].cell_len for r in table_rows for i in range(len(heads)))
    out: list[RenderableType] = [Text(f"quality scorecard: {sc.project}", style=BOLD)]
    for row in table_rows:
        out.append(Text(""))
        out.append(Text.assemble((row.name, row.style or BOLD), "  ", row.cells[-1]))
        for i, head in enumerate(heads):
            line = Text.assemble("  ", head.ljust(label_width), "  ",
                                 " " * (figure_width - row.cells[i].cell_len), row.cells[i])
            v = row.verdicts[i] if i < len(row.verdicts) else None
            if v is not None and v.status is Status.FAIL:
                line.append(f"  missed (target {target(v)})", style=STYLE[Status.FAIL])
            out.append(line)
    return Group(*out)


def render(sc: Scorecard, width: int) -> RenderableType:
    """The table when it fits ``width`` columns, else the blocks."""
    return table(sc, width) or blocks(sc)


def time_line(sc: Scorecard) -> str | None:
    """``time: coverage 12.3 s · runs 8.1 s · flakiness 2.0 s · mutation 95.4 s · total 118 s``."""
    by_phase = sc.meta.phase_seconds
    if not by_phase:
        return None
    return "time: " + " \u00b7 ".join(f"{phase} {duration(float(s))}" for phase, s in by_phase.items())


# A figure and its unit ("98.1 %", "0.42 s") and "not measured" are never split across lines.
_UNBREAKABLE = re.compile(r"(?<=\d) (?=%|s\b)|(?<=not) (?=measured)")
_GLUE = "\x00"


def wrap(line: str, width: int, indent: str = "    ") -> list[str]:
    """``line`` wrapped at spaces to ``width`` columns (continuations indented), never inside a figure."""
    glued = _UNBREAKABLE.sub(_GLUE, line)
    parts = textwrap.wrap(glued, width, subsequent_indent=indent, break_on_hyphens=False) or [""]
    return [part.replace(_GLUE, " ") for part in parts]


def verdict_lines(sc: Scorecard) -> list[str]:
    lines = [f"project {verdict_text(v)}" for v in sc.totals.verdicts if v.status is not Status.SKIPPED]
    lines += [f"MISSED {mod}: {verdict_text(v)}" for mod, v in sc.violations if mod != "project"]
    lines += [f"NOT MEASURED {u.module}: {METRIC_LABEL[u.metric]}: {u.cause}"
              + (f" (tests: {', '.join(u.tests)})" if u.tests else "") for u in sc.unmeasured]
    lines += [f"QUARANTINED {q.nodeid}: {q.cause.value}" + (f": {q.detail}" if q.detail else "")
              + (f"; reproduce: {q.reproduce}" if q.reproduce else "") for q in sc.quarantined]
    if sc.regressions:
        lines.append(f"ratchet baseline: {sc.meta.baseline or 'given'}")
    lines += [f"REGRESSED {r.module}: {regression_text(r)}" for r in sc.regressions]
    return lines
