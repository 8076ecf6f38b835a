"""aggregate(): every collector's per-module figure lands on the right module card, and totals are sums.

Written from the survivors the harness found when it mutated itself (`tox -e quality`).
"""

from __future__ import annotations

from pathlib import Path

from harness.aggregate import Results, aggregate
from harness.discover import ModuleInfo, Project
from harness.model import (
    CoverageNumbers,
    FlakyClass,
    FlakyTest,
    Metric,
    ModuleChanges,
    ModuleCoverage,
    ModuleFlakiness,
    ModuleMutation,
    ModuleRuntime,
    MutationCounts,
    RunMeta,
    SuiteRuntime,
)

PROJECT = Project(root=Path("/srv/pkg"), name="pkg", import_roots=("",), source=("pkg",), tests=("tests",),
                  modules=(ModuleInfo("pkg.a", "pkg/a.py", ""), ModuleInfo("pkg.b", "pkg/b.py", "")))
COV_A = ModuleCoverage(CoverageNumbers(statements=10, executed=8, branches=4, covered_branches=3))
COV_B = ModuleCoverage(CoverageNumbers(statements=5, executed=5, branches=2, covered_branches=2))
MUT_A = ModuleMutation(counts=MutationCounts(killed=3, survived=1))
MUT_B = ModuleMutation(counts=MutationCounts(killed=2, timeout=1))
RT_A = ModuleRuntime(test_seconds=1.5, tests=2)
FL_B = ModuleFlakiness(tests_run=4, flaky=(FlakyTest("t::x", 1, 12, FlakyClass.NON_DETERMINISTIC, "pytest t::x"),))
SUITE = SuiteRuntime(wall_seconds=(2.0, 3.0), workers=2, tests=6)
CHANGES_A = ModuleChanges(since="main", lines=(3,), functions=("f",))


def _card(**kw):  # type: ignore[no-untyped-def]
    tiers, meta = kw.pop("tiers", None), kw.pop("meta", None)
    return aggregate(PROJECT, Results(**kw), metrics=(Metric.LINE_COVERAGE, Metric.MUTATION_SCORE), tiers=tiers,
                     meta=meta)


def test_every_figure_lands_on_its_module() -> None:
    sc = _card(coverage={"pkg.a": COV_A, "pkg.b": COV_B}, runtime={"pkg.a": RT_A}, suite_runtime=SUITE,
               mutation={"pkg.a": MUT_A, "pkg.b": MUT_B}, flakiness={"pkg.b": FL_B}, tiers={"pkg.b": "core"},
               changes={"pkg.a": CHANGES_A}, notes=("a note",), meta=RunMeta(time="t1"))
    a, b = sc.modules
    assert (a.module, a.path, b.module, b.path) == ("pkg.a", "pkg/a.py", "pkg.b", "pkg/b.py")
    assert (a.tier, b.tier) == (None, "core")
    assert (a.coverage, b.coverage) == (COV_A, COV_B)
    assert (a.runtime, b.runtime) == (RT_A, None)
    assert (a.mutation, b.mutation) == (MUT_A, MUT_B)
    assert (a.flakiness, b.flakiness) == (None, FL_B)
    assert a.changes is not None and a.changes.functions == ("f",) and a.changes.mutation == MUT_A.counts
    assert b.changes is None
    assert (sc.project, sc.root, sc.notes, sc.meta) == ("pkg", "/srv/pkg", ("a note",), RunMeta(time="t1"))
    assert sc.metrics == (Metric.LINE_COVERAGE, Metric.MUTATION_SCORE)


def test_totals_are_sums_and_collector_outputs() -> None:
    sc = _card(coverage={"pkg.a": COV_A, "pkg.b": COV_B}, mutation={"pkg.a": MUT_A, "pkg.b": MUT_B},
               suite_runtime=SUITE, tests_run=6, flaky_tests=1, flaky_runs=12, unstable_ids=("t::y[1]",))
    t = sc.totals
    assert t.coverage == COV_A.numbers + COV_B.numbers == CoverageNumbers(statements=15, executed=13, branches=6,
                                                                          covered_branches=5)
    assert t.mutation == MutationCounts(killed=5, timeout=1, survived=1)
    assert t.runtime == SUITE
    assert (t.tests_run, t.flaky_tests, t.flaky_runs, t.unstable_ids) == (6, 1, 12, ("t::y[1]",))


def test_unmeasured_collectors_leave_none_not_zero() -> None:
    sc = _card()
    t = sc.totals
    assert t.coverage is None and t.mutation is None and t.runtime is None
    assert (t.tests_run, t.flaky_tests, t.flaky_runs, t.unstable_ids) == (0, 0, 0, ())
    assert all(c.coverage is None and c.mutation is None and c.runtime is None and c.flakiness is None
               and c.changes is None for c in sc.modules)


def test_changes_without_mutation_keep_their_own_figures() -> None:
    sc = _card(changes={"pkg.a": CHANGES_A})
    assert sc.modules[0].changes == CHANGES_A
