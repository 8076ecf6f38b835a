"""Pipeline helpers: which metrics a config measures, cells unmeasured everywhere, unreadable sources and the
run's invariant (a figure or a reason for every module)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from conftest import write_tree
from reportdata import scorecard, write_sources

from harness import history, pipeline
from harness.collectors.coverage import CoverageResult
from harness.collectors.mutation import MutationResult
from harness.collectors.records import RunRecord
from harness.config import Config
from harness.discover import discover
from harness.model import CoverageNumbers, Metric, ModuleCoverage, ModuleMutation, MutationCounts, RunMeta
from harness.sampling import Scope

FLAT = {"pkg/__init__.py": "", "pkg/a.py": "x = 1\n", "pkg/b.py": "y = 2\n",
        "tests/test_a.py": "def test_a():\n    pass\n"}


def test_enabled_metrics_follow_the_config() -> None:
    cfg = Config()
    off = replace(cfg, coverage=replace(cfg.coverage, enabled=False), runtime=replace(cfg.runtime, enabled=False),
                  flakiness=replace(cfg.flakiness, enabled=False), mutation=replace(cfg.mutation, enabled=False))
    assert pipeline.enabled_metrics(off) == ()
    shard = replace(cfg, mutation=replace(cfg.mutation, enabled=True, shard="1/2"))
    assert Metric.MUTATION_SCORE not in pipeline.enabled_metrics(shard)
    assert set(pipeline.enabled_metrics(replace(cfg, mutation=replace(cfg.mutation, enabled=True)))) == set(Metric)


def test_unmeasured_everywhere(tmp_path: Path) -> None:
    project = discover(write_tree(tmp_path, FLAT), Config())
    cells = pipeline.unmeasured_everywhere(project, (Metric.SUITE_RUNTIME, Metric.FLAKY_RATE), "boom",
                                           project_level=True)
    assert [(u.module, u.metric) for u in cells] == [
        ("project", Metric.SUITE_RUNTIME), ("project", Metric.FLAKY_RATE),
        *((m.name, Metric.FLAKY_RATE) for m in project.modules)]
    assert all(u.cause == "boom" for u in cells)
    modules_only = pipeline.unmeasured_everywhere(project, (Metric.LINE_COVERAGE,), "x")
    assert {u.module for u in modules_only} == {m.name for m in project.modules}


def test_unreadable(tmp_path: Path) -> None:
    good = tmp_path / "good.py"
    good.write_text("x = 1\n", encoding="utf-8")
    assert pipeline.unreadable(good) == ""
    latin = tmp_path / "latin.py"
    latin.write_bytes(b"# -*- coding: latin-1 -*-\nname = '\xe9'\n")
    assert pipeline.unreadable(latin) == ""
    bad = tmp_path / "bad.py"
    bad.write_bytes(b"name = '\xff\xfe'\n")
    assert pipeline.unreadable(bad).startswith("cannot be decoded (")
    assert pipeline.unreadable(tmp_path / "missing.py") == "No such file or directory"


def test_missing_cells_is_the_runs_invariant(tmp_path: Path) -> None:
    root = write_tree(tmp_path, FLAT)
    (root / "pkg" / "b.py").write_bytes(b"y = '\xff'\n")
    project = discover(root, Config())
    cov = CoverageResult(by_module={"pkg.a": ModuleCoverage(numbers=CoverageNumbers(statements=1, executed=1))},
                         record=RunRecord(order="declared", seed=0, exitstatus=0, collected=1,
                                          collection_errors=(), tests=()))
    mutated = MutationResult(by_module={"pkg.a": ModuleMutation(counts=MutationCounts(killed=1))}, shard=None,
                             mutants_digest="", mutants_total=1)
    cfg = replace(Config(), mutation=replace(Config().mutation, modules=("pkg.a", "pkg.b")))
    cells = pipeline.missing_cells(project, cfg, cov, mutated, tuple(Metric), Scope())
    assert [(u.module, u.metric) for u in cells] == [("pkg.b", Metric.LINE_COVERAGE),
                                                      ("pkg.b", Metric.BRANCH_COVERAGE),
                                                      ("pkg.b", Metric.MUTATION_SCORE)]
    assert cells[0].cause.startswith("coverage.py could not read the module: cannot be decoded")
    assert cells[2].cause == "the mutation phase returned no result for this module"
    # pkg (an empty __init__) is readable: no figure from coverage.py is not an error for it
    assert pipeline.missing_cells(project, cfg, cov, None, (Metric.LINE_COVERAGE,), Scope()) == cells[:2]
    diff_mode = Scope(functions={"pkg.a": ("f",)})
    assert pipeline.missing_cells(project, cfg, cov, mutated, (Metric.MUTATION_SCORE,), diff_mode) == []


def test_history_is_appended_after_the_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run interrupted while writing its reports is not recorded: the next run's baseline is the last whole
    run. A whole run appends itself after every report is written."""
    root = write_sources(tmp_path / "demo")
    reports = tmp_path / "reports"
    card = replace(scorecard(str(root)), meta=RunMeta(time="first"))
    cfg = Config()
    pipeline.finish(card, cfg, root, reports, None)
    assert [e.time for e in history.read_history(reports)] == ["first"]

    def interrupted(*_: object, **__: object) -> list[Path]:
        assert [e.time for e in history.read_history(reports)] == ["first"]  # not yet appended
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "write_all", interrupted)
    with pytest.raises(KeyboardInterrupt):
        pipeline.finish(replace(card, meta=RunMeta(time="second")), cfg, root, reports, None)
    assert [e.time for e in history.read_history(reports)] == ["first"]
    monkeypatch.undo()
    pipeline.finish(replace(card, meta=RunMeta(time="third")), cfg, root, reports, None)
    assert [e.time for e in history.read_history(reports)] == ["first", "third"]
