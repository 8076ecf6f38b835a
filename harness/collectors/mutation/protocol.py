"""The files the harness and its mutation driver talk through, typed once for both processes.

The collector (:mod:`.spawn`) writes the spec and reads the rest; the driver (:mod:`.driver`, inside mutmut's
process) reads the spec and writes the rest:

- the spec (``DriverSpec``, ``reports/raw/mutation/spec.json``): what to run and how;
- the status file (``DriverStatus``): the phase the driver is in and how it ended, rewritten atomically;
- the journal (``JournalEvent`` lines, in the sandbox's ``mutants/``): the plan, each mutant started, each
  verdict - appended first, so a killed run loses no verdict and the harness shows progress;
- the limits log (``LimitsEvent`` lines): mutants killed by the memory cap, runner errors, warnings;
- the current test (``CurrentTest``): the test or phase running now, for the message of a stalled run.

Both sides import this module only for names, types and the shard rule; it imports nothing of the harness's
but its errors.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypedDict, cast

from harness.errors import ConfigError

JOURNAL = "harness-journal.jsonl"  # in the sandbox's mutants/ folder: outlives a killed run
DIFFS_FILE = "harness-diffs.json"  # in mutants/: every in-scope mutant's diff, by its function's hash
STATS_FILE = "mutmut-stats.json"  # mutmut's own, in mutants/
TEST_HASHES_FILE = "harness-test-hashes.json"  # in mutants/: the test files the last run saw
SPEC_KIND = "mutation-spec"  # spec.json's kind (workspace.write_json's header: format, kind, harness_version)
DRIVER_INTERRUPTED = 130  # the driver's exit code when mutmut was interrupted (Ctrl-C, SIGTERM)


class DriverSpec(TypedDict, total=False):
    """What the collector asks of the driver (``spec.json``, under the harness's format header)."""

    format: int
    kind: str
    harness_version: str
    status: str  # paths of the files the driver writes
    journal: str
    limits: str
    current: str
    max_children: int
    runner: str  # "session" or "pytest"
    memory_limit_mb: int
    shard: list[int] | None  # [K, N]
    shard_plan: dict[str, int] | None  # mutant -> shard (harness.shard_plan); None: the hash rule for all
    changed_tests: list[str]  # test files changed since the last run: their mutants are re-checked
    tests_listed: bool  # mutmut's stats were restored for exactly these files: its test listing is known
    scope: dict[str, Any] | None  # harness.sampling.Scope.to_spec()
    target_packages: list[str]  # import names the driver evicts before mutmut imports them
    quarantine: list[dict[str, Any]]  # given by the earlier phases (quarantine.to_entry)
    manual_quarantine: list[str]  # config key mutation.quarantine (node ids or globs)
    auto_quarantine: bool
    test_timeout: float
    fixes: list[str]  # mutmut_adapter.INSTRUMENTATION_FIXES in use
    root: str  # for the driver's classification runs and messages
    tests: list[str]
    import_roots: list[str]
    modules: dict[str, str]  # mutated path -> module name
    pytest_args: list[str]
    crashed: list[dict[str, Any]]  # tests that crashed mutmut's process in an earlier start of this run
    # issue 14 hook: line-level selection, per-test budget, verdict cache (harness.selection.driver_spec)
    selection: str  # "line" or "function"
    line_contexts: str | None  # the coverage run's line contexts (harness.selection.contexts_document)
    line_contexts_error: str
    timeout_budget: str  # "test" or "set"
    timeout_constant: float
    timeout_multiplier: float
    executions: str  # the tests each mutant ran (harness.call_budget)
    verdict_cache: str | None  # the verdict cache folder (harness.verdict_cache), None: off
    verdict_cache_read: bool
    verdict_settings: dict[str, Any]
    _file: str  # set by the driver: where it read the spec


class DriverNote(TypedDict):
    """A note of the driver's: a ``harness.notes.NoteKind`` value and its facts (the harness words it)."""

    kind: str
    data: dict[str, Any]


class DriverStatus(TypedDict, total=False):
    """How far the driver got and how it ended (the status file)."""

    phase: str  # generate, stats, associations, clean, clean-again, forced_fail, mutants, ... (+ "-classify")
    started: float
    finished: bool
    failed: bool
    exit: int
    interrupted: bool
    notes: list[DriverNote]  # what the driver healed or changed on its own
    crashed_test: str  # a test that crashed mutmut's process with no mutant active ...
    crash: int  # ... and how (exit code, negative: signal)
    all_quarantined: bool
    unjudging: list[dict[str, Any]]  # tests failing on the instrumented copy with auto quarantine off
    failed_tests: list[str]
    failing: int
    quarantined: int
    mutants_started: float
    cpu_at_start: float
    own_cpu_at_start: float
    ended: float
    children_cpu: float
    scheduler_cpu: float
    rechecked: int
    replayed: int
    session_fallback: str
    scope: int
    clean_skipped: bool  # no mutant was to be forked (all had verdicts): no clean or forced-fail run
    listing_skipped: bool  # mutmut's stats came from a bundle of exactly these files: no test listing
    listing_from_session: bool  # mutmut's test listing answered by the collected session the clean run uses
    timeline: list[list[Any]]  # [phase, epoch seconds] each time the phase changed: where a run's time went


class PlanEvent(TypedDict):
    event: Literal["plan"]
    total: int  # in-scope mutants
    todo: int  # of them, without a verdict at the start


class StartEvent(TypedDict):
    event: Literal["start"]
    mutant: str
    at: float


class ResultEvent(TypedDict):
    event: Literal["result"]
    mutant: str
    exit_code: int
    duration: float


class SelectEvent(TypedDict):  # issue 14 hook: a mutant's test selection (harness.selection)
    event: Literal["select"]
    mutant: str
    mode: str  # "line", or why it fell back to function level
    function: int  # tests by mutmut's function-level selection
    line: int  # tests by line-level selection


class CachedEvent(TypedDict):  # issue 14 hook: a verdict taken from the verdict cache
    event: Literal["cached"]
    mutant: str
    exit_code: int


JournalEvent = PlanEvent | StartEvent | ResultEvent | SelectEvent | CachedEvent


class LimitsEvent(TypedDict, total=False):
    mutant: str
    warning: str  # a limit not applied
    limit: Literal["memory"]  # killed by the memory cap
    error: str  # the harness's runner failed on this mutant


class CurrentTest(TypedDict, total=False):
    phase: str
    test: str
    since: float


def read_plain_json(path: Path) -> dict[str, Any]:
    """A JSON object file of the driver's; {} when missing, unreadable or not an object."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return doc if isinstance(doc, dict) else {}


def read_text(path: Path) -> str:
    """A text file of the driver's or mutmut's; "" when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def read_status(path: Path) -> DriverStatus:
    return cast(DriverStatus, read_plain_json(path))


def read_current(path: Path) -> CurrentTest:
    return cast(CurrentTest, read_plain_json(path))


def _json_lines(text: str) -> list[dict[str, Any]]:
    out = []
    for line in text.splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue  # the line a kill cut short, or being written
        if isinstance(event, dict):
            out.append(event)
    return out


def read_journal(path: Path) -> list[JournalEvent] | None:
    """The journal's events in order (a line cut short skipped); None when the file cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    return cast(list[JournalEvent], _json_lines(text))


def journal_line(event: JournalEvent) -> str:
    return json.dumps(event) + "\n"


def limits_line(event: LimitsEvent) -> str:
    return json.dumps(event) + "\n"


@dataclass(frozen=True)
class Limits:
    """The driver's limits log: mutants killed by the memory cap, runner errors, warnings (by mutant)."""

    memory: frozenset[str] = frozenset()
    errors: dict[str, str] = field(default_factory=dict)
    warnings: dict[str, str] = field(default_factory=dict)


def read_limits(path: Path) -> Limits:
    memory: set[str] = set()
    errors: dict[str, str] = {}
    warnings: dict[str, str] = {}
    for event in _json_lines(read_text(path)):
        mutant = str(event.get("mutant"))
        if event.get("limit") == "memory":
            memory.add(mutant)
        if event.get("error"):
            errors.setdefault(mutant, str(event["error"]))
        if event.get("warning"):
            warnings.setdefault(str(event["warning"]), mutant)
    return Limits(memory=frozenset(memory), errors=errors, warnings=warnings)


@dataclass(frozen=True)
class Shard:
    """``K/N``: the K-th (1-based) of N deterministic slices of the mutants: by the shard plan every shard reads
    (``plan``, mutant -> shard, :mod:`harness.shard_plan`), a mutant the plan does not name by its name's hash."""

    index: int
    count: int
    plan: Mapping[str, int] | None = field(default=None, compare=False, repr=False)
    plan_digest: str = field(default="", compare=False)  # which plan (shard_plan.digest); "" with no plan
    split: str = field(default="", compare=False, repr=False)  # how the mutants were split, for the shard's note

    @classmethod
    def parse(cls, text: str) -> Shard:
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
        if not match or not 1 <= int(match[1]) <= int(match[2]):
            raise ConfigError(f"shard must be K/N with 1 <= K <= N (e.g. 1/4), got {text!r}")
        return cls(int(match[1]), int(match[2]))

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def in_shard(mutant: str, index: int, count: int, plan: Mapping[str, int] | None = None) -> bool:
    """The one slicing rule (the driver runs by it, the collector reads by it, the merge checks by it): a mutant
    belongs to shard ``index`` (1-based) of ``count`` as the shard ``plan`` says, else (no plan, or a mutant it
    does not name: new code) by its name's hash, stable across runs and machines."""
    planned = plan.get(mutant) if plan else None
    if planned is not None:
        return planned == index
    digest = hashlib.sha256(mutant.encode()).digest()
    return int.from_bytes(digest[:8], "big") % count == index - 1
