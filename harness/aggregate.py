"""Aggregation (pure): per-module stats from the collectors -> a Scorecard with project totals.

Totals are ``sum()`` of the per-module stats, the same ``__add__`` that merges shards.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

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
    ProjectTotals,
    QuarantinedTest,
    Scorecard,
    SuiteRuntime,
    Unmeasured,
)


def aggregate(
    project: Project,
    *,
    metrics: Sequence[Metric],
    coverage: Mapping[str, ModuleCoverage] | None = None,
    runtime: Mapping[str, ModuleRuntime] | None = None,
    suite_runtime: SuiteRuntime | None = None,
    mutation: Mapping[str, ModuleMutation] | None = None,
    flakiness: Mapping[str, ModuleFlakiness] | None = None,
    tests_run: int = 0,
    flaky_tests: int = 0,
    flaky_runs: int = 0,
    unstable_ids: Sequence[str] = (),
    parallel_unsafe: Sequence[FlakyTest] = (),
    tiers: Mapping[str, str] | None = None,
    changes: Mapping[str, ModuleChanges] | None = None,
    notes: Sequence[str] = (),
    meta: Mapping[str, Any] | None = None,
    unmeasured: Sequence[Unmeasured] = (),
    quarantined: Sequence[QuarantinedTest] = (),
) -> Scorecard:
    """Join the collectors' per-module results on the module name; every project module gets a card."""
    cards = []
    for m in project.modules:
        cards.append(ModuleScorecard(
            module=m.name,
            path=m.path,
            tier=(tiers or {}).get(m.name),
            coverage=coverage.get(m.name) if coverage is not None else None,
            runtime=runtime.get(m.name) if runtime is not None else None,
            mutation=mutation.get(m.name) if mutation is not None else None,
            flakiness=flakiness.get(m.name) if flakiness is not None else None,
            changes=_changes(m.name, changes, mutation),
        ))
    totals = ProjectTotals(
        coverage=sum((c.coverage.numbers for c in cards if c.coverage), start=CoverageNumbers()) if coverage else None,
        mutation=sum((c.mutation.counts for c in cards if c.mutation), start=MutationCounts())
        if mutation else None,
        runtime=suite_runtime,
        tests_run=tests_run,
        flaky_tests=flaky_tests,
        flaky_runs=flaky_runs,
        unstable_ids=tuple(unstable_ids),
        parallel_unsafe=tuple(parallel_unsafe),
    )
    return Scorecard(project=project.name, root=str(project.root), modules=tuple(cards), totals=totals,
                     metrics=tuple(metrics), notes=tuple(notes), meta=dict(meta or {}),
                     unmeasured=tuple(unmeasured), quarantined=tuple(quarantined))


def _changes(module: str, changes: Mapping[str, ModuleChanges] | None,
             mutation: Mapping[str, ModuleMutation] | None) -> ModuleChanges | None:
    """Diff mode: a module's changes, with the counts of its (changed functions') mutants when mutated."""
    found = (changes or {}).get(module)
    mut = (mutation or {}).get(module)
    if found is None or mut is None:
        return found
    from dataclasses import replace

    return replace(found, mutation=mut.counts)
