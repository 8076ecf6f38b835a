"""The collectors' typed stats, per metric: coverage numbers, runtime, mutation counts and verdicts, flakiness.

Small frozen dataclasses that store *counts* and derive percentages. Every stats type supports ``+`` (and so
``sum()``), which is how project totals and merged shards are computed: one code path for both.
Percentages are ``None`` ("n/a") when their denominator is zero - never 0 % and never 100 %.
Re-exported by :mod:`harness.model`.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any, Self


def percent(numerator: int, denominator: int) -> float | None:
    """``100 * numerator / denominator``, or ``None`` (n/a) when there is nothing to divide by."""
    if denominator <= 0:
        return None
    return 100.0 * numerator / denominator


class _Summable:
    """Field-wise ``+`` for dataclasses of ints (and tuples, which concatenate); ``0 + x == x`` for ``sum()``."""

    def __add__(self, other: Self) -> Self:
        if not isinstance(other, type(self)):
            return NotImplemented
        values: dict[str, Any] = {}
        for f in fields(self):  # type: ignore[arg-type]
            values[f.name] = getattr(self, f.name) + getattr(other, f.name)
        return type(self)(**values)

    def __radd__(self, other: object) -> Self:
        if other == 0:
            return self
        return NotImplemented


# --------------------------------------------------------------------------------------------------- coverage


@dataclass(frozen=True)
class CoverageNumbers(_Summable):
    """coverage.py's counts for one module (or, summed, for many).

    Line coverage   = executed statements / statements.
    Branch coverage = covered branches (arcs) / possible branches, coverage.py's branch data.
    """

    statements: int = 0
    executed: int = 0
    excluded: int = 0
    branches: int = 0
    covered_branches: int = 0
    partial_branches: int = 0

    @property
    def missing(self) -> int:
        return self.statements - self.executed

    @property
    def missing_branches(self) -> int:
        return self.branches - self.covered_branches

    @property
    def line_percent(self) -> float | None:
        return percent(self.executed, self.statements)

    @property
    def branch_percent(self) -> float | None:
        return percent(self.covered_branches, self.branches)


@dataclass(frozen=True)
class ModuleCoverage:
    """One module's coverage: the counts plus the exact lines and arcs a developer must look at."""

    numbers: CoverageNumbers
    missing_lines: tuple[int, ...] = ()
    excluded_lines: tuple[int, ...] = ()
    # (from, to) pairs; to < 0 means "exit", printed ``12->exit`` as coverage.py does.
    missing_arcs: tuple[tuple[int, int], ...] = ()
    # Test node ids whose per-test context executed at least one line of this module (who tests what).
    tests: tuple[str, ...] = ()

    @staticmethod
    def format_arc(arc: tuple[int, int]) -> str:
        start, end = arc
        return f"{start}->{end if end > 0 else 'exit'}"

    @property
    def missing_arcs_text(self) -> tuple[str, ...]:
        return tuple(self.format_arc(a) for a in self.missing_arcs)


# --------------------------------------------------------------------------------------------------- runtime


@dataclass(frozen=True)
class TestTiming:
    """One test's duration (setup + call + teardown), the median over the runs it passed in."""

    __test__ = False  # not a pytest test class

    nodeid: str
    seconds: float


@dataclass(frozen=True)
class SuiteRuntime:
    """Wall-clock seconds of each uninstrumented pytest-xdist run of the whole suite.

    Runtime = the median of the runs' wall times; min and max are reported beside it. The gate reads the wall
    time. ``cpu_seconds`` (user + system CPU of pytest and its workers, per run) is reported beside it: load
    from other jobs on the machine moves it far less than wall time.
    """

    wall_seconds: tuple[float, ...]
    workers: int
    tests: int
    cpu_seconds: tuple[float, ...] = ()

    @property
    def cpu_median(self) -> float | None:
        return statistics.median(self.cpu_seconds) if self.cpu_seconds else None

    @property
    def median(self) -> float | None:
        return statistics.median(self.wall_seconds) if self.wall_seconds else None

    @property
    def minimum(self) -> float | None:
        return min(self.wall_seconds) if self.wall_seconds else None

    @property
    def maximum(self) -> float | None:
        return max(self.wall_seconds) if self.wall_seconds else None


@dataclass(frozen=True)
class ModuleRuntime:
    """What a module's tests cost: the summed duration of the tests that execute it, and its slowest tests."""

    test_seconds: float
    tests: int
    slowest: tuple[TestTiming, ...] = ()


# --------------------------------------------------------------------------------------------------- mutation


class MutantStatus(StrEnum):
    """A mutant's outcome, in the harness's vocabulary (mapped from mutmut's in one table in its adapter)."""

    KILLED = "killed"
    TIMEOUT = "timeout"
    SURVIVED = "survived"
    NO_COVERAGE = "no_coverage"  # no test executes the mutated line (function level: function); mutmut "no tests"
    SUSPICIOUS = "suspicious"
    SKIPPED = "skipped"
    INTERRUPTED = "interrupted"
    NOT_CHECKED = "not_checked"


