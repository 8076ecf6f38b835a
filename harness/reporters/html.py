"""The HTML dashboard: an index of modules and a page per module, from Jinja2 templates shipped in
``harness/templates/``. Pages are self-contained (inline CSS and JS, no CDN) and link to each other
relatively, so the folder works from ``file://`` and as a CI artifact.

This module turns the scorecard into view data (labels, CSS classes, sparkline SVGs) and renders it; the
module sources and the history are handed in by the writer (:func:`harness.reporters.write_all`). No figure
is computed here.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jinja2
from markupsafe import Markup, escape

from harness.collectors.mutmut_adapter import diff_sides
from harness.history import HistoryEntry
from harness.model import (
    METRICS,
    Metric,
    ModuleCoverage,
    ModuleScorecard,
    Mutant,
    MutantStatus,
    Scorecard,
    Status,
    Verdict,
)
from harness.reporters.fmt import (
    METRIC_LABEL,
    compress_lines,
    figure,
    pct,
    regression_text,
    seconds,
    shown_columns,
    target,
    value_text,
    verdict_text,
)
from harness.reporters.stryker import locate
from harness.workspace import FORMAT

# Mutants a developer has to act on are shown inline at their lines; the others only counted.
INLINE_MUTANTS = (MutantStatus.SURVIVED, MutantStatus.NO_COVERAGE, MutantStatus.SUSPICIOUS)
TREND_RUNS = 30
DASH = "\u2013"


@functools.cache
def environment() -> jinja2.Environment:
    """One environment per process: it compiles each template once (the report writes a page per module)."""
    env = jinja2.Environment(loader=jinja2.PackageLoader("harness", "templates"),
                             autoescape=jinja2.select_autoescape(["html"]), undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.globals.update(pct=pct, seconds=seconds, label=METRIC_LABEL, format=FORMAT)
    return env


def module_page_name(module: str) -> str:
    return f"modules/{module.replace('/', '_')}.html"


# ---------------------------------------------------------------------------------------------- sparklines


def sparkline(values: Sequence[float | None], *, lo: float | None = 0.0, hi: float | None = 100.0,
              unit: str = "%", width: int = 90, height: int = 20, label: str = "",
              margin: float = 0.0) -> Markup:
    """An inline SVG polyline of the values (None leaves a gap); empty with fewer than two known values.

    The y axis spans the values plus ``margin``, clamped to ``lo``..``hi`` (None: unclamped).
    """
    known = [v for v in values if v is not None]
    if len(known) < 2:
        return Markup("")
    low, high = min(known) - margin, max(known) + margin
    low = low if lo is None else max(lo, low)
    high = high if hi is None else min(hi, high)
    if high - low < 1e-9:
        low, high = low - 1, high + 1
    step = width / max(len(values) - 1, 1)
    segments: list[list[str]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            segments.append([])
            continue
        y = height - 2 - (v - low) / (high - low) * (height - 4)
        segments[-1].append(f"{i * step:.1f},{y:.1f}")
    lines = "".join(f'<polyline points="{" ".join(s)}"/>' for s in segments if len(s) > 1)
    dots = "".join(f'<circle cx="{s[-1].split(",")[0]}" cy="{s[-1].split(",")[1]}" r="2"/>'
                   for s in segments[-1:] if s)
    shown = ", ".join("n/a" if v is None else f"{v:.1f}{unit}" for v in values[-8:])
    title = f"{label}, last runs: {shown}" if label else f"last runs: {shown}"
    return Markup(f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
                  f"<title>{escape(title)}</title>{lines}{dots}</svg>")


def _series(history: Sequence[HistoryEntry], module: str | None, metric: Metric) -> list[float | None]:
    out: list[float | None] = []
    for e in history[-TREND_RUNS:]:
        if module is None:
            out.append(e.suite_runtime if metric is Metric.SUITE_RUNTIME else e.totals.value(metric))
        else:
            figs = e.modules.get(module)
            out.append(figs.value(metric) if figs else None)
    return out


def _trend(history: Sequence[HistoryEntry], module: str | None, metric: Metric) -> Markup:
    label = METRIC_LABEL[metric]
    if metric is Metric.SUITE_RUNTIME:
        return sparkline(_series(history, module, metric), lo=0, hi=None, unit=" s", label=label, margin=0.5)
    return sparkline(_series(history, module, metric), label=label, margin=2.0)


# --------------------------------------------------------------------------------------------------- index


@dataclass(frozen=True)
class Cell:
    text: str
    status: str  # pass, fail, na, skipped: the CSS class
    sort: str  # what the table sorts by
    title: str = ""
    regressed: str = ""


def _css(status: Status) -> str:
    return {Status.NA: "na", Status.NOT_MEASURED: "unmeasured"}.get(status, status.value)


def _cell(v: Verdict | None, regressed: str = "") -> Cell:
    if v is None or v.status is Status.SKIPPED:
        return Cell(DASH, "skipped", "-1", "not measured in this run")
    if v.status is Status.NA:
        return Cell("n/a", "na", "-1", v.reason)
    if v.status is Status.NOT_MEASURED:
        return Cell("not measured", "unmeasured", "-1", v.reason)
    status = "fail" if regressed else _css(v.status)
    return Cell(figure(v), status, f"{v.value:.6f}" if v.value is not None else "-1",
                f"target {target(v)}" + (f"; {regressed}" if regressed else ""), regressed)


def _regressions_by(sc: Scorecard) -> dict[tuple[str, Metric], str]:
    return {(r.module, r.metric): regression_text(r) for r in sc.regressions}


def index_rows(sc: Scorecard, history: Sequence[HistoryEntry]) -> list[dict[str, Any]]:
    regressed = _regressions_by(sc)
    shown = shown_columns(sc.metrics)
    rows = []
    for card in sc.modules:
        by_metric = {v.metric: v for v in card.verdicts}
        cells = [_cell(by_metric.get(m), regressed.get((card.module, m), "")) for m in shown]
        rt = card.runtime
        has_regression = any(r.module == card.module for r in sc.regressions)
        rows.append({
            "module": card.module,
            "href": module_page_name(card.module),
            "tier": card.tier or "",
            "cells": cells,
            "cost": seconds(rt.test_seconds) if rt and rt.tests else "n/a",
            "cost_sort": f"{rt.test_seconds:.6f}" if rt and rt.tests else "-1",
            "failed": not card.passed or has_regression,
            "verdict": "missed" if not card.passed else "regressed" if has_regression else "ok",
            "trend": {m: _trend(history, card.module, m) for m in shown},
        })
    return rows


def totals_cells(sc: Scorecard) -> list[str]:
    t = sc.totals
    out = []
    for m in shown_columns(sc.metrics):
        out.append(value_text(m, METRICS[m].project_value(t)))
    return out


def run_facts(sc: Scorecard) -> list[tuple[str, str]]:
    meta = sc.meta
    facts = [("time", meta.time), ("commit", meta.commit or DASH),
             ("config fingerprint", meta.config_fingerprint or DASH),
             ("harness", meta.harness_version), ("python", meta.python)]
    if meta.baseline:
        facts.append(("baseline", meta.baseline))
    return facts


def render_index(sc: Scorecard, history: Sequence[HistoryEntry] = ()) -> str:
    shown = shown_columns(sc.metrics)
    trends = [(METRIC_LABEL[m], _trend(history, None, m)) for m in (*shown, Metric.SUITE_RUNTIME)
              if m in sc.metrics]
    t = sc.totals
    return environment().get_template("index.html").render(
        sc=sc, title=f"Quality scorecard: {sc.project}", root="", shown=shown, rows=index_rows(sc, history),
        has_tier=any(c.tier for c in sc.modules),
        totals=totals_cells(sc), facts=run_facts(sc),
        runtime=(f"{seconds(t.runtime.median)} median of {len(t.runtime.wall_seconds)} runs (min "
                 f"{seconds(t.runtime.minimum)}, max {seconds(t.runtime.maximum)})"
                 + (f"; CPU {seconds(t.runtime.cpu_median)} median (the gate reads wall time)"
                    if t.runtime.cpu_median is not None else "")) if t.runtime else "",
        project_verdicts=[(verdict_text(v), _css(v.status)) for v in t.verdicts
                          if v.status is not Status.SKIPPED],
        violations=[(mod, verdict_text(v)) for mod, v in sc.violations],
        regressions=[(r.module, regression_text(r)) for r in sc.regressions],
        trends=trends, runs=[_run_row(e) for e in reversed(history[-10:])])


def _run_row(e: HistoryEntry) -> dict[str, str]:
    return {"time": e.time, "commit": (e.commit or DASH)[:8] + ("+dirty" if e.dirty else ""),
            "line": pct(e.totals.line_coverage), "branch": pct(e.totals.branch_coverage),
            "mutation": pct(e.totals.mutation_score), "flaky": pct(e.totals.flaky_rate),
            "runtime": seconds(e.suite_runtime),
            "verdict": "ok" if e.passed else f"{e.missed} missed, {e.regressed} regressed"}


# --------------------------------------------------------------------------------------------------- module


@dataclass
class SourceLine:
    number: int
    text: str
    css: str = ""
    note: str = ""
    mutants: list[dict[str, Any]] = field(default_factory=list)


def _mutant_view(m: Mutant) -> dict[str, Any]:
    lines = []
    for text in m.diff.splitlines():
        if text.startswith(("---", "+++")):
            continue
        css = "add" if text.startswith("+") else "del" if text.startswith("-") else "hunk" if text.startswith(
            "@@") else "ctx"
        lines.append((css, text))
    removed, added = diff_sides(m.diff)
    return {"name": m.name, "function": m.function, "status": m.status.value, "line": m.line,
            "diff": lines, "changed": bool(removed or added)}


def source_lines(card: ModuleScorecard, source: str | None) -> list[SourceLine]:
    """The module's source, line by line, with coverage marks and the actionable mutants at their lines."""
    if source is None:
        return []
    texts = source.splitlines()
    out = [SourceLine(i + 1, t) for i, t in enumerate(texts)]
    cov: ModuleCoverage | None = card.coverage
    if cov is not None:
        for n in cov.excluded_lines:
            if 0 < n <= len(out):
                out[n - 1].css, out[n - 1].note = "excluded", "excluded from coverage"
        partial: dict[int, list[str]] = {}
        for arc in cov.missing_arcs:
            partial.setdefault(arc[0], []).append(ModuleCoverage.format_arc(arc))
        for n, arcs in partial.items():
            if 0 < n <= len(out):
                targets = ", ".join(a.split("->")[1] for a in arcs)
                out[n - 1].css = "partial"
                out[n - 1].note = f"partial branch: line {n} never jumped to {targets}"
        for n in cov.missing_lines:
            if 0 < n <= len(out):
                out[n - 1].css, out[n - 1].note = "missed", "never executed"
    if card.mutation is not None:
        for m in card.mutation.mutants:
            if m.status in INLINE_MUTANTS:
                span = locate(m, texts)
                at = min(max(span.start_line, 1), len(out)) if out else 0
                if out:
                    out[at - 1].mutants.append(_mutant_view(m))
    return out


