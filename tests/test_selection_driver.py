"""The driver's side of test selection (harness/selection_driver.py): the spec keys the collector writes (line
contexts of the coverage run, settings that change verdicts), the tests the driver picks per mutant, mutmut's
limits for them, and the hooks on mutmut's submit/registration (verdict cache)."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from coverage import CoverageData
from test_selection import DURATIONS, LINE_TESTS, SOURCE, generated_file

from harness import selection as sel
from harness import selection_driver as sd
from harness import verdict_cache
from harness.config import load_config
from harness.verdict_cache import DriverCache


def coverage_data(tmp_path: Path, work: Path) -> Path:
    """A combined coverage.py data file with dynamic contexts: per test, the lines of pkg/mod.py it ran."""
    data = CoverageData(basename=str(tmp_path / ".coverage"))
    by_test: dict[str, list[int]] = {}
    for line, tests in LINE_TESTS.items():
        for t in tests:
            by_test.setdefault(t, []).append(line)
    for test, lines in sorted(by_test.items()):
        data.set_context(test)
        data.add_lines({str(work / "pkg" / "mod.py"): lines, str(work / "pkg" / "gone.py"): [1]})
    data.write()
    return tmp_path / ".coverage"


def test_spec_for_hands_the_driver_the_contexts_of_the_measured_source(tmp_path: Path) -> None:
    work = tmp_path / "work"
    generated_file(work)
    data = coverage_data(tmp_path, work)
    out = tmp_path / "line-contexts.json"
    spec = sd.spec_for("line", data, work, ["pkg/mod.py", "pkg/gone.py"], out)
    assert spec == {"selection": "line", "line_contexts": str(out)}
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["tests"] == ["t_fast", "t_mid", "t_slow"]
    assert list(doc["files"]) == ["pkg/mod.py"]  # gone.py: no source to hash, left out
    loaded = sel.load_contexts_document(doc)
    assert loaded["pkg/mod.py"] == (sel.sha256_text(SOURCE), {k: frozenset(v) for k, v in LINE_TESTS.items()})


def test_spec_for_without_usable_coverage_data_falls_back(tmp_path: Path) -> None:
    out = tmp_path / "line-contexts.json"
    assert sd.spec_for("line", tmp_path / "none", tmp_path, ["a.py"], out) == {"selection": "line",
                                                                             "line_contexts": None}
    bad = tmp_path / ".coverage"
    bad.write_text("not a coverage data file")
    spec = sd.spec_for("function", bad, tmp_path, ["a.py"], out)
    assert spec["selection"] == "function" and spec["line_contexts"] is None
    assert spec["line_contexts_error"].startswith("DataError: ")
    assert len(spec["line_contexts_error"]) <= 300
    assert not out.exists()


def test_driver_spec_writes_the_line_contexts_into_the_raw_folder(tmp_path: Path) -> None:
    work = tmp_path / "work"
    generated_file(work)
    (tmp_path / "raw").mkdir()
    cfg, _ = load_config(tmp_path, cli={"mutation.selection": "line"})
    spec = sd.driver_spec(cfg, coverage_data(tmp_path, work), work, ["pkg/mod.py"], tmp_path / "raw")
    assert spec["line_contexts"] == str(tmp_path / "raw" / "line-contexts.json")
    doc = json.loads((tmp_path / "raw" / "line-contexts.json").read_text(encoding="utf-8"))
    assert list(doc["files"]) == ["pkg/mod.py"]


def test_driver_spec_carries_every_setting_that_changes_a_verdict(tmp_path: Path) -> None:
    cfg, _ = load_config(tmp_path, cli={"mutation.selection": "line", "mutation.timeout_budget": "test",
                                         "mutation.timeout_multiplier": 4.0, "mutation.timeout_constant": 0.25,
                                         "pytest_args": ["-m", "not slow"]})
    spec = sd.driver_spec(cfg, tmp_path / "none", tmp_path, ["a.py"], tmp_path / "raw", "/cache", ("pickling",))
    assert spec == {
        "selection": "line",
        "line_contexts": None,
        "verdict_cache": "/cache",
        "verdict_cache_read": cfg.mutation.incremental,
        "verdict_settings": {
            "timeout_multiplier": 4.0,
            "timeout_constant": 0.25,
            "timeout_budget": "test",
            "memory_limit_mb": cfg.mutation.memory_limit_mb,
            "runner": cfg.mutation.runner,
            "selection": "line",
            "pytest_args": ["-m", "not slow"],
            "fixes": ("pickling",),
            "limits": sd.LIMITS_VERSION,
        },
        "timeout_budget": "test",
        "timeout_constant": 0.25,
        "timeout_multiplier": 4.0,
        "executions": str(tmp_path / "raw" / "executions.jsonl"),
    }
    assert sd.driver_spec(cfg, tmp_path / "none", tmp_path, [], tmp_path / "raw")["verdict_cache"] is None


def contexts_file(tmp_path: Path) -> Path:
    doc = sel.contexts_document({"pkg/mod.py": {k: sorted(v) for k, v in LINE_TESTS.items()}},
                                {"pkg/mod.py": sel.sha256_text(SOURCE)})
    path = tmp_path / "line-contexts.json"
    path.write_text(json.dumps(doc))
    return path


def driver_spec(tmp_path: Path, mode: str | None, **extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"line_contexts": str(contexts_file(tmp_path)), "modules": {"pkg/mod.py": "pkg.mod"},
                            **extra}
    if mode is not None:
        spec["selection"] = mode
    return spec


def test_line_mode_runs_the_line_selection_function_mode_only_records_it(tmp_path: Path) -> None:
    generated_file(tmp_path)
    tests = ["t_slow", "t_mid", "t_fast"]
    line = sd.DriverSelection(driver_spec(tmp_path, "line"), tmp_path)
    assert line.mode == "line" and line.files() is line.files()
    chosen, picked = line.pick("pkg.mod.x_classify__mutmut_1", tests, DURATIONS)
    assert chosen == ["t_slow"] and picked == sel.Selection(("t_slow",), "line", (11,))
    function = sd.DriverSelection(driver_spec(tmp_path, None), tmp_path)
    assert function.mode == "function"
    chosen, picked = function.pick("pkg.mod.x_classify__mutmut_1", [*tests, "t_other", "t_new"], DURATIONS)
    assert chosen == ["t_new", "t_fast", "t_other", "t_mid", "t_slow"]  # fastest first, an unknown test first of all
    assert picked.mode == "unsound"  # t_new and t_other ran none of classify's lines in the coverage run
    assert function.files().path_by_module == {"pkg.mod": "pkg/mod.py"}


def test_unreadable_contexts_mean_function_level_for_every_mutant(tmp_path: Path) -> None:
    generated_file(tmp_path)
    spec = driver_spec(tmp_path, "line")
    Path(spec["line_contexts"]).write_text("{not json")
    chosen, picked = sd.DriverSelection(spec, tmp_path).pick("pkg.mod.x_classify__mutmut_1",
                                                              ["t_slow", "t_fast"], DURATIONS)
    assert (chosen, picked.mode) == (["t_fast", "t_slow"], "no-data")
    spec["line_contexts"] = str(tmp_path / "missing.json")
    assert sd.DriverSelection(spec, tmp_path).files().contexts == {}
    del spec["line_contexts"]
    assert sd.DriverSelection(spec, tmp_path).files().contexts == {}


def test_mutmut_limits_round_the_cpu_limit_up() -> None:
    assert sd.mutmut_limits(["t_mid"], DURATIONS, 0.5, 2.0) == (3, 0.1)  # (0.1 + 0.5) x 2 x 2 = 2.4 -> 3
    assert sd.mutmut_limits(["unknown"], DURATIONS, 1.0, 1.0) == (2, 0.0)
    assert sd.mutmut_limits([], DURATIONS, 0.0, 3.0) == (0, 0)
    assert sd.mutmut_limits([], DURATIONS, 0.5, 1.0, {"t_mid": 9.0}) == (1, 0)  # no test: no fixture either


def test_mutmut_limits_charge_fixtures_and_stretch_by_load() -> None:
    fixtures = {"t_mid": 0.4, "t_slow": 0.1}
    # estimate 0.1 + 0.4 + the largest fixture time 0.4 = 0.9: wall (0.9 + 0.5) x 2 = 2.8 s, CPU twice that
    assert sd.mutmut_limits(["t_mid"], DURATIONS, 0.5, 2.0, fixtures) == (6, 0.9)
    # a machine three times busier than its cores: three times the wall budget, handed to mutmut as the
    # estimate it turns into that wall budget ((3.7 + 0.5) x 2 = 8.4 = 2.8 x 3)
    assert sd.mutmut_limits(["t_mid"], DURATIONS, 0.5, 2.0, fixtures, load=3.0) == (17, 3.7)
    assert sd.mutmut_limits(["t_mid"], DURATIONS, 0.5, 2.0, fixtures, load=0.5) == (6, 0.9)  # never below idle


class Journal:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, **event: Any) -> None:
        self.events.append(event)


@pytest.fixture
def driver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """submit_args' world: mutmut's state and config, the driver's selection and cache (fresh per test)."""
    generated_file(tmp_path)
    (tmp_path / "t_mod.py").write_text("def test(): pass\n")
    monkeypatch.setattr(sys.modules[importlib.import_module("mutmut.state").__name__], "state",
                        lambda: SimpleNamespace(duration_by_test=DURATIONS))
    monkeypatch.setattr(importlib.import_module("mutmut.configuration"), "config",
                        lambda: SimpleNamespace(timeout_constant=0.5, timeout_multiplier=2.0))
    results: list[Any] = []
    fake_isolation = SimpleNamespace(MutantResult=lambda **kw: kw)
    monkeypatch.setitem(sys.modules, "mutmut.workers.isolation", fake_isolation)
    monkeypatch.setattr(verdict_cache, "tool_versions", lambda: {"python": "3.11"})  # tested in its own file
    monkeypatch.setattr(sd, "load_factor", lambda: 1.0)  # an idle machine (the stretch: mutmut_limits' tests)

    def make(mode: str, cache: bool = True) -> dict[str, Any]:
        spec = driver_spec(tmp_path, mode, verdict_cache=str(tmp_path / "verdicts") if cache else None)
        selection = sd.DriverSelection(spec, tmp_path)
        monkeypatch.setattr(sd, "_DRIVER", [selection])
        monkeypatch.setattr(sd, "_CACHE", [DriverCache(spec, selection.files(), tmp_path)])
        return spec

    return SimpleNamespace(make=make, results=results, runner=SimpleNamespace(_no_tests_results=results))


