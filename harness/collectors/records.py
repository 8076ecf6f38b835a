"""Reading the run records that the ``harness_pytest`` plugin writes (one per pytest run). Pure."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import ArtifactError, NoDataError, ToolError

# The plugin's outcomes -> whether the test counts as run and as failed. The one table for outcomes.
OUTCOMES: dict[str, tuple[bool, bool]] = {
    "passed": (True, False),
    "failed": (True, True),
    "error": (True, True),
    "skipped": (False, False),
}


@dataclass(frozen=True)
class TestResult:
    __test__ = False

    nodeid: str
    outcome: str
    phase: str | None
    duration: float
    message: str = ""
    worker: str | None = None  # the pytest-xdist worker ("gw0") that ran it; None without xdist
    start: float = 0.0  # epoch seconds when its setup began and its teardown ended (0: not recorded)
    stop: float = 0.0
    shared: tuple[str, ...] = ()  # coverage run: the project's fixtures of wider scope it used (name@baseid)

    def overlaps(self, other: TestResult) -> bool:
        """Both ran at the same time on different xdist workers. A time not recorded (0) never overlaps: the
        other test's start (epoch seconds, or 0) is never before it."""
        return self.worker != other.worker and self.start < other.stop and other.start < self.stop

    @property
    def ran(self) -> bool:
        return OUTCOMES.get(self.outcome, (True, True))[0]

    @property
    def failed(self) -> bool:
        return OUTCOMES.get(self.outcome, (True, True))[1]


@dataclass(frozen=True)
class RunRecord:
    order: str
    seed: int
    exitstatus: int
    collected: int
    collection_errors: tuple[tuple[str, str], ...]
    tests: tuple[TestResult, ...]
    wall_seconds: float = 0.0
    xdist: bool = True
    cpu_seconds: float = 0.0

    @property
    def failures(self) -> tuple[TestResult, ...]:
        return tuple(t for t in self.tests if t.failed)


def parse_record(doc: dict[str, Any], wall_seconds: float = 0.0, xdist: bool = True,
                 cpu_seconds: float = 0.0) -> RunRecord:
    if doc.get("kind") != "run-record" or doc.get("format") != 1:
        raise ArtifactError("not a harness run record of format 1")
    tests = tuple(TestResult(nodeid=t["nodeid"], outcome=t.get("outcome", "passed"), phase=t.get("phase"),
                             duration=float(t.get("duration", 0.0)), message=t.get("message", ""),
                             worker=t.get("worker") or None, start=float(t.get("start") or 0.0),
                             stop=float(t.get("stop") or 0.0),
                             shared=tuple(str(x) for x in t.get("shared") or ()))
                  for t in doc.get("tests", []))
    return RunRecord(order=doc.get("order", "declared"), seed=int(doc.get("seed", 0)),
                     exitstatus=int(doc.get("exitstatus", 0)), collected=int(doc.get("collected", 0)),
                     collection_errors=tuple((e["nodeid"], e.get("message", ""))
                                             for e in doc.get("collection_errors", [])),
                     tests=tests, wall_seconds=wall_seconds, xdist=xdist, cpu_seconds=cpu_seconds)


def load_record(path: Path, log: Path, wall_seconds: float = 0.0, xdist: bool = True,
                cpu_seconds: float = 0.0) -> RunRecord:
    """Load a run record, turning a run that wrote none into a clear :class:`ToolError`."""
    try:
        doc = json.loads(path.read_bytes())  # JSON text is UTF-8 (json.loads decodes bytes)
    except FileNotFoundError:
        from harness.collectors.pytest_run import tail

        raise ToolError(f"pytest wrote no results (it could not start or crashed); log {log}:\n"
                        f"{tail(log)}") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"run record {path} is unreadable: {exc}") from None
    return parse_record(doc, wall_seconds, xdist, cpu_seconds)


# The last line of pytest-xdist's error when its workers collected different test ids.
def live_path(record: Path) -> Path:
    """The live progress file the harness's pytest plugin keeps beside ``record`` (harness_pytest._Recorder)."""
    return record.with_suffix(".live")


def read_live(record: Path) -> tuple[int, int, str] | None:
    """(tests finished, tests collected, the last finished) from the live file the harness's pytest plugin
    keeps beside ``record`` while a run goes on; None before the first test ends or when it cannot be read."""
    try:
        doc = json.loads(live_path(record).read_text(encoding="utf-8"))
        return int(doc["done"]), int(doc["total"]), str(doc["current"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


XDIST_COLLECTION_DIFF = "'Known limitations' in documentation for pytest-xdist"


class UnstableIdsError(ToolError):
    """pytest-xdist's workers collected different test ids: the suite can only run serially."""


def check_clean(record: RunRecord, log: Path) -> None:
    """Refuse a run that collected nothing, or whose workers disagree on the test ids, naming the cause.

    A collection error in one test file is not refused: the rest of the suite ran (pytest runs with
    ``--continue-on-collection-errors``) and the file is reported as broken (:func:`broken_files`).
    """
    messages = [m for _, m in record.collection_errors]
    if any(XDIST_COLLECTION_DIFF in m for m in messages):
        raise UnstableIdsError(f"pytest-xdist workers collected different test ids (unstable parametrize ids, "
                               f"e.g. built from timestamps or random values in each process); log: {log}")
    if record.collection_errors and not record.tests:
        nodeid, message = record.collection_errors[0]
        more = f" (+{len(record.collection_errors) - 1} more)" if len(record.collection_errors) > 1 else ""
        raise ToolError(f"test collection failed in {nodeid or '<session>'}: {message}{more}; log: {log}")
    if not record.tests:
        raise NoDataError(f"no tests collected (pytest exit {record.exitstatus}); check 'tests' in "
                          f"config/quality.toml; log: {log}")


def broken_files(record: RunRecord) -> list[tuple[str, str]]:
    """(test file or node id, message) of every collection error: tests that could not even be collected."""
    return [(n or "<session>", m) for n, m in record.collection_errors]


def failing_ids(record: RunRecord) -> list[str]:
    return [t.nodeid for t in record.failures]
