"""The per-test budget in a mutant's process (harness/call_budget.py): a test whose call runs over its own budget
ends the process as a timeout at once; the tests run are counted. Real pytest in a subprocess (the budget ends
its process, as it ends a forked mutant)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import call_budget

CONFTEST = textwrap.dedent("""
    import json, os
    from harness import call_budget

    def pytest_configure(config):
        spec = json.loads(os.environ["BUDGET_SPEC"])
        durations = {"test_it.py::test_fast": 0.0, "test_it.py::test_hangs": 0.0}
        config._budget = call_budget.start(config, "m.x_f__mutmut_1", durations, spec)

    def pytest_unconfigure(config):
        config._budget.done(0)
""")
TESTS = textwrap.dedent("""
    import os, time

    def test_fast():
        pass

    def test_hangs():
        time.sleep(float(os.environ["HANG"]))
""")


def run(tmp_path: Path, budget: str, hang: float) -> tuple[int, float, list[dict[str, object]]]:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_it.py").write_text(TESTS)
    log = tmp_path / "executions.jsonl"
    spec = {"timeout_budget": budget, "timeout_constant": 0.3, "timeout_multiplier": 1.0, "executions": str(log)}
    started = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_it.py"],
                              cwd=tmp_path, env={"BUDGET_SPEC": json.dumps(spec), "PATH": "/usr/bin:/bin",
                                                 "HANG": str(hang),
                                                 "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
                              capture_output=True, timeout=60, check=False)
        code = proc.returncode
    except subprocess.TimeoutExpired:
        code = -1
    lines = [json.loads(ln) for ln in log.read_text().splitlines()] if log.exists() else []
    return code, time.monotonic() - started, lines


@pytest.mark.slow  # a real pytest in a subprocess, waiting on its budget: seconds of wall time
def test_a_hanging_test_ends_the_mutant_at_its_own_budget(tmp_path: Path) -> None:
    code, seconds, lines = run(tmp_path, "test", 30)
    assert code == 36  # mutmut's "timeout"
    assert seconds < 25  # the test's budget (0 + 0.3) x 1, not its 30 s
    (line,) = lines
    assert {k: line[k] for k in ("mutant", "ran", "timeout")} == {
        "mutant": "m.x_f__mutmut_1", "ran": 2, "timeout": "test_it.py::test_hangs"}
    assert 0.3 <= float(line["budget"]) <= 0.3 * max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1)) * 2


@pytest.mark.slow  # a real pytest in a subprocess, waiting on its budget: seconds of wall time
def test_set_budget_leaves_the_alarm_alone(tmp_path: Path) -> None:
    code, seconds, lines = run(tmp_path, "set", 1.0)
    assert code == 0 and seconds >= 1.0  # over its own budget, not stopped (mutmut's budget for the set is)
    (line,) = lines  # the hang ran to its end: its own time at least (an upper bound is the machine's load)
    assert {k: line[k] for k in ("mutant", "ran", "code")} == {"mutant": "m.x_f__mutmut_1", "ran": 2, "code": 0}
    assert set(line) == {"mutant", "ran", "code", "seconds"} and float(line["seconds"]) >= 1.0


# ------------------------------------------------------------------------------------- in-process (no subprocess)


def test_budget_is_clean_duration_plus_constant_times_multiplier_stretched_by_load() -> None:
    assert call_budget.budget(0.5, 0.25, 2.0) == 1.5
    assert call_budget.budget(0.5, 0.25, 2.0, load=3.0) == 4.5
    assert call_budget.budget(-4.0, 0.25, 2.0) == 0.5  # a negative duration counts as none
    assert call_budget.budget(0.5, 0.25, 2.0, load=0.2) == 1.5  # an idle machine never shrinks it


def test_load_factor_is_runnable_processes_per_core_at_least_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    monkeypatch.setattr(os, "getloadavg", lambda: (10.0, 1.0, 1.0))
    assert call_budget.load_factor() == 2.5
    monkeypatch.setattr(os, "getloadavg", lambda: (2.0, 9.0, 9.0))
    assert call_budget.load_factor() == 1.0
    monkeypatch.setattr(os, "cpu_count", lambda: None)  # unknown: one core
    monkeypatch.setattr(os, "getloadavg", lambda: (3.0, 1.0, 1.0))
    assert call_budget.load_factor() == 3.0

    def unavailable() -> tuple[float, float, float]:
        raise OSError("no load average")

    monkeypatch.setattr(os, "getloadavg", unavailable)
    assert call_budget.load_factor() == 1.0


def read_log(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_the_log_gets_one_line_per_write_appended(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "getloadavg", lambda: (1.0, 1.0, 1.0))
    log = tmp_path / "executions.jsonl"
    log.write_text('{"mutant": "earlier", "ran": 3}\n')
    state = call_budget.Budget("m.x_f__mutmut_2", {}, 0.5, 2.0, str(log), per_test=False)
    assert (state.mutant, state.constant, state.multiplier, state.ran, state.load) == (
        "m.x_f__mutmut_2", 0.5, 2.0, 0, 1.0)
    state.ran = 4
    state.done(1)
    lines = read_log(log)
    assert lines[0] == {"mutant": "earlier", "ran": 3}
    assert {k: lines[1][k] for k in ("mutant", "ran", "code")} == {"mutant": "m.x_f__mutmut_2", "ran": 4, "code": 1}
    assert 0 <= float(str(lines[1]["seconds"])) < 60
    assert len(lines) == 2
    call_budget.Budget("m", {}, 0.5, 2.0, None, per_test=False).done(0)  # no log: nothing written, no error
    call_budget.Budget("m", {}, 0.5, 2.0, str(tmp_path / "gone" / "x.jsonl"), per_test=False).done(0)
    assert not (tmp_path / "gone").exists()


def test_per_test_budget_takes_the_machine_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(os, "getloadavg", lambda: (6.0, 1.0, 1.0))
    assert call_budget.Budget("m", {}, 0.5, 2.0, None, per_test=True).load == 3.0
    assert call_budget.Budget("m", {}, 0.5, 2.0, None, per_test=False).load == 1.0


@pytest.fixture
def free_alarm() -> Iterator[None]:
    """The real-time alarm free for the test, as in a mutant's process; whoever held it (the mutation driver's
    own time limit when mutmut runs this suite, pytest-timeout...) gets it back, re-armed, afterwards."""
    import signal

    handler = signal.signal(signal.SIGALRM, signal.SIG_DFL)
    remaining, interval = signal.setitimer(signal.ITIMER_REAL, 0)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, handler)
        if remaining:
            signal.setitimer(signal.ITIMER_REAL, remaining, interval)


def test_run_call_arms_an_alarm_for_the_tests_own_budget_and_disarm_clears_it(
    monkeypatch: pytest.MonkeyPatch, free_alarm: None
) -> None:
    import signal

    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    state = call_budget.Budget("m", {"t.py::slow": 500.0}, 100.0, 2.0, None, per_test=True)
    try:
        armed, seconds = state.run_call("t.py::slow")
        assert (armed, seconds) == (True, 1200.0)
        assert 1100 < signal.getitimer(signal.ITIMER_REAL)[0] <= 1200
        assert callable(signal.getsignal(signal.SIGALRM))
    finally:
        call_budget.Budget.disarm()
    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0
    assert signal.getsignal(signal.SIGALRM) == signal.SIG_DFL
    assert state.run_call("t.py::unknown") == (True, 200.0)  # no clean duration: the constant's budget
    call_budget.Budget.disarm()


def test_run_call_leaves_the_alarm_alone_when_off_or_taken(monkeypatch: pytest.MonkeyPatch, free_alarm: None) -> None:
    import signal
    import threading

    off = call_budget.Budget("m", {"t.py::a": 1.0}, 1.0, 3.0, None, per_test=False)
    assert off.run_call("t.py::a") == (False, 6.0)
    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    on = call_budget.Budget("m", {"t.py::a": 1.0}, 1.0, 3.0, None, per_test=True)
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: None)  # the suite's own use of SIGALRM
    try:
        assert on.run_call("t.py::a") == (False, 6.0)
        assert signal.getitimer(signal.ITIMER_REAL)[0] == 0
    finally:
        signal.signal(signal.SIGALRM, previous)
    seen: list[tuple[bool, float]] = []
    thread = threading.Thread(target=lambda: seen.append(on.run_call("t.py::a")))
    thread.start()
    thread.join()
    assert seen == [(False, 6.0)]  # signals belong to the main thread


def test_an_expired_budget_logs_the_test_and_exits_as_a_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, free_alarm: None
) -> None:
    import signal

    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    log = tmp_path / "executions.jsonl"
    state = call_budget.Budget("m.x_f__mutmut_1", {"t.py::hangs": 0.1234}, 0.0, 1.0, str(log), per_test=True)
    state.ran = 2
    try:
        state.run_call("t.py::hangs")
        expired = signal.getsignal(signal.SIGALRM)
    finally:
        call_budget.Budget.disarm()
    exits: list[int] = []
    monkeypatch.setattr(os, "_exit", exits.append)
    assert callable(expired)
    expired(signal.SIGALRM, None)
    assert exits == [36]
    (line,) = read_log(log)
    assert {k: line[k] for k in ("mutant", "ran", "timeout", "budget")} == {
        "mutant": "m.x_f__mutmut_1", "ran": 2, "timeout": "t.py::hangs", "budget": 0.123}


def test_the_plugin_counts_tests_and_arms_only_around_the_call(
    monkeypatch: pytest.MonkeyPatch, free_alarm: None
) -> None:
    import signal
    from types import SimpleNamespace

    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    state = call_budget.Budget("m", {}, 900.0, 1.0, None, per_test=True)
    hooks = call_budget.plugin(state)
    hooks.pytest_runtest_logstart("t.py::a", None)
    hooks.pytest_runtest_logstart("t.py::b", None)
    assert state.ran == 2
    call = hooks.pytest_runtest_call(SimpleNamespace(nodeid="t.py::b"))
    next(call)
    assert signal.getitimer(signal.ITIMER_REAL)[0] > 0
    with pytest.raises(StopIteration):
        next(call)
    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0
    assert signal.getsignal(signal.SIGALRM) == signal.SIG_DFL


def test_start_registers_the_plugin_with_the_specs_settings() -> None:
    from types import SimpleNamespace

    registered: list[tuple[object, str]] = []
    config = SimpleNamespace(pluginmanager=SimpleNamespace(register=lambda p, name: registered.append((p, name))))
    spec = {"timeout_constant": 0.5, "timeout_multiplier": 3.0, "executions": "/x/log.jsonl",
            "timeout_budget": "test"}
    state = call_budget.start(config, "m.x_f__mutmut_9", {"t": 1.0}, spec)
    assert (state.mutant, state.durations, state.constant, state.multiplier, state.log, state.per_test) == (
        "m.x_f__mutmut_9", {"t": 1.0}, 0.5, 3.0, "/x/log.jsonl", True)
    assert [name for _p, name in registered] == ["harness-test-budget"]
    assert hasattr(registered[0][0], "pytest_runtest_call")
    bare = call_budget.start(config, "m", {}, {"timeout_budget": "set"})
    assert (bare.constant, bare.multiplier, bare.log, bare.per_test) == (0.0, 1.0, None, False)
