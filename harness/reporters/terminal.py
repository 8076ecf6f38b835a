"""The terminal table (rich). Returns renderables; only the CLI prints them."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from harness.model import Metric, Scorecard, Status, Verdict
from harness.reporters.fmt import METRIC_LABEL, figure, regression_text, seconds, shown_columns, verdict_text

STYLE = {Status.PASS: "green", Status.FAIL: "bold red", Status.NA: "dim", Status.SKIPPED: "dim",
         Status.NOT_MEASURED: "bold yellow"}


def _cell(v: Verdict | None) -> Text:
    if v is None or v.status is Status.SKIPPED:
        return Text("-", style="dim")
    return Text(figure(v) if v.status is not Status.NA else "n/a", style=STYLE[v.status])


def table(sc: Scorecard) -> Table:
    shown = shown_columns(sc.metrics)
    t = Table(title=f"quality scorecard: {sc.project}", show_lines=False)
    t.add_column("module", no_wrap=True)
    for m in shown:
        t.add_column(METRIC_LABEL[m], justify="right")
    t.add_column("tests cost", justify="right")
    t.add_column("verdict")
    for card in sc.modules:
        vs = {v.metric: v for v in card.verdicts}
        cost = seconds(card.runtime.test_seconds) if card.runtime and card.runtime.tests else "n/a"
        verdict = Text("ok", style="green") if card.passed else Text("MISSED", style="bold red")
        if card.passed and any(r.module == card.module for r in sc.regressions):
            verdict = Text("REGRESSED", style="bold red")
        name = f"{card.module} [{card.tier}]" if card.tier else card.module
        t.add_row(Text(name), *(_cell(vs.get(m)) for m in shown), cost, verdict)
    tot = sc.totals
    if tot.coverage is not None:
        cov = tot.coverage
        row = {Metric.LINE_COVERAGE: f"{cov.line_percent or 0:.1f} %" if cov.statements else "n/a",
               Metric.BRANCH_COVERAGE: f"{cov.branch_percent or 0:.1f} %" if cov.branches else "n/a"}
        if tot.mutation is not None and tot.mutation.score is not None:
            row[Metric.MUTATION_SCORE] = f"{tot.mutation.score:.1f} %"
        if Metric.FLAKY_RATE in sc.metrics and tot.flaky_rate is not None:
            row[Metric.FLAKY_RATE] = f"{tot.flaky_rate:.1f} %"
        total_cost = seconds(tot.runtime.median) if tot.runtime else ""
        t.add_section()
        t.add_row(Text("TOTAL", style="bold"), *(row.get(m, "") for m in shown), total_cost,
                  Text("ok", style="green") if sc.passed
                  else Text("MISSED" if sc.violations else "REGRESSED", style="bold red"))
    return t


def verdict_lines(sc: Scorecard) -> list[str]:
    lines = [f"project {verdict_text(v)}" for v in sc.totals.verdicts if v.status is not Status.SKIPPED]
    lines += [f"MISSED {mod}: {verdict_text(v)}" for mod, v in sc.violations if mod != "project"]
    lines += [f"NOT MEASURED {u.module}: {METRIC_LABEL[u.metric]}: {u.cause}"
              + (f" (tests: {', '.join(u.tests)})" if u.tests else "") for u in sc.unmeasured]
    lines += [f"QUARANTINED {q.nodeid}: {q.cause.value}" + (f": {q.detail}" if q.detail else "")
              + (f"; reproduce: {q.reproduce}" if q.reproduce else "") for q in sc.quarantined]
    if sc.regressions:
        lines.append(f"ratchet baseline: {sc.meta.get('baseline') or 'given'}")
    lines += [f"REGRESSED {r.module}: {regression_text(r)}" for r in sc.regressions]
    return lines
