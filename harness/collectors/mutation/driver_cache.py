"""The mutation driver's fixes and caches: tests run on mutmut's copy as on the original, and what mutmut left on
disk is what it generated.

Part of the driver process (:mod:`harness.collectors.mutation.driver`, whose state it shares); never imported
by the harness.

- fixes (spec ``fixes``): a higher recursion limit for the trampoline's frames, ``sys._getframe`` that does not
  count them and trampolines that give classes made through them their caller's module (both: classes named
  after their caller's module stay picklable), mutmut's injected names hidden from module
  introspection (``mutmut_adapter.HIDE_INJECTED_NAMES``, appended to each generated file by the driver), and
  Hypothesis's executor check reset before each test (tests run again in one process and in every fork);
- ``_heal_caches``: before mutmut reads anything, what it cannot read is rebuilt and every mutated file that is
  not what the last generation wrote is generated again (``mutmut_adapter.GENERATED_FILE``, written by
  ``_record_generation``);
- ``_restore_from_record`` and ``_write_back_metas``: a module's mutants that vanished during the run (a test
  deleting files in the work copy) come back, and are tested.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.collectors.mutation import driver_state as driver
from harness.notes import NoteKind

RECURSION_FACTOR = 3  # a call through mutmut's trampoline takes three frames (wrapper, trampoline, function)


def apply_fixes() -> None:
    """The fixes that let tests run on mutmut's instrumented copy as on the original (spec ``fixes``)."""
    fixes = active_fixes()
    if "recursion" in fixes:
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, RECURSION_FACTOR * limit + 200))
    if "pickling" in fixes:
        import mutmut.mutation.trampoline as trampoline

        if not getattr(trampoline.wrap_in_trampoline, "_harness", False):
            original = trampoline.wrap_in_trampoline
            trampoline.wrap_in_trampoline = caller_module_trampolines(original)
            skip = {*_codes(original), *_codes(trampoline.wrap_in_trampoline)}
            if not getattr(sys._getframe, "_harness", False):
                sys._getframe = frames_without(skip, sys._getframe)


def _codes(function: Callable[..., Any]) -> list[types.CodeType]:
    """The code objects of ``function`` and of every function defined in it (mutmut's trampoline is a closure)."""
    out, todo = [], [function.__code__]
    while todo:
        code = todo.pop()
        out.append(code)
        todo += [c for c in code.co_consts if isinstance(c, types.CodeType)]
    return out


def frames_without(skip: set[types.CodeType], getframe: Callable[..., Any]) -> Callable[..., Any]:
    """``sys._getframe`` as if mutmut's trampolines were not on the stack.

    Code that names what it makes after its caller (``sys._getframe(1).f_globals["__name__"]``: namedtuple,
    Enum and attrs' ``make_class``, typing) gets mutmut's trampoline module as that caller, or a frame deeper in
    the library, and the classes it makes cannot be pickled (``attribute lookup X on mutmut.mutation.trampoline
    failed``). Counting ``depth`` frames without the trampolines' gives the caller the unmutated code has.
    """

    def _getframe(depth: int = 0, /) -> types.FrameType:
        frame: types.FrameType | None = getframe(1)
        for _ in range(depth):
            frame = frame.f_back if frame is not None else None
            while frame is not None and frame.f_code in skip:
                frame = frame.f_back
        if frame is None:
            raise ValueError("call stack is not deep enough")
        return frame

    _getframe._harness = True  # type: ignore[attr-defined]
    return _getframe


def fix_plugins() -> list[Any]:
    """The fixes that are pytest plugins, for every run of the driver (spec ``fixes``)."""
    return [FreshHypothesisExecutors()] if "hypothesis" in active_fixes() else []


def active_fixes() -> set[str]:
    return set(driver.SPEC.get("fixes", driver._helpers()[0].INSTRUMENTATION_FIXES))


