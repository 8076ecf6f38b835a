"""Markdown reports: the run summary (fit for ``$GITHUB_STEP_SUMMARY``) and one page per module."""

from __future__ import annotations

from harness.model import CoverageNumbers, Metric, ModuleScorecard, MutationCounts, Scorecard, Status, Verdict
from harness.reporters.fmt import (
    METRIC_LABEL,
    compress_lines,
    figure,
    pct,
    regression_text,
    seconds,
    shown_columns,
    target,
    verdict_text,
)
from harness.workspace import FORMAT

DASH = "\u2013"
MARK = {Status.PASS: "✅", Status.FAIL: "❌", Status.NA: "n/a", Status.SKIPPED: DASH, Status.NOT_MEASURED: "⚠️"}
DETAILS_OVER = 25  # modules beyond which the summary's module table is folded into <details>


def _cell(v: Verdict | None) -> str:
    if v is None or v.status is Status.SKIPPED:
        return DASH
    if v.status is Status.NA:
        return "n/a"
    if v.status is Status.NOT_MEASURED:
        return f"{MARK[v.status]} not measured"
    return f"{figure(v)} {MARK[v.status]}"


def _by_metric(card: ModuleScorecard) -> dict[Metric, Verdict]:
    return {v.metric: v for v in card.verdicts}


def summary(sc: Scorecard) -> str:
    shown = shown_columns(sc.metrics)
    problems = [f"{len(sc.violations)} target(s) missed"] if sc.violations else []
    problems += [f"{len(sc.regressions)} regression(s) against the baseline"] if sc.regressions else []
    status = "✅ all targets met" if sc.passed else "❌ " + ", ".join(problems or ["not every cell measured"])
    if not sc.complete:
        status = f"⚠️ {len(sc.unmeasured)} cell(s) not measured; " + status
    lines = [f"<!-- quality-harness {sc.meta.harness_version}, format {FORMAT} -->",
             f"# Quality scorecard: {sc.project}", "", f"**{status}**", "", *_run_line(sc)]
    t = sc.totals
    if t.coverage is not None:
        lines.append(f"- Line coverage {pct(t.coverage.line_percent)} "
                     f"({t.coverage.executed}/{t.coverage.statements} statements); branch coverage "
                     f"{pct(t.coverage.branch_percent)} ({t.coverage.covered_branches}/{t.coverage.branches} "
                     f"branches)")
    if t.mutation is not None:
        lines.append(f"- Mutation score {pct(t.mutation.score)} "
                     f"({t.mutation.detected}/{t.mutation.valid} valid "
                     f"mutants detected; {t.mutation.total} mutants in all; suspicious, skipped, interrupted "
                     f"and not-checked mutants are excluded from valid ones)")
    if t.runtime is not None:
        lines.append(f"- Suite runtime {seconds(t.runtime.median)} median of {len(t.runtime.wall_seconds)} "
                     f"runs (min {seconds(t.runtime.minimum)}, max {seconds(t.runtime.maximum)}), "
                     f"{t.runtime.tests} tests, {t.runtime.workers} workers"
                     + (f"; CPU {seconds(t.runtime.cpu_median)} median (the gate reads wall time)"
                        if t.runtime.cpu_median is not None else ""))
    if Metric.FLAKY_RATE in sc.metrics:
        power = (f"; over {t.flaky_runs} runs only flakes failing >= {pct(100 * t.flaky_detectable)} of the "
                 f"time are seen with 95 % confidence" if t.flaky_detectable is not None else "")
        lines.append(f"- Flaky rate {pct(t.flaky_rate)} ({t.flaky_tests}/{t.tests_run} tests{power})")
        if t.unstable_ids:
            lines.append("- Unstable test ids (not counted): " + ", ".join(f"`{u}`" for u in t.unstable_ids))
    lines += _changes_summary(sc)
    for v in t.verdicts:
        if v.status is not Status.SKIPPED:
            lines.append(f"- Project {verdict_text(v)}")
    if len(sc.modules) > DETAILS_OVER:  # keep a PR comment short: the full table folds away
        lines += ["", f"<details><summary>All {len(sc.modules)} modules</summary>"]
    lines += ["", "| Module | " + " | ".join(METRIC_LABEL[m] for m in shown) + " | Tests cost |",
              "|---|" + "---:|" * len(shown) + "---:|"]
    for card in sc.modules:
        vs = _by_metric(card)
        cost = seconds(card.runtime.test_seconds) if card.runtime and card.runtime.tests else "n/a"
        tier = f" ({card.tier})" if card.tier else ""
        lines.append(f"| `{card.module}`{tier} | " + " | ".join(_cell(vs.get(m)) for m in shown)
                     + f" | {cost} |")
    if len(sc.modules) > DETAILS_OVER:
        lines += ["", "</details>"]
    if sc.violations:
        lines += ["", "## Missed targets", ""]
        lines += [f"- `{mod}`: {verdict_text(v)}" for mod, v in sc.violations]
    if sc.regressions:
        lines += ["", "## Regressions against the baseline", "",
                  f"Baseline: {sc.meta.baseline or 'given'}.", ""]
        lines += [f"- `{r.module}`: {regression_text(r)}" for r in sc.regressions]
    lines += problems_sections(sc)
    if sc.notes:
        lines += ["", "## Notes", ""] + [f"- {n.text}" for n in sc.notes]
    return "\n".join(lines) + "\n"