def test_submit_in_line_mode_runs_the_line_tests_with_their_own_limits(driver: Any) -> None:
    spec = driver.make("line")
    journal = Journal()
    tests = ["t_slow", "t_mid", "t_fast"]
    submitted = sd.submit_args(spec, "pkg.mod.x_classify__mutmut_1", tests, (99, 9.9, "x"), journal)
    assert submitted == (["t_slow"], (6, 1.0, "x"))  # (1.0 + 0.5) x 2 x 2
    assert journal.events == [{"event": "select", "mutant": "pkg.mod.x_classify__mutmut_1", "mode": "line",
                               "function": 3, "line": 1}]
    assert sd.submit_args(spec, "pkg.mod.x_classify__mutmut_1", tests, ("m",), journal) == (["t_slow"], ("m",))


def test_submit_in_function_mode_keeps_mutmuts_tests_with_the_harness_limits(driver: Any) -> None:
    spec = driver.make("function")
    journal = Journal()
    submitted = sd.submit_args(spec, "pkg.mod.x_classify__mutmut_1", ["t_slow", "t_fast"], (99, 9.9), journal)
    assert submitted == (["t_fast", "t_slow"], (7, 1.01))  # (1.01 + 0.5) x 2 x 2 = 6.04 -> 7
    assert journal.events[0]["mode"] == "line" and journal.events[0]["line"] == 1
    # each test's fixture seconds from the clean run count too, and the largest once more (a scoped fixture)
    fixtures = {"t_slow": 0.5, "t_fast": 0.25, "t_other": 2.0}
    submitted = sd.submit_args(spec, "pkg.mod.x_classify__mutmut_1", ["t_slow", "t_fast"], (99, 9.9), journal,
                               fixtures=fixtures)
    assert submitted == (["t_fast", "t_slow"], (18, 3.76))  # 1.01 + 0.75 + 2.0; (3.76 + 0.5) x 2 x 2 = 17.04