def render_module(card: ModuleScorecard, sc: Scorecard, source: str | None,
                  history: Sequence[HistoryEntry] = ()) -> str:
    regressed = _regressions_by(sc)
    verdicts = [{"label": METRIC_LABEL[v.metric], "figure": figure(v), "target": target(v),
                 "status": "fail" if (card.module, v.metric) in regressed else _css(v.status),
                 "verdict": v.status.value, "reason": v.reason,
                 "regressed": regressed.get((card.module, v.metric), ""),
                 "trend": _trend(history, card.module, v.metric)} for v in card.verdicts]
    cov = card.coverage
    mut = card.mutation
    return environment().get_template("module.html").render(
        sc=sc, card=card, title=f"{card.module}: quality scorecard", root="../", verdicts=verdicts,
        lines=source_lines(card, source), source_missing=source is None,
        missing_lines=compress_lines(cov.missing_lines) if cov else "",
        missing_arcs=", ".join(cov.missing_arcs_text) if cov else "",
        counts=mut.counts if mut else None,
        mutants_by_status=_mutants_by_status(card), facts=run_facts(sc))


def _mutants_by_status(card: ModuleScorecard) -> list[tuple[str, int]]:
    if card.mutation is None:
        return []
    c = card.mutation.counts
    return [(s.value, getattr(c, s.value)) for s in MutantStatus]


def pages(sc: Scorecard, sources: Mapping[str, str | None],
          history: Sequence[HistoryEntry] = ()) -> dict[str, str]:
    """``{"index.html": ..., "modules/<module>.html": ...}``; ``sources`` maps module names to source text."""
    out = {"index.html": render_index(sc, history)}
    for card in sc.modules:
        out[module_page_name(card.module)] = render_module(card, sc, sources.get(card.module), history)
    return out
