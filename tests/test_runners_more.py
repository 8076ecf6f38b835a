"""The runners' plumbing without spawning pytest: environments, commands, timeouts, the shared runs' index."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import write_tree

from harness.collectors import pytest_run, suite_runs
from harness.config import Config
from harness.discover import Project, discover
from harness.errors import ArtifactError, ToolError

FLAT = {"pkg/__init__.py": "", "pkg/a.py": "x = 1\n", "tests/test_a.py": "def test_a():\n    pass\n"}


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return discover(write_tree(tmp_path / "p", FLAT), Config())


def test_pytest_env_puts_import_roots_first_and_drops_inner_variables(project: Project, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", "/outer")
    monkeypatch.setenv("HARNESS__COVERAGE", "x")
    monkeypatch.setenv("PYTEST_ADDOPTS", "-x")
    monkeypatch.setenv("PYTEST_XDIST_TESTRUNUID", "outer-run")  # an outer xdist worker's: ids would stop varying
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    work = tmp_path / "work"
    env = pytest_run.pytest_env(project, work, {"EXTRA": "1"})
    assert env["PYTHONPATH"].split(":") == [str(work), "/outer"]
    assert "HARNESS__COVERAGE" not in env and "PYTEST_ADDOPTS" not in env
    assert "PYTEST_XDIST_TESTRUNUID" not in env and "PYTEST_XDIST_WORKER" not in env
    assert "PYTHONDONTWRITEBYTECODE" not in env  # the work copy caches compiled and rewritten modules
    assert env["PYTHONHASHSEED"] == "0" and env["EXTRA"] == "1"
    monkeypatch.delenv("PYTHONPATH")
    src = Project(root=project.root, name="p", import_roots=("src",), source=("src/pkg",), tests=("tests",),
                  modules=project.modules)
    assert pytest_run.pytest_env(src, work)["PYTHONPATH"] == str(work / "src")


def test_xdist_args() -> None:
    assert pytest_run.xdist_args(1) == ["-p", "no:xdist"]
    assert pytest_run.xdist_args(3) == ["-n", "3"]


class FakePytest:
    """subprocess.Popen for run_pytest: exits with ``code`` after ``polls`` waits (None: never)."""

    def __init__(self, code: int = 1, polls: int | None = 0) -> None:
        self.code, self.polls = code, polls
        self.seen: dict[str, Any] = {}
        self.waits: list[float | None] = []
        self.killed = False

    def __call__(self, cmd: list[str], **kw: Any) -> FakePytest:
        self.seen.update(cmd=cmd, **kw)
        return self

    def wait(self, timeout: float | None = None) -> int:
        self.waits.append(timeout)
        if self.killed or (self.polls is not None and len(self.waits) > self.polls):
            return -9 if self.killed else self.code
        raise subprocess.TimeoutExpired("pytest", timeout or 0)

    def poll(self) -> int | None:
        return None if not self.killed and (self.polls is None or len(self.waits) <= self.polls) else self.code

    def kill(self) -> None:
        self.killed = True


def test_run_pytest_command_order_and_log(project: Project, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakePytest(code=1)
    monkeypatch.setattr(pytest_run.subprocess, "Popen", fake)
    cfg = Config(pytest_args=("-m", "not slow"))
    log = tmp_path / "logs" / "run.log"
    result = pytest_run.run_pytest(project, cfg, tmp_path, ["--phase"], log, prefix=["-X", "dev"],
                                   after=["-m", "all"])
    assert result.returncode == 1 and result.output_file == log and result.wall_seconds >= 0
    cmd = fake.seen["cmd"]
    assert cmd[1:5] == ["-X", "dev", "-m", "pytest"]
    assert cmd[-6:] == ["--phase", "-m", "not slow", "-m", "all", "tests"]
    assert fake.seen["cwd"] == tmp_path and fake.waits[0] == pytest.approx(cfg.timeout, abs=5)
    assert log.read_text(encoding="utf-8").startswith("$ ")
    assert not fake.killed


def test_run_pytest_calls_its_watcher_while_pytest_runs(project: Project, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The coverage phase's progress: the watcher is called between polls, and pytest's exit code returned."""
    fake = FakePytest(code=0, polls=3)
    monkeypatch.setattr(pytest_run.subprocess, "Popen", fake)
    calls: list[int] = []
    result = pytest_run.run_pytest(project, Config(), tmp_path, [], tmp_path / "t.log",
                                   on_wait=lambda: calls.append(len(fake.waits)))
    assert result.returncode == 0 and calls == [1, 2, 3]
    assert fake.waits == [pytest_run.POLL_SECONDS] * 4


