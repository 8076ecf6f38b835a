"""The run, end to end: discover -> collectors (run, parse) -> aggregate -> gate -> reports.

This module only sequences the steps; tools are run by collectors, figures computed by aggregate/gate, text made
by reporters. Progress goes to an optional callback so that only the CLI prints.
"""

from __future__ import annotations

import datetime as dt
import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness import __version__, diffscope, history
from harness.aggregate import Results, aggregate
from harness.collectors import coverage as coverage_collector
from harness.collectors import flakiness as flakiness_collector
from harness.collectors import mutation as mutation_collector
from harness.collectors import runtime as runtime_collector
from harness.collectors import suite_runs
from harness.collectors.pytest_run import reproduce_command
from harness.collectors.records import RunRecord, UnstableIdsError, broken_files
from harness.config import Config
from harness.discover import Project, check_syntax, discover
from harness.errors import ToolError
from harness.gate import gate
from harness.model import (
    Metric,
    ModuleChanges,
    ModuleRuntime,
    QuarantineCause,
    QuarantinedTest,
    Scorecard,
    SuiteRuntime,
    Unmeasured,
    detectable_probability,
)
from harness.progress import Phase, PhaseClock, Progress
from harness.ratchet import vanished
from harness.reporters import write_all
from harness.sampling import Scope
from harness.workspace import Workspace, sync_copy


@dataclass(frozen=True)
class Outcome:
    scorecard: Scorecard
    project: Project
    workspace: Workspace
    written: list[Path] = field(default_factory=list)


def enabled_metrics(cfg: Config) -> tuple[Metric, ...]:
    out: list[Metric] = []
    if cfg.coverage.enabled:
        out += [Metric.LINE_COVERAGE, Metric.BRANCH_COVERAGE]
    if cfg.runtime.enabled:
        out.append(Metric.SUITE_RUNTIME)
    if cfg.flakiness.enabled:
        out.append(Metric.FLAKY_RATE)
    if cfg.mutation.enabled and not cfg.mutation.shard:  # a shard's partial score is gated after `merge`
        out.append(Metric.MUTATION_SCORE)
    return tuple(out)


def mutation_phase(project: Project, cfg: Config, ws: Workspace, clock: PhaseClock,
                   scope: Scope | None = None,
                   quarantine: Sequence[QuarantinedTest] = ()) -> mutation_collector.MutationResult:
    """mutmut in the sandbox, reporting mutants done/total and the ETA."""
    shard = mutation_collector.Shard.parse(cfg.mutation.shard) if cfg.mutation.shard else None
    clock.begin(Phase.MUTATION, "mutmut 3 in the sandbox " + (f"(shard {shard}) " if shard else "")
                + "- generating mutants, mapping tests, clean and forced-fail checks")

    def tick(done: int, total: int, eta: float | None) -> None:
        clock.step(done, total, eta=eta)

    art = mutation_collector.run(project, cfg, ws, shard=shard, progress=tick, scope=scope,
                                 quarantine=quarantine)
    return mutation_collector.parse(art, project)


def diff_changes(project: Project, cfg: Config, say: Callable[[str], None]) -> dict[str, ModuleChanges] | None:
    """Diff mode (``since``): the modules' lines and functions changed since the ref; None when off."""
    if not cfg.since:
        return None
    changed = diffscope.changed_lines(project.root, cfg.since)
    sources = {m.name: (project.root / m.path).read_text(encoding="utf-8", errors="replace")
               for m in project.modules if m.path in changed}
    changes = diffscope.module_changes(project, changed, cfg.since, sources)
    functions = sum(len(c.functions) for c in changes.values())
    say(f"diff mode: {len(changes)} module(s), {functions} function(s) changed since {cfg.since}")
    return changes


def mutation_scope(cfg: Config, changes: dict[str, ModuleChanges] | None) -> Scope:
    """Which mutants to test: the changed functions' (diff mode), then a seeded sample (config ``sample``)."""
    functions = None if changes is None else {m: c.functions for m, c in changes.items()}
    return Scope(sample=cfg.sample.mutants, seed=cfg.sample.seed, since=cfg.since or None,
                 functions=functions)


