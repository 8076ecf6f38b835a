"""The ``harness trend`` table: the last runs of the history, newest last. Only the CLI prints it.

As the scorecard's table (:mod:`harness.reporters.terminal`), it never cuts a figure at any width: every figure
column is as wide as its widest cell, and the time, headers and verdict wrap onto their words when space is
short. Below the width where even that cannot fit, each run is printed as two lines (its facts, then its
figures), wrapped between figures, never inside one.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from harness.history import Figures, HistoryEntry
from harness.reporters.fmt import pct, seconds
from harness.reporters.terminal import GAP, RULED, wrap

DASH = "\u2013"
NBSP = "\u00a0"  # textwrap breaks lines at ASCII blanks only
FIGURES = ("line", "branch", "mutation", "flaky")


def _figures_row(f: Figures | None) -> list[str]:
    if f is None:
        return ["not measured"] + [""] * 3
    return [pct(f.line_coverage), pct(f.branch_coverage), pct(f.mutation_score), pct(f.flaky_rate)]


def _rows(entries: Sequence[HistoryEntry], module: str | None) -> list[tuple[list[str], Text]]:
    """(time, commit, config, the four figures, cost) and the verdict of each run."""
    out = []
    for e in entries:
        figs = e.modules.get(module) if module else e.totals
        cost = seconds(figs.test_seconds if figs else None) if module else seconds(e.suite_runtime)
        commit = (e.commit[:8] + ("+dirty" if e.dirty else "")) if e.commit else DASH
        if e.passed:
            verdict = Text("ok", style="green")
        else:
            verdict = Text(f"{e.missed} missed, {e.regressed} regressed", style="bold red")
        out.append(([e.time.replace("T", " ", 1), commit, e.config_fingerprint or DASH, *_figures_row(figs), cost],
                    verdict))
    return out


def _longest_word(text: str) -> int:
    return max((cell_len(w) for w in text.split()), default=0)


def _longest_part(verdict: str) -> int:
    """A verdict wraps after its commas only: ``4 missed,`` / ``0 regressed``."""
    parts = verdict.split(", ")
    return max(cell_len(p) + (i < len(parts) - 1) for i, p in enumerate(parts))


def table(entries: Sequence[HistoryEntry], module: str | None = None, width: int | None = None) -> RenderableType:
    """Project totals per run, or one module's figures with ``module``, for a console ``width`` columns wide
    (None: as wide as the table needs)."""
    title = f"last {len(entries)} runs" + (f" of {module}" if module else "")
    heads = ["time", "commit", "config", *FIGURES, "tests cost" if module else "runtime", "verdict"]
    rows = _rows(entries, module)
    cells = [[*texts, verdict.plain] for texts, verdict in rows]
    natural = [max([cell_len(h), *(cell_len(r[i]) for r in cells)]) for i, h in enumerate(heads)]
    # Wrapped: the time on two lines (date, time of day), headers and verdicts onto their words.
    compact = [max([_longest_word(h), *(_longest_word(r[i]) if i == 0 else _longest_part(r[i])
                                        if i == len(heads) - 1 else cell_len(r[i]) for r in cells)])
               for i, h in enumerate(heads)]
    gaps = GAP * (len(heads) - 1)
    chosen = next((w for w in (natural, compact) if width is None or sum(w) + gaps <= width), None)
    if chosen is None:
        return _lines(title, heads, rows, width or 80)
    t = Table(title=title, box=RULED, show_edge=False, pad_edge=False, collapse_padding=True, padding=(0, 1))
    for i, (head, w) in enumerate(zip(heads, chosen, strict=True)):
        wraps = i in (0, len(heads) - 1)  # the time and the verdict; every other cell stays whole on its line
        t.add_column(head, width=w, no_wrap=not wraps, overflow="fold",
                     justify="right" if 3 <= i < len(heads) - 1 else "left", vertical="top")
    for texts, verdict in rows:
        if verdict.cell_len > chosen[-1]:  # one line per part: "4 missed," / "0 regressed"
            verdict = Text(verdict.plain.replace(", ", ",\n"), style=verdict.style)
        t.add_row(*texts, verdict)
    return t


def _lines(title: str, heads: list[str], rows: list[tuple[list[str], Text]], width: int) -> Group:
    """Each run as two lines, for consoles too narrow for the table: time, commit, config and verdict, then
    its figures, each labelled."""
    def glued(*words: str) -> str:  # wrapped between the items of a line, never inside one
        return NBSP.join(" ".join(words).split(" "))

    out: list[RenderableType] = [Text(title, style="bold")]
    for texts, verdict in rows:
        dot = NBSP + "· "  # a line breaks after a dot, not before it
        facts = dot.join([glued(texts[0]), texts[1], glued("config", texts[2]),
                          ", ".join(glued(part) for part in verdict.plain.split(", "))])
        figures = dot.join(glued(head, cell) for head, cell in zip(heads[3:-1], texts[3:], strict=True) if cell)
        out.append(Text(""))
        for line in (facts, "  " + figures):
            out += [Text(part.replace(NBSP, " ")) for part in wrap(line, width)]
    return Group(*out)
