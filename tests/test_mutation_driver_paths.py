"""The mutation driver's paths that a real mutmut run on a healthy fixture does not take, in-process: the test
runner's fallbacks to mutmut's own pytest runs, a mutant's memory-limit and runner-error records, the probes'
time limit, quarantine on failures, a damaged quarantine record and the caches' healing.

The driver runs inside mutmut's process in production (the end-to-end tests in test_mutation_e2e.py and
tests/faults/test_mutation_faults.py drive it there); here its runner is built on a stand-in for mutmut's
``PytestRunner`` and its state (spec, notes, quarantine, mutmut's stats) is a fresh one per test. Paths that end
the process (``os._exit``) run in a forked child.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import subprocess
import types
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from harness.collectors import mutmut_adapter as adapter
from harness.collectors.mutation import driver as driver_main
from harness.collectors.mutation import driver_cache as dc
from harness.collectors.mutation import driver_plugins, driver_runner
from harness.collectors.mutation import driver_quarantine as dq
from harness.collectors.mutation import driver_state as driver
from harness.collectors.mutation import quarantine as mq
from harness.notes import read_note

mstate = importlib.import_module("mutmut.state")  # the package's ``state`` attribute is the function


def worded() -> list[str]:
    """The driver's notes so far, as the harness words them."""
    return [read_note(n).text for n in driver._NOTES]


@pytest.fixture
def spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A fresh driver state in ``tmp_path`` (the sandbox: ``mutants/`` inside it)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mutants").mkdir()
    spec: dict[str, Any] = {
        "status": str(tmp_path / "status.json"),
        "journal": str(tmp_path / "journal.jsonl"),
        "limits": str(tmp_path / "limits.jsonl"),
        "_file": str(tmp_path / "spec.json"),
        "runner": "pytest",
        "root": str(tmp_path),
        "tests": ["tests"],
        "max_children": 2,
    }
    monkeypatch.setattr(driver, "SPEC", spec)
    monkeypatch.setattr(driver, "_NOTES", [])
    monkeypatch.setattr(driver, "_PLAN", [])
    monkeypatch.setattr(driver, "_DIRTY", {})
    monkeypatch.setattr(driver, "die_with_parent", lambda: None)  # never ask the kernel to kill pytest's worker
    monkeypatch.setattr(dq, "QUARANTINE", dq.Quarantine())
    monkeypatch.setattr(dc, "_GENERATED", {})
    monkeypatch.setattr(dc, "_PREVIOUS_SHAS", {})
    monkeypatch.setattr(mstate, "_state", mstate.MutmutState())
    return spec


def status() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(Path(driver.SPEC["status"]).read_text(encoding="utf-8"))
    return doc


def lines(path: str) -> list[dict[str, Any]]:
    return [json.loads(ln) for ln in Path(path).read_text(encoding="utf-8").splitlines()]


def covering(mapping: dict[str, set[str]]) -> None:
    """mutmut's stats: which tests execute which (mangled) function."""
    for function, tests in mapping.items():
        mstate.state().tests_by_mangled_function_name[function] = set(tests)


def in_child(run: Callable[[], object]) -> int:
    """``run()`` in a forked child; its exit code (99 if it returned: the paths tested here never return)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - reported through the exit code
        try:
            run()
        finally:
            os._exit(99)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


# --------------------------------------------------------------------------------------------------- the runner


class FakeReport:
    def __init__(self, nodeid: str, text: str) -> None:
        self.nodeid, self.failed, self.longreprtext = nodeid, True, text
        self.when, self.duration = "call", 0.0
        self.longrepr = types.SimpleNamespace(reprcrash=types.SimpleNamespace(message=text.splitlines()[-1]))


class MutmutRunner:
    """A stand-in for mutmut's PytestRunner: its pytest runs report ``failing`` (node id -> traceback) to the
    plugins the harness's runner hands it, and return 1 when any failed."""

    def __init__(self) -> None:
        self._pytest_add_cli_args: list[str] = []
        self.failing: dict[str, str] = {}
        self.calls: list[tuple[str, Any, bool]] = []
        self.raises: BaseException | None = None

    def _pytest_args_regular_run(self, tests: Iterable[str]) -> list[str]:
        return ["-x", "-q", *tests]

    def execute_pytest(self, params: list[str], **kwargs: Any) -> int:
        for plugin in kwargs.get("plugins", []):
            if hasattr(plugin, "pytest_runtest_logreport"):
                for nodeid, text in self.failing.items():
                    plugin.pytest_runtest_logreport(FakeReport(nodeid, text))
        return 1 if self.failing else 0

    def run_tests(self, *, mutant_name: str | None, tests: Iterable[str]) -> int:
        self.calls.append(("run_tests", mutant_name, getattr(self, "_whole_suite", None)))
        if self.raises is not None:
            raise self.raises
        return self.execute_pytest(self._pytest_args_regular_run(tests))

    def run_stats(self, *, tests: Iterable[str]) -> int:
        self.calls.append(("run_stats", None, getattr(self, "_whole_suite", None)))
        return self.execute_pytest(self._pytest_args_regular_run(tests))

    def run_forced_fail(self) -> int:
        self.calls.append(("run_forced_fail", None, None))
        return 1

    def list_all_tests(self) -> str:
        self.calls.append(("list_all_tests", None, None))
        return "mutmut's listing"


