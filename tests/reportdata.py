"""A hand-made scorecard for reporter tests: every section filled (coverage, runtime, mutation with mutants of
every status, flakiness), with one module that misses targets, one that meets them and one with nothing to
measure. ``write_sources`` puts the matching source files under a root so writers can read them.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from harness.config import Config
from harness.gate import gate
from harness.history import HistoryEntry, entry_from_scorecard
from harness.model import (
    CoverageNumbers,
    FlakyClass,
    FlakyTest,
    Metric,
    ModuleCoverage,
    ModuleFlakiness,
    ModuleMutation,
    ModuleRuntime,
    ModuleScorecard,
    Mutant,
    MutantStatus,
    MutationCounts,
    ProjectTotals,
    Regression,
    RunMeta,
    Scorecard,
    Status,
    SuiteRuntime,
    TestTiming,
    Unmeasured,
)
from harness.notes import text_note

CALC = """\
def classify(n):
    if n < 0:
        return "neg"
    elif n == 0:
        return "zero"
    return "pos"


def add(a, b):
    return a + b


def scale(x, factor=2):
    if factor > 10:
        raise ValueError("too big")
    return x * factor
"""
UTIL = """\
def ident(x):
    return x
"""
SOURCES = {"demo/calc.py": CALC, "demo/util.py": UTIL, "demo/__init__.py": ""}
META = {
    "time": "2026-11-21T18:00:00+00:00",
    "harness_version": "0.1.0",
    "python": "3.11.2",
    "commit": "0123456789abcdef0123456789abcdef01234567",
    "dirty": False,
    "config_fingerprint": "abc123def456",
}


def _mutant(n: int, function: str, line: int, status: MutantStatus, old: str, new: str) -> Mutant:
    diff = f"--- demo/calc.py\n+++ demo/calc.py\n@@ -1,3 +1,3 @@\n def {function}(...):\n-{old}\n+{new}\n"
    return Mutant(
        name=f"demo.calc.x_{function}__mutmut_{n}",
        module="demo.calc",
        function=function,
        line=line,
        status=status,
        diff=diff,
        duration=0.25,
    )


MUTANTS = (
    _mutant(1, "classify", 2, MutantStatus.KILLED, "    if n < 0:", "    if n <= 0:"),
    _mutant(2, "classify", 4, MutantStatus.SURVIVED, "    elif n == 0:", "    elif n == 1:"),
    _mutant(3, "add", 10, MutantStatus.KILLED, "    return a + b", "    return a - b"),
    _mutant(
        4,
        "scale",
        14,
        MutantStatus.NO_COVERAGE,
        '        raise ValueError("too big")',
        '        raise ValueError("XXtoo bigXX")',
    ),
    _mutant(5, "scale", 15, MutantStatus.TIMEOUT, "    return x * factor", "    return x ** factor"),
    _mutant(6, "scale", 13, MutantStatus.SUSPICIOUS, "    if factor > 10:", "    if factor > 11:"),
    _mutant(7, "scale", 13, MutantStatus.SKIPPED, "    if factor > 10:", "    if factor >= 10:"),
    _mutant(8, "add", 10, MutantStatus.NOT_CHECKED, "    return a + b", "    return None"),
)


def scorecard(root: str = "/project/demo", *, branches_hit: int = 5) -> Scorecard:
    """The demo scorecard, gated with the default targets (demo.calc misses several)."""
    calc_cov = ModuleCoverage(
        numbers=CoverageNumbers(
            statements=10, executed=8, branches=6, covered_branches=branches_hit, partial_branches=1
        ),
        missing_lines=(5, 14),
        missing_arcs=((4, 5), (13, 14)),
        tests=("tests/test_calc.py::test_add", "tests/test_calc.py::test_classify"),
    )
    util_cov = ModuleCoverage(
        numbers=CoverageNumbers(statements=2, executed=2), tests=("tests/test_util.py::t",)
    )
    calc = ModuleScorecard(
        module="demo.calc",
        path="demo/calc.py",
        coverage=calc_cov,
        runtime=ModuleRuntime(
            test_seconds=0.75,
            tests=2,
            slowest=(
                TestTiming("tests/test_calc.py::test_classify", 0.5),
                TestTiming("tests/test_calc.py::test_add", 0.25),
            ),
        ),
        mutation=ModuleMutation(
            counts=MutationCounts.from_statuses(m.status for m in MUTANTS),
            mutants=MUTANTS,
            statements=10,
            mutable_statements=8,
        ),
        flakiness=ModuleFlakiness(
            tests_run=2,
            flaky=(
                FlakyTest(
                    "tests/test_calc.py::test_classify",
                    failures=2,
                    runs=10,
                    kind=FlakyClass.ORDER_DEPENDENT,
                    reproduce="pytest -p no:randomly tests/test_state.py::test_set "
                    "tests/test_calc.py::test_classify",
                    polluter="tests/test_state.py::test_set",
                ),
            ),
        ),
    )
    util = ModuleScorecard(
        module="demo.util",
        path="demo/util.py",
        coverage=util_cov,
        runtime=ModuleRuntime(
            test_seconds=0.125, tests=1, slowest=(TestTiming("tests/test_util.py::t", 0.125),)
        ),
        mutation=ModuleMutation(
            counts=MutationCounts(killed=2),
            mutants=(
                Mutant(
                    "demo.util.x_ident__mutmut_1",
                    "demo.util",
                    "ident",
                    2,
                    MutantStatus.KILLED,
                    "--- demo/util.py\n+++ demo/util.py\n@@ -1,2 +1,2 @@\n def ident(x):\n-    return x\n"
                    "+    return None\n",
                ),
                Mutant("demo.util.x_ident__mutmut_2", "demo.util", "ident", 2, MutantStatus.KILLED, ""),
            ),
            statements=2,
            mutable_statements=2,
        ),
        flakiness=ModuleFlakiness(tests_run=1),
    )
    empty = ModuleScorecard(
        module="demo",
        path="demo/__init__.py",
        coverage=ModuleCoverage(numbers=CoverageNumbers()),
        mutation=ModuleMutation(counts=MutationCounts(), not_mutated_reason="no functions"),
        flakiness=ModuleFlakiness(tests_run=0),
    )
    modules = (empty, calc, util)
    totals = ProjectTotals(
        coverage=sum((m.coverage.numbers for m in modules if m.coverage), start=CoverageNumbers()),
        mutation=sum((m.mutation.counts for m in modules if m.mutation), start=MutationCounts()),
        runtime=SuiteRuntime(wall_seconds=(1.5, 1.25, 2.0), workers=2, tests=3),
        tests_run=3,
        flaky_tests=1,
    )
    card = Scorecard(
        project="demo",
        root=root,
        modules=modules,
        totals=totals,
        metrics=tuple(Metric),
        notes=(text_note("3 suite runs in 2 orders"),),
        meta=RunMeta(**META),
    )
    return gate(card, Config())


def write_sources(root: Path) -> Path:
    for rel, text in SOURCES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


LONG_NAMES = {"demo": "harness", "demo.calc": "harness.collectors.mutation_driver",
              "demo.util": "harness.collectors.mutmut_adapter"}
PHASE_SECONDS = {"coverage": 12.34, "runs": 8.1, "flakiness": 2.04, "mutation": 95.4, "total": 118.2}


def long_names_scorecard() -> Scorecard:
    """The terminal goldens' scorecard: the demo's figures under long module names (one with a tier), plus a
    module with a cell of every state: a failing figure, "n/a", "not measured" (mutmut failed on it) and "-"
    (set by hand: no gate leaves it in a shown column today, but the layout must show it apart). It also has
    a regression and the phases' wall times."""
    sc = scorecard()
    renamed = [replace(m, module=LONG_NAMES[m.module]) for m in sc.modules]
    renamed[1] = replace(renamed[1], tier="core")
    mixed = replace(renamed[1], module="harness.reporters.terminal_layout_with_a_very_long_name", tier=None)
    unmeasured = (Unmeasured(mixed.module, Metric.MUTATION_SCORE, "mutmut crashed while generating its mutants",
                             tests=("tests/test_terminal.py::test_layout[80]",)),)
    card = replace(sc, project="quality-harness", modules=(*renamed, mixed), unmeasured=unmeasured,
                   meta=RunMeta(**META, phase_seconds=dict(PHASE_SECONDS)))
    card = gate(card, Config())
    last = card.modules[-1]
    verdicts = tuple(replace(v, status=Status.SKIPPED, value=None) if v.metric is Metric.FLAKY_RATE else v
                     for v in last.verdicts)
    modules = (*card.modules[:-1], replace(last, verdicts=verdicts))
    regression = Regression("harness.collectors.mutmut_adapter", Metric.LINE_COVERAGE, 100.0, 99.0, 0.5)
    return replace(card, modules=modules, regressions=(regression,))


def trend_entries() -> list[HistoryEntry]:
    """The trend goldens' history: three runs of the long-names scorecard (a dirty tree, a run that passed, a
    run whose project figures were not all measured), real ISO times with their UTC offset."""
    base = entry_from_scorecard(long_names_scorecard())
    return [
        replace(base, time="2026-11-28T09:15:02+00:00", dirty=True),
        replace(base, time="2026-11-29T17:40:59+00:00", commit="89abcdef" * 5, passed=True, missed=0,
                regressed=0, suite_runtime=123.456),
        replace(base, time="2026-11-30T06:21:48+00:00", config_fingerprint=None,
                totals=replace(base.totals, mutation_score=None, flaky_rate=100.0)),
    ]