def quarantine_from_runs(record: RunRecord, flaky: flakiness_collector.FlakinessResult | None,
                         cfg: Config) -> list[QuarantinedTest]:
    """Tests the earlier phases found unable to judge mutants: broken (fail in every run, or not even
    collected), flaky, or failing in the clean run when the flakiness phase did not judge them."""
    out: dict[str, QuarantinedTest] = {}
    for nodeid, message in broken_files(record):
        out[nodeid] = QuarantinedTest(nodeid, QuarantineCause.BROKEN, f"cannot be collected: {message}",
                                      reproduce_command([nodeid], pytest_args=cfg.pytest_args))
    if flaky is not None:
        for nodeid, message in flaky.broken:
            out[nodeid] = QuarantinedTest(nodeid, QuarantineCause.BROKEN,
                                          f"failed in all {flaky.runs} runs: {message}",
                                          reproduce_command([nodeid], pytest_args=cfg.pytest_args))
        for f in flaky.flaky:
            out[f.nodeid] = QuarantinedTest(f.nodeid, QuarantineCause.FLAKY,
                                            f"{f.kind.value}, failed {f.failures} of {f.runs} runs"
                                            + (f"; {f.detail}" if f.detail else ""), f.reproduce)
    judged = {f.nodeid for f in (*flaky.flaky, *flaky.parallel_unsafe)} if flaky is not None else set()
    for t in record.failures:  # failed in the coverage run and not judged over the repeated runs
        if t.nodeid not in out and t.nodeid not in judged:
            out[t.nodeid] = QuarantinedTest(t.nodeid, QuarantineCause.BROKEN,
                                            f"failed in the clean (coverage) run: {t.message}",
                                            reproduce_command([t.nodeid], pytest_args=[
                                                *cfg.pytest_args, *cfg.coverage.pytest_args]))
    return list(out.values())


def accumulated_evidence(reports: Path, flaky: flakiness_collector.FlakinessResult,
                         cfg: Config) -> tuple[list[QuarantinedTest], str]:
    """Add this session's outcomes to the flaky evidence kept with the history. Returns the tests that failed
    in an earlier session but not in this one (known flaky: never forgotten, quarantined from mutation) and a
    note on the detection power the accumulated runs give."""
    import statistics

    when = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    evidence = history.update_evidence(reports, flaky.outcomes, when)
    known = [QuarantinedTest(n, QuarantineCause.FLAKY,
                             f"known flaky from earlier sessions: {evidence[n].describe(n)}; passed in all "
                             f"{runs} runs of this session", reproduce_command([n], pytest_args=cfg.pytest_args))
             for n, (runs, failures) in sorted(flaky.outcomes.items())
             if not failures and evidence[n].failures]
    current = [evidence[n] for n in flaky.outcomes]
    median_runs = int(statistics.median(e.runs for e in current)) if current else 0
    sessions = max((e.sessions for e in current), default=0)
    power = detectable_probability(median_runs)
    note = (f"flakiness: evidence accumulated over {sessions} session(s): the median test has {median_runs} "
            f"judged runs, so a flake failing >= {100 * power:.1f} % of the time is seen with 95 % confidence"
            if power is not None else "flakiness: no accumulated evidence yet")
    if known:
        note += f"; {len(known)} test(s) failed in earlier sessions only: " + ", ".join(
            evidence[q.nodeid].describe(q.nodeid) for q in known[:5])
    return known, note


def unmeasured_everywhere(project: Project, metrics: Sequence[Metric], cause: str,
                          project_level: bool = False) -> list[Unmeasured]:
    """Every module's cells of ``metrics`` (and the project's, for project metrics) could not be measured."""
    out = []
    for metric in metrics:
        if project_level:
            out.append(Unmeasured("project", metric, cause))
        if metric is not Metric.SUITE_RUNTIME:
            out += [Unmeasured(m.name, metric, cause) for m in project.modules]
    return out


def measure_coverage(project: Project, cfg: Config, ws: Workspace,
                     clock: PhaseClock) -> tuple[Config, coverage_collector.CoverageArtifacts,
                                             coverage_collector.CoverageResult, list[str]]:
    """The instrumented run. Where pytest-xdist's workers disagree on the test ids (ids built from the time or
    random values), every phase falls back to serial runs, with a note; returns the config the rest uses."""
    clock.begin(Phase.COVERAGE, "running the suite under coverage.py (branch mode, per-test contexts)")
    art = coverage_collector.run(project, cfg, ws.work, ws.raw)
    try:
        return cfg, art, coverage_collector.parse(art, project), []
    except UnstableIdsError:
        if cfg.effective_workers() <= 1:
            raise
    note = (f"xdist: the workers collected different test ids (parametrize ids built from the time or random "
            f"values), so every phase ran serially (workers = 1) instead of on {cfg.effective_workers()} "
            f"workers; suite runtime is a serial time")
    clock.note("coverage: " + note)
    cfg = replace(cfg, workers=1)
    art = coverage_collector.run(project, cfg, ws.work, ws.raw)
    return cfg, art, coverage_collector.parse(art, project), [note]


