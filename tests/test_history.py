"""History file, baselines and the ratchet (fast: hand-made scorecards, the CLI in process)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import reportdata

from harness import history
from harness.cli import main
from harness.config import Config, RatchetSettings
from harness.errors import ArtifactError, UsageError
from harness.gate import gate
from harness.history import Figures, HistoryEntry
from harness.model import CoverageNumbers, Metric, ModuleCoverage, ModuleFlakiness, RunMeta, Scorecard, SuiteRuntime
from harness.ratchet import regressions
from harness.reporters import json_report
from harness.workspace import write_json


def card_with(sc: Scorecard, module: str, **numbers: int) -> Scorecard:
    """``sc`` with one module's coverage counts replaced."""
    mods = []
    for c in sc.modules:
        if c.module == module and c.coverage is not None:
            c = replace(c, coverage=replace(c.coverage, numbers=replace(c.coverage.numbers, **numbers)))
        mods.append(c)
    return replace(sc, modules=tuple(mods))


# --------------------------------------------------------------------------------------------------- entries


def test_entry_holds_the_run_facts_totals_and_module_figures() -> None:
    e = history.entry_from_scorecard(reportdata.scorecard())
    assert (e.time, e.commit, e.config_fingerprint, e.project) == (
        "2026-11-21T18:00:00+00:00",
        reportdata.META["commit"],
        "abc123def456",
        "demo",
    )
    assert e.passed is False and e.missed == 4 and e.regressed == 0
    assert e.totals.line_coverage == pytest.approx(100 * 10 / 12)
    assert e.suite_runtime == 1.5
    calc = e.modules["demo.calc"]
    assert (calc.line_coverage, calc.mutation_score, calc.flaky_rate, calc.test_seconds) == (
        80.0,
        60.0,
        50.0,
        0.75,
    )
    assert e.modules["demo"] == Figures()  # n/a stays n/a


def test_history_appends_keeps_the_last_n_and_reads_back(tmp_path: Path) -> None:
    sc = reportdata.scorecard()
    for i in range(5):
        entries = history.append(tmp_path, replace(sc, meta=replace(sc.meta, time=f"t{i}")), keep=3)
    assert [e.time for e in entries] == ["t2", "t3", "t4"]
    assert history.read_history(tmp_path) == entries
    doc = json.loads((tmp_path / history.HISTORY_FILE).read_text())
    assert doc["format"] == 1 and doc["kind"] == "history" and "harness_version" in doc
    assert not list(tmp_path.glob(".*.tmp"))  # written atomically, no temp file left


def test_history_refuses_unknown_formats(tmp_path: Path) -> None:
    (tmp_path / history.HISTORY_FILE).write_text(json.dumps({"format": 99, "kind": "history", "entries": []}))
    with pytest.raises(ArtifactError, match="format 99"):
        history.read_history(tmp_path)


def test_malformed_entry_names_the_file(tmp_path: Path) -> None:
    write_json(tmp_path / history.HISTORY_FILE, "history", {"entries": [{"time": "x"}]})
    with pytest.raises(ArtifactError, match=r"history\.json is malformed \(entries\[0\]: missing project\)"):
        history.read_history(tmp_path)


def test_entries_ignore_unknown_keys(tmp_path: Path) -> None:
    data = history.entry_to_data(history.entry_from_scorecard(reportdata.scorecard()))
    data["future_key"] = 1
    data["modules"]["demo.calc"]["future_metric"] = 2
    assert history.entry_from_data(data, tmp_path) == history.entry_from_scorecard(reportdata.scorecard())


# ------------------------------------------------------------------------------------------------ baselines


def test_baseline_reads_baseline_history_and_scorecard_files(tmp_path: Path) -> None:
    sc = reportdata.scorecard()
    want = history.entry_from_scorecard(sc)
    history.write_baseline(tmp_path / "b.json", want)
    history.append(tmp_path, sc, keep=10)
    json_report.write(sc, tmp_path / "scorecard.json")
    for name in ("b.json", history.HISTORY_FILE, "scorecard.json"):
        assert history.read_baseline(tmp_path / name) == want, name
    with pytest.raises(ArtifactError, match="does not exist"):
        history.read_baseline(tmp_path / "missing.json")