def test_a_cached_verdict_is_handed_to_mutmut_without_running_the_mutant(driver: Any) -> None:
    spec = driver.make("line")
    mutant, tests = "pkg.mod.x_classify__mutmut_1", ["t_slow"]
    assert sd.submit_args(spec, mutant, tests, ("m", tests, 9, 1.0), Journal(), driver.runner) is not None
    sd.registered(mutant, 1, 0.75)
    sd.finish()
    spec = driver.make("line")  # a new run reads the saved cache
    journal = Journal()
    assert sd.submit_args(spec, mutant, tests, ("m", tests, 9, 1.0), journal, driver.runner) is None
    assert journal.events[-1] == {"event": "cached", "mutant": mutant, "exit_code": 1}
    assert driver.results == [{"mutant_name": mutant, "exit_code": 1, "duration": 0.75}]
    # quarantined tests never judge it: they stay out of its key
    assert sd.submit_args(spec, mutant, [*tests, "t_q"], ("m", tests, 9, 1.0), Journal(), driver.runner,
                          quarantined=lambda t: t == "t_q") is None
    assert sd.submit_args(spec, mutant, tests, ("m", tests, 9, 1.0), Journal()) is not None  # no runner: run it


def test_registered_keeps_only_decided_verdicts_and_finish_saves(driver: Any, tmp_path: Path) -> None:
    spec = driver.make("line")
    for n in (1, 2):
        sd.submit_args(spec, f"pkg.mod.x_classify__mutmut_{n}", ["t_slow"], ("m",), Journal())
    sd.registered("pkg.mod.x_classify__mutmut_1", None, 1.0)  # not checked: nothing to keep
    sd.registered("pkg.mod.x_classify__mutmut_2", 0, None)
    sd.finish()
    verdicts = json.loads((tmp_path / "verdicts" / "verdicts.json").read_text())["verdicts"]
    assert list(verdicts.values()) == [[0, 0.0]]


def test_the_driver_builds_its_selection_and_cache_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sd, "_DRIVER", [])
    monkeypatch.setattr(sd, "_CACHE", [])
    spec = {"selection": "line", "verdict_cache": None}
    selection, cache = sd._driver(spec)
    assert selection.mode == "line" and isinstance(cache, DriverCache) and not cache.enabled
    assert sd._driver({"selection": "function"}) == (selection, cache)
    assert cache.files is selection.files()
    sd.registered("m.x_f__mutmut_1", 1, 1.0)  # no key for it: nothing stored
    assert cache.cache.verdicts == {}