@dataclass(frozen=True)
class RunsOutcome:
    """What the uninstrumented runs measured: runtime, flakiness (None when off or failed), lost cells."""

    suite_runtime: SuiteRuntime | None = None
    runtime_by_module: dict[str, ModuleRuntime] | None = None
    flaky: flakiness_collector.FlakinessResult | None = None
    unmeasured: tuple[Unmeasured, ...] = ()


def measure_runs(project: Project, cfg: Config, ws: Workspace, clock: PhaseClock,
                 cov: coverage_collector.CoverageResult, metrics: Sequence[Metric]) -> RunsOutcome:
    """The repeated uninstrumented runs, shared by runtime (parse) and flakiness (analyse). A failure leaves
    the cells of the metrics it did not measure NOT_MEASURED (a suite runtime already parsed is kept)."""
    specs = suite_runs.plan(cfg)
    if not specs:
        return RunsOutcome()
    suite_runtime = runtime_by_module = flaky = None
    phases = " and ".join(p for p, on in (("runtime", cfg.runtime.enabled),
                                            ("flakiness", cfg.flakiness.enabled)) if on)
    clock.begin(Phase.RUNS, f"{phases}: {len(specs)} uninstrumented runs of the suite")
    try:
        records = suite_runs.run(project, cfg, ws.work, ws.raw, specs, progress=clock.step)
        if cfg.runtime.enabled:
            suite_runtime, runtime_by_module = runtime_collector.parse(
                records, cov.tests_by_module, cfg.effective_workers(), cfg.runtime.slowest)
        if cfg.flakiness.enabled:
            clock.begin(Phase.FLAKINESS, "judging every test over the runs, re-running the flaky ones")
            flaky = flakiness_collector.analyse(project, cfg, ws.work, ws.raw, cov.record, records, specs,
                                                cov.tests_by_module, progress=clock.step)
            flakiness_collector.write_report(flaky, ws.raw)
    except ToolError as exc:
        clock.note(f"{phases}: could not measure: {exc}")
        lost = [m for m in (Metric.SUITE_RUNTIME, Metric.FLAKY_RATE) if m in metrics
                and not (m is Metric.SUITE_RUNTIME and suite_runtime is not None)]
        return RunsOutcome(suite_runtime, runtime_by_module, flaky, tuple(unmeasured_everywhere(
            project, lost, f"{phases} phase failed: {exc}", project_level=True)))
    return RunsOutcome(suite_runtime, runtime_by_module, flaky)


def measure_mutation(project: Project, cfg: Config, ws: Workspace, clock: PhaseClock,
                     changes: dict[str, ModuleChanges] | None, quarantine: Sequence[QuarantinedTest],
                     ) -> tuple[mutation_collector.MutationResult | None, list[Unmeasured]]:
    """The mutation phase when enabled and (diff mode) some function changed; a failure leaves every selected
    module's mutation cell NOT_MEASURED with its cause."""
    scope = mutation_scope(cfg, changes)
    nothing_changed = scope.functions is not None and not any(scope.functions.values())
    if cfg.mutation.enabled and nothing_changed:
        clock.note(f"mutation: no function changed since {cfg.since}: no mutant to test")
    if not cfg.mutation.enabled or nothing_changed:
        return None, []
    try:
        return mutation_phase(project, cfg, ws, clock, scope, quarantine), []
    except ToolError as exc:
        clock.note(f"mutation: could not measure: {exc}")
        modules = mutation_collector.selected_modules(project, cfg)
        return None, [Unmeasured(m.name, Metric.MUTATION_SCORE, f"mutation phase failed: {exc}") for m in modules]