def test_resolve_baseline_order(tmp_path: Path) -> None:
    root, reports = tmp_path, tmp_path / "reports"
    cfg = Config()
    assert history.resolve_baseline(root, reports, cfg) is None  # nothing yet
    sc = reportdata.scorecard()
    history.append(reports, replace(sc, meta=replace(sc.meta, time="good")), keep=10)
    regressed = replace(sc, meta=replace(sc.meta, time="bad"), regressions=regressions_of(sc))
    history.append(reports, regressed, keep=10)
    found = history.resolve_baseline(root, reports, cfg)
    assert found is not None and found.entry.time == "good"  # a regressed run never lowers the bar
    assert found.source == "last history entry"
    history.write_baseline(reports / history.BASELINE_FILE, replace(found.entry, time="file"))
    found = history.resolve_baseline(root, reports, cfg)
    assert found is not None and found.entry.time == "file"
    history.write_baseline(root / "base.json", replace(found.entry, time="configured"))
    with_key = replace(cfg, ratchet=RatchetSettings(baseline="base.json"))
    found = history.resolve_baseline(root, reports, with_key)
    assert found is not None and found.entry.time == "configured"
    found = history.resolve_baseline(root, reports, with_key, explicit=reports / history.HISTORY_FILE)
    assert found is not None and found.entry.time == "bad"  # an explicit file is taken as it is
    assert (
        history.resolve_baseline(root, reports, replace(cfg, ratchet=RatchetSettings(enabled=False))) is None
    )
    with pytest.raises(UsageError, match=r"ratchet\.baseline"):
        history.resolve_baseline(root, reports, replace(cfg, ratchet=RatchetSettings(baseline="nope.json")))


def regressions_of(sc: Scorecard) -> tuple[reportdata.Regression, ...]:
    worse = card_with(sc, "demo.util", executed=1)
    return regressions(worse, history.entry_from_scorecard(sc), tolerance=0.5, runtime_tolerance=50)


def test_config_fingerprint_changes_with_what_is_measured_only() -> None:
    cfg = Config()
    fp = history.config_fingerprint(cfg)
    assert len(fp) == 12 and fp == history.config_fingerprint(Config())
    assert history.config_fingerprint(replace(cfg, workers=7)) == fp
    assert history.config_fingerprint(replace(cfg, omit=("x",))) != fp


def test_run_facts_outside_git(tmp_path: Path) -> None:
    facts = history.run_facts(tmp_path, Config())
    assert facts.commit is None and facts.dirty is False


# --------------------------------------------------------------------------------------------------- ratchet


BASE = HistoryEntry(
    time="t",
    project="demo",
    suite_runtime=1.0,
    modules={
        "demo.calc": Figures(
            line_coverage=80.0, branch_coverage=100 * 5 / 6, mutation_score=60.0, flaky_rate=50.0
        ),
        "demo.util": Figures(line_coverage=100.0, mutation_score=100.0, flaky_rate=0.0),
    },
)


@pytest.mark.parametrize(
    ("change", "tolerance", "expected"),
    [
        ({}, 0.5, []),
        # branch coverage 5/6 -> 4/6: -16.7 points, even though 66.7 % is still measured against 75 %
        ({"covered_branches": 4}, 0.5, [("demo.calc", Metric.BRANCH_COVERAGE)]),
        ({"covered_branches": 4}, 20.0, []),  # within a generous tolerance
        ({"executed": 7}, 9.0, [("demo.calc", Metric.LINE_COVERAGE)]),  # 80 -> 70: 10 points
        ({"executed": 7}, 10.0, []),  # exactly at the tolerance: still allowed
        ({"executed": 9}, 0.0, []),  # improvements never regress
    ],
)
def test_ratchet_table(change: dict[str, int], tolerance: float, expected: list[tuple[str, Metric]]) -> None:
    sc = card_with(reportdata.scorecard(), "demo.calc", **change)
    found = regressions(sc, BASE, tolerance=tolerance, runtime_tolerance=1000)
    assert [(r.module, r.metric) for r in found] == expected


