"""The ``harness trend`` table: the last runs of the history, newest last. Only the CLI prints it."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text

from harness.history import Figures, HistoryEntry
from harness.reporters.fmt import pct, seconds

DASH = "\u2013"


def _figures_row(f: Figures | None) -> list[str]:
    if f is None:
        return ["not measured"] + [""] * 3
    return [pct(f.line_coverage), pct(f.branch_coverage), pct(f.mutation_score), pct(f.flaky_rate)]


def table(entries: Sequence[HistoryEntry], module: str | None = None) -> Table:
    """Project totals per run, or one module's figures with ``module``."""
    title = f"last {len(entries)} runs" + (f" of {module}" if module else "")
    t = Table(title=title)
    for name in ("time", "commit", "config"):
        t.add_column(name, no_wrap=True)
    for name in ("line", "branch", "mutation", "flaky", "tests cost" if module else "runtime"):
        t.add_column(name, justify="right")
    t.add_column("verdict")
    for e in entries:
        figs = e.modules.get(module) if module else e.totals
        cost = seconds(figs.test_seconds if figs else None) if module else seconds(e.suite_runtime)
        commit = (e.commit[:8] + ("+dirty" if e.dirty else "")) if e.commit else DASH
        if e.passed:
            verdict = Text("ok", style="green")
        else:
            verdict = Text(f"{e.missed} missed, {e.regressed} regressed", style="bold red")
        t.add_row(e.time, commit, e.config_fingerprint or DASH, *_figures_row(figs), cost, verdict)
    return t