def collected(cov: coverage_collector.CoverageResult, runs: RunsOutcome,
              mutated: mutation_collector.MutationResult | None,
              changes: dict[str, ModuleChanges] | None, notes: Sequence[str], unmeasured: Sequence[Unmeasured],
              quarantined: Sequence[QuarantinedTest]) -> Results:
    """The collectors' results as the one bundle aggregate joins (notes: the run's, the collectors', then diff
    mode's)."""
    flaky = runs.flaky
    return Results(
        coverage=cov.by_module, runtime=runs.runtime_by_module, suite_runtime=runs.suite_runtime,
        mutation=mutated.by_module if mutated else None, flakiness=flaky.by_module if flaky else None,
        tests_run=flaky.tests_run if flaky else 0, flaky_tests=len(flaky.flaky) if flaky else 0,
        flaky_runs=flaky.runs if flaky else 0, unstable_ids=flaky.unstable_functions if flaky else (),
        parallel_unsafe=flaky.parallel_unsafe if flaky else (), changes=changes,
        notes=(*notes, *(flaky.notes if flaky else ()), *(mutated.notes if mutated else ()),
               *diffscope.summary(changes)),
        unmeasured=unmeasured, quarantined=quarantined)


def run(root: Path, cfg: Config, *, config_source: str | None = None,
        progress: Progress | None = None, baseline: Path | None = None) -> Outcome:
    """The whole run. A phase that fails leaves its cells NOT_MEASURED with its cause (the run goes on and
    every report is written); only a run that measured nothing at all (the coverage phase failed) raises."""
    clock = PhaseClock(progress)
    say = clock.note
    project = discover(root, cfg)
    check_syntax(project)
    changes = diff_changes(project, cfg, say)  # fail fast on an unknown ref
    ws = Workspace.for_target(root, cfg)
    # Fail fast on a bad baseline or history file, before measuring. A shard's partial run is neither ratcheted
    # nor recorded: `merge` does that.
    base = None if cfg.mutation.shard else history.resolve_baseline(project.root, ws.reports, cfg, baseline)
    if cfg.history.enabled and not cfg.mutation.shard:
        history.read_history(ws.reports)
    say(f"syncing a work copy of {project.root} to {ws.work}")
    sync_copy(project.root, ws.work, ws.excluded())
    metrics = enabled_metrics(cfg)
    if not cfg.coverage.enabled:
        raise ToolError("the coverage phase is disabled (coverage.enabled = false), but every other metric "
                        "needs its per-test data; enable it")

    cfg, cov_art, cov, notes = measure_coverage(project, cfg, ws, clock)
    runs = measure_runs(project, cfg, ws, clock, cov, metrics)
    unmeasured, flaky = list(runs.unmeasured), runs.flaky
    quarantine = quarantine_from_runs(cov.record, flaky, cfg)
    if flaky is not None and cfg.history.enabled and not cfg.mutation.shard:
        known, note = accumulated_evidence(ws.reports, flaky, cfg)
        quarantine = merge_quarantine(quarantine, known)
        notes.append(note)

    if changes is not None:
        changes = diffscope.with_coverage(changes, coverage_collector.read_report(cov_art), project, ws.work)
    mutated, lost = measure_mutation(project, cfg, ws, clock, changes, quarantine)
    unmeasured += lost
    unmeasured += missing_cells(project, cfg, cov, mutated, metrics, mutation_scope(cfg, changes))
    if mutated is not None:
        unmeasured += mutated.unmeasured
        quarantine = merge_quarantine(quarantine, mutated.quarantined)

    results = collected(cov, runs, mutated, changes, notes, unmeasured, quarantine)
    card = aggregate(project, results, metrics=metrics, tiers=cfg.tiers_by_module(m.name for m in project.modules),
                     meta=run_meta(cfg, config_source, clock.finish()))
    card, written = finish(card, cfg, project.root, ws.reports, base, record=not cfg.mutation.shard,
                           mutation=mutated)
    if flaky is not None and cfg.history.enabled and not cfg.mutation.shard:
        written.append(ws.reports / history.EVIDENCE_FILE)  # written by accumulated_evidence
    if cfg.archive:
        from harness import archive

        say("archive: bundling every report with a description of the environment")
        written += archive.write(card, cfg, ws.reports, written, config_source)
    return Outcome(scorecard=card, project=project, workspace=ws, written=written)


def merge_quarantine(first: Sequence[QuarantinedTest], second: Sequence[QuarantinedTest]) -> list[QuarantinedTest]:
    """One entry per test: the earlier phases' finding, else the mutation phase's."""
    seen = {q.nodeid for q in first}
    return [*first, *(q for q in second if q.nodeid not in seen)]


