"""Issue 14 end to end on the fixture project (tests/conftest.SIMPLE_PROJECT): line-level test selection on known
mutants, and a fresh checkout that restores only the verdict cache. Real harness, coverage.py, mutmut, pytest."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import HarnessResult, run_harness

pytestmark = pytest.mark.slow

FAST = ("--set", "flakiness.enabled=false", "--set", "runtime.enabled=false", "--set", "mutation.enabled=true",
        "--set", "history.enabled=false", "--quiet")


def run(root: Path, *extra: str) -> HarnessResult:
    result = run_harness("run", root, *FAST, *extra, cwd=root)
    assert result.returncode in (0, 1), result.output
    return result


def statuses(root: Path) -> dict[str, str]:
    doc = json.loads((root / "reports" / "mutation.json").read_text(encoding="utf-8"))
    return {m["name"]: m["status"] for mm in doc["modules"].values() for m in mm["mutants"]}


def journal(root: Path, event: str) -> list[dict[str, object]]:
    lines = (root / "reports" / "raw" / "mutation" / "journal.jsonl").read_text(encoding="utf-8").splitlines()
    return [e for e in map(json.loads, lines) if e.get("event") == event]


def executions(root: Path) -> dict[str, int]:
    path = root / "reports" / "raw" / "mutation" / "executions.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return {e["mutant"]: e["ran"] for e in map(json.loads, lines)}


def test_line_selection_on_known_mutants(target_project: Callable[..., Path]) -> None:
    root = target_project()
    run(root, "--set", "mutation.selection=function")
    by_function = statuses(root)
    ran_by_function = executions(root)
    run(root, "--set", "mutation.selection=line", "--set", "mutation.incremental=false")
    by_line = statuses(root)
    selected = {e["mutant"]: e for e in journal(root, "select")}
    # classify's line 5 (`return "zero"`) runs in no test: its mutants are no coverage without a fork; every
    # other verdict stands
    zero = {k for k, e in selected.items() if ".x_classify__" in k and e["line"] == 0}
    assert zero and all(by_function[k] == "survived" and by_line[k] == "no_coverage" for k in zero)
    assert {k: v for k, v in by_line.items() if k not in zero} == {k: v for k, v in by_function.items()
                                                                  if k not in zero}
    assert not zero & set(executions(root))
    assert all(e["mode"] in ("line", "header") for e in selected.values())
    assert sum(executions(root).values()) < sum(ran_by_function.values())


def test_fresh_checkout_with_the_verdict_cache_reruns_nothing(target_project: Callable[..., Path],
                                                              tmp_path: Path) -> None:
    root = target_project()
    run(root)
    first = statuses(root)
    card = json.loads((root / "reports" / "scorecard.json").read_text(encoding="utf-8"))
    fresh = tmp_path / "fresh"
    shutil.copytree(root, fresh, ignore=shutil.ignore_patterns(".harness-cache", "reports"))
    shutil.copytree(root / ".harness-cache" / "verdicts", fresh / ".harness-cache" / "verdicts")
    run(fresh)
    assert statuses(fresh) == first
    again = json.loads((fresh / "reports" / "scorecard.json").read_text(encoding="utf-8"))
    assert [m.get("mutation", {}).get("counts") for m in again["modules"]] == [
        m.get("mutation", {}).get("counts") for m in card["modules"]]
    cached = {e["mutant"] for e in journal(fresh, "cached")}
    submitted = {e["mutant"] for e in journal(fresh, "select")}
    assert cached and cached == submitted  # every mutant that had tests came from the cache
    assert executions(fresh) == {}  # no mutant was forked
    # nothing changed: the coverage run came back with the cache too (paths moved to the new work copy, so the
    # line selection still reads its contexts), the same figures, and the run says so
    assert (fresh / "reports" / "raw" / "coverage" / "reused.json").is_file()
    assert [m.get("coverage") for m in again["modules"]] == [m.get("coverage") for m in card["modules"]]
    assert any(n["kind"] == "coverage.reused" for n in again["notes"])
    assert all(e["mode"] in ("line", "header") for e in journal(fresh, "select"))
    # mutmut's stats came back with the cache: no full instrumented run of the suite, only the test listing
    raw = fresh / "reports" / "raw" / "mutation"
    assert (raw / "stats-restored.json").is_file()
    log = (raw / "mutmut.log").read_text(encoding="utf-8")
    # ... nor a test listing (the bundle's key covers every file: the same test ids; mutmut still draws its
    # spinner's title), nor a generation: what mutmut generated came back with them (its meta files without
    # verdicts: those came from the cache above)
    assert "Running stats" not in log
    assert re.search(r"done in \d+ms \(0 files mutated, \d+ ignored, [1-9]\d* unmodified\)", log), log[-2000:]
    status = json.loads((raw / "status.json").read_text(encoding="utf-8"))
    assert status.get("listing_skipped") is True
    assert [step for step, _ in status["timeline"]][:2] == ["generate", "stats"]
    # and with every verdict in the cache no mutant is forked, so no clean or forced-fail run checks the suite
    assert json.loads((raw / "status.json").read_text(encoding="utf-8")).get("clean_skipped") is True
    # an edited function: only its mutants run again
    calc = fresh / "simple" / "calc.py"
    calc.write_text(calc.read_text().replace("return a + b", "return b + a"))
    run(fresh)
    assert set(executions(fresh)) and all(".x_add__" in k for k in executions(fresh))
    assert not (fresh / "reports" / "raw" / "coverage" / "reused.json").exists()  # measured again
    assert "clean_skipped" not in json.loads((raw / "status.json").read_text(encoding="utf-8"))
    # a warm sandbox keeps mutmut's line index (mutants/*.py.spans): line level, never "unaligned"
    assert journal(fresh, "select") and all(e["mode"] != "unaligned" for e in journal(fresh, "select"))
    # another checkout whose tests differ: the stats bundle's key differs, mutmut runs its full stats
    other = tmp_path / "other"
    shutil.copytree(root, other, ignore=shutil.ignore_patterns(".harness-cache", "reports"))
    shutil.copytree(root / ".harness-cache" / "verdicts", other / ".harness-cache" / "verdicts")
    test_file = next((other / "tests").glob("test_*.py"))
    test_file.write_text(test_file.read_text() + "\n\ndef test_added_later():\n    assert True\n")
    run(other)
    assert not (other / "reports" / "raw" / "mutation" / "stats-restored.json").exists()
    assert not (other / "reports" / "raw" / "coverage" / "reused.json").exists()
    assert "Running stats" in (other / "reports" / "raw" / "mutation" / "mutmut.log").read_text(encoding="utf-8")
    assert statuses(other) == first
