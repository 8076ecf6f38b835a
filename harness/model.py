"""The typed data that joins collectors, aggregation, the gate and reporters.

Small frozen dataclasses that store *counts* and derive percentages. Every stats type supports ``+`` (and so
``sum()``), which is how project totals and merged shards are computed: one code path for both.
Percentages are ``None`` ("n/a") when their denominator is zero - never 0 % and never 100 %.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any, Self

from harness.metrics import METRICS as METRICS
from harness.metrics import MODULE_METRICS as MODULE_METRICS
from harness.metrics import Metric as Metric
from harness.metrics import MetricSpec as MetricSpec


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
    NO_COVERAGE = "no_coverage"  # no test executes the mutated function ("no tests" in mutmut)
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


# --------------------------------------------------------------------------------------------------- verdicts


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NA = "n/a"  # nothing to measure (no statements, no mutants, no tests)
    SKIPPED = "skipped"  # the metric's collector was not run (disabled by config)
    # The collector ran but could not measure this cell (a tool failed on it, every usable test was
    # quarantined, an artifact went missing). Never passes the gate; the run exits 3 after writing every report.
    NOT_MEASURED = "not measured"


@dataclass(frozen=True)
class Verdict:
    """One metric of one module (or of the project) checked against its target."""

    metric: Metric
    status: Status
    value: float | None
    target: float
    # "min": value must be >= target (coverage, score); "max": value must be < target (runtime, flaky rate).
    kind: str
    reason: str = ""

    @property
    def comparison(self) -> str:
        return ">=" if self.kind == "min" else "<"


@dataclass(frozen=True)
class Regression:
    """A figure that got worse than the baseline's by more than the ratchet's tolerance (see harness.ratchet).

    ``module`` is a module name or "project"; ``tolerance`` is in the metric's unit (percentage points for
    percentages, percent of the baseline for suite runtime).
    """

    module: str
    metric: Metric
    baseline: float
    value: float
    tolerance: float


@dataclass(frozen=True)
class ModuleChanges:
    """Diff mode (``--since REF``): the module's lines and functions changed since ``since``, and the figures
    restricted to them, reported beside the whole module's.

    Changed-lines coverage counts the changed lines that are statements, and the branches leaving them.
    The mutation counts are those of the changed functions' mutants (the only ones a diff-mode run tests).
    """

    since: str
    lines: tuple[int, ...] = ()
    functions: tuple[str, ...] = ()
    coverage: CoverageNumbers | None = None
    missing_lines: tuple[int, ...] = ()
    missing_arcs: tuple[tuple[int, int], ...] = ()
    mutation: MutationCounts | None = None


class QuarantineCause(StrEnum):
    """Why a test was left out of the mutation phase (it cannot judge mutants). Read from its traceback."""

    PICKLING = "pickling"  # pickles a class or function of a mutated module (mutmut's trampolines)
    RECURSION = "recursion"  # hits the recursion limit under mutmut's added frames
    INTROSPECTION = "introspection"  # inspects module contents, signatures or __all__ (mutmut's injected names)
    STATE_LEAK = "state-leak"  # passes alone, fails after other tests in mutmut's single process
    FLAKY = "flaky"  # found flaky by the flakiness phase
    BROKEN = "broken"  # fails in every run of unchanged code
    PARALLEL_UNSAFE = "parallel-unsafe"  # fails only when run in parallel with another test
    INSTRUMENTED = "instrumented"  # fails on the instrumented copy for another reason
    MANUAL = "manual"  # quarantined by the user (config key mutation.quarantine)


@dataclass(frozen=True)
class QuarantinedTest:
    """A test left out of the mutation phase, with its cause, the evidence and a command that reproduces it."""

    nodeid: str
    cause: QuarantineCause
    detail: str = ""
    reproduce: str = ""


@dataclass(frozen=True)
class Unmeasured:
    """A cell (module x metric, or the project's metric when ``module`` is "project") that could not be measured.

    ``cause`` says why in one sentence; ``tests`` and ``modules`` name what is behind it (quarantined tests, the
    modules a tool failed on). The gate turns each into a NOT_MEASURED verdict; the run exits 3.
    """

    module: str
    metric: Metric
    cause: str
    tests: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModuleScorecard:
    module: str
    path: str
    tier: str | None = None
    coverage: ModuleCoverage | None = None
    runtime: ModuleRuntime | None = None
    mutation: ModuleMutation | None = None
    flakiness: ModuleFlakiness | None = None
    verdicts: tuple[Verdict, ...] = ()
    changes: ModuleChanges | None = None  # diff mode only

    @property
    def passed(self) -> bool:
        """No target missed and nothing left unmeasured (a NOT_MEASURED cell never passes)."""
        return all(v.status not in (Status.FAIL, Status.NOT_MEASURED) for v in self.verdicts)


@dataclass(frozen=True)
class ProjectTotals:
    coverage: CoverageNumbers | None = None
    mutation: MutationCounts | None = None
    runtime: SuiteRuntime | None = None
    tests_run: int = 0
    flaky_tests: int = 0
    verdicts: tuple[Verdict, ...] = ()
    # Runs the flakiness collector judged each test over (repeated runs + the coverage run); 0 = not measured.
    flaky_runs: int = 0
    # Test functions whose parametrize ids changed between runs (timestamps, random tokens): those ids are
    # neither counted as tests run nor judged flaky.
    unstable_ids: tuple[str, ...] = ()
    # Tests that fail only in parallel runs, with the tests they collided with (not counted as flaky).
    parallel_unsafe: tuple[FlakyTest, ...] = ()

    @property
    def flaky_rate(self) -> float | None:
        return percent(self.flaky_tests, self.tests_run)

    @property
    def flaky_detectable(self) -> float | None:
        """Detection power: the smallest failure probability seen at 95 % confidence in ``flaky_runs``."""
        return detectable_probability(self.flaky_runs)


@dataclass(frozen=True)
class Scorecard:
    """The whole run: one scorecard per module plus project totals and the run's metadata."""

    project: str
    root: str
    modules: tuple[ModuleScorecard, ...]
    totals: ProjectTotals
    metrics: tuple[Metric, ...]  # the metrics measured in this run
    notes: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict, compare=False)
    # Set by the gate when a baseline was given: what regressed beyond the ratchet's tolerance.
    regressions: tuple[Regression, ...] = ()
    # Cells that could not be measured, with their causes (see Unmeasured), and tests left out of mutation.
    unmeasured: tuple[Unmeasured, ...] = ()
    quarantined: tuple[QuarantinedTest, ...] = ()

    @property
    def passed(self) -> bool:
        return all(m.passed for m in self.modules) and all(
            v.status not in (Status.FAIL, Status.NOT_MEASURED) for v in self.totals.verdicts
        ) and not self.regressions

    @property
    def complete(self) -> bool:
        """Every enabled cell has a figure or a structural n/a: nothing is NOT_MEASURED."""
        return not self.unmeasured and not any(
            v.status is Status.NOT_MEASURED for m in self.modules for v in m.verdicts
        ) and not any(v.status is Status.NOT_MEASURED for v in self.totals.verdicts)

    @property
    def violations(self) -> tuple[tuple[str, Verdict], ...]:
        """(module or "project", verdict) for every missed target."""
        out = [(m.module, v) for m in self.modules for v in m.verdicts if v.status is Status.FAIL]
        out += [("project", v) for v in self.totals.verdicts if v.status is Status.FAIL]
        return tuple(out)