def problems_sections(sc: Scorecard) -> list[str]:
    """What could not be measured, which tests were quarantined and which collide in parallel, with causes."""
    lines: list[str] = []
    if sc.unmeasured:
        lines += ["", "## Not measured", "", "Cells a tool could not measure (never a pass; the run exits 3):", ""]
        lines += [f"- `{u.module}` {METRIC_LABEL[u.metric]}: {u.cause}"
                  + (f" (tests: {', '.join(f'`{t}`' for t in u.tests)})" if u.tests else "") for u in sc.unmeasured]
    if sc.quarantined:
        lines += ["", "## Quarantined tests", "", sc.quarantine_meaning, ""]
        lines += [f"- `{q.nodeid}` ({q.cause.value})" + (f": {q.detail}" if q.detail else "")
                  + (f" — reproduce: `{q.reproduce}`" if q.reproduce else "") for q in sc.quarantined]
    if sc.totals.parallel_unsafe:
        lines += ["", "## Parallel-unsafe tests", "",
                  "They fail only when run in parallel beside another test (not counted as flaky):", ""]
        lines += [f"- `{f.nodeid}`" + (f" collides with `{f.polluter}`" if f.polluter else "")
                  + f": {f.detail} — reproduce: `{f.reproduce}`" for f in sc.totals.parallel_unsafe]
    return lines


def _run_line(sc: Scorecard) -> list[str]:
    """``Run 2026-11-21T18:00:00+00:00 · commit 0123abcd · config abc123def456``, when known."""
    meta = sc.meta
    parts = [f"Run {meta.time}"] if meta.time else []
    if meta.commit:
        parts.append(f"commit `{meta.commit[:8]}`" + (" (dirty)" if meta.dirty else ""))
    if meta.config_fingerprint:
        parts.append(f"config `{meta.config_fingerprint}`")
    return [" · ".join(parts), ""] if parts else []


def _changes_summary(sc: Scorecard) -> list[str]:
    """Diff mode: the changed lines' coverage and the changed functions' score over all modules."""
    changed = [c.changes for c in sc.modules if c.changes is not None]
    if not changed:
        return []
    cov = sum((ch.coverage for ch in changed if ch.coverage), start=CoverageNumbers())
    line = (f"- Changed since `{changed[0].since}`: {sum(len(ch.lines) for ch in changed)} lines in "
            f"{len(changed)} modules; changed-lines coverage line {pct(cov.line_percent)} "
            f"({cov.executed}/{cov.statements}), branch {pct(cov.branch_percent)} "
            f"({cov.covered_branches}/{cov.branches})")
    mut = [ch.mutation for ch in changed if ch.mutation is not None]
    if mut:
        total = sum(mut, start=MutationCounts())
        line += f"; changed functions' mutation score {pct(total.score)} ({total.detected}/{total.valid})"
    return [line]


