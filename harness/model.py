"""The typed data that joins collectors, aggregation, the gate and reporters.

Small frozen dataclasses. The collectors' per-metric stats (counts that derive percentages and sum with ``+``)
live in :mod:`harness.stats` and the metric table in :mod:`harness.metrics`, both re-exported here; this module
adds what the gate and the reporters work on: verdicts, regressions, quarantine and not-measured cells, and the
scorecards of modules and of the whole run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from harness.metrics import METRICS as METRICS
from harness.metrics import MODULE_METRICS as MODULE_METRICS
from harness.metrics import Metric as Metric
from harness.metrics import MetricSpec as MetricSpec
from harness.notes import Note as Note
from harness.notes import NoteKind as NoteKind
from harness.stats import CoverageNumbers as CoverageNumbers
from harness.stats import FlakyClass as FlakyClass
from harness.stats import FlakyTest as FlakyTest
from harness.stats import ModuleCoverage as ModuleCoverage
from harness.stats import ModuleFlakiness as ModuleFlakiness
from harness.stats import ModuleMutation as ModuleMutation
from harness.stats import ModuleRuntime as ModuleRuntime
from harness.stats import Mutant as Mutant
from harness.stats import MutantStatus as MutantStatus
from harness.stats import MutationCounts as MutationCounts
from harness.stats import SuiteRuntime as SuiteRuntime
from harness.stats import TestTiming as TestTiming
from harness.stats import detectable_probability as detectable_probability
from harness.stats import percent as percent
from harness.stats import runs_needed as runs_needed

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
        """How the target reads: ">= 75", "< 10", and "= 0" for a lower-is-better target of 0 (the gate
        passes exactly 0 there; "< 0" would read as unmeetable)."""
        if self.kind == "min":
            return ">="
        return "=" if self.target == 0 else "<"


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


OMIT_IF_NONE = {"omit_if_none": True}  # a field's metadata: not written to JSON while None (serialize.to_data)


@dataclass(frozen=True)
class RunMeta:
    """The run's facts (``Scorecard.meta``): set by the pipeline (``run_meta``), completed by the ratchet
    (``history.run_facts``, the baseline). Written under these names, in this order."""

    time: str = ""  # ISO 8601, UTC; "" when unknown
    harness_version: str = ""
    python: str = ""
    config_source: str | None = None
    profile: str | None = None
    workers: int = 0
    phase_seconds: dict[str, float] = field(default_factory=dict, hash=False)  # wall seconds by phase and "total"
    commit: str | None = None  # git HEAD of the target; None outside git
    dirty: bool = False
    config_fingerprint: str | None = None  # history.config_fingerprint
    baseline: str | None = field(default=None, metadata=OMIT_IF_NONE)  # the ratchet's baseline, when one was used


@dataclass(frozen=True)
class Scorecard:
    """The whole run: one scorecard per module plus project totals and the run's metadata."""

    project: str
    root: str
    modules: tuple[ModuleScorecard, ...]
    totals: ProjectTotals
    metrics: tuple[Metric, ...]  # the metrics measured in this run
    notes: tuple[Note, ...] = ()
    meta: RunMeta = field(default_factory=RunMeta, compare=False)
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
    def quarantine_meaning(self) -> str:
        """What being quarantined did in this run (the reports' sentence): with mutation off, nothing was left
        out of anything."""
        if Metric.MUTATION_SCORE in self.metrics:
            return ("Left out of the mutation phase: they cannot judge mutants. Mutants only they cover count as "
                    "not covered.")
        return ("Flaky or broken on unchanged code. Mutation was off in this run; with it on, they are left out "
                "of the mutation phase.")

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
