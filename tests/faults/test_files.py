"""Files the harness reads back (history.json, scorecard.json, mutation.json, baselines) and the folders it
writes: a binary, damaged or wrong-shaped file, or a folder that is a file or cannot be written, is one line
naming the file (or key) with its exit code, never a traceback."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
import reportdata
from test_mutation_shards import write_shard

from harness.collectors import mutation
from harness.reporters import json_report
from harness.workspace import FORMAT, write_json

from .conftest import HARNESS_DIRS, Fault


def _doc(kind: str, **payload: Any) -> str:
    return json.dumps({"format": FORMAT, "kind": kind, "harness_version": "0", **payload})


ENTRY = {"time": "2026-01-01T00:00:00+00:00", "project": "simple"}


@pytest.mark.parametrize(
    ("content", "names"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", ["history.json", "not JSON text"]),
        ('{"format": 1, "kind": "history", "entries": [', ["history.json", "not a readable harness file"]),
        ("[1, 2, 3]", ["history.json", "found a JSON list"]),
        (_doc("scorecard"), ["history.json", "not a history file"]),
        (_doc("history", entries=5), ["history.json", "entries: expected a list, got int"]),
        (_doc("history", entries=[5]), ["history.json", "entries[0]: expected an object"]),
        (_doc("history", entries=[{"time": "x"}]), ["history.json", "entries[0]: missing project"]),
        (_doc("history", entries=[{**ENTRY, "totals": {"line_coverage": "high"}}]),
         ["history.json", "entries[0].totals.line_coverage: expected a number"]),
        (_doc("history", entries=[{**ENTRY, "modules": {"simple.calc": {"line_coverage": float("nan")}}}]),
         ["history.json", "line_coverage: expected a finite number"]),
        ('{"format": 1, "kind": "history", "entries": [{"time": "t", "project": "p", "suite_runtime": 1e999}]}',
         ["history.json", "suite_runtime: expected a finite number"]),
        (_doc("history", entries=[{**ENTRY, "commit": 12345}]), ["history.json", "commit: expected a string"]),
    ],
    ids=["binary", "truncated", "list", "other-kind", "entries-int", "entry-int", "entry-no-project",
         "figure-string", "figure-nan", "figure-huge", "commit-int"],
)
def test_bad_history_file(fault: Fault, content: str | bytes, names: list[str]) -> None:
    fault.write({"reports/history.json": content})
    fault.fails("run", fault.root, code=3, names=names)
    fault.fails("trend", fault.root, code=3, names=names)


def _scorecard(root: Path) -> dict[str, Any]:
    json_report.write(reportdata.scorecard(str(root)), root / "reports" / "scorecard.json")
    doc: dict[str, Any] = json.loads((root / "reports" / "scorecard.json").read_text())
    return doc


@pytest.mark.parametrize(
    ("damage", "names"),
    [
        (lambda d: b"\xff\xd8\xff\xe0 binary", ["scorecard.json", "not JSON text"]),
        (lambda d: {**d, "modules": {}}, ["scorecard.json", "modules: expected a list"]),
        (lambda d: {**d, "modules": [{"module": "x"}]}, ["scorecard.json", "modules[0]: missing path"]),
        (lambda d: {**d, "metrics": ["speed"]}, ["scorecard.json", "metrics[0]: 'speed' is not a Metric"]),
        (lambda d: {**d, "totals": None}, ["scorecard.json", "totals: expected an object, got null"]),
        (lambda d: {**d, "modules": [{**d["modules"][0], "coverage": {"numbers": {"statements": "10"}}}]},
         ["scorecard.json", "modules[0].coverage.numbers.statements: expected an integer"]),
    ],
    ids=["binary", "modules-object", "module-no-path", "unknown-metric", "totals-null", "statements-string"],
)
def test_bad_scorecard_file(fault: Fault, damage: Any, names: list[str]) -> None:
    bad = damage(_scorecard(fault.root))
    fault.write({"reports/scorecard.json": bad if isinstance(bad, bytes) else json.dumps(bad)})
    fault.fails("plan", fault.root, code=3, names=names)
    fault.fails("baseline", "update", fault.root, code=3, names=names)


def test_bad_baseline_file(fault: Fault) -> None:
    fault.write({"b.json": _doc("baseline", entry={**ENTRY, "passed": "yes"})})
    fault.fails("run", fault.root, "--baseline", fault.root / "b.json", code=3,
                names=["b.json", "entry.passed: expected true or false"])


@pytest.mark.parametrize(
    ("damage", "names"),
    [
        (lambda d: b"\x00\x01\x02\xff", ["mutation.json", "not JSON text"]),
        (lambda d: {**d, "modules": []}, ["mutation.json", "malformed"]),
        (lambda d: {**d, "shard": ["a", "b"]}, ["mutation.json", "shard"]),
        (lambda d: {**d, "shard": [1]}, ["mutation.json", "malformed"]),
        (lambda d: {**d, "modules": {"pkg.mod": {"counts": {"killed": -0.5}}}},
         ["mutation.json", "counts.killed: expected an integer"]),
        (lambda d: {**d, "shard_plan": ["planned"]}, ["mutation.json", "malformed", "shard_plan"]),
    ],
    ids=["binary", "modules-list", "shard-strings", "shard-short", "killed-float", "shard-plan-list"],
)
def test_bad_mutation_results_in_merge(fault: Fault, monkeypatch: pytest.MonkeyPatch, damage: Any,
                                       names: list[str]) -> None:
    shard = write_shard(fault.root / "s1", mutation.Shard(1, 1))
    bad = damage(json.loads((shard / mutation.RESULTS_FILE).read_text()))
    fault.write({"s1/mutation.json": bad if isinstance(bad, bytes) else json.dumps(bad)})
    monkeypatch.chdir(fault.root)
    fault.fails("merge", "s1", "--output", "merged", code=3, names=names, skip=(".harness-cache", "merged"))


@pytest.mark.parametrize(
    ("files", "names"),
    [
        ({"reports": "a file where the reports folder goes\n"}, ["'reports_dir'", "is a file, not a folder"]),
        ({".harness-cache": "a file where the cache goes\n"}, ["'cache_dir'", "is a file, not a folder"]),
        ({"config/quality.toml": b"[targets]\nline_coverage = 80 # \xe9t\xe9\n"},
         ["config/quality.toml", "not UTF-8"]),
        ({"pyproject.toml": b"[project]\nname = \"caf\xe9\"\n"}, ["pyproject.toml", "not UTF-8"]),
        ({"simple/latin.py": b"NAME = '\xe9'\n"}, ["simple/latin.py", "syntax error"]),
    ],
    ids=["reports-is-a-file", "cache-is-a-file", "config-latin-1", "pyproject-latin-1", "module-latin-1"],
)
def test_bad_files_and_folders(fault: Fault, files: dict[str, str | bytes], names: list[str]) -> None:
    fault.write(files)
    measured = "syntax error" in names  # refused when measuring starts: the harness's folders exist by then
    fault.fails("run", fault.root, code=2, names=names, skip=HARNESS_DIRS if measured else ())


def test_unwritable_reports_folder(fault: Fault, monkeypatch: pytest.MonkeyPatch) -> None:
    reports = fault.root / "reports"
    reports.mkdir()
    reports.chmod(0o555)
    real = tempfile.mkstemp

    def refuse(*args: Any, **kwargs: Any) -> tuple[int, str]:  # root ignores the mode: refuse as the OS would
        if Path(kwargs.get("dir", "")) == reports:
            raise PermissionError(13, "Permission denied", str(reports))
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    try:
        fault.fails("run", fault.root, code=2, names=["'reports_dir'", "cannot write in", "Permission denied"])
    finally:
        reports.chmod(0o755)


def test_a_report_that_cannot_be_written_is_one_line(fault: Fault, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the checks (e.g. the disk fills up): the file is named, exit 3, and the old file is kept."""
    write_json(fault.root / "reports" / "baseline.json", "x", {})
    _scorecard(fault.root)
    before = (fault.root / "reports" / "baseline.json").read_bytes()

    def full(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full)
    fault.fails("baseline", "update", fault.root, code=3, names=["baseline.json", "No space left on device"])
    assert (fault.root / "reports" / "baseline.json").read_bytes() == before
    assert not list((fault.root / "reports").glob(".*.tmp"))