def test_run_pytest_timeout_is_a_tool_error_and_pytest_is_killed(project: Project, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakePytest(polls=None)
    monkeypatch.setattr(pytest_run.subprocess, "Popen", fake)
    with pytest.raises(ToolError, match=r"pytest did not finish within 7 s \(config key 'timeout'\); log: "):
        pytest_run.run_pytest(project, Config(timeout=7), tmp_path, [], tmp_path / "t.log")
    assert fake.killed
    watched = FakePytest(polls=None)  # with a watcher: polled until the deadline, then the same
    monkeypatch.setattr(pytest_run.subprocess, "Popen", watched)
    monkeypatch.setattr(pytest_run, "POLL_SECONDS", 0.001)
    with pytest.raises(ToolError, match=r"did not finish within 0\.05 s"):
        pytest_run.run_pytest(project, Config(timeout=0.05), tmp_path, [], tmp_path / "t.log", on_wait=lambda: None)
    assert watched.killed and len(watched.waits) > 1


def test_tail(tmp_path: Path) -> None:
    assert pytest_run.tail(tmp_path / "missing.log") == ""
    log = tmp_path / "x.log"
    log.write_text("\n".join(str(i) for i in range(20)), encoding="utf-8")
    assert pytest_run.tail(log, 2) == "18\n19"


def test_plan_without_flakiness_or_runtime() -> None:
    assert suite_runs.plan(_cfg(flakiness=False, runs=2)) == [suite_runs.RunSpec(), suite_runs.RunSpec()]
    assert suite_runs.plan(_cfg(flakiness=False, runtime=False)) == []


def _cfg(*, flakiness: bool = True, runtime: bool = True, runs: int = 3, flaky_runs: int = 11) -> Config:
    from dataclasses import replace

    cfg = Config()
    return replace(cfg, flakiness=replace(cfg.flakiness, enabled=flakiness, runs=flaky_runs),
                   runtime=replace(cfg.runtime, enabled=runtime, runs=runs))


def test_plan_adds_timed_runs_and_draws_a_seed() -> None:
    specs = suite_runs.plan(_cfg(flaky_runs=1, runs=3), seed=5)
    assert specs == [suite_runs.RunSpec(), suite_runs.RunSpec(), suite_runs.RunSpec()]
    drawn = suite_runs.plan(_cfg(flaky_runs=3, runtime=False))
    assert [s.order for s in drawn] == ["declared", "reversed", "shuffle"] and drawn[2].seed > 0


def test_run_writes_an_index_that_load_reads_back(project: Project, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    raw = tmp_path / "raw"
    (raw / "runs").mkdir(parents=True)
    (raw / "runs" / "run-009.json").write_text("{}")  # a left-over of an earlier run
    calls: list[list[str]] = []

    def fake_run_pytest(project: Project, cfg: Config, work: Path, args: list[str],
                        log: Path) -> pytest_run.PytestRun:
        calls.append(args)
        return pytest_run.PytestRun(returncode=0, wall_seconds=1.5, output_file=log, cpu_seconds=0.5)

    loaded: list[tuple[Any, ...]] = []

    def fake_load(path: Path, log: Path, wall: float = 0.0, xdist: bool = True, cpu: float = 0.0) -> Any:
        loaded.append((path.name, wall, xdist, cpu))
        return path.name

    monkeypatch.setattr(suite_runs, "run_pytest", fake_run_pytest)
    monkeypatch.setattr(suite_runs, "load_record", fake_load)
    ticks: list[tuple[int, int]] = []
    specs = [suite_runs.RunSpec(), suite_runs.RunSpec(order="shuffle", seed=4, xdist=False)]
    out = suite_runs.run(project, Config(workers=2), tmp_path, raw, specs, progress=lambda d, t: ticks.append((d, t)))
    assert out == ["run-000.json", "run-001.json"] and ticks == [(1, 2), (2, 2)]
    assert not (raw / "runs" / "run-009.json").exists()
    assert calls[1][:2] == ["-p", "no:xdist"] and "--harness-seed=4" in calls[1]
    index = json.loads((raw / "runs" / "index.json").read_text(encoding="utf-8"))
    assert index["runs"][1]["order"] == "shuffle" and index["runs"][1]["cpu_seconds"] == 0.5
    loaded.clear()
    assert suite_runs.load(raw) == out
    assert loaded == [("run-000.json", 1.5, True, 0.5), ("run-001.json", 1.5, False, 0.5)]


def test_load_without_an_index(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="no readable run index"):
        suite_runs.load(tmp_path)


# ------------------------------------------------------------------------------------ dies with the harness


def test_no_death_signal_where_there_is_no_prctl(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pytest_run.sys, "platform", "darwin")
    assert pytest_run._prctl() is None
    monkeypatch.setattr(pytest_run, "_PRCTL", None)
    assert pytest_run.dies_with_harness() is None


def test_the_child_asks_for_the_death_signal_and_ends_when_the_harness_is_gone(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The preexec function runs in the child between fork and exec: it asks the kernel for SIGKILL on the
    parent's death, and exits at once when its parent is no longer the harness that started it."""
    import os

    asked: list[tuple[int, int]] = []
    monkeypatch.setattr(pytest_run, "_PRCTL", lambda option, sig: asked.append((option, sig)) or 0)
    preexec = pytest_run.dies_with_harness()
    assert preexec is not None
    pid = os.fork()
    if pid == 0:  # pragma: no cover - reported through the exit code
        try:
            preexec()  # the parent is the one that made it: goes on to exec
            os._exit(0 if asked == [(pytest_run._PR_SET_PDEATHSIG, pytest_run.signal.SIGKILL)] else 5)
        finally:
            os._exit(6)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
    monkeypatch.setattr(pytest_run.os, "getpid", lambda: -1)  # made by a harness that is gone now
    orphaned = pytest_run.dies_with_harness()
    monkeypatch.undo()
    assert orphaned is not None
    pid = os.fork()
    if pid == 0:  # pragma: no cover
        try:
            orphaned()
        finally:
            os._exit(7)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 1


def test_the_mutation_drivers_env_drops_an_outer_pytests_variables(project: Project,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.collectors.mutation import spawn

    for name in pytest_run.OUTER_PYTEST_VARS:
        monkeypatch.setenv(name, "outer")
    monkeypatch.setenv("MUTANT_UNDER_TEST", "m.x_f__mutmut_1")
    monkeypatch.setenv("KEEP_ME", "1")
    env = spawn._driver_env(project)
    assert not set(pytest_run.OUTER_PYTEST_VARS) & set(env) and "MUTANT_UNDER_TEST" not in env
    assert env["KEEP_ME"] == "1"