@pytest.fixture
def runner(spec: dict[str, Any]) -> Any:
    return driver_runner.make_runner(MutmutRunner)()


def test_without_a_session_the_clean_run_is_mutmuts_own_whole_run(runner: Any) -> None:
    assert runner.run_tests(mutant_name=None, tests=["tests/t.py::test_a"]) == 0
    assert runner.calls == [("run_tests", None, True)]  # the whole suite: every failure kept, no -x
    assert runner._whole_suite is False and status()["phase"] == "clean"
    assert "-x" in runner._pytest_args_regular_run([])  # outside the whole run, mutmut's -x is kept
    runner._whole_suite = True
    assert runner._pytest_args_regular_run(["t"]) == ["-q", "t", "--continue-on-collection-errors"]


def test_the_forced_fail_run_is_mutmuts_own(runner: Any) -> None:
    covering({"m.x_f": {"tests/t.py::test_a"}})
    assert runner.run_forced_fail() == 1
    assert runner.calls == [("run_forced_fail", None, None)] and status()["phase"] == "forced_fail"
    assert runner.run_tests(mutant_name=None, tests=[]) == 0  # mutmut's forced-fail check runs through it
    assert runner.calls[-1] == ("run_tests", None, False)


def test_without_a_session_the_listing_is_mutmuts_own(runner: Any) -> None:
    assert runner.list_all_tests() == "mutmut's listing" and runner.calls == [("list_all_tests", None, None)]
    assert not Path(driver.SPEC["status"]).exists()  # nothing said about a listing from a session


def test_the_session_lists_the_tests_and_a_stats_run_ends_it(runner: Any) -> None:
    ended: list[str] = []
    hook = types.SimpleNamespace(pytest_sessionfinish=lambda session, exitstatus: ended.append(f"finish {exitstatus}"))
    config = types.SimpleNamespace(hook=hook, _ensure_unconfigure=lambda: ended.append(os.path.basename(os.getcwd())))
    runner._session = types.SimpleNamespace(config=config)
    runner._items = {"tests/t.py::test_a": object(), "tests/t.py::test_b[1]": object()}
    listed = runner.list_all_tests()
    assert listed.ids == {"tests/t.py::test_a", "tests/t.py::test_b[1]"} and runner.calls == []
    assert status()["listing_from_session"] is True
    assert runner.run_stats(tests=["tests/t.py::test_new"]) == 0  # new tests' stats: mutmut's pytest run
    assert ended == ["finish 0", "mutants"] and runner._session is None and runner._items == {}
    assert runner.calls == [("run_stats", None, True)]
    runner._close_session()  # nothing open: nothing to end
    assert ended == ["finish 0", "mutants"]


def test_no_forced_fail_check_when_every_covering_test_is_quarantined(runner: Any) -> None:
    assert runner.run_forced_fail() == 1 and runner.calls == []


