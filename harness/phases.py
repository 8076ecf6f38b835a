"""The run's collectors (:class:`harness.collectors.base.Collector`), in the order ``pipeline.run`` iterates them:

- :class:`CoverageCollector`: pytest under coverage.py, the *clean run*; falls back to serial runs when
  pytest-xdist's workers collect different test ids; the coverage of diff mode's changed lines;
- :class:`RunsCollector`: the repeated uninstrumented runs, parsed into runtime and judged for flakiness; then
  the tests the mutation phase must leave out (broken, flaky, known flaky from earlier sessions);
- :class:`MutationCollector`: mutmut in its sandbox, on the mutants in scope (diff mode, sample, shard).

Each phase's failure past the coverage phase leaves its cells NOT_MEASURED with the cause; the run goes on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from harness import diffscope, history, shard_plan
from harness.collectors import coverage as coverage_collector
from harness.collectors import flakiness as flakiness_collector
from harness.collectors import mutation as mutation_collector
from harness.collectors import runtime as runtime_collector
from harness.collectors import suite_runs
from harness.collectors.base import Context, Measured, RunsOutcome
from harness.collectors.pytest_run import reproduce_command
from harness.collectors.records import RunRecord, UnstableIdsError, broken_files
from harness.config import Config
from harness.discover import Project
from harness.errors import HarnessError, ToolError
from harness.model import (
    Metric,
    ModuleChanges,
    QuarantineCause,
    QuarantinedTest,
    Unmeasured,
)
from harness.notes import Note, NoteKind, note
from harness.progress import Phase
from harness.sampling import Scope

CoverageStats = tuple[coverage_collector.CoverageArtifacts, coverage_collector.CoverageResult]


class CoverageCollector:
    name = "coverage"
    needs: tuple[str, ...] = ()

    def metrics(self, cfg: Config) -> tuple[Metric, ...]:
        return (Metric.LINE_COVERAGE, Metric.BRANCH_COVERAGE) if cfg.coverage.enabled else ()

    def enabled(self, ctx: Context, measured: Measured) -> bool:
        return True  # every other metric needs its per-test data (pipeline.run refuses it disabled)

    def begin(self, ctx: Context, measured: Measured) -> None:
        ctx.clock.begin(Phase.COVERAGE, "running the suite under coverage.py (branch mode, per-test contexts)")

    def run(self, ctx: Context, measured: Measured) -> coverage_collector.CoverageArtifacts:
        def tick(done: int, total: int, test: str) -> None:
            ctx.clock.step(done, total or None, current=test)

        cfg = measured.cfg
        # not with the flakiness phase: it judges this run's coverage run as one of its runs (same count, same
        # detection power, and no earlier run counted twice in the accumulated evidence)
        reuse = ctx.ws.cache / "verdicts" if cfg.coverage.reuse and not cfg.flakiness.enabled else None
        return coverage_collector.run(ctx.project, cfg, ctx.ws.work, ctx.ws.raw, progress=tick, reuse=reuse)

    def parse(self, art: coverage_collector.CoverageArtifacts, ctx: Context, measured: Measured) -> CoverageStats:
        return art, coverage_collector.parse(art, ctx.project)

    def retry(self, exc: HarnessError, ctx: Context, measured: Measured) -> bool:
        """Where pytest-xdist's workers disagree on the test ids (ids built from the time or random values),
        every phase falls back to serial runs, with a note."""
        if not isinstance(exc, UnstableIdsError) or measured.cfg.effective_workers() <= 1:
            return False
        serial = note(NoteKind.XDIST_SERIAL, workers=measured.cfg.effective_workers())
        ctx.clock.note("coverage: " + serial.text)
        measured.cfg = replace(measured.cfg, workers=1)
        measured.notes.append(serial)
        return True

    def keep(self, stats: CoverageStats, ctx: Context, measured: Measured) -> None:
        measured.coverage_art, measured.coverage = stats
        facts = stats[1].reused
        if facts is not None:
            created, key = facts.get("created") or "an earlier run", str(facts.get("key") or "")[:12]
            reused = (note(NoteKind.COVERAGE_INCREMENT, created=created, key=key, changed=facts["changed"],
                           rerun=facts.get("rerun", 0), tests=facts.get("tests", 0)) if facts.get("changed")
                      else note(NoteKind.COVERAGE_REUSED, created=created, key=key))
            ctx.clock.note("coverage: " + reused.text)
            measured.notes.append(reused)
        if measured.changes is not None:
            measured.changes = diffscope.with_coverage(
                measured.changes, coverage_collector.read_report(stats[0]), ctx.project, ctx.ws.work)

    def lost(self, exc: ToolError, ctx: Context, measured: Measured) -> bool:
        return False  # nothing measured at all: the run fails


class RunsCollector:
    """Runtime and flakiness share one list of uninstrumented runs (``suite_runs.plan``)."""

    name = "runs"
    needs: tuple[str, ...] = ("coverage",)

    def __init__(self) -> None:
        self.specs: list[suite_runs.RunSpec] = []

    def metrics(self, cfg: Config) -> tuple[Metric, ...]:
        return (*((Metric.SUITE_RUNTIME,) if cfg.runtime.enabled else ()),
                *((Metric.FLAKY_RATE,) if cfg.flakiness.enabled else ()))

    def enabled(self, ctx: Context, measured: Measured) -> bool:
        return True  # with no runs planned it still finds the tests the mutation phase leaves out

    def _phases(self, cfg: Config) -> str:
        return " and ".join(p for p, on in (("runtime", cfg.runtime.enabled),
                                              ("flakiness", cfg.flakiness.enabled)) if on)

    def begin(self, ctx: Context, measured: Measured) -> None:
        self.specs = suite_runs.plan(measured.cfg)
        if self.specs:
            ctx.clock.begin(Phase.RUNS, f"{self._phases(measured.cfg)}: {len(self.specs)} uninstrumented runs "
                                        f"of the suite")

    def run(self, ctx: Context, measured: Measured) -> list[RunRecord]:
        if not self.specs:
            return []
        return suite_runs.run(ctx.project, measured.cfg, ctx.ws.work, ctx.ws.raw, self.specs,
                              progress=ctx.clock.step)

    def parse(self, records: list[RunRecord], ctx: Context, measured: Measured) -> RunsOutcome:
        """Runtime from the runs (pure); flakiness judges them and re-runs the flaky tests to classify them. A
        failure keeps a suite runtime already parsed."""
        if not self.specs:
            return RunsOutcome()
        cfg, cov = measured.cfg, measured.coverage
        assert cov is not None
        suite_runtime = runtime_by_module = flaky = None
        try:
            if cfg.runtime.enabled:
                suite_runtime, runtime_by_module = runtime_collector.parse(
                    records, cov.tests_by_module, cfg.effective_workers(), cfg.runtime.slowest)
            if cfg.flakiness.enabled:
                ctx.clock.begin(Phase.FLAKINESS, "judging every test over the runs, re-running the flaky ones")
                judged = None if cov.reused else cov.record  # a reused run was judged when it ran
                flaky = flakiness_collector.analyse(ctx.project, cfg, ctx.ws.work, ctx.ws.raw, judged, records,
                                                    self.specs, cov.tests_by_module, progress=ctx.clock.step)
                flakiness_collector.write_report(flaky, ctx.ws.raw)
        except ToolError as exc:
            return self._failed(exc, ctx, measured, RunsOutcome(suite_runtime, runtime_by_module, flaky))
        return RunsOutcome(suite_runtime, runtime_by_module, flaky)

    def _failed(self, exc: ToolError, ctx: Context, measured: Measured, partial: RunsOutcome) -> RunsOutcome:
        """The cells of the metrics the runs did not measure, NOT_MEASURED (a suite runtime parsed is kept)."""
        phases = self._phases(measured.cfg)
        ctx.clock.note(f"{phases}: could not measure: {exc}")
        lost = [m for m in (Metric.SUITE_RUNTIME, Metric.FLAKY_RATE) if m in measured.metrics
                and not (m is Metric.SUITE_RUNTIME and partial.suite_runtime is not None)]
        return replace(partial, unmeasured=tuple(unmeasured_everywhere(
            ctx.project, lost, f"{phases} phase failed: {exc}", project_level=True)))

    def keep(self, stats: RunsOutcome, ctx: Context, measured: Measured) -> None:
        measured.runs = stats
        measured.unmeasured += stats.unmeasured
        cfg, flaky = measured.cfg, stats.flaky
        assert measured.coverage is not None
        quarantine = quarantine_from_runs(measured.coverage.record, flaky, cfg)
        if flaky is not None and cfg.history.enabled and not cfg.mutation.shard:
            known, evidence_note = accumulated_evidence(ctx.ws.reports, flaky, cfg)
            quarantine = merge_quarantine(quarantine, known)
            measured.notes.append(evidence_note)
        measured.quarantine = quarantine

    def retry(self, exc: HarnessError, ctx: Context, measured: Measured) -> bool:
        return False

    def lost(self, exc: ToolError, ctx: Context, measured: Measured) -> bool:
        self.keep(self._failed(exc, ctx, measured, RunsOutcome()), ctx, measured)
        return True


class MutationCollector:
    name = "mutation"
    needs: tuple[str, ...] = ("coverage",)

    def __init__(self) -> None:
        self.scope = Scope()
        self.shard: mutation_collector.Shard | None = None

    def metrics(self, cfg: Config) -> tuple[Metric, ...]:
        # a shard's partial score is gated after `harness merge`
        return (Metric.MUTATION_SCORE,) if cfg.mutation.enabled and not cfg.mutation.shard else ()

    def enabled(self, ctx: Context, measured: Measured) -> bool:
        """Enabled and, in diff mode, some function changed."""
        cfg = measured.cfg
        self.scope = mutation_scope(cfg, measured.changes)
        nothing_changed = self.scope.functions is not None and not any(self.scope.functions.values())
        if cfg.mutation.enabled and nothing_changed:
            ctx.clock.note(f"mutation: no function changed since {cfg.since}: no mutant to test")
        return cfg.mutation.enabled and not nothing_changed

    def begin(self, ctx: Context, measured: Measured) -> None:
        cfg = measured.cfg
        self.shard = mutation_collector.Shard.parse(cfg.mutation.shard) if cfg.mutation.shard else None
        if self.shard is not None:  # the plan every shard reads (harness.shard_plan), else the name-hash rule
            path = shard_plan.path_for(ctx.ws.root, cfg.mutation.shard_plan, ctx.ws.cache)
            self.shard = shard_plan.for_shard(self.shard, path, ctx.ws.root)
        ctx.clock.begin(Phase.MUTATION, "mutmut 3 in the sandbox " + (f"(shard {self.shard}) " if self.shard else "")
                        + "- generating mutants, mapping tests, clean and forced-fail checks")

    def run(self, ctx: Context, measured: Measured) -> mutation_collector.MutationArtifacts:
        def tick(done: int, total: int, eta: float | None) -> None:
            ctx.clock.step(done, total, eta=eta)

        return mutation_collector.run(ctx.project, measured.cfg, ctx.ws, shard=self.shard, progress=tick,
                                      scope=self.scope, quarantine=measured.quarantine)

    def parse(self, art: mutation_collector.MutationArtifacts, ctx: Context,
              measured: Measured) -> mutation_collector.MutationResult:
        return mutation_collector.parse(art, ctx.project)

    def retry(self, exc: HarnessError, ctx: Context, measured: Measured) -> bool:
        return False

    def keep(self, stats: mutation_collector.MutationResult, ctx: Context, measured: Measured) -> None:
        """The results; their quarantine joins the earlier phases' (their unmeasured cells: pipeline.collected)."""
        measured.mutation = stats
        measured.quarantine = merge_quarantine(measured.quarantine, stats.quarantined)

    def lost(self, exc: ToolError, ctx: Context, measured: Measured) -> bool:
        """Every selected module's mutation cell NOT_MEASURED with the cause."""
        ctx.clock.note(f"mutation: could not measure: {exc}")
        modules = mutation_collector.selected_modules(ctx.project, measured.cfg)
        measured.unmeasured += [Unmeasured(m.name, Metric.MUTATION_SCORE, f"mutation phase failed: {exc}")
                                for m in modules]
        return True