@dataclass(frozen=True)
class MutationCounts(_Summable):
    """Mutant counts by status.

    Mutation score (Stryker's definition) = detected / valid, where detected = killed + timeout and
    valid = detected + survived + no_coverage. Suspicious, skipped, interrupted and not-checked mutants are
    excluded from valid and reported separately. Score on covered code = detected / (detected + survived).
    """

    killed: int = 0
    timeout: int = 0
    survived: int = 0
    no_coverage: int = 0
    suspicious: int = 0
    skipped: int = 0
    interrupted: int = 0
    not_checked: int = 0

    @classmethod
    def from_statuses(cls, statuses: Iterable[MutantStatus]) -> MutationCounts:
        counts = dict.fromkeys((f.name for f in fields(cls)), 0)
        for status in statuses:
            counts[status.value] += 1
        return cls(**counts)

    @property
    def total(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self))

    @property
    def detected(self) -> int:
        return self.killed + self.timeout

    @property
    def valid(self) -> int:
        return self.detected + self.survived + self.no_coverage

    @property
    def score(self) -> float | None:
        return percent(self.detected, self.valid)

    @property
    def covered_score(self) -> float | None:
        return percent(self.detected, self.detected + self.survived)


@dataclass(frozen=True)
class Mutant:
    """One mutant a developer may need to act on (survivors and no-coverage mutants are listed)."""

    name: str
    module: str
    function: str
    line: int | None
    status: MutantStatus
    diff: str = ""
    duration: float | None = None
    note: str = ""  # e.g. "killed by the memory limit"


@dataclass(frozen=True)
class ModuleMutation:
    """A module's mutation result: counts, the mutants to act on, and what mutmut could not reach.

    ``mutable_statements / statements`` is the share of the module mutmut can mutate at all (it does not mutate
    module-level code, class bodies or most decorated functions).
    """

    counts: MutationCounts
    mutants: tuple[Mutant, ...] = ()
    statements: int = 0
    mutable_statements: int = 0
    unmutable_functions: tuple[str, ...] = ()
    not_mutated_reason: str | None = None
    # Sampled runs (config ``sample``): the module's mutants in scope before sampling; 0 when all of them ran.
    population: int = 0

    @property
    def reachable_percent(self) -> float | None:
        return percent(self.mutable_statements, self.statements)

    @property
    def score_interval(self) -> tuple[float, float] | None:
        """The score's 95 % Wilson interval, in percent, when the mutants were sampled (harness.sampling)."""
        if not self.population:
            return None
        from harness.sampling import wilson

        return wilson(self.counts.detected, self.counts.valid)


# --------------------------------------------------------------------------------------------------- flakiness


def runs_needed(probability: float, confidence: float = 0.95) -> int:
    """The fewest runs n that see a test failing with ``probability`` at least once: 1-(1-p)^n >= conf."""
    if not 0 < probability <= 1:
        raise ValueError("probability must be in (0, 1]")
    n = 1
    while 1 - (1 - probability) ** n < confidence:
        n += 1
    return n


def detectable_probability(runs: int, confidence: float = 0.95) -> float | None:
    """The smallest failure probability p seen at least once in ``runs`` runs with ``confidence``.

    1-(1-p)^n >= confidence  <=>  p >= 1-(1-confidence)^(1/n). None (n/a) for no runs: nothing is detectable.
    """
    if runs <= 0:
        return None
    return 1 - float((1 - confidence) ** (1 / runs))


class FlakyClass(StrEnum):
    ORDER_DEPENDENT = "order-dependent"  # fails only after certain tests (or only without them)
    NON_DETERMINISTIC = "non-deterministic"  # fails and passes in the same order, or alone
    UNCLASSIFIED = "unclassified"  # not re-run (over flakiness.max_classified)
    # Fails only when run in parallel (pytest-xdist) beside another test - a shared database, Redis or file -
    # and passes in every serial run and alone. Not flaky: reported apart and not counted in the flaky rate.
    PARALLEL_UNSAFE = "parallel-unsafe"


@dataclass(frozen=True)
class FlakyTest:
    """A test that both passed and failed across repeated runs of unchanged code.

    ``reproduce`` is a one-line command to run in the project root; for an order-dependent test it fails as
    printed. ``polluter`` is the preceding test whose state makes it fail (found by bisection); ``detail``
    says how the class was established.
    """

    nodeid: str
    failures: int
    runs: int
    kind: FlakyClass
    reproduce: str
    polluter: str | None = None
    detail: str = ""

    @property
    def failure_rate(self) -> float:
        return self.failures / self.runs if self.runs else 0.0


@dataclass(frozen=True)
class ModuleFlakiness:
    """Flaky rate = tests that both passed and failed across repeated runs of unchanged code / tests run."""

    tests_run: int
    flaky: tuple[FlakyTest, ...] = ()

    @property
    def rate(self) -> float | None:
        return percent(len(self.flaky), self.tests_run)