def test_ratchet_flaky_rate_rising_and_runtime_growing() -> None:
    sc = reportdata.scorecard()
    base = replace(BASE, modules={**BASE.modules, "demo.util": Figures(flaky_rate=0.0)}, suite_runtime=0.5)
    util = next(c for c in sc.modules if c.module == "demo.util")
    flaky = replace(
        util,
        flakiness=ModuleFlakiness(
            tests_run=4, flaky=next(c for c in sc.modules if c.module == "demo.calc").flakiness.flaky
        ),
    )  # type: ignore[union-attr]
    sc = replace(sc, modules=tuple(flaky if c is util else c for c in sc.modules))
    found = regressions(sc, base, tolerance=0.5, runtime_tolerance=50)
    assert [(r.module, r.metric, r.baseline, r.value) for r in found] == [
        ("demo.util", Metric.FLAKY_RATE, 0.0, 25.0),
        ("project", Metric.SUITE_RUNTIME, 0.5, 1.5),
    ]


def test_ratchet_skips_new_modules_and_unmeasured_figures() -> None:
    sc = reportdata.scorecard()
    base = HistoryEntry(time="t", project="demo", modules={"demo.calc": Figures(mutation_score=None)})
    assert regressions(sc, base, tolerance=0, runtime_tolerance=1000) == ()


def test_gate_fails_a_regressed_module_that_still_meets_its_target() -> None:
    ok = reportdata.scorecard()
    util = replace(
        ok.modules[2],
        coverage=ModuleCoverage(numbers=CoverageNumbers(statements=100, executed=100)),
        mutation=None,
        flakiness=None,
    )
    sc = replace(
        ok, modules=(util,), totals=replace(ok.totals, runtime=SuiteRuntime((1.0,), 1, 1), tests_run=0)
    )
    sc = replace(sc, metrics=(Metric.LINE_COVERAGE, Metric.BRANCH_COVERAGE, Metric.SUITE_RUNTIME))
    passing = gate(sc, Config())
    assert passing.passed
    base = history.entry_from_scorecard(passing)
    worse = gate(card_with(sc, "demo.util", executed=90), Config(), baseline=base)
    assert worse.modules[0].passed  # 90 % still meets the 85 % target ...
    assert not worse.passed  # ... but fell 10 points below the baseline
    assert [(r.module, r.metric) for r in worse.regressions] == [("demo.util", Metric.LINE_COVERAGE)]
    assert gate(card_with(sc, "demo.util", executed=90), Config()).passed  # no baseline, no ratchet


# --------------------------------------------------------------------------------------------------- CLI


