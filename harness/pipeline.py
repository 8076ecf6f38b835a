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

from harness import __version__, diffscope, history, shards
from harness.aggregate import Results, aggregate
from harness.collectors import coverage as coverage_collector
from harness.collectors import mutation as mutation_collector
from harness.collectors.base import Context, Measured, measure_all
from harness.config import Config, check_globs
from harness.discover import Project, check_syntax, discover
from harness.errors import ToolError
from harness.gate import gate
from harness.model import (
    Metric,
    ModuleChanges,
    RunMeta,
    Scorecard,
    Unmeasured,
)
from harness.phases import collectors, merge_quarantine, mutation_scope, unmeasured_everywhere
from harness.progress import PhaseClock, Progress
from harness.ratchet import vanished
from harness.reporters import write_all
from harness.sampling import Scope
from harness.workspace import Workspace, sync_copy

__all__ = ["Outcome", "enabled_metrics", "finish", "merge", "merge_quarantine", "missing_cells", "run",
           "unmeasured_everywhere", "unreadable"]


@dataclass(frozen=True)
class Outcome:
    scorecard: Scorecard
    project: Project
    workspace: Workspace
    written: list[Path] = field(default_factory=list)


def enabled_metrics(cfg: Config) -> tuple[Metric, ...]:
    """The metrics this config measures, in the collectors' order."""
    return tuple(m for c in collectors() for m in c.metrics(cfg))


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


def collected(project: Project, measured: Measured) -> Results:
    """The collectors' results as the one bundle aggregate joins. Unmeasured cells: the phases' own, then the
    run's invariant (:func:`missing_cells`), then the mutation results'; notes: the run's, the collectors', then
    diff mode's."""
    cfg, runs, mutated, changes = measured.cfg, measured.runs, measured.mutation, measured.changes
    cov = measured.coverage
    assert cov is not None
    unmeasured = [*measured.unmeasured,
                  *missing_cells(project, cfg, cov, mutated, measured.metrics, mutation_scope(cfg, changes)),
                  *(mutated.unmeasured if mutated is not None else ())]
    flaky = runs.flaky
    return Results(
        coverage=cov.by_module, runtime=runs.runtime_by_module, suite_runtime=runs.suite_runtime,
        mutation=mutated.by_module if mutated else None, flakiness=flaky.by_module if flaky else None,
        tests_run=flaky.tests_run if flaky else 0, flaky_tests=len(flaky.flaky) if flaky else 0,
        flaky_runs=flaky.runs if flaky else 0, unstable_ids=flaky.unstable_functions if flaky else (),
        parallel_unsafe=flaky.parallel_unsafe if flaky else (), changes=changes,
        notes=(*measured.notes, *(flaky.notes if flaky else ()), *(mutated.notes if mutated else ()),
               *diffscope.summary(changes)),
        unmeasured=unmeasured, quarantined=measured.quarantine)


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
    if Metric.MUTATION_SCORE in metrics:  # mutation measures the same snapshot of the tree as the other phases
        mutation_collector.snapshot_sandbox(project, ws)
    if not cfg.coverage.enabled:
        raise ToolError("the coverage phase is disabled (coverage.enabled = false), but every other metric "
                        "needs its per-test data; enable it")

    measured = measure_all(collectors(), Context(project, ws, clock),
                           Measured(cfg=cfg, metrics=metrics, changes=changes))
    cfg = measured.cfg  # serial from here when the coverage phase fell back to it
    results = collected(project, measured)
    card = aggregate(project, results, metrics=metrics, tiers=cfg.tiers_by_module(m.name for m in project.modules),
                     meta=run_meta(cfg, config_source, clock.finish()))
    card, written = finish(card, cfg, project.root, ws.reports, base, record=not cfg.mutation.shard,
                           mutation=measured.mutation)
    if measured.runs.flaky is not None and cfg.history.enabled and not cfg.mutation.shard:
        written.append(ws.reports / history.EVIDENCE_FILE)  # written by phases.accumulated_evidence
    if cfg.archive:
        from harness import archive

        say("archive: bundling every report with a description of the environment")
        written += archive.write(card, cfg, ws.reports, written, config_source)
    return Outcome(scorecard=card, project=project, workspace=ws, written=written)


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
    card = replace(card, meta=history.run_facts(root, cfg, card.meta))
    card = gate(card, cfg, baseline=base.entry if base else None)
    previous = history.read_history(reports)[-1:] if cfg.history.enabled else []
    lost = vanished(card, previous[0]) if previous else ()
    if lost:  # a figure never silently turns into n/a
        card = gate(replace(card, unmeasured=(*card.unmeasured, *lost)), cfg, baseline=base.entry if base else None)
    if base is not None:
        card = replace(card, meta=replace(card.meta, baseline=base.describe()))
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


def merge(dirs: Sequence[Path], cfg: Config, reports: Path, base: history.Baseline | None,
          plan: Path | None = None) -> Scorecard:
    """``harness merge``: the shards' reports folders made one run (:func:`shards.merge_dirs`), ended as
    ``harness run`` ends (:func:`finish`: gated once, every report written, the history last). Module sources
    are read from the shards' root, or (merged on another machine) from the current folder. ``plan``: where the
    next run's shard plan goes (:func:`shards.write_next_plan`)."""
    card, results = shards.merge_dirs(dirs)
    check_globs(cfg, (c.module for c in card.modules))
    written = shards.write_next_plan(dirs, plan, Path(".").resolve()) if plan is not None else None
    card = replace(card, notes=(*card.notes, written)) if written is not None else card
    root = Path(card.root)
    card, _written = finish(card, cfg, Path("."), reports, base, mutation=results,
                            source_root=root if root.is_dir() else Path("."))
    return card


def run_meta(cfg: Config, config_source: str | None,
             phase_seconds: dict[str, float] | None = None) -> RunMeta:
    """The run's facts for ``Scorecard.meta``; ``phase_seconds``: wall seconds by phase and ``"total"``."""
    return RunMeta(time=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), harness_version=__version__,
                   python=platform.python_version(), config_source=config_source, profile=cfg.profile or None,
                   workers=cfg.effective_workers(), phase_seconds=phase_seconds or {})
