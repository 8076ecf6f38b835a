"""A time budget per test inside a mutant's process, and the count of tests a mutant ran.

mutmut stops a mutant when the whole set of its tests has run for (their summed clean durations + constant) x
multiplier. A mutant that makes one test hang (a mutated timeout, retry or loop bound) then costs the whole
set's budget. Here each test's *call* phase gets its own budget, (its clean call duration + constant) x
multiplier, stretched by the machine's load (mutmut's stats time the call phase only, so fixtures' setup is
never charged to the budget); a
test that runs over it ends the mutant at once as a timeout (exit code 36, mutmut's "timeout"). mutmut's
budget for the whole set stays as the backstop (a hang in C code that never returns to Python).

The plugin also counts the tests each mutant ran and appends one line per mutant to a log
(``{"mutant", "ran", "timeout"?, "budget"?}``): the benchmark's "test executions per mutant".

Runs in the forked mutant only (the driver registers it there); :func:`budget` is pure.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Mapping
from typing import Any

TIMEOUT_EXIT = 36  # mutmut's "timeout" (harness.collectors.mutmut_adapter.STATUS_BY_EXIT_CODE)


def budget(duration: float, constant: float, multiplier: float, load: float = 1.0) -> float:
    """Seconds a test's call phase may take in a mutant: (its clean duration + constant) x multiplier, stretched
    by ``load`` (:func:`load_factor`): a test's own budget is small enough for a busy machine's slowdown alone
    to exceed it (measured on itsdangerous at load 12 on 2 cores: 7 survivors called timeouts without it)."""
    return (max(duration, 0.0) + constant) * multiplier * max(load, 1.0)


def load_factor() -> float:
    """How much slower than an idle machine a process may run now: runnable processes per core (1 minute load
    average / cores), at least 1."""
    try:
        return max(os.getloadavg()[0] / (os.cpu_count() or 1), 1.0)
    except OSError:
        return 1.0


class Budget:
    """pytest plugin: arms a real-time alarm around each test's call phase (when the alarm is free: a test
    suite using SIGALRM itself keeps only mutmut's budget) and counts the tests run."""

    def __init__(self, mutant: str, durations: Mapping[str, float], constant: float, multiplier: float,
                 log: str | None, per_test: bool) -> None:
        self.mutant = mutant
        self.durations = durations
        self.constant = constant
        self.multiplier = multiplier
        self.log = log
        self.per_test = per_test
        self.ran = 0
        self.started = time.monotonic()
        self.load = load_factor() if per_test else 1.0

    def write(self, **fields: Any) -> None:
        if not self.log:
            return
        line = json.dumps({"mutant": self.mutant, "ran": self.ran, **fields}) + "\n"
        try:
            fd = os.open(self.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line.encode())
            finally:
                os.close(fd)
        except OSError:
            pass

    def _free(self) -> bool:
        return (
            self.per_test
            and threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None)
        )

    def run_call(self, nodeid: str) -> tuple[bool, float]:
        """Arm the alarm for ``nodeid``'s call phase; (armed, seconds)."""
        seconds = budget(self.durations.get(nodeid, 0.0), self.constant, self.multiplier, self.load)
        if not self._free():
            return False, seconds

        def expired(signum: int, frame: Any) -> None:
            self.write(timeout=nodeid, budget=round(seconds, 3), seconds=round(time.monotonic() - self.started, 3))
            os._exit(TIMEOUT_EXIT)

        signal.signal(signal.SIGALRM, expired)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        return True, seconds

    @staticmethod
    def disarm() -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)

    def done(self, code: int) -> None:
        self.write(code=code, seconds=round(time.monotonic() - self.started, 3))


def plugin(state: Budget) -> Any:
    """The pytest hook wrapper around each test's call phase, for ``state``."""
    import pytest

    class BudgetPlugin:
        def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
            state.ran += 1

        @pytest.hookimpl(hookwrapper=True)
        def pytest_runtest_call(self, item: Any) -> Any:
            armed, _seconds = state.run_call(item.nodeid)
            try:
                yield
            finally:
                if armed:
                    state.disarm()

    return BudgetPlugin()


def start(config: Any, mutant: str, durations: Mapping[str, float], spec: Mapping[str, Any]) -> Budget:
    """Register the budget plugin in a mutant's collected session (in the forked child: nothing leaks back)."""
    state = Budget(mutant, durations, float(spec.get("timeout_constant") or 0.0),
                   float(spec.get("timeout_multiplier") or 1.0), spec.get("executions"),
                   spec.get("timeout_budget") == "test")
    config.pluginmanager.register(plugin(state), "harness-test-budget")
    return state