class FreshHypothesisExecutors:
    """pytest plugin: each test runs as in a fresh process as far as Hypothesis's executor check goes.

    A ``@given`` method remembers the instance ("executor") it first ran on and fails its run on another one
    (``HealthCheck.differing_executors``). pytest makes a new instance per run, so a test that already ran in the
    process fails when it runs again: in mutmut's clean run after its stats run, and in every mutant's forked
    process (a kill for any mutant). Forgetting the instance before each run is what a fresh process does.
    """

    def pytest_runtest_setup(self, item: Any) -> None:
        function = getattr(getattr(item, "obj", None), "__func__", getattr(item, "obj", None))
        if not getattr(function, "is_hypothesis_test", False):
            return
        try:
            from hypothesis.utils.conventions import not_set
            from hypothesis.utils.threading import ThreadLocal
        except ImportError:
            return
        functions, seen = [function], 0
        while functions and seen < 8:  # Hypothesis wraps the test in a function or two; the memory is in there
            seen += 1
            for cell in getattr(functions.pop(), "__closure__", None) or ():
                try:
                    value = cell.cell_contents
                except ValueError:
                    continue
                if isinstance(value, ThreadLocal):
                    with contextlib.suppress(AttributeError):
                        value.prev_self = not_set
                elif isinstance(value, types.FunctionType):
                    functions.append(value)


def caller_module_trampolines(wrap: Callable[..., Any]) -> Callable[..., Any]:
    """mutmut's ``wrap_in_trampoline`` whose plain-function wrappers give a class or function returned through
    them their caller's module when it got mutmut's instead.

    Factories that name what they make after their caller's module (``sys._getframe(1)``, as ``namedtuple``
    and ``Enum`` helpers do) see mutmut's trampoline as that caller: the class lands in
    ``mutmut.mutation.trampoline``, where pickle cannot find it. The wrapper knows the real caller; only values
    whose ``__module__`` is the trampoline's own are changed, so a mutant that changes the module still shows.
    """
    trampoline_module = wrap.__module__

    def wrap_in_trampoline(mutants_dict: Any, is_classmethod: bool = False) -> Callable[..., Any]:
        make = wrap(mutants_dict, is_classmethod)

        def mutmut_mutated(decorated_func: Any) -> Any:
            wrapper = make(decorated_func)
            plain = not (
                inspect.isgeneratorfunction(decorated_func)
                or inspect.iscoroutinefunction(decorated_func)
                or inspect.isasyncgenfunction(decorated_func)
            )
            if not plain or wrapper.__code__.co_freevars != ("trampoline",):
                return wrapper
            trampoline = wrapper.__closure__[0].cell_contents

            def _trampoline_wrapper(*args: Any, **kwargs: Any) -> Any:
                result = trampoline(*args, **kwargs)
                if isinstance(result, (type, types.FunctionType)) and result.__module__ == trampoline_module:
                    result.__module__ = sys._getframe(1).f_globals.get("__name__", trampoline_module)
                return result

            return functools.update_wrapper(_trampoline_wrapper, decorated_func)

        return mutmut_mutated

    wrap_in_trampoline._harness = True  # type: ignore[attr-defined]
    return wrap_in_trampoline


def generator_version() -> str:
    """What generated the files in mutants/: a change regenerates them (see ``_heal_caches``)."""
    adapter = driver._helpers()[0]
    hide = "introspection" in active_fixes()
    return f"{adapter.GENERATOR_VERSION}:{'hide' if hide else 'plain'}"


# --------------------------------------------------------------------------------------------------- caches

_GENERATED: dict[str, dict[str, Any]] = {}  # path -> what the generation of this run left (its record)
_PREVIOUS_SHAS: dict[str, Any] = {}  # path -> the mutated file's hash the last generation recorded


