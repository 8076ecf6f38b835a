"""The driver's pytest plugins: what a run's tests did (failures with their tracebacks, memory errors), and a
watch that names the running test and fails one that runs over the time limit with no mutant active.

Part of the driver process (:mod:`.driver`); pytest is imported only when a run needs it.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from harness.collectors.mutation import driver_state as state


class TestTimeLimit(Exception):
    """Raised inside a test that ran longer than the spec's ``test_timeout`` with no mutant active."""

    __test__ = False


class Outcome:
    """Did any test fail (with its traceback, in the no-mutant phases), did one run out of memory; in the
    no-mutant runs, each test's fixture seconds (``driver_state.FIXTURE_SECONDS``)."""

    def __init__(self, keep_text: bool = False) -> None:
        self.failed: list[str] = []
        self.texts: dict[str, str] = {}
        self.memory = False
        self.keep_text = keep_text
        self.fixtures: dict[str, float] = {}  # setup + teardown seconds of the test running

    def pytest_runtest_logreport(self, report: Any) -> None:
        if self.keep_text and report.when in ("setup", "teardown"):  # the no-mutant runs of the whole suite
            self.fixtures[report.nodeid] = self.fixtures.get(report.nodeid, 0.0) + float(report.duration)
            if report.when == "teardown":
                seen = state.FIXTURE_SECONDS.get(report.nodeid, 0.0)
                state.FIXTURE_SECONDS[report.nodeid] = max(seen, self.fixtures.pop(report.nodeid))
        if report.failed and not hasattr(report, "wasxfail"):
            self.failed.append(report.nodeid)
            if self.keep_text and report.nodeid not in self.texts:
                self.texts[report.nodeid] = report.longreprtext[-8000:]
            crash = getattr(getattr(report, "longrepr", None), "reprcrash", None)
            if "MemoryError" in str(getattr(crash, "message", "")):
                self.memory = True

    def pytest_collectreport(self, report: Any) -> None:
        if report.failed:
            nodeid = report.nodeid or "<collection>"
            self.failed.append(nodeid)
            if self.keep_text:
                self.texts.setdefault(nodeid, report.longreprtext[-8000:])


def plugins() -> tuple[type, type]:
    """The harness's pytest plugins (pytest is imported only when a run needs it)."""
    import pytest

    class Watch:
        """Names the running test (the harness's stall message reads it) and fails a test that runs longer
        than ``limit`` seconds, so a hung test becomes a named failure instead of a silent wait."""

        def __init__(self, phase: str, limit: float) -> None:
            self.phase = phase
            self.limit = limit

        def _expired(self, signum: int, frame: Any) -> None:
            raise TestTimeLimit(
                f"harness: the test ran over {self.limit:g} s with no mutant active (config key 'timeout')"
            )

        @pytest.hookimpl(hookwrapper=True)
        def pytest_runtest_protocol(self, item: Any, nextitem: Any) -> Any:
            state._mark_current(self.phase, item.nodeid)
            armed = (
                self.limit > 0
                and threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None)
            )
            if armed:
                signal.signal(signal.SIGALRM, self._expired)
                signal.setitimer(signal.ITIMER_REAL, self.limit)
            try:
                yield
            finally:
                if armed:
                    signal.setitimer(signal.ITIMER_REAL, 0)
                    signal.signal(signal.SIGALRM, signal.SIG_DFL)

    return Outcome, Watch