def project_with_runs(root: Path, times: list[str]) -> Path:
    (root / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "0"\n')
    reportdata.write_sources(root)
    sc = reportdata.scorecard(str(root))
    for t in times:
        history.append(root / "reports", replace(sc, meta=replace(sc.meta, time=t)), keep=100)
    json_report.write(sc, root / "reports" / "scorecard.json")
    return root


def test_cli_trend_prints_the_last_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    root = project_with_runs(tmp_path, [f"2026-11-{d:02d}" for d in range(1, 13)])
    assert main(["trend", str(root), "--last", "3"]) == 0
    out = capsys.readouterr().out
    assert "2026-11-12" in out and "2026-11-10" in out and "2026-11-09" not in out
    assert "83.3 %" in out and "01234567" in out and "4 missed" in out
    assert main(["trend", str(root), "--module", "demo.calc"]) == 0
    assert "80.0 %" in capsys.readouterr().out
    assert main(["trend", str(root), "--module", "nope"]) == 2


def test_cli_trend_without_history(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project_with_runs(tmp_path, [])
    (root / "reports" / history.HISTORY_FILE).unlink(missing_ok=True)
    assert main(["trend", str(root)]) == 0
    assert "no history yet" in capsys.readouterr().out


def test_cli_baseline_update_writes_the_last_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project_with_runs(tmp_path, ["a"])
    assert main(["baseline", "update", str(root)]) == 0
    assert "baseline.json" in capsys.readouterr().out
    written = history.read_baseline(root / "reports" / history.BASELINE_FILE)
    assert written == history.entry_from_scorecard(reportdata.scorecard(str(root)))
    assert main(["baseline", "update", str(root), "--output", str(tmp_path / "q.json")]) == 0
    assert (tmp_path / "q.json").exists()
    assert main(["baseline", "update", str(root), "--from", str(tmp_path / "none.json")]) == 2


def test_ratchet_skips_sampled_mutation_scores() -> None:
    sc = reportdata.scorecard()
    calc = next(c for c in sc.modules if c.module == "demo.calc")
    assert calc.mutation is not None
    sampled = replace(calc, mutation=replace(calc.mutation, population=40))
    sc = replace(sc, modules=tuple(sampled if c is calc else c for c in sc.modules))
    assert history.module_figures(sampled).mutation_partial is True
    base = replace(BASE, modules={"demo.calc": Figures(mutation_score=99.0)})
    assert regressions(sc, base, tolerance=0, runtime_tolerance=1000) == ()
    full = replace(BASE, modules={"demo.calc": Figures(mutation_score=99.0)})
    assert [
        r.metric for r in regressions(reportdata.scorecard(), full, tolerance=0, runtime_tolerance=1000)
    ] == [Metric.MUTATION_SCORE]


def test_a_figure_that_vanishes_on_the_same_code_and_config_is_not_measured() -> None:
    """The last run of the same commit and config had a mutation score; this one calls it n/a (a deleted cache
    file): the cell is NOT_MEASURED, naming the figure it had. New code or config may change what exists."""
    from harness.model import ModuleMutation, MutationCounts, Status
    from harness.ratchet import vanished

    card = gate(reportdata.scorecard(), Config())
    i, module = next((i, m) for i, m in enumerate(card.modules) if m.mutation and m.mutation.counts.score)
    before = replace(history.entry_from_scorecard(card), config_fingerprint="abc", commit="c1")
    emptied = replace(module, mutation=ModuleMutation(counts=MutationCounts()))
    modules = (*card.modules[:i], emptied, *card.modules[i + 1:])
    now = gate(replace(card, modules=modules, meta=RunMeta(config_fingerprint="abc", commit="c1")), Config())
    assert {v.metric: v.status for v in now.modules[i].verdicts}[Metric.MUTATION_SCORE] is Status.NA
    lost = vanished(now, before)
    assert [(u.module, u.metric) for u in lost] == [(module.module, Metric.MUTATION_SCORE)]
    assert "had a figure" in lost[0].cause and "same code and config" in lost[0].cause
    again = gate(replace(now, unmeasured=lost), Config())
    assert not again.complete
    assert vanished(replace(now, meta=RunMeta(config_fingerprint="abc", commit="c2")), before) == ()
    assert vanished(replace(now, meta=RunMeta(config_fingerprint="xyz", commit="c1")), before) == ()


def test_flaky_evidence_accumulates_over_sessions_and_never_forgets(tmp_path: Path) -> None:
    """Night after night the runs per test add up; a test that failed once is quarantined as known flaky in a
    later session where it passed every run."""
    from harness.collectors.flakiness import FlakinessResult
    from harness.model import QuarantineCause
    from harness.phases import accumulated_evidence

    def session(outcomes: dict[str, tuple[int, int]]) -> FlakinessResult:
        return FlakinessResult(runs=12, repeated=11, tests_run=len(outcomes), flaky=(), broken=(), unstable=(),
                               by_module={}, suite_seconds=1.0, extra_seconds=0.0, extra_runs=0, reruns=0,
                               seeds=(), outcomes=outcomes)

    known, note = accumulated_evidence(tmp_path, session({"t::a": (12, 0), "t::b": (12, 1)}), Config())
    note = note.text
    assert known == [] and "1 session(s)" in note and "median test has 12 judged runs" in note
    for _ in range(11):
        known, later = accumulated_evidence(tmp_path, session({"t::a": (12, 0), "t::b": (12, 0)}), Config())
    note = later.text
    assert note.endswith("; 1 test(s) failed in earlier sessions only: t::b: 1 failure(s) in 144 runs over 12 "
                         "session(s), last on " + history.read_evidence(tmp_path)["t::b"].last_failure)
    evidence = history.read_evidence(tmp_path)
    assert evidence["t::a"].describe("t::a") == "t::a: 0 failure(s) in 144 runs over 12 session(s)"
    assert (evidence["t::b"].runs, evidence["t::b"].failures, evidence["t::b"].sessions) == (144, 1, 12)
    assert [(q.nodeid, q.cause) for q in known] == [("t::b", QuarantineCause.FLAKY)]
    assert "known flaky from earlier sessions: t::b: 1 failure(s) in 144 runs" in known[0].detail
    assert ">= 2.1 %" in note  # 1-(0.05)^(1/144): the power grows with the sessions (22.1 % after one)
    (tmp_path / history.EVIDENCE_FILE).write_text('{"format": 1, "kind": "flaky-evidence", "tests": []}')
    with pytest.raises(ArtifactError, match="delete the file"):
        history.read_evidence(tmp_path)