def collectors() -> tuple[CoverageCollector, RunsCollector, MutationCollector]:
    """A run's collectors, in order (fresh objects: a collector keeps its phase's plan while it runs)."""
    return CoverageCollector(), RunsCollector(), MutationCollector()


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
                         cfg: Config) -> tuple[list[QuarantinedTest], Note]:
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
    return known, note(NoteKind.FLAKY_EVIDENCE, sessions=sessions, median_runs=median_runs, known=len(known),
                       shown=[list(evidence[q.nodeid].facts(q.nodeid)) for q in known[:5]])


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


def merge_quarantine(first: Sequence[QuarantinedTest], second: Sequence[QuarantinedTest]) -> list[QuarantinedTest]:
    """One entry per test: the earlier phases' finding, else the mutation phase's."""
    seen = {q.nodeid for q in first}
    return [*first, *(q for q in second if q.nodeid not in seen)]


def mutation_scope(cfg: Config, changes: dict[str, ModuleChanges] | None) -> Scope:
    """Which mutants to test: the changed functions' (diff mode), then a seeded sample (config ``sample``)."""
    functions = None if changes is None else {m: c.functions for m, c in changes.items()}
    return Scope(sample=cfg.sample.mutants, seed=cfg.sample.seed, since=cfg.since or None,
                 functions=functions)
