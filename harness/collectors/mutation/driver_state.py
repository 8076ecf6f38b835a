"""The mutation driver's process state and the files it writes, shared by every part of the driver.

Part of the driver process (:mod:`.driver`); never imported by the harness. Holds the spec read at start, the
status file, journal and limits log it writes (their shapes: :mod:`.protocol`), the journal-first persistence of
mutmut's meta files (saved every ``SAVE_INTERVAL`` seconds, the journal replayed after a kill), the process
limits of a forked mutant, and the eviction of the target's packages from ``sys.modules``.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import os
import resource
import signal
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Unpack

from harness.collectors.mutation import protocol
from harness.notes import NoteKind

SPEC: protocol.DriverSpec = {}
SCOPE_KEEP: set[str] | None = None  # the mutants a sampled or diff-mode run tests (None: all)
PR_SET_PDEATHSIG = 1
_NOTES: list[protocol.DriverNote] = []  # what the driver healed or changed on its own; the harness words them
# each test's setup + teardown seconds in the no-mutant runs (the most seen): mutmut times the call phase only
FIXTURE_SECONDS: dict[str, float] = {}
FIX_PLUGINS: list[Any] = []  # the driver's fixes that are pytest plugins (driver_cache.fix_plugins)
FORKS_AHEAD = [True]  # will any mutant of the plan be forked (driver._forks_ahead)? If not, no clean run
_PLAN: list[Any] = []  # mutmut's list of (meta data, mutant, verdict) for this run, as the scope left it
_DATA_BY_PATH: dict[str, Any] = {}  # every module's meta data mutmut loaded: written back at the end


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _status(**fields: Unpack[protocol.DriverStatus]) -> None:
    _write_status(dict(fields), fields.get("phase"))


def _step(name: str) -> None:
    """A step of the timeline that is not a phase (the status's ``phase`` stays what a failure is diagnosed by)."""
    _write_status({}, name)


def _write_status(fields: dict[str, Any], step: str | None) -> None:
    """Update the status file with ``fields``; a new phase or a step goes onto its timeline with the time."""
    path = Path(SPEC["status"])
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        doc = {}
    if step is not None and not (fields and step == doc.get("phase")):
        doc["timeline"] = [*doc.get("timeline", []), [step, round(time.time(), 3)]]
    doc.update(fields)
    _write_atomic(path, json.dumps(doc))


def _note(kind: NoteKind, **data: Any) -> None:
    _NOTES.append({"kind": kind.value, "data": data})
    with contextlib.suppress(OSError):
        _status(notes=_NOTES)


def _journal(event: protocol.JournalEvent) -> None:
    with open(SPEC["journal"], "a", encoding="utf-8") as fh:
        fh.write(protocol.journal_line(event))


def _limits(event: protocol.LimitsEvent) -> None:
    with open(SPEC["limits"], "a", encoding="utf-8") as fh:
        fh.write(protocol.limits_line(event))


def die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (a killed harness leaves no orphans)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def limit_memory(megabytes: int) -> str | None:
    """Cap this process's address space at its current size plus ``megabytes``; the reason when it could not."""
    if megabytes <= 0:
        return None
    size = 0
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                size = int(line.split()[1]) * 1024
    except OSError:
        pass
    cap = size + megabytes * 2**20
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (ValueError, OSError, OverflowError) as exc:  # a mutant is still tested, only without the cap
        return f"memory limit of {megabytes} MiB not applied: {exc}"
    return None



def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _mark_current(phase: str, nodeid: str) -> None:
    """The test running now, for the harness's stall message (a plain write: one per test, no rename)."""
    path = SPEC.get("current")
    if path:
        with contextlib.suppress(OSError), open(path, "w", encoding="utf-8") as fh:
            current: protocol.CurrentTest = {"phase": phase, "test": nodeid, "since": time.time()}
            fh.write(json.dumps(current))



SAVE_INTERVAL = 2.0  # seconds between meta file writes; the journal holds the verdicts in between
_DIRTY: dict[str, Any] = {}
_LAST_FLUSH = [0.0]
_MAIN_PID = [os.getpid()]  # the driver's process (set again in main)


def _deferred_save(self: Any) -> None:
    """SourceFileMutationData.save, at most every SAVE_INTERVAL: mutmut rewrites a whole meta file per verdict
    (a rename costs ~10 ms here, as much as a mutant); each verdict is appended to the journal first.
    Saves from other processes (mutmut generates mutants in a multiprocessing pool) are written at once: a
    worker exits without flushing, and its meta file would be lost."""
    if os.getpid() != _MAIN_PID[0]:
        _atomic_save(self)
        return
    _DIRTY[str(self.meta_path)] = self
    if time.monotonic() - _LAST_FLUSH[0] >= SAVE_INTERVAL:
        _flush()


def _flush() -> None:
    for data in list(_DIRTY.values()):
        _atomic_save(data)
    _DIRTY.clear()
    _LAST_FLUSH[0] = time.monotonic()


def _replay_journal() -> None:
    """Put the verdicts a killed run journaled but had not saved yet into the meta files, then start a fresh
    journal. Runs before mutmut reads the meta files, so its own rules (changed functions) still apply."""
    journal = Path(SPEC["journal"])
    events = protocol.read_journal(journal)  # the line a kill cut short is skipped
    if events is None:
        return
    verdicts: dict[str, tuple[int, float]] = {}
    for event in events:
        if event["event"] == "result":
            verdicts[event["mutant"]] = (int(event["exit_code"]), float(event.get("duration") or 0.0))
    if verdicts:
        from mutmut.mutation.data import SourceFileMutationData
        from mutmut.utils.file_utils import walk_mutatable_files

        for path in walk_mutatable_files():
            data = SourceFileMutationData(path=path)
            data.load()
            found = {k: v for k, v in verdicts.items() if data.exit_code_by_key.get(k, 0) is None}
            for key, (code, duration) in found.items():
                data.exit_code_by_key[key] = code
                data.durations_by_key[key] = duration
            if found:
                _atomic_save(data)
        _status(replayed=len(verdicts))
    _write_atomic(journal, "")


def _atomic_save(self: Any) -> None:
    """SourceFileMutationData.save, written to a temp file and renamed."""
    _write_atomic(
        Path(self.meta_path),
        json.dumps(
            {
                "exit_code_by_key": self.exit_code_by_key,
                "hash_by_function_name": self.hash_by_function_name,
                "type_check_error_by_key": self.type_check_error_by_key,
                "durations_by_key": self.durations_by_key,
                "estimated_durations_by_key": self.estimated_time_of_tests_by_mutant,
            }
        ),
    )  # no indent: json's C encoder, ~20x faster than mutmut's indent=4 on every verdict


def _helpers() -> tuple[Any, Any, Any]:
    """The harness modules the driver uses (the mutmut adapter, sampling, quarantine), bound once before the
    target's packages are evicted from ``sys.modules`` so that later uses never import a mutated copy of them."""
    if not _HELPERS:
        import harness.collectors.mutation.quarantine as quarantine
        import harness.collectors.mutmut_adapter as adapter
        import harness.sampling as sampling

        _HELPERS.extend((adapter, sampling, quarantine))
    return _HELPERS[0], _HELPERS[1], _HELPERS[2]


_HELPERS: list[Any] = []


def evict_target_modules(packages: Iterable[str]) -> list[str]:
    """Forget every already-imported module of the target's packages.

    The driver runs as ``python -c "from harness...."``: when the target is the harness itself, ``harness`` is
    then imported from the unmutated tree, and every test would reuse it instead of mutmut's trampolined copy
    (mutmut would find no test covering any mutant). The driver keeps working: its functions hold their own
    module globals. Returns the names evicted.
    """
    tops = set(packages)
    gone = [name for name in sys.modules if name.split(".")[0] in tops]
    for name in gone:
        _EVICTED[name] = sys.modules.pop(name)
    return gone


_EVICTED: dict[str, Any] = {}


def restore_target_modules() -> None:
    """Put the evicted modules back once no test runs in this process any more: the diff workers pickle the
    driver's functions by reference, which needs the driver's own module under its name again."""
    sys.modules.update(_EVICTED)


def _read_json(path: Path, check: Callable[[Any], str | None] | None = None) -> tuple[Any, str | None]:
    """(parsed JSON, None) or (None, why it cannot be read: "missing", unreadable, or what ``check`` says)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, "missing"
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"unreadable: {str(exc)[:80]}"
    problem = check(doc) if check is not None else None
    return (None, f"unreadable: {problem}") if problem else (doc, None)

