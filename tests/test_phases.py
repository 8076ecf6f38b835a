"""harness.phases in-process: each collector's part of a run (what it announces, what it hands its tools, what it
keeps and what a failure leaves NOT_MEASURED), the tools replaced by recorders; the quarantine the runs decide."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from harness import phases
from harness.collectors.base import Context, Measured, RunsOutcome
from harness.collectors.flakiness import FlakinessResult
from harness.collectors.pytest_run import reproduce_command
from harness.collectors.records import RunRecord, TestResult, UnstableIdsError
from harness.config import Config, load_config
from harness.discover import ModuleInfo, Project
from harness.errors import ArtifactError, ToolError
from harness.model import (
    FlakyClass,
    FlakyTest,
    Metric,
    ModuleChanges,
    NoteKind,
    QuarantineCause,
    QuarantinedTest,
    Unmeasured,
)
from harness.progress import Phase, PhaseClock, ProgressEvent
from harness.sampling import Scope

PROJECT = Project(root=Path("/p"), name="p", import_roots=("",), source=("pkg",), tests=("tests",),
                  modules=(ModuleInfo("pkg.a", "pkg/a.py", ""), ModuleInfo("pkg.b", "pkg/b.py", "")))


def _cfg(**sets: Any) -> Config:
    return load_config(Path("/nonexistent"), environ={}, cli=sets)[0]


def _ctx(tmp_path: Path) -> tuple[Context, list[ProgressEvent]]:
    events: list[ProgressEvent] = []
    ws: Any = SimpleNamespace(work=tmp_path / "work", raw=tmp_path / "raw", reports=tmp_path / "reports",
                              root=tmp_path, cache=tmp_path / ".harness-cache")
    return Context(PROJECT, ws, PhaseClock(events.append, clock=lambda: 0.0)), events


def _record(*tests: TestResult, errors: tuple[tuple[str, str], ...] = ()) -> RunRecord:
    return RunRecord(order="declared", seed=0, exitstatus=0, collected=len(tests), collection_errors=errors,
                     tests=tests)


def _flaky(**values: Any) -> FlakinessResult:
    base: dict[str, Any] = dict(runs=12, repeated=11, tests_run=3, flaky=(), broken=(), unstable=(), by_module={},
                                suite_seconds=1.0, extra_seconds=0.0, extra_runs=0, reruns=0, seeds=())
    return FlakinessResult(**{**base, **values})


def _notes(events: list[ProgressEvent]) -> list[str]:
    return [e.message for e in events if e.phase is None]


# ----------------------------------------------------------------------------------------------------- coverage


def test_coverage_phase_hands_its_tools_the_work_copy_and_keeps_the_changed_lines(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx, events = _ctx(tmp_path)
    col, m = phases.CoverageCollector(), Measured(cfg=_cfg(**{"flakiness.enabled": False}), metrics=())
    calls: list[tuple[Any, ...]] = []
    def run(*a: Any, progress: Any, reuse: Any) -> str:
        calls.append((*a, reuse))
        progress(3, 40, "tests/t.py::test_3")  # the collector's live progress becomes the phase's steps
        progress(5, 0, "tests/t.py::test_5")  # total not known yet (xdist still collecting)
        return "art"

    monkeypatch.setattr(phases.coverage_collector, "run", run)
    monkeypatch.setattr(phases.coverage_collector, "parse", lambda art, project: ("parsed", art, project))
    assert col.enabled(ctx, m) and not col.lost(ToolError("x"), ctx, m)
    col.begin(ctx, m)
    assert events == [ProgressEvent(Phase.COVERAGE,
                                    message="running the suite under coverage.py (branch mode, per-test contexts)")]
    assert col.run(ctx, m) == "art" and calls == [(PROJECT, m.cfg, ctx.ws.work, ctx.ws.raw,
                                                   ctx.ws.cache / "verdicts")]
    assert events[1:] == [ProgressEvent(Phase.COVERAGE, done=3, total=40, current="tests/t.py::test_3"),
                          ProgressEvent(Phase.COVERAGE, done=5, total=None, current="tests/t.py::test_5")]
    stats = col.parse("art", ctx, m)
    assert stats == ("art", ("parsed", "art", PROJECT))
    cov: Any = SimpleNamespace(tests_by_module={}, reused=None)
    col.keep(("art", cov), ctx, m)
    assert (m.coverage_art, m.coverage, m.changes) == ("art", cov, None) and not m.notes
    m.changes = {"pkg.a": ModuleChanges(since="main", lines=(3,), functions=())}
    monkeypatch.setattr(phases.coverage_collector, "read_report", lambda art: {"report of": art})
    seen: list[tuple[Any, ...]] = []
    monkeypatch.setattr(phases.diffscope, "with_coverage", lambda *a: seen.append(a) or {"with": "coverage"})
    col.keep(("art2", cov), ctx, m)
    assert m.changes == {"with": "coverage"}
    assert seen == [({"pkg.a": ModuleChanges(since="main", lines=(3,), functions=())}, {"report of": "art2"},
                     PROJECT, ctx.ws.work)]
    # restored from an identical earlier run: said in the notes and on the terminal, never silently
    when = "2026-12-01T04:00:00+00:00"
    reused: Any = SimpleNamespace(tests_by_module={}, reused={"key": "ab" * 32, "created": when})
    m.changes = None
    col.keep(("art3", reused), ctx, m)
    assert [n.kind for n in m.notes] == [NoteKind.COVERAGE_REUSED]
    assert m.notes[0].text.startswith("the suite was not run again under coverage.py: nothing its coverage depends "
                                      f"on changed since the run of {when}")
    assert "key abababababab)" in m.notes[0].text and "coverage.reuse=false" in m.notes[0].text
    assert events[-1].message == "coverage: " + m.notes[0].text
    # coverage.reuse = false: no folder, the suite is measured every time
    m.cfg = replace(m.cfg, coverage=replace(m.cfg.coverage, reuse=False))
    col.run(ctx, m)
    assert calls[-1][-1] is None
    # nor with the flakiness phase on (the default): it judges this run's coverage run as one of its runs
    m.cfg = _cfg()
    assert m.cfg.coverage.reuse and m.cfg.flakiness.enabled
    col.run(ctx, m)
    assert calls[-1][-1] is None


def test_coverage_phase_falls_back_to_serial_runs_when_workers_disagree(tmp_path: Path) -> None:
    ctx, events = _ctx(tmp_path)
    col, m = phases.CoverageCollector(), Measured(cfg=_cfg(workers=2), metrics=())
    assert not col.retry(ArtifactError("unreadable"), ctx, m)
    assert col.retry(UnstableIdsError("ids"), ctx, m)
    assert m.cfg.workers == 1 and m.cfg.coverage == Config().coverage
    note = ("xdist: the workers collected different test ids (parametrize ids built from the time or random "
            "values), so every phase ran serially (workers = 1) instead of on 2 workers; suite runtime is a "
            "serial time")
    assert [n.text for n in m.notes] == [note] and _notes(events) == ["coverage: " + note]
    assert not col.retry(UnstableIdsError("ids"), ctx, m)  # already serial: the error stands
    assert [n.text for n in m.notes] == [note]


# --------------------------------------------------------------------------------------------------------- runs


def test_runs_phase_announces_and_runs_the_planned_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx, events = _ctx(tmp_path)
    col = phases.RunsCollector()
    assert col.run(ctx, Measured(cfg=_cfg(), metrics=())) == []  # nothing planned yet
    assert col.parse([], ctx, Measured(cfg=_cfg(), metrics=())) == RunsOutcome()
    planned: list[Config] = []
    monkeypatch.setattr(phases.suite_runs, "plan", lambda cfg: planned.append(cfg) or ["spec1", "spec2"])
    for sets, what in [({}, "runtime and flakiness"), ({"flakiness.enabled": False}, "runtime"),
                       ({"runtime.enabled": False}, "flakiness")]:
        events.clear()
        col.begin(ctx, Measured(cfg=_cfg(**sets), metrics=()))
        started = [e for e in events if not e.finished]
        assert started == [ProgressEvent(Phase.RUNS, message=f"{what}: 2 uninstrumented runs of the suite")]
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(phases.suite_runs, "run", lambda *a, **k: calls.append((*a, k)) or ["record"])
    m = Measured(cfg=_cfg(), metrics=())
    assert planned == [_cfg(), _cfg(**{"flakiness.enabled": False}), _cfg(**{"runtime.enabled": False})]
    assert col.run(ctx, m) == ["record"]
    assert calls == [(PROJECT, m.cfg, ctx.ws.work, ctx.ws.raw, ["spec1", "spec2"], {"progress": ctx.clock.step})]
    monkeypatch.setattr(phases.suite_runs, "plan", lambda cfg: [])
    events.clear()
    col.begin(ctx, m)
    assert [e for e in events if not e.finished] == [] and col.run(ctx, m) == []
    assert not col.retry(ToolError("x"), ctx, m)


def _covered(record: RunRecord, reused: dict[str, str] | None = None) -> Any:
    return SimpleNamespace(record=record, tests_by_module={"pkg.a": ("t::a", "t::b"), "pkg.b": ("t::b",)},
                           reused=reused)


def test_runs_phase_parses_runtime_and_judges_flakiness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx, events = _ctx(tmp_path)
    col = phases.RunsCollector()
    col.specs = ["spec"]  # type: ignore[list-item]
    clean = _record(TestResult("t::a", "passed", None, 1.0), TestResult("t::b", "passed", None, 3.0))
    runs = [replace(clean, wall_seconds=4.0, cpu_seconds=3.0)]
    m = Measured(cfg=_cfg(workers=2, **{"runtime.slowest": 1}), metrics=())
    m.coverage = _covered(clean)
    analysed: list[tuple[Any, ...]] = []
    written: list[tuple[Any, ...]] = []
    flaky = _flaky()
    monkeypatch.setattr(phases.flakiness_collector, "analyse", lambda *a, **k: analysed.append((*a, k)) or flaky)
    monkeypatch.setattr(phases.flakiness_collector, "write_report", lambda *a: written.append(a))
    out = col.parse(runs, ctx, m)
    assert out.flaky is flaky and out.unmeasured == ()
    assert out.suite_runtime is not None and out.suite_runtime.wall_seconds == (4.0,)
    assert out.suite_runtime.workers == 2 and out.runtime_by_module is not None
    assert out.runtime_by_module["pkg.b"].test_seconds == 3.0
    assert [t.nodeid for t in out.runtime_by_module["pkg.a"].slowest] == ["t::b"]  # runtime.slowest = 1
    assert analysed == [(PROJECT, m.cfg, ctx.ws.work, ctx.ws.raw, clean, runs, ["spec"], m.coverage.tests_by_module,
                         {"progress": ctx.clock.step})]
    assert written == [(flaky, ctx.ws.raw)]
    assert events == [ProgressEvent(Phase.FLAKINESS,
                                    message="judging every test over the runs, re-running the flaky ones")]
    off = Measured(cfg=_cfg(**{"runtime.enabled": False, "flakiness.enabled": False}), metrics=())
    off.coverage = m.coverage
    assert col.parse(runs, ctx, off) == RunsOutcome()
    # a coverage run reused from an identical earlier run was judged when it ran: only this run's runs are
    m.coverage = _covered(clean, reused={"key": "k", "created": "earlier"})
    col.parse(runs, ctx, m)
    assert analysed[-1][4] is None and analysed[-1][5] == runs


def test_a_failed_flakiness_phase_keeps_the_runtime_it_parsed(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    ctx, events = _ctx(tmp_path)
    col = phases.RunsCollector()
    col.specs = ["spec"]  # type: ignore[list-item]
    clean = _record(TestResult("t::a", "passed", None, 1.0))

    def boom(*a: Any, **k: Any) -> None:
        raise ToolError("rerun crashed")

    monkeypatch.setattr(phases.flakiness_collector, "analyse", boom)
    m = Measured(cfg=_cfg(), metrics=(Metric.SUITE_RUNTIME, Metric.FLAKY_RATE))
    m.coverage = _covered(clean)
    out = col.parse([replace(clean, wall_seconds=2.0)], ctx, m)
    assert out.suite_runtime is not None and out.suite_runtime.wall_seconds == (2.0,) and out.flaky is None
    assert out.runtime_by_module is not None and out.runtime_by_module["pkg.a"].tests == 1
    cause = "runtime and flakiness phase failed: rerun crashed"
    assert {(u.module, u.metric, u.cause) for u in out.unmeasured} == {
        ("project", Metric.FLAKY_RATE, cause), ("pkg.a", Metric.FLAKY_RATE, cause),
        ("pkg.b", Metric.FLAKY_RATE, cause)}
    assert "runtime and flakiness: could not measure: rerun crashed" in _notes(events)


def test_lost_runs_leave_both_metrics_unmeasured_and_the_clean_failures_quarantined(tmp_path: Path) -> None:
    ctx, events = _ctx(tmp_path)
    col = phases.RunsCollector()
    m = Measured(cfg=_cfg(**{"flakiness.enabled": False}), metrics=(Metric.SUITE_RUNTIME, Metric.FLAKY_RATE))
    m.coverage = _covered(_record(TestResult("t::x", "failed", "call", 1.0, "E  boom")))
    assert col.lost(ToolError("pytest died"), ctx, m)
    cause = "runtime phase failed: pytest died"
    assert [(u.module, u.metric, u.cause) for u in m.unmeasured] == [
        ("project", Metric.SUITE_RUNTIME, cause), ("project", Metric.FLAKY_RATE, cause),
        ("pkg.a", Metric.FLAKY_RATE, cause), ("pkg.b", Metric.FLAKY_RATE, cause)]
    assert [q.nodeid for q in m.quarantine] == ["t::x"] and m.runs.suite_runtime is None
    assert _notes(events) == ["runtime: could not measure: pytest died"]


def test_keeping_the_runs_accumulates_flaky_evidence_unless_a_shard_or_history_is_off(tmp_path: Path) -> None:
    ctx, _ = _ctx(tmp_path)
    col = phases.RunsCollector()
    clean = _record(TestResult("t::a", "passed", None, 1.0))
    earlier = _flaky(outcomes={"t::a": (12, 1)})
    victim = FlakyTest("t::v", 1, 12, FlakyClass.NON_DETERMINISTIC, "cmd v")
    now = _flaky(outcomes={"t::a": (12, 0)}, flaky=(victim,))
    for sets in ({"history.enabled": False}, {"mutation.shard": "1/2"}):
        m = Measured(cfg=_cfg(**sets), metrics=())
        m.coverage = _covered(clean)
        col.keep(RunsOutcome(flaky=earlier), ctx, m)
        assert m.notes == [] and m.quarantine == [] and not (tmp_path / "reports").exists()
    m = Measured(cfg=_cfg(), metrics=())
    m.coverage = _covered(clean)
    col.keep(RunsOutcome(flaky=earlier), ctx, m)
    col.keep(RunsOutcome(flaky=now, unmeasured=(Unmeasured("pkg.a", Metric.FLAKY_RATE, "c"),)), ctx, m)
    assert [(q.nodeid, q.cause) for q in m.quarantine] == [("t::v", QuarantineCause.FLAKY),
                                                           ("t::a", QuarantineCause.FLAKY)]
    assert m.runs.flaky is now and m.unmeasured == [Unmeasured("pkg.a", Metric.FLAKY_RATE, "c")]
    assert len(m.notes) == 2 and m.notes[1].text.startswith("flakiness: evidence accumulated over 2 session(s)")


# ----------------------------------------------------------------------------------------------------- mutation


def test_mutation_phase_runs_in_diff_mode_only_when_a_function_changed(tmp_path: Path) -> None:
    ctx, events = _ctx(tmp_path)
    col = phases.MutationCollector()
    off = _cfg(**{"mutation.enabled": False})
    assert not col.enabled(ctx, Measured(cfg=off, metrics=()))
    on = _cfg(**{"since": "main", "sample.mutants": 5, "sample.seed": 3})
    assert col.enabled(ctx, Measured(cfg=on, metrics=()))
    assert col.scope == Scope(sample=5, seed=3, since="main", functions=None)
    unchanged = {"pkg.a": ModuleChanges(since="main", lines=(1,), functions=())}
    assert not col.enabled(ctx, Measured(cfg=on, metrics=(), changes=unchanged))
    assert _notes(events) == ["mutation: no function changed since main: no mutant to test"]
    changed = {**unchanged, "pkg.b": ModuleChanges(since="main", lines=(4,), functions=("f",))}
    assert col.enabled(ctx, Measured(cfg=on, metrics=(), changes=changed))
    assert col.scope.functions == {"pkg.a": (), "pkg.b": ("f",)}
    events.clear()
    assert not col.enabled(ctx, Measured(cfg=off, metrics=(), changes=unchanged))  # off: no note
    assert events == []


def test_mutation_phase_names_its_shard_and_hands_the_driver_its_scope(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx, events = _ctx(tmp_path)
    col = phases.MutationCollector()
    col.begin(ctx, Measured(cfg=_cfg(), metrics=()))
    assert col.shard is None and events[-1].message == ("mutmut 3 in the sandbox - generating mutants, mapping "
                                                         "tests, clean and forced-fail checks")
    m = Measured(cfg=_cfg(**{"mutation.shard": "2/4"}), metrics=())
    col.begin(ctx, m)
    assert col.shard is not None and col.shard.plan is None and "no shard plan at .harness-cache" in col.shard.split
    assert str(col.shard) == "2/4" and events[-1] == ProgressEvent(
        Phase.MUTATION, message="mutmut 3 in the sandbox (shard 2/4) - generating mutants, mapping tests, clean and "
                                "forced-fail checks")
    calls: list[dict[str, Any]] = []

    def run(project: Project, cfg: Config, ws: Any, **kw: Any) -> str:
        calls.append({"project": project, "cfg": cfg, "ws": ws, **kw})
        kw["progress"](3, 10, 4.5)
        return "art"

    monkeypatch.setattr(phases.mutation_collector, "run", run)
    m.quarantine = [QuarantinedTest("t::q", QuarantineCause.FLAKY)]
    assert col.run(ctx, m) == "art"
    (call,) = calls
    assert (call["project"], call["cfg"], call["ws"], call["shard"], call["scope"], call["quarantine"]) == (
        PROJECT, m.cfg, ctx.ws, col.shard, col.scope, m.quarantine)
    assert str(call["shard"]) == "2/4"
    assert events[-1] == ProgressEvent(Phase.MUTATION, done=3, total=10, eta=4.5)
    monkeypatch.setattr(phases.mutation_collector, "parse", lambda art, project: (art, project))
    assert col.parse("art", ctx, m) == ("art", PROJECT)  # type: ignore[comparison-overlap]
    assert not col.retry(ToolError("x"), ctx, m)


def test_mutation_phase_keeps_its_quarantine_after_the_earlier_ones(tmp_path: Path) -> None:
    ctx, events = _ctx(tmp_path)
    col = phases.MutationCollector()
    m = Measured(cfg=_cfg(**{"mutation.modules": ["pkg.b"]}), metrics=())
    m.quarantine = [QuarantinedTest("t::a", QuarantineCause.FLAKY)]
    stats: Any = SimpleNamespace(quarantined=(QuarantinedTest("t::a", QuarantineCause.BROKEN),
                                              QuarantinedTest("t::c", QuarantineCause.BROKEN)))
    col.keep(stats, ctx, m)
    assert m.mutation is stats
    assert [(q.nodeid, q.cause) for q in m.quarantine] == [("t::a", QuarantineCause.FLAKY),
                                                           ("t::c", QuarantineCause.BROKEN)]
    earlier = Unmeasured("pkg.a", Metric.FLAKY_RATE, "runs failed")
    m.unmeasured = [earlier]
    assert col.lost(ToolError("mutmut crashed"), ctx, m)
    lost = Unmeasured("pkg.b", Metric.MUTATION_SCORE, "mutation phase failed: mutmut crashed")
    assert m.unmeasured == [earlier, lost]
    assert _notes(events) == ["mutation: could not measure: mutmut crashed"]


def test_the_collectors_of_a_run() -> None:
    cov, runs, mut = phases.collectors()
    assert (cov.name, runs.name, mut.name) == ("coverage", "runs", "mutation")
    assert runs.needs == mut.needs == ("coverage",) and cov.needs == ()


# --------------------------------------------------------------------------------------------------- quarantine


def test_quarantine_from_runs_names_the_cause_and_the_command_of_each_test() -> None:
    cfg = _cfg(pytest_args=["-x"], **{"coverage.pytest_args": ["-m", "cov"]})
    victim = FlakyTest("t::v", 2, 12, FlakyClass.NON_DETERMINISTIC, "cmd v", detail="passes and fails alone")
    plain = FlakyTest("t::w", 1, 12, FlakyClass.ORDER_DEPENDENT, "cmd w")
    unsafe = FlakyTest("t::u", 1, 12, FlakyClass.PARALLEL_UNSAFE, "cmd u")
    clean = _record(TestResult("t::b", "failed", "call", 0.1, "E  b"), TestResult("t::v", "failed", "call", 0.1),
                    TestResult("t::u", "failed", "call", 0.1), TestResult("t::c", "failed", "call", 0.1, "E  c"),
                    errors=(("tests/test_x.py", "E  import"),))
    flaky = _flaky(broken=(("t::b", "E  always"),), flaky=(victim, plain), parallel_unsafe=(unsafe,))
    got = phases.quarantine_from_runs(clean, flaky, cfg)
    assert got == [
        QuarantinedTest("tests/test_x.py", QuarantineCause.BROKEN, "cannot be collected: E  import",
                        reproduce_command(["tests/test_x.py"], pytest_args=["-x"])),
        QuarantinedTest("t::b", QuarantineCause.BROKEN, "failed in all 12 runs: E  always",
                        reproduce_command(["t::b"], pytest_args=["-x"])),
        QuarantinedTest("t::v", QuarantineCause.FLAKY, "non-deterministic, failed 2 of 12 runs; passes and fails "
                                                        "alone", "cmd v"),
        QuarantinedTest("t::w", QuarantineCause.FLAKY, "order-dependent, failed 1 of 12 runs", "cmd w"),
        QuarantinedTest("t::c", QuarantineCause.BROKEN, "failed in the clean (coverage) run: E  c",
                        reproduce_command(["t::c"], pytest_args=["-x", "-m", "cov"])),
    ]
    unjudged = phases.quarantine_from_runs(clean, None, cfg)
    assert [q.nodeid for q in unjudged] == ["tests/test_x.py", "t::b", "t::v", "t::u", "t::c"]


def test_accumulated_evidence_states_the_power_and_lists_five_known_flaky_tests(tmp_path: Path) -> None:
    names = [f"t::{i}" for i in range(7)]
    phases.accumulated_evidence(tmp_path, _flaky(outcomes=dict.fromkeys(names, (10, 1))), Config())
    cfg = _cfg(pytest_args=["-q"])
    known, evidence = phases.accumulated_evidence(tmp_path, _flaky(outcomes=dict.fromkeys(names, (10, 0))), cfg)
    note = evidence.text
    assert [q.nodeid for q in known] == names
    assert known[0].reproduce == reproduce_command(["t::0"], pytest_args=["-q"])
    assert known[0].detail.startswith("known flaky from earlier sessions: t::0: 1 failure(s) in 20 runs over 2 "
                                      "session(s), last on 20") and known[0].detail.endswith("; passed in all 10 "
                                                                                             "runs of this session")
    assert "+00:00" in known[0].detail  # the session's time, in UTC
    assert note.startswith("flakiness: evidence accumulated over 2 session(s): the median test has 20 judged runs, "
                           "so a flake failing >= 13.9 % of the time is seen with 95 % confidence; 7 test(s) "
                           "failed in earlier sessions only: t::0: 1 failure(s) in 20 runs over 2 session(s), ")
    assert note.count("1 failure(s) in 20 runs") == 5 and ", t::4: 1 failure" in note and "t::5" not in note
    none, empty = phases.accumulated_evidence(tmp_path / "new", _flaky(), Config())
    assert none == [] and empty.text == "flakiness: no accumulated evidence yet"


def test_merge_quarantine_keeps_the_first_finding_per_test() -> None:
    first = [QuarantinedTest("a", QuarantineCause.FLAKY)]
    second = [QuarantinedTest("a", QuarantineCause.BROKEN), QuarantinedTest("b", QuarantineCause.BROKEN)]
    assert phases.merge_quarantine(first, second) == [first[0], second[1]]
