"""Quarantine in the mutation phase (pure): which tests cannot judge mutants, why, and how to see it for yourself.

A test is left out of the mutation phase, never the whole run, when it cannot judge mutants:

- given by the earlier phases (flaky, broken, parallel-unsafe: the pipeline passes them to ``mutation.run``);
- listed by the user (config key ``mutation.quarantine``: node ids or globs) - cause ``manual``;
- found by the driver: it fails on mutmut's instrumented copy with no mutant active (stats or clean run). Its
  cause is read from how it fails: passes alone but fails after others in one process (``state-leak``), fails
  on the original code too (``broken``), else from its traceback (:func:`cause_from_traceback`).

Each quarantined test is written by the driver as an *entry* (plain JSON: nodeid, cause, detail, reproduce and the
mutated functions it executed) in ``mutants/harness-quarantine.json``; :func:`from_entry` turns it into the
model's :class:`~harness.model.QuarantinedTest`. Mutants whose only covering tests were quarantined are
counted as no coverage (Stryker's conservative status) and say so (:func:`quarantine_note`).
"""

from __future__ import annotations

import fnmatch
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from harness.collectors import mutmut_adapter as adapter
from harness.collectors.mutmut_adapter import INJECTED_IN_TEXT
from harness.model import Metric, ModuleMutation, MutantStatus, QuarantineCause, QuarantinedTest, Unmeasured
from harness.notes import Note, NoteKind, note

QUARANTINE_FILE = "harness-quarantine.json"  # in the sandbox's mutants/ folder, next to mutmut's stats

_RECURSION = re.compile(r"RecursionError|maximum recursion depth exceeded")
_PICKLING = re.compile(r"PicklingError|[Cc]an't pickle|cannot pickle|Can't get attribute")
_INTROSPECTION = re.compile(r"__all__|inspect\.signature|\bsignature\(|\bdir\(|\bvars\(|getmembers|__dict__")
_EXCEPTION_LINE = re.compile(r"^(E\s+)?[\w.]*(Error|Exception|Exit|Interrupt)\b.*")
# A traceback's frame headers, native (File "x.py", line 3, in f) and pytest's short form (x.py:3: in f).
_FRAME = re.compile(r'^\s*(File ".*", line \d+, in |\S+:\d+: in )')


def matches(nodeid: str, pattern: str) -> bool:
    """Does ``pattern`` (a node id, a file or class id, or a glob) select test ``nodeid``?"""
    if nodeid == pattern or nodeid.startswith((pattern + "::", pattern + "[")):
        return True
    return any(ch in pattern for ch in "*?[") and fnmatch.fnmatchcase(nodeid, pattern)


def first_match(nodeid: str, patterns: Iterable[str]) -> str | None:
    return next((p for p in patterns if matches(nodeid, p)), None)


