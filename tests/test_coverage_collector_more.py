"""The coverage collector's run and parse without a real pytest: commands, the spec, every refusal."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import write_tree

from harness.collectors import coverage
from harness.collectors.pytest_run import PytestRun
from harness.config import Config, CoverageSettings
from harness.discover import Project, discover
from harness.errors import ArtifactError, NoDataError, ToolError

FLAT = {"pkg/__init__.py": "", "pkg/a.py": "x = 1\n", "solo.py": "y = 2\n",
        "tests/test_a.py": "def test_a():\n    pass\n"}
RECORD = {"format": 1, "kind": "run-record", "collected": 1, "tests": [{"nodeid": "tests/test_a.py::test_a"}]}


@pytest.fixture
def project(tmp_path: Path) -> Project:
    root = write_tree(tmp_path / "p", FLAT)
    return discover(root, Config(source=("pkg", "solo.py")))


class FakeTools:
    """subprocess.run for the config probe and coverage.py's CLI; run_pytest writes the record."""

    def __init__(self, *, rc: int = 0, probe: tuple[int, str, str] = (0, "CONFIG\n", ""),
                 cli: dict[str, tuple[int, str]] | None = None) -> None:
        self.rc, self.probe, self.cli = rc, probe, cli or {}
        self.commands: list[list[str]] = []
        self.env_extra: dict[str, str] = {}
        self.after: tuple[str, ...] = ()

    def run(self, cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        self.commands.append(cmd)
        if cmd[1] == "-c":
            rc, out, err = self.probe
            return subprocess.CompletedProcess(cmd, rc, out, err)
        rc, out = self.cli.get(cmd[3], (0, ""))
        return subprocess.CompletedProcess(cmd, rc, out, "")

    def run_pytest(self, project: Project, cfg: Config, work: Path, args: list[str], log: Path,
                   env_extra: dict[str, str], after: tuple[str, ...],
                   on_wait: Callable[[], None] | None = None) -> PytestRun:
        self.env_extra, self.after = env_extra, after
        record = next(a.split("=", 1)[1] for a in args if a.startswith("--harness-record="))
        Path(record).write_text(json.dumps(RECORD), encoding="utf-8")
        return PytestRun(returncode=self.rc, wall_seconds=1.0, output_file=log)


def _patch(monkeypatch: pytest.MonkeyPatch, tools: FakeTools) -> None:
    monkeypatch.setattr(coverage.subprocess, "run", tools.run)
    monkeypatch.setattr(coverage, "run_pytest", tools.run_pytest)


def test_run_writes_the_spec_and_runs_combine_then_json(project: Project, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    tools = FakeTools()
    _patch(monkeypatch, tools)
    monkeypatch.setenv("COVERAGE_PROCESS_START", "outer")
    raw = tmp_path / "raw"
    (raw / "coverage").mkdir(parents=True)
    (raw / "coverage" / ".coverage.old").write_text("")
    cfg = Config(coverage=CoverageSettings(subprocess=False, pytest_args=("-m", "all")))
    art = coverage.run(project, cfg, project.root, raw)
    assert not (raw / "coverage" / ".coverage.old").exists()
    spec = json.loads((art.raw / "spec.json").read_text(encoding="utf-8"))
    assert spec["source"] == [str(project.root / "pkg"), "solo"]
    assert tools.env_extra["COVERAGE_PROCESS_CONFIG"] == "CONFIG"
    assert tools.env_extra["HARNESS__COVERAGE_SUBPROCESS"] == "0" and tools.after == ("-m", "all")
    assert [c[3] for c in tools.commands[1:]] == ["combine", "json"]
    assert tools.commands[0][1] == "-c"  # the process config, read in the work copy


@pytest.mark.parametrize("rc", [3, 4])
def test_pytest_that_cannot_start_is_a_tool_error(project: Project, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch, rc: int) -> None:
    _patch(monkeypatch, FakeTools(rc=rc))
    with pytest.raises(ToolError, match=f"pytest failed to start \\({rc}: internal or usage error\\)"):
        coverage.run(project, Config(), project.root, tmp_path / "raw")


@pytest.mark.parametrize(("probe", "message"), [((1, "", "Bad config: x\n"), "Bad config: x"),
                                                ((2, "", ""), "exit 2"), ((0, "", ""), "exit 0")])
def test_unreadable_coverage_config(project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    probe: tuple[int, str, str], message: str) -> None:
    _patch(monkeypatch, FakeTools(probe=probe))
    with pytest.raises(ToolError, match=f"coverage.py could not read the target's coverage config in .*: "
                                        f"{message}; log "):
        coverage.run(project, Config(), project.root, tmp_path / "raw")


@pytest.mark.parametrize(("cli", "error", "message"), [
    ({"combine": (1, "No data to combine\n")}, NoDataError, "coverage.py saw no data"),
    ({"json": (1, "No data to report.\n")}, NoDataError, "coverage.py saw no data"),
    ({"json": (2, "boom\nreally\n")}, ToolError, "coverage json failed: really"),
    ({"combine": (2, "")}, ToolError, "coverage combine failed: 2"),
])
def test_coverage_cli_failures(project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               cli: dict[str, tuple[int, str]], error: type[Exception], message: str) -> None:
    _patch(monkeypatch, FakeTools(cli=cli))
    with pytest.raises(error, match=message):
        coverage.run(project, Config(), project.root, tmp_path / "raw")


def _artifacts(tmp_path: Path, project: Project, report: str | None) -> coverage.CoverageArtifacts:
    art = coverage.CoverageArtifacts(raw=tmp_path / "raw", work=project.root)
    art.raw.mkdir(parents=True, exist_ok=True)
    art.record.write_text(json.dumps(RECORD), encoding="utf-8")
    if report is not None:
        art.json_report.write_text(report, encoding="utf-8")
    return art


def test_parse_refusals(project: Project, tmp_path: Path) -> None:
    with pytest.raises(NoDataError, match=r"coverage\.py wrote no report"):
        coverage.parse(_artifacts(tmp_path, project, None), project)
    with pytest.raises(ArtifactError, match="is unreadable"):
        coverage.parse(_artifacts(tmp_path, project, "{not json"), project)
    nothing = {"files": {"pkg/a.py": {"summary": {"num_statements": 1, "covered_lines": 0}}}}
    with pytest.raises(NoDataError, match=r"saw no executed line in pkg, solo\.py"):
        coverage.parse(_artifacts(tmp_path, project, json.dumps(nothing)), project)


def test_parse_reads_figures_and_tests(project: Project, tmp_path: Path) -> None:
    doc = {"files": {str(project.root / "pkg/a.py"): {
        "summary": {"num_statements": 2, "covered_lines": 1, "num_branches": 2, "covered_branches": 1},
        "missing_lines": [2], "missing_branches": [[1, 2]], "contexts": {"1": ["", "tests/test_a.py::test_a"]}}}}
    result = coverage.parse(_artifacts(tmp_path, project, json.dumps(doc)), project)
    mod = result.by_module["pkg.a"]
    assert mod.missing_arcs == ((1, 2),) and mod.tests == ("tests/test_a.py::test_a",)
    assert result.tests_by_module == {"pkg.a": ("tests/test_a.py::test_a",)}
    assert "solo" not in result.by_module  # never imported: left to the caller as unmeasured


def test_the_plugin_keeps_a_live_count_the_coverage_phase_reports(tmp_path: Path) -> None:
    """The pytest plugin writes (finished, collected, last test) at most once a second and after the last test;
    the coverage collector turns it into progress; nothing readable yet is no progress, not an error."""
    from types import SimpleNamespace

    import harness_pytest
    from harness.collectors.records import read_live

    record = tmp_path / "record.json"
    rec = harness_pytest._Recorder(record, None)  # type: ignore[arg-type]
    rec.collected = 3

    def ends(nodeid: str) -> None:
        for when in ("setup", "call", "teardown"):
            rec.pytest_runtest_logreport(SimpleNamespace(  # type: ignore[arg-type]
                nodeid=nodeid, when=when, duration=0.1, failed=False, skipped=False, start=0.0, stop=0.0))

    seen: list[tuple[int, int, str]] = []
    coverage._report_live(record, lambda *a: seen.append(a))
    assert read_live(record) is None and seen == []
    ends("t.py::a")
    assert read_live(record) == (1, 3, "t.py::a")
    ends("t.py::b")  # within the second: not written again
    assert read_live(record) == (1, 3, "t.py::a")
    ends("t.py::c")  # the last one always is
    coverage._report_live(record, lambda *a: seen.append(a))
    assert seen == [(3, 3, "t.py::c")]
    record.with_suffix(".live").write_text("{not json")
    assert read_live(record) is None


def test_damaged_reports_and_contexts_are_artifact_errors(project: Project, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    art = _artifacts(tmp_path, project, "{}")
    assert coverage.read_contexts(art) == {}  # no contexts file: no tests per line, not an error
    for text, message in (("{cut", "is unreadable"), ("[1]", "is not a JSON object"),
                          (json.dumps({"kind": coverage.CONTEXTS_KIND, "files": [1]}), "is not a JSON object")):
        art.contexts.write_text(text, encoding="utf-8")
        with pytest.raises(ArtifactError, match=message):
            coverage.read_contexts(art)
    art.contexts.write_text(json.dumps({"kind": coverage.CONTEXTS_KIND, "files": {"a.py": ["t"]}}), "utf-8")
    assert coverage.read_contexts(art) == {"a.py": ["t"]}
    art.json_report.write_text("[]", encoding="utf-8")
    with pytest.raises(ArtifactError, match="is not a JSON object"):
        coverage.read_report(art)

    def too_big(*_a: object, **_k: object) -> str:
        raise MemoryError

    monkeypatch.setattr(Path, "read_text", too_big)
    with pytest.raises(ToolError, match="too large to load in memory"):
        coverage.read_report(art)


def test_only_a_run_that_reached_its_end_is_kept(project: Project, tmp_path: Path) -> None:
    art = _artifacts(tmp_path, project, "{}")
    for status, kept in ((1, True), (0, True), (2, False)):  # 2: interrupted
        art.record.write_text(json.dumps({**RECORD, "exitstatus": status}), encoding="utf-8")
        assert coverage._keepable(art) is kept
    art.record.write_text("{cut", encoding="utf-8")
    assert coverage._keepable(art) is False