def changes_section(card: ModuleScorecard) -> list[str]:
    """Diff mode: the changed lines' and functions' figures, beside the whole module's above."""
    ch = card.changes
    if ch is None:
        return []
    lines = ["", f"## Changed since `{ch.since}`", "",
             f"{len(ch.lines)} changed lines ({compress_lines(ch.lines)}), in "
             + (", ".join(f"`{f}`" for f in ch.functions) or "no function") + "."]
    if ch.coverage is not None:
        n = ch.coverage
        lines.append(f"- Changed-lines coverage: line {pct(n.line_percent)} ({n.executed}/{n.statements}), "
                     f"branch {pct(n.branch_percent)} ({n.covered_branches}/{n.branches}); missing lines "
                     f"{compress_lines(ch.missing_lines) or 'none'}")
    if ch.mutation is not None:
        m = ch.mutation
        lines.append(f"- Changed functions' mutation score {pct(m.score)} ({m.detected}/{m.valid})")
    return lines


def module_page(card: ModuleScorecard, sc: Scorecard) -> str:
    lines = [f"# `{card.module}`", "",
             f"File `{card.path}`" + (f", tier **{card.tier}**" if card.tier else ""), ""]
    lines += ["| Metric | Value | Target | Verdict |", "|---|---:|---:|---|"]
    for v in card.verdicts:
        lines.append(f"| {METRIC_LABEL[v.metric]} | {figure(v)} | {target(v)} | {v.status.value}"
                     + (f" ({v.reason})" if v.reason else "") + " |")
    cov = card.coverage
    if cov is not None:
        n = cov.numbers
        lines += ["", "## Coverage", "",
                  f"{n.executed}/{n.statements} statements, {n.covered_branches}/{n.branches} branches "
                  f"({n.partial_branches} partial), {n.excluded} excluded.", ""]
        lines.append(f"- Missing lines: {compress_lines(cov.missing_lines) or 'none'}")
        lines.append(f"- Missing arcs: {', '.join(cov.missing_arcs_text) or 'none'}")
        lines.append(f"- Tests executing this module: {len(cov.tests)}")
    mut = card.mutation
    if mut is not None:
        c = mut.counts
        lines += ["", "## Mutation", "",
                  f"Score {pct(c.score)} (on covered code {pct(c.covered_score)}): killed {c.killed}, "
                  f"timeout {c.timeout}, survived {c.survived}, no tests {c.no_coverage}; excluded from the "
                  f"score: suspicious {c.suspicious}, skipped {c.skipped}, interrupted {c.interrupted}, "
                  f"not checked {c.not_checked}.",
                  f"Mutable share of the module: {pct(mut.reachable_percent)}."]
        interval = mut.score_interval
        if interval is not None:
            lines.append(f"Sampled: {c.total} of {mut.population} mutants; 95 % interval of the score "
                         f"{interval[0]:.1f}-{interval[1]:.1f} % (Wilson).")
        if mut.not_mutated_reason:
            lines.append(f"Not mutated: {mut.not_mutated_reason}")
        if mut.unmutable_functions:
            lines.append("Out of mutmut's reach: " + ", ".join(f"`{f}`" for f in mut.unmutable_functions))
        for mutant in mut.mutants:
            lines += ["", f"### {mutant.status.value}: `{mutant.name}` "
                          f"({mutant.function}, line {mutant.line})",
                      "", "```diff", mutant.diff.rstrip(), "```"]
    lines += changes_section(card)
    rt = card.runtime
    if rt is not None:
        lines += ["", "## Test cost", "",
                  f"{rt.tests} tests execute this module, {seconds(rt.test_seconds)} in all."]
        lines += [f"- `{t.nodeid}`: {seconds(t.seconds)}" for t in rt.slowest]
    fl = card.flakiness
    if fl is not None:
        lines += ["", "## Flaky tests", "", f"Flaky rate {pct(fl.rate)} ({len(fl.flaky)}/{fl.tests_run})."]
        for f in fl.flaky:
            lines.append(f"- `{f.nodeid}`: {f.kind.value}, failed {f.failures}/{f.runs}"
                         + (f", polluter `{f.polluter}`" if f.polluter else "")
                         + f"; reproduce: `{f.reproduce}`" + (f" ({f.detail})" if f.detail else ""))
    return "\n".join(lines) + "\n"