def missing_cells(project: Project, cfg: Config, cov: coverage_collector.CoverageResult,
                  mutated: mutation_collector.MutationResult | None, metrics: Sequence[Metric],
                  scope: Scope) -> list[Unmeasured]:
    """The run's invariant: every module that has source has a figure or a structural reason for each enabled
    metric. A module coverage.py could not read, or a mutated module with no mutation result, is an error
    (NOT_MEASURED), never a silent n/a."""
    out = []
    for m in project.modules:
        if m.name not in cov.by_module and Metric.LINE_COVERAGE in metrics:
            problem = unreadable(project.root / m.path)
            if problem:
                out += [Unmeasured(m.name, metric, f"coverage.py could not read the module: {problem}")
                        for metric in (Metric.LINE_COVERAGE, Metric.BRANCH_COVERAGE)]
    if mutated is not None and Metric.MUTATION_SCORE in metrics and scope.functions is None:
        for m in mutation_collector.selected_modules(project, cfg):
            if m.name not in mutated.by_module:
                out.append(Unmeasured(m.name, Metric.MUTATION_SCORE,
                                      "the mutation phase returned no result for this module"))
    return out


def unreadable(path: Path) -> str:
    """Why a source file cannot be measured ('' when it can be read as Python source)."""
    import tokenize

    try:
        with tokenize.open(path) as fh:  # honours a coding declaration, as Python and coverage.py do
            fh.read()
    except (UnicodeDecodeError, SyntaxError) as exc:
        return f"cannot be decoded ({exc})"
    except OSError as exc:
        return exc.strerror or str(exc)
    return ""


def ratchet_and_record(card: Scorecard, cfg: Config, root: Path, reports: Path, base: history.Baseline | None,
                       *, record: bool = True) -> tuple[Scorecard, list[history.HistoryEntry]]:
    """Gate ``card`` with the baseline's ratchet and append it to the history (``record``, and history on).

    Returns the gated scorecard (its meta with the git commit, config fingerprint and baseline used) and the
    history's entries with this run appended (not yet written: :func:`finish` writes them after the reports, so
    a run interrupted while writing its reports leaves the history as it was), for the HTML trend.
    """
    card = replace(card, meta={**card.meta, **history.run_facts(root, cfg)})
    card = gate(card, cfg, baseline=base.entry if base else None)
    previous = history.read_history(reports)[-1:] if cfg.history.enabled else []
    lost = vanished(card, previous[0]) if previous else ()
    if lost:  # a figure never silently turns into n/a
        card = gate(replace(card, unmeasured=(*card.unmeasured, *lost)), cfg, baseline=base.entry if base else None)
    if base is not None:
        card = replace(card, meta={**card.meta, "baseline": base.describe()})
    if record and cfg.history.enabled:
        return card, history.extended(reports, card, cfg.history.keep)
    return card, history.read_history(reports)


def finish(card: Scorecard, cfg: Config, root: Path, reports: Path, base: history.Baseline | None, *,
           record: bool = True, mutation: mutation_collector.MutationResult | None = None,
           source_root: Path | None = None) -> tuple[Scorecard, list[Path]]:
    """How ``harness run`` and ``harness merge`` both end: ratchet (:func:`ratchet_and_record`), write every
    report (module sources read from ``source_root``, default the scorecard's root) and the mutation results,
    then append the run to the history. Returns the gated scorecard and the files written."""
    card, entries = ratchet_and_record(card, cfg, root, reports, base, record=record)
    written = write_all(card, reports, history=entries, source_root=source_root)
    if mutation is not None:
        written.append(mutation_collector.write_results(mutation, reports))
    if record and cfg.history.enabled:  # last: an interrupted run is not a baseline
        history.write_history(reports, entries)
    return card, written


def run_meta(cfg: Config, config_source: str | None,
             phase_seconds: dict[str, float] | None = None) -> dict[str, Any]:
    """The run's facts for ``Scorecard.meta``; ``phase_seconds``: wall seconds by phase and ``"total"``."""
    return {
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "harness_version": __version__,
        "python": platform.python_version(),
        "config_source": config_source,
        "profile": cfg.profile or None,
        "workers": cfg.effective_workers(),
        "phase_seconds": phase_seconds or {},
    }
