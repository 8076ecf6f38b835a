"""Flakiness collector: which tests both pass and fail on unchanged code, why, and how to reproduce each.

Flaky rate = tests that both passed and failed across the repeated runs of unchanged code / tests run.

The evidence is the coverage run plus the shared repeated runs (:mod:`harness.collectors.suite_runs`:
declared, reversed and shuffled orders, with and without xdist). From their run records (pure):

* a test id that appears in some runs but not in others where its function does (a parametrize id built from
  a timestamp or a random token) is an *unstable id*: reported, never counted as a test run, flaky, new or
  missing;
* a test that failed in every run it ran in is *broken*, not flaky;
* a test with mixed outcomes is *flaky*, and is classified by re-running it (a fresh process per run):

  - in its failing order (the tests that ran before it in the same process, then it), ``reruns`` times, and
    alone, ``reruns`` times. Failing every time in that order and passing every time alone makes it
    *order-dependent*: the preceding tests are bisected down to the likely polluter, and the pair must fail
    again ``reruns`` times; its reproduction command is run as printed to check that it fails.
  - failing every time alone but passing every time in an order where it passed makes it order-dependent the
    other way round: it relies on state another test leaves (bisected the same way).
  - anything else is *non-deterministic*.

Detection power: with n runs a test failing with probability p is seen with probability 1-(1-p)^n; the notes
print the smallest p seen with 95 % confidence for the n used, so a 0 % flaky rate is never read as proof.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.collectors.flaky_analysis import (
    Classification,
    Observation,
    Predicate,
    base_id,
    bisect,
    by_module,
    classify,
    context_run,
    detection_note,
    observe,
    outcomes,
    preceding,
    repeat,
    selectable,
    unstable_groups,
    unstable_ids,
)
from harness.collectors.pytest_run import order_args, reproduce_command, run_printed, run_pytest, xdist_args
from harness.collectors.records import RunRecord, TestResult, load_record
from harness.collectors.suite_runs import RunSpec
from harness.config import Config
from harness.discover import Project
from harness.errors import ToolError
from harness.model import FlakyClass, FlakyTest, ModuleFlakiness, detectable_probability
from harness.notes import Note, NoteKind, note
from harness.workspace import write_json

NAME = "flakiness"

__all__ = [  # the pure analysis, re-exported: callers see one flakiness collector
    "Classification",
    "FlakinessResult",
    "Observation",
    "Predicate",
    "Rerunner",
    "analyse",
    "base_id",
    "bisect",
    "by_module",
    "classify",
    "context_run",
    "detection_note",
    "observe",
    "outcomes",
    "parallel_partners",
    "preceding",
    "repeat",
    "report_path",
    "selectable",
    "unstable_groups",
    "unstable_ids",
    "write_report",
]


# ----------------------------------------------------------------------------------------------- the result


@dataclass(frozen=True)
class FlakinessResult:
    runs: int  # runs judged: the coverage run + the repeated runs
    repeated: int
    tests_run: int
    flaky: tuple[FlakyTest, ...]
    broken: tuple[tuple[str, str], ...]  # (nodeid, last failure message)
    unstable: tuple[str, ...]
    by_module: dict[str, ModuleFlakiness]
    suite_seconds: float | None  # median wall time of one xdist run of the whole suite
    extra_seconds: float  # flakiness-only runs + classification reruns
    extra_runs: int
    reruns: int
    seeds: tuple[int, ...]
    parallel_unsafe: tuple[FlakyTest, ...] = ()  # fail only beside other tests under xdist: not flaky
    # (runs, failures) of every judged test in this run: what the history's flaky evidence accumulates.
    outcomes: dict[str, tuple[int, int]] = field(default_factory=dict)
    notes: tuple[Note, ...] = field(default=())

    @property
    def extra_multiple(self) -> float | None:
        return self.extra_seconds / self.suite_seconds if self.suite_seconds else None

    @property
    def unstable_functions(self) -> tuple[str, ...]:
        return tuple(unstable_groups(self.unstable))

    def to_data(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "repeated": self.repeated,
            "tests_run": self.tests_run,
            "detectable_probability": detectable_probability(self.runs),
            "flaky": [
                {
                    "nodeid": f.nodeid,
                    "failures": f.failures,
                    "runs": f.runs,
                    "kind": f.kind.value,
                    "polluter": f.polluter,
                    "reproduce": f.reproduce,
                    "detail": f.detail,
                }
                for f in self.flaky
            ],
            "broken": [{"nodeid": n, "message": m} for n, m in self.broken],
            "parallel_unsafe": [{"nodeid": f.nodeid, "failures": f.failures, "runs": f.runs,
                                 "colliding": f.polluter, "reproduce": f.reproduce, "detail": f.detail}
                                for f in self.parallel_unsafe],
            "unstable_ids": list(self.unstable),
            "suite_seconds": self.suite_seconds,
            "extra_seconds": self.extra_seconds,
            "extra_runs": self.extra_runs,
            "classification_reruns": self.reruns,
            "extra_multiple": self.extra_multiple,
            "shuffle_seeds": list(self.seeds),
            "notes": [n.text for n in self.notes],
        }


# ----------------------------------------------------------------------------------------------- running


class Rerunner:
    """Runs a sequence of tests in one fresh pytest process, in the given order, without xdist."""

    def __init__(self, project: Project, cfg: Config, work: Path, out_dir: Path) -> None:
        self.project = project
        self.cfg = cfg
        self.work = work
        self.out_dir = out_dir
        self.count = 0
        self.seconds = 0.0
        out_dir.mkdir(parents=True, exist_ok=True)
        for old in out_dir.glob("rerun-*"):
            old.unlink()

    def fails(self, sequence: Sequence[str]) -> bool:
        """Run ``sequence`` in that order; True when its last test failed (or errored)."""
        path = self.out_dir / f"rerun-{self.count:04d}.json"
        log = path.with_suffix(".log")
        self.count += 1
        subset = replace(self.project, tests=tuple(sequence))
        result = run_pytest(subset, self.cfg, self.work,
                            [*xdist_args(1), *order_args(), f"--harness-record={path}"], log)
        self.seconds += result.wall_seconds
        record = load_record(path, log, result.wall_seconds, xdist=False)
        last = next((t for t in record.tests if t.nodeid == sequence[-1]), None)
        if last is None or not last.ran:
            raise ToolError(f"re-running {sequence[-1]} by its node id did not run it (pytest exit "
                            f"{result.returncode}); log {log}")
        return last.failed

    def command_fails(self, command: str) -> bool:
        """Run a printed reproduction command as printed (``python`` is this interpreter) in the work copy."""
        self.count += 1
        log = self.out_dir / f"rerun-{self.count - 1:04d}.log"
        return run_printed(self.project, self.cfg, self.work, command, log) == 1


def parallel_partners(runs: Sequence[RunRecord], obs: Observation) -> list[str] | None:
    """For a test that failed only under pytest-xdist and passed in every serial run it ran in (at least one):
    the tests that ran at the same time on another worker in every run where it failed, most likely first.
    None when the test does not fail that way."""
    def result(i: int) -> TestResult | None:
        return next((t for t in runs[i].tests if t.nodeid == obs.nodeid), None)

    failing = [result(i) for i in obs.failed_in]
    serial_passes = [i for i in obs.passed_in if (r := result(i)) is not None and r.worker is None]
    if not failing or not serial_passes or any(r is None or r.worker is None for r in failing):
        return None
    counts: dict[str, int] = defaultdict(int)
    for i, me in zip(obs.failed_in, failing, strict=True):
        assert me is not None
        for t in runs[i].tests:
            if t.nodeid != obs.nodeid and me.overlaps(t):
                counts[t.nodeid] += 1
    every = [n for n, c in counts.items() if c == len(failing)]
    return sorted(every or counts, key=lambda n: (-counts[n], n))


def _parallel_unsafe(nodeid: str, obs: Observation, partners: Sequence[str], runs: Sequence[RunRecord],
                     cfg: Config, workers: int) -> FlakyTest:
    serial = sum(1 for i in obs.passed_in for t in runs[i].tests if t.nodeid == nodeid and t.worker is None)
    named = partners[0] if partners else None
    who = (f"ran alongside `{named}`" + (f" (and {len(partners) - 1} more)" if len(partners) > 1 else "")
           + " on another worker each time it failed") if named else "no other test's run overlapped in time"
    command = reproduce_command([named, nodeid] if named else [nodeid], pytest_args=cfg.pytest_args,
                                parallel=max(workers, 2))
    detail = (f"failed in {obs.failures} parallel run(s), passed in all {serial} serial run(s) and alone; {who}; "
              "tests sharing a database, Redis or file cannot run in parallel")
    return FlakyTest(nodeid, obs.failures, obs.runs, FlakyClass.PARALLEL_UNSAFE, command, named, detail)


def _fails_alone(rerun: Rerunner, nodeid: str) -> bool:
    try:
        return rerun.fails([nodeid])
    except ToolError:  # cannot be re-run by its id: not shown to pass alone
        return True


def _suite_seconds(records: Sequence[RunRecord]) -> float | None:
    timed = [r.wall_seconds for r in records if r.xdist] or [r.wall_seconds for r in records]
    return statistics.median(timed) if timed else None


def analyse(
    project: Project,
    cfg: Config,
    work: Path,
    raw: Path,
    coverage_record: RunRecord | None,
    records: Sequence[RunRecord],
    specs: Sequence[RunSpec],
    tests_by_module: Mapping[str, Sequence[str]],
    progress: Callable[[int, int, str], None] | None = None,
) -> FlakinessResult:
    """Judge every test over the coverage run (None: reused, not run by this run) and the repeated runs,
    classify the flaky ones by re-running them, and attribute them to modules. Writes
    ``raw/flakiness/flakiness.json``. ``progress(done, total, test)`` is called before each test is classified."""
    if coverage_record is not None and cfg.coverage.pytest_args and records:
        repeated = {t.nodeid for r in records for t in r.tests}  # the coverage run's extra tests: coverage only
        coverage_record = replace(coverage_record,
                                  tests=tuple(t for t in coverage_record.tests if t.nodeid in repeated))
    runs = [*([] if coverage_record is None else [coverage_record]), *records]
    unstable = unstable_ids(runs)
    judged = observe(runs, unstable)
    rerun = Rerunner(project, cfg, work, raw / NAME / "reruns")
    flaky: list[FlakyTest] = []
    parallel: list[FlakyTest] = []
    candidates = []
    for obs in (o for o in judged.values() if o.flaky):
        partners = parallel_partners(runs, obs)
        if partners is not None and not _fails_alone(rerun, obs.nodeid):
            parallel.append(_parallel_unsafe(obs.nodeid, obs, partners, runs, cfg, cfg.effective_workers()))
        else:
            candidates.append(obs)
    limit = min(len(candidates), cfg.flakiness.max_classified)
    for k, obs in enumerate(candidates):
        if k < cfg.flakiness.max_classified and progress is not None:
            progress(k, limit, obs.nodeid)
        flaky.append(_judged(obs, k, runs, unstable, rerun, cfg))
    broken = tuple((o.nodeid, _last_message(runs, o)) for o in judged.values() if o.broken)
    seeds = tuple(s.seed for s in specs if s.order == "shuffle")
    suite = _suite_seconds(records)
    extra_runs, extra = _extra_cost(records, cfg, rerun)
    result = FlakinessResult(
        runs=len(runs),
        repeated=len(records),
        tests_run=len(judged),
        outcomes={n: (o.runs, o.failures) for n, o in judged.items()},
        flaky=tuple(flaky),
        broken=broken,
        parallel_unsafe=tuple(parallel),
        unstable=tuple(sorted(unstable)),
        by_module=by_module(tests_by_module, judged, flaky),
        suite_seconds=suite,
        extra_seconds=extra,
        extra_runs=extra_runs,
        reruns=rerun.count,
        seeds=seeds,
    )
    return replace(result, notes=tuple(_notes(result)))


def _judged(obs: Observation, k: int, runs: Sequence[RunRecord], unstable: set[str], rerun: Rerunner,
            cfg: Config) -> FlakyTest:
    """The ``k``-th flaky candidate, classified by re-running it (beyond ``max_classified``: unclassified)."""
    nodeid = obs.nodeid
    failing = context_run(runs, obs.failed_in, nodeid)
    passing = context_run(runs, obs.passed_in, nodeid)
    if k >= cfg.flakiness.max_classified:
        return FlakyTest(
            nodeid,
            obs.failures,
            obs.runs,
            FlakyClass.UNCLASSIFIED,
            reproduce_command([nodeid], pytest_args=cfg.pytest_args),
            detail="not re-run: over flakiness.max_classified",
        )
    try:
        c = classify(
            nodeid,
            selectable(preceding(runs[failing], nodeid), unstable),
            selectable(preceding(runs[passing], nodeid), unstable),
            rerun.fails,
            cfg.flakiness.reruns,
        )
    except ToolError as exc:  # could not be re-run (not selectable by id, timed out): still flaky
        return FlakyTest(nodeid, obs.failures, obs.runs, FlakyClass.UNCLASSIFIED,
                         reproduce_command([nodeid], pytest_args=cfg.pytest_args),
                         detail=f"not classified: {exc}")
    command = reproduce_command(c.sequence, pytest_args=cfg.pytest_args)
    detail = c.detail
    if c.kind is FlakyClass.ORDER_DEPENDENT:
        fails_printed = rerun.command_fails(command)
        alone_passes = len(c.sequence) == 1 or not rerun.command_fails(
            reproduce_command([nodeid], pytest_args=cfg.pytest_args)
        )
        checked = "fails as printed" + (", passes alone" if len(c.sequence) > 1 else "")
        detail += (
            f"; reproduction checked: {checked}"
            if fails_printed and alone_passes
            else "; the reproduction command did NOT fail as printed when checked"
        )
    elif c.kind is FlakyClass.NON_DETERMINISTIC:
        detail += f"; failed in {obs.failures} of {obs.runs} runs: repeat the command to see it fail"
    return FlakyTest(nodeid, obs.failures, obs.runs, c.kind, command, c.polluter, detail)


def _extra_cost(records: Sequence[RunRecord], cfg: Config, rerun: Rerunner) -> tuple[int, float]:
    """(runs, seconds) this phase added. The runs the runtime phase would have made anyway, counted as the
    fastest xdist runs: the extra time of this phase (its own runs + the reruns) is never understated."""
    runtime_share = (
        sorted(r.wall_seconds for r in records if r.xdist)[: cfg.runtime.runs]
        if cfg.runtime.enabled
        else []
    )
    extra_runs = len(records) - len(runtime_share)
    return extra_runs, sum(r.wall_seconds for r in records) - sum(runtime_share) + rerun.seconds


def _last_message(runs: Sequence[RunRecord], obs: Observation) -> str:
    record = runs[obs.failed_in[-1]]
    return next((t.message for t in record.tests if t.nodeid == obs.nodeid), "")


def _notes(r: FlakinessResult) -> list[Note]:
    notes = [detection_note(r.runs, r.repeated)]
    if r.seeds:
        notes.append(note(NoteKind.FLAKY_SEEDS, seeds=list(r.seeds)))
    if r.unstable:
        notes.append(note(NoteKind.FLAKY_UNSTABLE, groups=unstable_groups(r.unstable)))
    if r.parallel_unsafe:
        notes.append(note(NoteKind.FLAKY_PARALLEL, tests=[[f.nodeid, f.polluter] for f in r.parallel_unsafe]))
    if r.extra_multiple is not None:
        notes.append(note(NoteKind.FLAKY_COST, extra_seconds=r.extra_seconds, extra_runs=r.extra_runs,
                          reruns=r.reruns, extra_multiple=r.extra_multiple, suite_seconds=r.suite_seconds))
    return notes


def report_path(raw: Path) -> Path:
    return raw / NAME / "flakiness.json"


def write_report(result: FlakinessResult, raw: Path) -> Path:
    """Write the phase's findings (flaky, broken, unstable ids, seeds, cost) to ``raw/flakiness/``."""
    path = report_path(raw)
    write_json(path, "flakiness", result.to_data())
    return path
