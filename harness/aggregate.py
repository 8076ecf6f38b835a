"""Aggregation (pure): per-module stats from the collectors -> a Scorecard with project totals.

Totals are ``sum()`` of the per-module stats, the same ``__add__`` that merges shards.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from harness.discover import Project
from harness.model import (
    CoverageNumbers,
    FlakyTest,
    Metric,
    ModuleChanges,
    ModuleCoverage,
    ModuleFlakiness,
    ModuleMutation,
    ModuleRuntime,
    ModuleScorecard,
    MutationCounts,
    Note,
    ProjectTotals,
    QuarantinedTest,
    RunMeta,
    Scorecard,
    SuiteRuntime,
    Unmeasured,
)


@dataclass(frozen=True)
class Results:
    """What the collectors measured in one run, the one bundle :func:`aggregate` joins (None: not run).

    Per-module stats by module name; the flakiness phase's project facts (tests judged, flaky tests, runs,
    unstable ids, parallel-unsafe tests); diff mode's changes; the run's notes, unmeasured cells and the tests
    quarantined from the mutation phase.
    """

    coverage: Mapping[str, ModuleCoverage] | None = None
    runtime: Mapping[str, ModuleRuntime] | None = None
    suite_runtime: SuiteRuntime | None = None
    mutation: Mapping[str, ModuleMutation] | None = None
    flakiness: Mapping[str, ModuleFlakiness] | None = None
    tests_run: int = 0
    flaky_tests: int = 0
    flaky_runs: int = 0
    unstable_ids: Sequence[str] = ()
    parallel_unsafe: Sequence[FlakyTest] = ()
    changes: Mapping[str, ModuleChanges] | None = None
    notes: Sequence[Note] = ()
    unmeasured: Sequence[Unmeasured] = ()
    quarantined: Sequence[QuarantinedTest] = ()


def aggregate(project: Project, results: Results = Results(), *, metrics: Sequence[Metric],
              tiers: Mapping[str, str] | None = None, meta: RunMeta | None = None) -> Scorecard:
    """Join the collectors' per-module results on the module name; every project module gets a card."""
    r = results
    cards = []
    for m in project.modules:
        cards.append(ModuleScorecard(
            module=m.name,
            path=m.path,
            tier=(tiers or {}).get(m.name),
            coverage=r.coverage.get(m.name) if r.coverage is not None else None,
            runtime=r.runtime.get(m.name) if r.runtime is not None else None,
            mutation=r.mutation.get(m.name) if r.mutation is not None else None,
            flakiness=r.flakiness.get(m.name) if r.flakiness is not None else None,
            changes=_changes(m.name, r.changes, r.mutation),
        ))
    totals = ProjectTotals(
        coverage=sum((c.coverage.numbers for c in cards if c.coverage), start=CoverageNumbers())
        if r.coverage else None,
        mutation=sum((c.mutation.counts for c in cards if c.mutation), start=MutationCounts())
        if r.mutation else None,
        runtime=r.suite_runtime,
        tests_run=r.tests_run,
        flaky_tests=r.flaky_tests,
        flaky_runs=r.flaky_runs,
        unstable_ids=tuple(r.unstable_ids),
        parallel_unsafe=tuple(r.parallel_unsafe),
    )
    return Scorecard(project=project.name, root=str(project.root), modules=tuple(cards), totals=totals,
                     metrics=tuple(metrics), notes=tuple(r.notes), meta=meta or RunMeta(),
                     unmeasured=tuple(r.unmeasured), quarantined=tuple(r.quarantined))


def _changes(module: str, changes: Mapping[str, ModuleChanges] | None,
             mutation: Mapping[str, ModuleMutation] | None) -> ModuleChanges | None:
    """Diff mode: a module's changes, with the counts of its (changed functions') mutants when mutated."""
    found = (changes or {}).get(module)
    mut = (mutation or {}).get(module)
    if found is None or mut is None:
        return found
    from dataclasses import replace

    return replace(found, mutation=mut.counts)