def test_a_clean_run_failure_stops_mutmut_when_auto_quarantine_is_off(runner: Any, spec: dict[str, Any],
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    spec["auto_quarantine"] = False
    monkeypatch.setattr(dq, "_run_probe", lambda where, nodeid: (1, "E   AssertionError: on its own"))
    runner.failing = {"tests/t.py::test_a": "Traceback\nE   AssertionError: boom"}
    assert runner.run_tests(mutant_name=None, tests=[]) == 1
    got = status()
    assert got["failed_tests"] == ["tests/t.py::test_a"] and got["unjudging"][0]["cause"] == "broken"
    assert not dq.QUARANTINE.found


def test_a_collection_error_is_reported_never_quarantined(spec: dict[str, Any]) -> None:
    outcome = types.SimpleNamespace(failed=["<collection>"], texts={"<collection>": "ImportError"})
    assert dq._quarantine_failures(outcome, "clean") is False
    assert status()["failed_tests"] == ["<collection>"]


def test_stats_run_failures_are_quarantined_and_the_stats_kept(runner: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    probes: list[tuple[str, str]] = []

    def probe(where: str, nodeid: str) -> tuple[int | None, str]:
        probes.append((where, nodeid))
        return (0, "") if nodeid.endswith("leaky") else (1, "E   RecursionError: maximum recursion depth")

    monkeypatch.setattr(dq, "_run_probe", probe)
    monkeypatch.setattr(dq, "cover_quarantined", lambda ids: None)
    covering({"m.x_f": {"tests/t.py::test_leaky", "tests/t.py::test_ok"}, "m.x_g": {"tests/t.py::test_deep"}})
    runner.failing = {"tests/t.py::test_leaky": "E   assert 1 == 2", "tests/t.py::test_deep": "E   RecursionError"}
    assert runner.run_stats(tests=[]) == 0  # quarantined: mutmut goes on with the tests left
    assert runner.calls == [("run_stats", None, True)]
    found = dq.QUARANTINE.found
    assert found["tests/t.py::test_leaky"]["cause"] == "state-leak"
    assert found["tests/t.py::test_deep"]["cause"] == "broken"  # fails on the original code too
    assert ("original", "tests/t.py::test_deep") in probes and ("original", "tests/t.py::test_leaky") not in probes
    assert dict(mstate.state().tests_by_mangled_function_name) == {"m.x_f": {"tests/t.py::test_ok"},
                                                                          "m.x_g": set()}
    assert dq.QUARANTINE.functions == {"tests/t.py::test_leaky": {"m.x_f"}, "tests/t.py::test_deep": {"m.x_g"}}
    saved = json.loads((Path("mutants") / mq.QUARANTINE_FILE).read_text(encoding="utf-8"))
    assert saved["found"] == ["tests/t.py::test_deep", "tests/t.py::test_leaky"]
    assert status()["quarantined"] == 2 and "all_quarantined" not in status()


def test_quarantining_the_last_covering_tests_says_so(runner: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dq, "_run_probe", lambda where, nodeid: (0, ""))
    monkeypatch.setattr(dq, "cover_quarantined", lambda ids: None)
    covering({"m.x_f": {"tests/t.py::test_a"}})
    runner.failing = {"tests/t.py::test_a": "E   assert 0"}
    assert runner.run_stats(tests=[]) == 0 and status()["all_quarantined"] is True


def test_the_second_clean_pass_runs_in_a_fork_and_quarantines_what_fails_there(
        runner: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dq, "cover_quarantined", lambda ids: None)
    covering({"m.x_f": {"tests/t.py::test_a", "tests/t.py::test_b"}})
    calls = runner.calls

    def run_tests(*, mutant_name: str | None, tests: Iterable[str]) -> int:
        second = len(calls) > 0  # the clean run passes; its second pass (in the fork) finds a leak
        calls.append(("run_tests", mutant_name, runner._whole_suite))
        runner.failing = {"tests/t.py::test_b": "E   assert cache == {}"} if second else {}
        return runner.execute_pytest([])

    monkeypatch.setattr(MutmutRunner, "run_tests", lambda self, **k: run_tests(**k))
    assert runner.run_tests(mutant_name=None, tests=["tests"]) == 0
    assert [c[2] for c in calls] == [True]  # the second pass ran in the child: the parent saw one run
    entry = dq.QUARANTINE.found["tests/t.py::test_b"]
    assert entry["cause"] == "state-leak" and "fails when the suite runs again" in entry["detail"]
    assert "assert cache == {}" in entry["detail"] and "--keep-duplicates" in entry["reproduce"]
    assert status()["phase"] == "clean-again"


def test_a_clean_run_failure_quarantined_lets_mutmut_go_on(runner: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dq, "_run_probe", lambda where, nodeid: (0, ""))
    monkeypatch.setattr(dq, "cover_quarantined", lambda ids: None)
    covering({"m.x_f": {"tests/t.py::test_a"}})
    runner.failing = {"tests/t.py::test_a": "E   assert state == {}"}
    assert runner.run_tests(mutant_name=None, tests=[]) == 0  # no test left: no second pass
    assert dq.QUARANTINE.found["tests/t.py::test_a"]["cause"] == "state-leak"
    assert status()["phase"] == "clean-classify" and status()["all_quarantined"] is True


def test_a_second_pass_that_dies_stops_mutmut(runner: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    covering({"m.x_f": {"tests/t.py::test_a"}})
    calls = runner.calls

    def run_tests(*, mutant_name: str | None, tests: Iterable[str]) -> int:
        if calls:  # the second pass, in the forked child: it dies
            os._exit(3)
        calls.append(("run_tests", mutant_name, runner._whole_suite))
        return 0

    monkeypatch.setattr(MutmutRunner, "run_tests", lambda self, **k: run_tests(**k))
    assert runner.run_tests(mutant_name=None, tests=[]) == 1
    assert status()["failed_tests"] == ["the second pass died (exit 3) in test ?"]


def test_a_failed_collection_is_a_failure_named_collection(spec: dict[str, Any]) -> None:
    outcome_cls, _watch = driver_plugins.plugins()
    report = types.SimpleNamespace(failed=True, nodeid="", longreprtext="E   ImportError: no module x")
    kept, counted = outcome_cls(keep_text=True), outcome_cls()
    for outcome in (kept, counted):
        outcome.pytest_collectreport(report)
        outcome.pytest_collectreport(types.SimpleNamespace(failed=False, nodeid="tests/t.py"))
    assert kept.failed == counted.failed == ["<collection>"]
    assert kept.texts == {"<collection>": "E   ImportError: no module x"} and counted.texts == {}


def test_the_no_mutant_runs_record_each_tests_fixture_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(driver, "FIXTURE_SECONDS", {"t_b": 3.0})
    outcome_cls, _watch = driver_plugins.plugins()
    whole, mutant = outcome_cls(keep_text=True), outcome_cls()

    def report(nodeid: str, when: str, duration: float) -> Any:
        return types.SimpleNamespace(nodeid=nodeid, when=when, duration=duration, failed=False)

    for outcome in (whole, mutant):
        for nodeid, when, duration in [("t_a", "setup", 0.5), ("t_a", "call", 9.0), ("t_a", "teardown", 0.25),
                                       ("t_b", "setup", 1.0), ("t_b", "call", 0.1), ("t_b", "teardown", 0.0)]:
            outcome.pytest_runtest_logreport(report(nodeid, when, duration))
    # setup + teardown, never the call (mutmut times it); the most a run saw is kept; a mutant's run adds nothing
    assert driver.FIXTURE_SECONDS == {"t_a": 0.75, "t_b": 3.0}
    assert whole.fixtures == {} and whole.failed == []


def test_verdicts_to_check_again(spec: dict[str, Any]) -> None:
    """Interrupted verdicts; survivors and no-test mutants that have (other) covering tests now."""
    spec["changed_tests"] = ["tests/test_b.py"]
    covering({"m.x_f": {"tests/test_a.py::test_f"}, "m.x_g": {"tests/test_b.py::test_g"}})
    interrupted = next(iter(adapter.RECHECK_EXIT_CODES))
    cases = {("m.x_f__mutmut_1", interrupted): True, ("m.x_f__mutmut_2", 1): False,  # killed: kept
             ("m.x_f__mutmut_3", 0): False,  # survived, its tests unchanged
             ("m.x_g__mutmut_1", 0): True,  # survived, a covering test changed
             ("m.x_f__mutmut_4", 33): True, ("m.x_h__mutmut_1", 33): False}  # no tests then; now / still none
    asked: dict[tuple[str, int], bool] = {}
    mm = types.SimpleNamespace(_reset_mutant_results=lambda reset: sum(
        asked.setdefault(case, reset(*case)) for case in cases))
    driver_main._reset_for_recheck(mm)
    assert asked == cases and status()["rechecked"] == 3


def test_a_second_pass_that_dies_names_the_test_it_died_in(spec: dict[str, Any], tmp_path: Path) -> None:
    spec["current"] = str(tmp_path / "current.json")
    Path(spec["current"]).write_text(json.dumps({"phase": "clean-again", "test": "tests/t.py::test_c"}))

    def dies() -> dict[str, str]:
        os._exit(7)

    assert dq.in_fork(dies) == {"<second pass>": "the second pass died (exit 7) in test tests/t.py::test_c"}
    assert status()["crashed_test"] == "tests/t.py::test_c" and status()["crash"] == 7
    assert dq.in_fork(lambda: {"tests/t.py::test_d": "E   boom"}) == {"tests/t.py::test_d": "E   boom"}


def test_a_mutants_memory_cap_problem_and_a_run_out_of_memory_are_recorded(
        runner: Any, spec: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    spec["memory_limit_mb"] = 64
    monkeypatch.setattr(driver, "limit_memory", lambda mb: f"memory limit of {mb} MiB not applied: refused")
    mstate.state().duration_by_test.update({"tests/t.py::test_slow": 2.0, "tests/t.py::test_fast": 0.1})
    seen: list[list[str]] = []
    monkeypatch.setattr(MutmutRunner, "_pytest_args_regular_run",
                        lambda self, tests: seen.append(list(tests)) or ["-x"])
    runner.failing = {"tests/t.py::test_fast": "E   MemoryError"}
    code = runner.run_tests(mutant_name="m.x_f__mutmut_1", tests=["tests/t.py::test_slow", "tests/t.py::test_fast"])
    assert code == 1
    assert seen == [["tests/t.py::test_fast", "tests/t.py::test_slow"]]  # fastest first
    assert lines(spec["limits"]) == [
        {"mutant": "m.x_f__mutmut_1", "warning": "memory limit of 64 MiB not applied: refused"},
        {"mutant": "m.x_f__mutmut_1", "limit": "memory"},
    ]


def test_a_runner_error_in_a_mutant_is_recorded_never_a_kill(runner: Any, spec: dict[str, Any]) -> None:
    runner.raises = RuntimeError("the session broke")
    assert in_child(lambda: runner.run_tests(mutant_name="m.x_f__mutmut_2", tests=[])) == 35
    assert lines(spec["limits"]) == [{"mutant": "m.x_f__mutmut_2", "error": "RuntimeError('the session broke')"}]
    runner.raises = KeyboardInterrupt()
    assert in_child(lambda: runner.run_tests(mutant_name="m.x_f__mutmut_3", tests=[])) == 2


def test_the_watch_fails_a_test_over_its_time_limit(spec: dict[str, Any], tmp_path: Path) -> None:
    spec["current"] = str(tmp_path / "current.json")
    _outcome, watch_cls = driver_plugins.plugins()
    with pytest.raises(driver_plugins.TestTimeLimit, match="over 5 s with no mutant active"):
        watch_cls("stats", 5.0)._expired(14, None)
    sig = driver.signal

    def protocol() -> None:  # in a child whose alarm is its own (this test may run under a driver's watch)
        sig.setitimer(sig.ITIMER_REAL, 0)
        sig.signal(sig.SIGALRM, sig.SIG_DFL)
        gen = watch_cls("stats", 600.0).pytest_runtest_protocol(types.SimpleNamespace(nodeid="tests/t.py::test_a"),
                                                                 None)
        next(gen)
        armed = sig.getitimer(sig.ITIMER_REAL)[0] > 0 and sig.getsignal(sig.SIGALRM) not in (sig.SIG_DFL, None)
        with contextlib.suppress(StopIteration):
            next(gen)
        disarmed = sig.getitimer(sig.ITIMER_REAL)[0] == 0 and sig.getsignal(sig.SIGALRM) == sig.SIG_DFL
        os._exit(0 if armed and disarmed else 4)

    assert in_child(protocol) == 0
    assert json.loads(Path(spec["current"]).read_text())["test"] == "tests/t.py::test_a"


# --------------------------------------------------------------------------------------------------- the probes


def test_a_probe_over_its_time_limit_is_hung_not_failed(spec: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    spec["test_timeout"] = 2

    def slow(cmd: list[str], **kwargs: Any) -> Any:
        assert kwargs["timeout"] == 62 and "MUTANT_UNDER_TEST" not in kwargs["env"]
        raise subprocess.TimeoutExpired(cmd, kwargs["timeout"], output="collected 1 item\n")

    monkeypatch.setenv("MUTANT_UNDER_TEST", "stats")
    monkeypatch.setattr(dq.subprocess, "run", slow)
    assert dq._run_probe("mutants", "tests/t.py::test_a") == (
        None, "collected 1 item\n\nharness: did not finish within 62 s alone")


def test_a_probe_reports_the_tests_own_failure(spec: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    def ran(cmd: list[str], **kwargs: Any) -> Any:
        assert cmd[-3:] == [spec["_file"], "original", "tests/t.py::test_a"]
        return subprocess.CompletedProcess(cmd, 1, f"F\n{dq.PROBE_FAILURE}\nE   assert 1 == 2\n", "summary")

    monkeypatch.setattr(dq.subprocess, "run", ran)
    assert dq._run_probe("original", "tests/t.py::test_a") == (1, "\nE   assert 1 == 2\nsummary")


def test_a_hung_test_is_classified_from_its_traceback(spec: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dq, "_run_probe", lambda where, nodeid: (None, ""))
    entries = dq.classify({"tests/t.py::test_a": "E   RecursionError: maximum recursion depth exceeded"})
    entry = entries["tests/t.py::test_a"]
    assert entry["cause"] == "recursion" and entry["detail"].startswith("hung: ")


def test_over_max_probed_failures_are_classified_without_a_probe(spec: dict[str, Any],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    probed: list[str] = []
    monkeypatch.setattr(dq, "MAX_PROBED", 1)
    monkeypatch.setattr(dq, "_run_probe", lambda where, nodeid: probed.append(nodeid) or (0, ""))
    entries = dq.classify({"tests/t.py::test_a": "E   assert 0", "tests/t.py::test_b": "E   RecursionError: x"})
    assert probed == ["tests/t.py::test_a"] and entries["tests/t.py::test_a"]["cause"] == "state-leak"
    assert entries["tests/t.py::test_b"]["cause"] == "recursion"
    assert "not re-run alone: over 1 tests failed" in entries["tests/t.py::test_b"]["detail"]


def test_what_quarantined_tests_cover_comes_from_the_cover_probe(spec: dict[str, Any],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    outputs = iter(["noise\nHARNESS-COVER " + json.dumps({"tests/t.py::test_a": ["m.x_f"], "other": ["m.x_g"]}),
                    None, "pytest crashed"])

    def ran(cmd: list[str], **kwargs: Any) -> Any:
        out = next(outputs)
        if out is None:
            raise subprocess.TimeoutExpired(cmd, kwargs["timeout"], output=None)
        assert cmd[-2] == "cover" or cmd[-3] == "cover"
        return subprocess.CompletedProcess(cmd, 0, out, "")

    monkeypatch.setattr(dq.subprocess, "run", ran)
    dq.cover_quarantined(["tests/t.py::test_a"])
    assert dq.QUARANTINE.functions == {"tests/t.py::test_a": {"m.x_f"}}  # only the tests asked about
    dq.cover_quarantined(["tests/t.py::test_a"])  # known already: no probe
    dq.cover_quarantined(["tests/t.py::test_b"])  # timed out
    dq.cover_quarantined(["tests/t.py::test_c"])  # no answer
    assert worded() == ["mutation: could not tell what 1 quarantined test(s) cover on the original code"] * 2
    assert dq.QUARANTINE.covered == {"tests/t.py::test_a"}


def test_covered_lines_map_to_the_functions_mutmut_mutates(spec: dict[str, Any], tmp_path: Path) -> None:
    """The cover probe's answer: per test (coverage.py context), the mutmut keys of the functions it ran."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text("X = 1\n\n\ndef f():\n    return X\n\n\nclass C:\n    def g(self):\n"
                                           "        return 2\n")
    spec["modules"] = {"pkg/m.py": "pkg.m", "pkg/gone.py": "pkg.gone"}
    by_line = {1: {"", "tests/t.py::test_a"}, 5: {"tests/t.py::test_a", ""}, 10: {"tests/t.py::test_b"}}

    class Data:
        def contexts_by_lineno(self, path: str) -> dict[int, set[str]]:
            assert path == str(tmp_path / "pkg" / "m.py")
            return by_line

    cov = types.SimpleNamespace(get_data=Data)
    assert dq._covered_functions(cov, tmp_path) == {"tests/t.py::test_a": ["pkg.m.x_f"],
                                                    "tests/t.py::test_b": ["pkg.m.xǁCǁg"]}


# --------------------------------------------------------------------------------------------------- the record


def test_a_damaged_quarantine_file_is_read_as_none(spec: dict[str, Any]) -> None:
    qfile = Path("mutants") / mq.QUARANTINE_FILE
    for text in ("{not json", "[1, 2]", "\xff"):
        qfile.write_text(text, encoding="latin-1")
        assert dq._read_quarantine_file() == {}
        assert dq._load_quarantine(stats_kept=True) == set()
    assert not dq.QUARANTINE.ids()


def test_the_last_runs_quarantine_is_kept_while_the_stats_are(spec: dict[str, Any]) -> None:
    spec["quarantine"] = [{"nodeid": "tests/t.py::test_flaky", "cause": "flaky", "detail": "d", "extra": 1}]
    spec["crashed"] = [{"nodeid": "tests/t.py::test_crash", "cause": "crash"}]
    spec["manual_quarantine"] = ["tests/slow_*"]
    spec["changed_tests"] = ["tests/changed.py"]
    last = [{"nodeid": "tests/t.py::test_leak", "cause": "state-leak", "functions": ["m.x_f"], "covered": True},
            {"nodeid": "tests/changed.py::test_x", "cause": "broken", "functions": ["m.x_g"], "covered": True},
            {"nodeid": "tests/t.py::test_uncovered", "cause": "broken"}, "not an entry", {"no": "nodeid"}]
    record = {"tests": last, "found": ["tests/t.py::test_leak", "tests/changed.py::test_x"]}
    (Path("mutants") / mq.QUARANTINE_FILE).write_text(json.dumps(record))
    before = dq._load_quarantine(stats_kept=True)
    assert before == {"tests/t.py::test_leak", "tests/changed.py::test_x", "tests/t.py::test_uncovered"}
    q = dq.QUARANTINE
    assert q.given == {"tests/t.py::test_flaky": {"nodeid": "tests/t.py::test_flaky", "cause": "flaky",
                                                  "detail": "d"}}
    assert set(q.found) == {"tests/t.py::test_crash", "tests/t.py::test_leak"}  # changed file: judged again
    assert q.functions == {"tests/t.py::test_leak": {"m.x_f"}} and q.covered == {"tests/t.py::test_leak"}
    entry = q.entry("tests/slow_io.py::test_read")
    assert entry is not None and entry["cause"] == "manual" and "tests/slow_*" in entry["detail"]
    assert q.entry("tests/t.py::test_leak[1]") is q.found["tests/t.py::test_leak"]  # a parametrized case
    assert q.entry("tests/other.py::test_x") is None


def test_a_full_stats_run_judges_the_found_tests_again(spec: dict[str, Any]) -> None:
    record = {"tests": [{"nodeid": "tests/t.py::test_leak", "cause": "state-leak"}], "found": ["tests/t.py::test_leak"]}
    (Path("mutants") / mq.QUARANTINE_FILE).write_text(json.dumps(record))
    assert dq._load_quarantine(stats_kept=False) == {"tests/t.py::test_leak"} and not dq.QUARANTINE.found


def test_changed_instrumented_code_forgets_the_found_tests(spec: dict[str, Any]) -> None:
    dq.forget_found(["pkg/a.py"])
    assert worded() == []  # nothing found: nothing to say
    dq.QUARANTINE.found["tests/t.py::test_a"] = {"nodeid": "tests/t.py::test_a"}
    dq.forget_found(["pkg/a.py", "pkg/b.py", "pkg/c.py", "pkg/d.py"])
    assert not dq.QUARANTINE.found
    assert worded() == ["mutation: 1 test(s) quarantined last run are judged again: the mutated code changed "
                             "(pkg/a.py, pkg/b.py, pkg/c.py)"]


def test_newly_quarantined_tests_reset_the_kept_verdicts_of_what_they_ran(spec: dict[str, Any]) -> None:
    data = types.SimpleNamespace(exit_code_by_key={"m.x_f__mutmut_1": 1, "m.x_g__mutmut_1": 0})
    driver._PLAN[:] = [(data, "m.x_f__mutmut_1", 1), (data, "m.x_g__mutmut_1", 0), (data, "m.x_f__mutmut_2", None)]
    dq.QUARANTINE.functions["tests/t.py::test_a"] = {"m.x_f"}
    dq._reset_plan(["tests/t.py::test_a"])
    assert [r for _d, _k, r in driver._PLAN] == [None, 0, None]
    assert data.exit_code_by_key == {"m.x_f__mutmut_1": None, "m.x_g__mutmut_1": 0}
    dq._reset_plan(["tests/t.py::test_unknown"])  # ran nothing known: nothing reset
    assert [r for _d, _k, r in driver._PLAN] == [None, 0, None]


def test_the_plugin_leaves_quarantined_files_and_tests_out(spec: dict[str, Any], tmp_path: Path) -> None:
    q = dq.QUARANTINE
    q.found["tests/t_broken.py"] = {"nodeid": "tests/t_broken.py"}
    q.given["tests/t.py::test_b"] = {"nodeid": "tests/t.py::test_b"}
    (tmp_path / "tests").mkdir()
    for name in ("t_broken.py", "t.py"):
        (tmp_path / "tests" / name).write_text("")
    config = types.SimpleNamespace(rootpath=tmp_path, hook=types.SimpleNamespace(pytest_deselected=None))
    assert q.pytest_ignore_collect(tmp_path / "tests" / "t_broken.py", config) is True
    assert q.pytest_ignore_collect(tmp_path / "tests" / "t.py", config) is None
    assert q.pytest_ignore_collect(tmp_path / "tests", config) is None  # a folder: pytest decides
    dropped: list[Any] = []
    config.hook.pytest_deselected = lambda items: dropped.extend(items)
    items = [types.SimpleNamespace(nodeid=n) for n in ("tests/t.py::test_a", "tests/t.py::test_b")]
    q.pytest_collection_modifyitems(None, config, items)
    assert [i.nodeid for i in items] == ["tests/t.py::test_a"] and [i.nodeid for i in dropped] == ["tests/t.py::test_b"]


# --------------------------------------------------------------------------------------------------- the caches


@pytest.fixture
def sandbox(spec: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Path:
    """mutants/ holding one generated module ``pkg/m.py`` with its meta file and generation record."""
    import mutmut.utils.file_utils as file_utils

    mutants = Path("mutants")
    (mutants / "pkg").mkdir()
    (mutants / "pkg" / "m.py").write_text("# mutated\n")
    (mutants / "pkg" / "m.py.spans").write_text("{}")
    meta = {"exit_code_by_key": {"pkg.m.x_f__mutmut_1": None}, "hash_by_function_name": {},
            "durations_by_key": {}, "type_check_error_by_key": {}, "estimated_durations_by_key": {}}
    (mutants / "pkg" / "m.py.meta").write_text(json.dumps(meta))
    monkeypatch.setattr(file_utils, "walk_mutatable_files", lambda: iter([Path("pkg/m.py")]))
    assert dc._record_generation() == ["pkg/m.py"]  # new since the (empty) last record
    return mutants


def healed(sandbox: Path) -> bool:
    """Run the healing with a fresh memory of the last record; True when the mutated file is kept."""
    dc._PREVIOUS_SHAS.clear()
    dc._heal_caches()
    return (sandbox / "pkg" / "m.py").is_file()


def test_a_sandbox_as_generated_is_kept(sandbox: Path) -> None:
    assert healed(sandbox) and worded() == []
    assert {"pkg/m.py": driver._sha256(sandbox / "pkg" / "m.py")} == dc._PREVIOUS_SHAS
    assert dc._record_generation() == []  # unchanged since the last record


def test_a_mutated_file_changed_since_generation_is_generated_again(sandbox: Path) -> None:
    (sandbox / "pkg" / "m.py").write_text("# half written\n")
    assert not healed(sandbox) and not (sandbox / "pkg" / "m.py.spans").exists()
    assert worded() == ["mutation: regenerated the mutants of pkg/m.py: the mutated file is not what "
                             "generation wrote (an interrupted generation?)"]


def test_a_meta_file_with_other_mutants_than_generated_is_regenerated(sandbox: Path) -> None:
    meta = json.loads((sandbox / "pkg" / "m.py.meta").read_text())
    meta["exit_code_by_key"] = {"pkg.m.x_f__mutmut_9": 1}
    (sandbox / "pkg" / "m.py.meta").write_text(json.dumps(meta))
    assert not healed(sandbox)
    assert worded() == ["mutation: regenerated the mutants of pkg/m.py: its meta file does not list the "
                             "mutants generation produced"]


def test_an_unreadable_meta_file_is_rebuilt(sandbox: Path) -> None:
    (sandbox / "pkg" / "m.py.meta").write_text('{"exit_code_by_key": {"k": "killed"}}')
    assert not healed(sandbox) and not (sandbox / "pkg" / "m.py.meta").exists()
    assert len(worded()) == 1 and worded()[0].startswith(
        "mutation: mutmut's meta file of pkg/m.py was unreadable: ")
    assert worded()[0].endswith("; rebuilt and its mutants tested again")


def test_a_missing_meta_file_regenerates_its_module(sandbox: Path) -> None:
    (sandbox / "pkg" / "m.py.meta").unlink()
    assert not healed(sandbox)
    assert worded() == ["mutation: regenerated the mutants of pkg/m.py: its meta file was missing"]


def test_unreadable_stats_quarantine_and_generation_records_are_rebuilt(sandbox: Path) -> None:
    (sandbox / "mutmut-stats.json").write_text("[]")
    (sandbox / mq.QUARANTINE_FILE).write_text('{"tests": {}}')
    (sandbox / adapter.GENERATED_FILE).write_text("{cut")
    assert not healed(sandbox)  # no record to compare with: generated again, silently
    assert not (sandbox / "mutmut-stats.json").exists() and not (sandbox / mq.QUARANTINE_FILE).exists()
    assert [n.split(" was ")[0] for n in worded()] == [
        "mutation: mutmut's stats file", "mutation: the quarantine record", "mutation: the generation record"]


def test_a_module_that_lost_its_mutants_gets_them_back(sandbox: Path, spec: dict[str, Any]) -> None:
    data = types.SimpleNamespace(exit_code_by_key={}, hash_by_function_name={}, meta_path=str(sandbox / "x.meta"),
                                 type_check_error_by_key={}, durations_by_key={},
                                 estimated_time_of_tests_by_mutant={})
    whole = types.SimpleNamespace(exit_code_by_key={"pkg.m.x_f__mutmut_1": 0})
    assert dc._restore_from_record({"pkg/m.py": whole}) is False
    assert dc._restore_from_record({"pkg/m.py": data}) is True
    assert data.exit_code_by_key == {"pkg.m.x_f__mutmut_1": None}
    assert json.loads((sandbox / "x.meta").read_text())["exit_code_by_key"] == {"pkg.m.x_f__mutmut_1": None}
    assert "pkg/m.py lost its mutants during the run" in worded()[0]


def test_meta_files_deleted_during_the_run_are_written_back(sandbox: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def data(path: Path) -> Any:
        return types.SimpleNamespace(exit_code_by_key={"k": 1}, hash_by_function_name={}, meta_path=str(path),
                                     type_check_error_by_key={}, durations_by_key={},
                                     estimated_time_of_tests_by_mutant={})

    gone, blocked = sandbox / "gone.meta", sandbox / "no-such-dir" / "x.meta"
    monkeypatch.setattr(driver, "_DATA_BY_PATH", {"a": data(sandbox / "pkg" / "m.py.meta"), "b": data(gone),
                                                  "c": data(blocked)})
    dc._write_back_metas()
    assert json.loads(gone.read_text())["exit_code_by_key"] == {"k": 1}
    assert worded()[0] == f"mutation: {gone} was deleted during the run (by a test?); written back"
    assert worded()[1].startswith(f"mutation: could not write back {blocked}: ")


def test_the_watch_leaves_the_alarm_alone_without_a_limit_or_when_the_suite_owns_it(
        spec: dict[str, Any], tmp_path: Path) -> None:
    """``timeout = 0`` means no limit; a suite that set its own SIGALRM handler keeps it (no limit then)."""
    spec["current"] = str(tmp_path / "current.json")
    _outcome, watch_cls = driver_plugins.plugins()
    sig = driver.signal

    def protocol() -> None:
        def suites_own(signum: int, frame: Any) -> None:
            pass

        sig.setitimer(sig.ITIMER_REAL, 0)
        results = []
        for limit, handler in ((0.0, sig.SIG_DFL), (600.0, suites_own)):
            sig.signal(sig.SIGALRM, handler)
            gen = watch_cls("stats", limit).pytest_runtest_protocol(
                types.SimpleNamespace(nodeid="tests/t.py::test_a"), None)
            next(gen)
            results.append(sig.getitimer(sig.ITIMER_REAL)[0] == 0 and sig.getsignal(sig.SIGALRM) is handler)
            with contextlib.suppress(StopIteration):
                next(gen)
            results.append(sig.getsignal(sig.SIGALRM) is handler)
        os._exit(0 if all(results) else 4)

    assert in_child(protocol) == 0
