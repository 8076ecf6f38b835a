"""The one interface every collector implements, and what the collectors have measured so far.

A collector says which metrics it measures (``metrics``), what it needs (``needs``: the fields of
:class:`Measured` earlier collectors filled), whether it runs (``enabled``), runs its tools (``run`` -> raw
artifacts under ``reports/raw/``), turns the artifacts into typed stats (``parse``) and keeps them in
:class:`Measured` (``keep``). A collector whose tools fail says which cells are left NOT_MEASURED (``lost``) or
lets the error end the run. ``pipeline.run`` iterates the collectors with :func:`measure_all`; adding a metric
means adding a collector, a :class:`~harness.metrics.MetricSpec` and a field.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from harness.collectors.coverage import CoverageArtifacts, CoverageResult
from harness.collectors.flakiness import FlakinessResult
from harness.collectors.mutation import MutationResult
from harness.config import Config
from harness.discover import Project
from harness.errors import HarnessError, ToolError
from harness.model import Metric, ModuleChanges, ModuleRuntime, Note, QuarantinedTest, SuiteRuntime, Unmeasured
from harness.progress import PhaseClock
from harness.workspace import Workspace


@dataclass(frozen=True)
class Context:
    """What every collector works in: the project, its workspace (work copy, raw artifacts) and the clock that
    reports progress."""

    project: Project
    ws: Workspace
    clock: PhaseClock


@dataclass(frozen=True)
class RunsOutcome:
    """What the uninstrumented runs measured: runtime, flakiness (None when off or failed), lost cells."""

    suite_runtime: SuiteRuntime | None = None
    runtime_by_module: dict[str, ModuleRuntime] | None = None
    flaky: FlakinessResult | None = None
    unmeasured: tuple[Unmeasured, ...] = ()


@dataclass
class Measured:
    """The collectors' results so far, filled in order; the pipeline turns the last one into ``aggregate.Results``.

    ``cfg`` is the config the phases use (the coverage phase may fall back to serial runs for all of them).
    """

    cfg: Config
    metrics: tuple[Metric, ...]
    changes: dict[str, ModuleChanges] | None = None  # diff mode
    notes: list[Note] = field(default_factory=list)
    unmeasured: list[Unmeasured] = field(default_factory=list)
    quarantine: list[QuarantinedTest] = field(default_factory=list)
    coverage_art: CoverageArtifacts | None = None
    coverage: CoverageResult | None = None
    runs: RunsOutcome = field(default_factory=RunsOutcome)
    mutation: MutationResult | None = None


A = TypeVar("A")
S = TypeVar("S")


class Collector(Protocol[A, S]):
    """One phase of measurement (see the module docstring)."""

    name: str
    needs: tuple[str, ...]  # the Measured fields it reads

    def metrics(self, cfg: Config) -> tuple[Metric, ...]:
        """The metrics it measures (and the gate checks) with this config."""

    def enabled(self, ctx: Context, measured: Measured) -> bool: ...

    def begin(self, ctx: Context, measured: Measured) -> None:
        """Announce the phase (once, before the first ``run``)."""

    def run(self, ctx: Context, measured: Measured) -> A:
        """Run the tools; leave their artifacts under ``reports/raw/<name>/`` and return where they are."""

    def parse(self, art: A, ctx: Context, measured: Measured) -> S:
        """The artifacts as typed stats."""

    def retry(self, exc: HarnessError, ctx: Context, measured: Measured) -> bool:
        """``parse`` refused the artifacts: True after changing ``measured`` so that running again can work."""

    def keep(self, stats: S, ctx: Context, measured: Measured) -> None:
        """Put the stats (and the notes, quarantine and cells they bring) into ``measured``."""

    def lost(self, exc: ToolError, ctx: Context, measured: Measured) -> bool:
        """The tools failed: mark the cells left NOT_MEASURED in ``measured`` and return True (the run goes on),
        or False (the error ends the run)."""


def measure(collector: Collector[Any, Any], ctx: Context, measured: Measured) -> None:
    """One collector's phase: run, parse (running again while it asks to retry), keep; or its lost cells."""
    if not collector.enabled(ctx, measured):
        return
    missing = [n for n in collector.needs if getattr(measured, n) is None]
    if missing:
        raise AssertionError(f"collector {collector.name} needs {', '.join(missing)}, not measured before it")
    collector.begin(ctx, measured)
    try:
        while True:
            art = collector.run(ctx, measured)
            try:
                stats = collector.parse(art, ctx, measured)
                break
            except HarnessError as exc:
                if not collector.retry(exc, ctx, measured):
                    raise
        collector.keep(stats, ctx, measured)
    except ToolError as exc:
        if not collector.lost(exc, ctx, measured):
            raise


def measure_all(collectors: Sequence[Collector[Any, Any]], ctx: Context, measured: Measured) -> Measured:
    """Every collector in order, each reading what the earlier ones kept."""
    for collector in collectors:
        measure(collector, ctx, measured)
    return measured