def evidence(text: str, pattern: re.Pattern[str] | None = None) -> str:
    """The one line of a failure that shows its cause: the first line matching ``pattern``, else the last
    exception line, else the last non-empty line; at most 200 characters."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if pattern is not None:
        hit = next((ln for ln in reversed(lines) if pattern.search(ln) and _EXCEPTION_LINE.match(ln)), None)
        hit = hit or next((ln for ln in reversed(lines) if pattern.search(ln)), None)
        if hit:
            return _short(hit)
    hit = next((ln for ln in reversed(lines) if _EXCEPTION_LINE.match(ln)), None)
    return _short(hit or (lines[-1] if lines else ""))


def _short(line: str) -> str:
    line = re.sub(r"^E\s+", "", line)
    return line if len(line) <= 200 else line[:197] + "..."


def cause_from_traceback(text: str) -> tuple[QuarantineCause, str]:
    """(cause, evidence line) of a test that fails on mutmut's instrumented copy but not on the original code.

    In this order: a RecursionError (mutmut's trampolines add two frames per call) is ``recursion``; a pickling
    error (a class or function of a mutated module pickled by reference: its trampoline or its module name is
    mutmut's) is ``pickling``; a failure that shows mutmut's injected names (``x_``, ``xǁ``, ``_mutmut``...) or
    comes from listing a module's contents (``__all__``, ``dir()``, ``vars()``, ``inspect.signature``) is
    ``introspection``; anything else is ``instrumented``.
    """
    if _RECURSION.search(text):
        return QuarantineCause.RECURSION, evidence(text, _RECURSION)
    if _PICKLING.search(text):
        return QuarantineCause.PICKLING, evidence(text, _PICKLING)
    seen = without_frames(text)  # every traceback through mutmut's copies names x_f__mutmut_orig in its frames
    if INJECTED_IN_TEXT.search(seen):
        return QuarantineCause.INTROSPECTION, evidence(seen, INJECTED_IN_TEXT)
    if _INTROSPECTION.search(text):
        return QuarantineCause.INTROSPECTION, evidence(text, _INTROSPECTION)
    return QuarantineCause.INSTRUMENTED, evidence(text)


def without_frames(text: str) -> str:
    """A traceback without its frame headers and the source line shown under each: what the test saw."""
    out: list[str] = []
    skip_next = False
    for line in text.splitlines():
        if _FRAME.match(line):
            skip_next = True
            continue
        if skip_next and line.startswith((" ", "\t")) and not line.lstrip().startswith("E "):
            skip_next = False
            continue
        skip_next = False
        out.append(line)
    return "\n".join(out)


def reproduce_instrumented(mutants_dir: str, nodeid: str, *, after: Sequence[str] = ()) -> str:
    """A shell command that runs ``nodeid`` on mutmut's instrumented copy with no mutant active; with ``after``
    (the suite's test paths), the suite first in the same process, as mutmut's runs do."""
    extra = "--keep-duplicates " + " ".join(shlex.quote(a) for a in after) + " " if after else ""
    return (
        f"(cd {shlex.quote(mutants_dir)} && MUTANT_UNDER_TEST= python -m pytest -p no:randomly -p no:xdist "
        f"-o addopts= {extra}{shlex.quote(nodeid)})"
    )


def reproduce_original(root: str, nodeid: str) -> str:
    return f"(cd {shlex.quote(root)} && python -m pytest -p no:randomly -o addopts= {shlex.quote(nodeid)})"


def to_entry(test: QuarantinedTest, functions: Iterable[str] = ()) -> dict[str, Any]:
    return {
        "nodeid": test.nodeid,
        "cause": test.cause.value,
        "detail": test.detail,
        "reproduce": test.reproduce,
        "functions": sorted(set(functions)),
    }


def from_entry(entry: Mapping[str, Any]) -> QuarantinedTest:
    try:
        cause = QuarantineCause(str(entry.get("cause")))
    except ValueError:
        cause = QuarantineCause.INSTRUMENTED
    return QuarantinedTest(
        nodeid=str(entry.get("nodeid", "")),
        cause=cause,
        detail=str(entry.get("detail", "")),
        reproduce=str(entry.get("reproduce", "")),
    )


def covering_by_function(entries: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """mutmut's function key (``pkg.mod.x_func``) -> the quarantined tests that executed it."""
    out: dict[str, list[str]] = {}
    for e in entries:
        for f in e.get("functions") or ():
            out.setdefault(str(f), []).append(str(e.get("nodeid", "")))
    return out


def quarantine_note(tests: Sequence[str], cause_by_test: Mapping[str, str]) -> str:
    """Mutant.note of a mutant left with no test because its covering tests were quarantined."""
    shown = ", ".join(f"{t} ({cause_by_test.get(t, '?')})" for t in tests[:3])
    more = f" and {len(tests) - 3} more" if len(tests) > 3 else ""
    return f"no test left: its covering tests were quarantined: {shown}{more}"


NOTE_PREFIX = "no test left: its covering tests were quarantined"


def module_unmeasured(
    module: str,
    mm: ModuleMutation,
    cover: Mapping[str, Sequence[str]],
    cause_by_test: Mapping[str, str],
    errors: Mapping[str, str] | None = None,
) -> Unmeasured | None:
    """A module with mutants of which none got a verdict from a test: not measured, with the reason - every
    covering test was quarantined, or every mutant is suspicious, interrupted or unchecked. None otherwise
    (a module with verdicts is scored; one whose mutants no test ever covered scores 0 %)."""
    c = mm.counts
    if not c.total or c.killed + c.timeout + c.survived:
        return None
    tests = sorted(
        {
            t
            for x in mm.mutants
            if x.status in (MutantStatus.NO_COVERAGE, MutantStatus.NOT_CHECKED)
            for t in cover.get(adapter.stats_key(x.name), ())
        }
    )
    if tests:
        shown = ", ".join(f"{t} ({cause_by_test.get(t, '?')})" for t in tests[:3])
        more = f" and {len(tests) - 3} more" if len(tests) > 3 else ""
        return Unmeasured(
            module,
            Metric.MUTATION_SCORE,
            f"every test that covers it was quarantined ({shown}{more}); none of its {c.total} mutants could "
            f"be judged",
            tests=tuple(tests),
        )
    unjudged = {
        "suspicious": c.suspicious,
        "interrupted": c.interrupted,
        "not checked": c.not_checked,
    }
    if not any(unjudged.values()):
        return None
    shown = ", ".join(f"{n} {k}" for k, n in unjudged.items() if n)
    mine = [e for k, e in (errors or {}).items() if k.rpartition(".")[0] == module]
    why = f"; the harness's runner failed: {mine[0]}" if mine else ""
    return Unmeasured(
        module,
        Metric.MUTATION_SCORE,
        f"none of its {c.total} mutants got a verdict ({shown}){why}; executed but unjudged is not a pass",
    )


def quarantine_notes(
    quarantined: Sequence[QuarantinedTest], doc: Mapping[str, Any], by_module: Mapping[str, ModuleMutation]
) -> list[Note]:
    notes = []
    if quarantined:
        causes: dict[str, int] = {}
        for q in quarantined:
            causes[q.cause.value] = causes.get(q.cause.value, 0) + 1
        left = sum(1 for mm in by_module.values() for x in mm.mutants if x.note.startswith(NOTE_PREFIX))
        notes.append(note(NoteKind.MUTATION_QUARANTINE, tests=len(quarantined), causes=causes, left=left))
    details = {q.detail for q in quarantined}
    for pattern in doc.get("patterns") or ():
        if not any(str(pattern) in d for d in details if d.startswith("config key")):
            notes.append(note(NoteKind.MUTATION_PATTERN, pattern=pattern))
    return notes