def _heal_caches() -> None:
    """Before mutmut reads anything: rebuild what it cannot read, and regenerate every mutated file that is not
    what the last generation wrote (``mutmut_adapter.GENERATED_FILE``: its hash, and its meta file listing its mutants).

    mutmut itself reads a missing meta file as "no mutants" for a file it thinks is up to date (a kill during
    generation, a deleted file), and stops with a traceback on an unreadable one; either way a module would be
    scored n/a, or never again. Deleting the mutated file makes mutmut generate it again; a readable meta file
    is kept, so the verdicts of unchanged functions survive."""
    from mutmut.utils.file_utils import walk_mutatable_files

    adapter, _, mq = driver._helpers()
    mutants = Path("mutants")
    if not mutants.is_dir():
        return
    stats = mutants / "mutmut-stats.json"
    doc, problem = driver._read_json(stats, adapter.stats_problem)
    if problem not in (None, "missing"):
        stats.unlink()
        driver._note(NoteKind.DRIVER_REBUILT, record="stats", problem=problem)
    qfile = mutants / mq.QUARANTINE_FILE
    doc, problem = driver._read_json(
        qfile, lambda d: None if isinstance(d, dict) and isinstance(d.get("tests", []), list) else "not a record"
    )
    if problem not in (None, "missing"):
        qfile.unlink()
        stats.unlink(missing_ok=True)  # tests quarantined last run are judged again by a full stats run
        driver._note(NoteKind.DRIVER_REBUILT, record="quarantine", problem=problem)
    record, problem = driver._read_json(mutants / driver._helpers()[0].GENERATED_FILE)
    files: dict[str, Any] = {}
    if isinstance(record, dict) and record.get("generator") == generator_version():
        files = record["files"] if isinstance(record.get("files"), dict) else {}
    elif problem not in (None, "missing"):
        driver._note(NoteKind.DRIVER_REBUILT, record="generation", problem=problem)
    _PREVIOUS_SHAS.update({str(k): v.get("sha256") for k, v in files.items() if isinstance(v, dict)})
    for path in walk_mutatable_files():
        mutated, meta = mutants / path, mutants / f"{path}.meta"
        doc, problem = driver._read_json(meta, adapter.meta_problem)
        if problem not in (None, "missing"):
            meta.unlink()
            driver._note(NoteKind.DRIVER_REBUILT, record="meta", path=str(path), problem=problem)
        if not mutated.is_file():
            continue
        entry = files.get(str(path))
        reason = None
        if problem == "missing":
            reason = "its meta file was missing"
        elif problem is not None:
            reason = "its meta file was unreadable"
        elif not isinstance(entry, dict):
            reason = "not in the generation record"
        elif entry.get("sha256") != driver._sha256(mutated):
            reason = "the mutated file is not what generation wrote (an interrupted generation?)"
        elif sorted(doc["exit_code_by_key"]) != sorted(entry.get("mutants") or []):
            reason = "its meta file does not list the mutants generation produced"
        if reason is not None:
            mutated.unlink()
            (mutants / f"{path}.spans").unlink(missing_ok=True)
            if problem == "missing" or (files and problem is None and reason != "not in the generation record"):
                driver._note(NoteKind.DRIVER_REGENERATED, path=str(path), reason=reason)


def _record_generation() -> list[str]:
    """What generation left for each mutated file: its hash, its mutants and function hashes (from its meta
    file). The invariant of the run: each module's mutants at the end are exactly these. Returns the files whose
    mutated code changed since the last record."""
    from mutmut.utils.file_utils import walk_mutatable_files

    adapter = driver._helpers()[0]
    files: dict[str, dict[str, Any]] = {}
    for path in walk_mutatable_files():
        mutated, meta = Path("mutants") / path, Path("mutants") / f"{path}.meta"
        entry: dict[str, Any] = {"sha256": driver._sha256(mutated), "mutants": None, "hashes": {}}
        doc, problem = driver._read_json(meta, adapter.meta_problem)
        if problem is None:
            entry["mutants"] = sorted(doc["exit_code_by_key"])
            entry["hashes"] = dict(doc.get("hash_by_function_name") or {})
        else:
            entry["problem"] = f"meta file {problem} after generation"
        files[str(path)] = entry
    _GENERATED.clear()
    _GENERATED.update(files)
    record = {"generator": generator_version(), "files": files}
    driver._write_atomic(Path("mutants") / driver._helpers()[0].GENERATED_FILE, json.dumps(record))
    return [p for p, e in files.items() if _PREVIOUS_SHAS.get(p) != e["sha256"]]


def _restore_from_record(by_path: dict[str, Any]) -> bool:
    """A module whose meta file lost mutants since generation (a test deleting files in the work copy): its
    mutants come back from the generation record, unchecked, so they are tested in this run. True if any did."""
    restored = []
    for path, data in by_path.items():
        entry = _GENERATED.get(str(path))
        names = entry.get("mutants") if entry else None
        if not names or sorted(data.exit_code_by_key) == names:
            continue
        data.exit_code_by_key = {n: data.exit_code_by_key.get(n) for n in names}
        data.hash_by_function_name = dict(entry.get("hashes") or {}) if entry else {}
        driver._atomic_save(data)
        restored.append(str(path))
    if restored:
        driver._note(NoteKind.DRIVER_RESTORED, paths=[str(p) for p in restored[:3]])
    return bool(restored)


def _write_back_metas() -> None:
    """At the end: every module's meta file as mutmut holds it, where a test deleted it during the run."""
    for data in driver._DATA_BY_PATH.values():
        if not Path(data.meta_path).is_file():
            try:
                driver._atomic_save(data)
            except OSError as exc:
                driver._note(NoteKind.DRIVER_WRITE_BACK, path=str(data.meta_path), error=str(exc))
                continue
            driver._note(NoteKind.DRIVER_WRITE_BACK, path=str(data.meta_path), error="")
