"""The process that runs mutmut 3.8.1 in the harness's sandbox: ``mutmut run`` with the harness's changes.

Started by :mod:`harness.collectors.mutation` as ``python -c "...main()" SPEC`` with the sandbox as working
directory, it runs mutmut's own ``run`` (mutant generation, stats, clean run, forced-fail check, its scheduler
and its meta files, so ``mutmut results`` in the sandbox shows exactly the harness's verdicts) and changes:

* the test runner: with ``runner = "session"`` pytest collects the suite once in mutmut's main process and
  each forked mutant runs only its covering tests from that collected session, fastest first, stopping at the
  first failure (mutmut's own runner starts a whole pytest per mutant); ``runner = "pytest"`` keeps mutmut's;
* quarantine, per test: tests given by the earlier phases (flaky, broken, parallel-unsafe) or by config
  (``mutation.quarantine``) are deselected from every run; tests that fail on the instrumented copy with no
  mutant active (stats and clean runs run the whole suite instead of stopping at the first failure) are re-run
  alone and on the original code, get their cause (``harness.collectors.mutation_quarantine``) and leave the
  phase; so do tests that fail in a second clean pass (in a fork of the process every mutant is forked from:
  the state the clean run leaves). Every quarantined test's mutated functions are recorded, so the harness can
  say which mutants were left with no test because of it. ``auto_quarantine = false`` stops instead, naming
  each test and its cause;
* fixes instead of quarantine: a higher recursion limit for mutmut's trampoline frames, trampolines that
  give classes made through them their caller's module (picklable), mutmut's injected names hidden from
  module introspection (``mutmut_adapter.HIDE_INJECTED_NAMES`` appended to each generated file), and
  Hypothesis's memory of the instance a test ran on reset before each run;
* limits: each mutant's process gets an address-space cap and dies with its parent (``PR_SET_PDEATHSIG``); a
  test that runs longer than the spec's ``test_timeout`` with no mutant active fails, naming itself;
* persistence: each verdict is first appended to a journal (the harness reads it for progress), meta files are
  written atomically every few seconds instead of once per verdict, and the next run replays the journal, so
  a kill -9 loses no verdict; interrupted verdicts are re-checked on the next run;
* self-healing caches: a meta file, stats file or generated file that mutmut cannot read, or that differs
  from what the last generation wrote (``harness-generated.json``), is rebuilt before mutmut reads it, never
  read as "nothing to mutate"; a module's mutants that vanished during the run are restored from that record;
* scope: a shard (K/N) keeps only its deterministic slice of the mutants; survivors and no-test mutants whose
  covering tests changed since the last run are re-checked.

The quarantine lives in :mod:`harness.collectors.mutation_driver_quarantine`, the fixes and the caches' healing in
:mod:`harness.collectors.mutation_driver_cache`. It talks to the harness through files only (spec in,
status/journal/diffs/quarantine out). Not imported by the harness.
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
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from harness import selection as line_selection  # issue 14 hook: line-level test selection
from harness import test_budget  # issue 14 hook: per-test time budget, tests run per mutant
from harness.collectors import mutation_driver_cache as dc
from harness.collectors import mutation_driver_quarantine as dq

SPEC: dict[str, Any] = {}
SCOPE_KEEP: set[str] | None = None  # the mutants a sampled or diff-mode run tests (None: all)
PR_SET_PDEATHSIG = 1
IN_MUTANT = False
_NOTES: list[str] = []  # what the driver healed or changed on its own; the harness prints them
FIX_PLUGINS: list[Any] = []  # the driver's fixes that are pytest plugins (mutation_driver_cache.fix_plugins)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _status(**fields: Any) -> None:
    path = Path(SPEC["status"])
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        doc = {}
    doc.update(fields)
    _write_atomic(path, json.dumps(doc))


def _note(text: str) -> None:
    _NOTES.append(text)
    with contextlib.suppress(OSError):
        _status(notes=_NOTES)


def _journal(**fields: Any) -> None:
    with open(SPEC["journal"], "a", encoding="utf-8") as fh:
        fh.write(json.dumps(fields) + "\n")


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


def in_shard(mutant: str, index: int, count: int) -> bool:
    """Deterministic slice: a mutant belongs to shard ``index`` (1-based) of ``count`` by its name's hash."""
    digest = hashlib.sha256(mutant.encode()).digest()
    return int.from_bytes(digest[:8], "big") % count == index - 1


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


# --------------------------------------------------------------------------------------------------- pytest plugins


class TestTimeLimit(Exception):
    """Raised inside a test that ran longer than the spec's ``test_timeout`` with no mutant active."""

    __test__ = False


def _plugins() -> tuple[type, type]:
    """The harness's pytest plugins (pytest is imported only when a run needs it)."""
    import pytest

    class Outcome:
        """Did any test fail (with its traceback, in the no-mutant phases), did one run out of memory."""

        def __init__(self, keep_text: bool = False) -> None:
            self.failed: list[str] = []
            self.texts: dict[str, str] = {}
            self.memory = False
            self.keep_text = keep_text

        def pytest_runtest_logreport(self, report: Any) -> None:
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
            _mark_current(self.phase, item.nodeid)
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


def _mark_current(phase: str, nodeid: str) -> None:
    """The test running now, for the harness's stall message (a plain write: one per test, no rename)."""
    path = SPEC.get("current")
    if path:
        with contextlib.suppress(OSError), open(path, "w", encoding="utf-8") as fh:
            fh.write(json.dumps({"phase": phase, "test": nodeid, "since": time.time()}))


_PLAN: list[Any] = []  # mutmut's list of (meta data, mutant, verdict) for this run, as the scope left it
_DATA_BY_PATH: dict[str, Any] = {}  # every module's meta data mutmut loaded: written back at the end


# --------------------------------------------------------------------------------------------------- the runner


def _make_runner(base: type) -> type:
    from mutmut.utils.file_utils import change_cwd

    outcome_cls, watch_cls = _plugins()

    class HarnessRunner(base):  # type: ignore[misc]
        """mutmut's PytestRunner with a reusable collected session, quarantine and per-mutant limits."""

        def __init__(self) -> None:
            super().__init__()
            self._session: Any = None
            self._items: dict[str, Any] = {}
            self._outcome = outcome_cls()
            self._session_failed = SPEC.get("runner") != "session"
            self._whole_suite = False  # stats and clean runs: every test, not stopping at the first failure
            self._phase = ""

        def _pytest_args_regular_run(self, tests: Iterable[str]) -> list[str]:
            args = list(super()._pytest_args_regular_run(tests))
            if self._whole_suite:
                args = [a for a in args if a != "-x"] + ["--continue-on-collection-errors"]
            return args

        def _run_plugins(self, outcome: Any) -> list[Any]:
            plugins: list[Any] = [outcome, dq.QUARANTINE, *FIX_PLUGINS]
            if self._whole_suite:
                plugins.append(watch_cls(self._phase, float(SPEC.get("test_timeout") or 0)))
            return plugins

        def execute_pytest(self, params: list[str], **kwargs: Any) -> int:
            self._outcome = outcome_cls(keep_text=self._whole_suite)
            kwargs["plugins"] = [*kwargs.get("plugins", []), *self._run_plugins(self._outcome)]
            return int(super().execute_pytest(params, **kwargs))

        def list_all_tests(self) -> Any:
            _mark_current("collect", "")
            return super().list_all_tests()

        def run_stats(self, *, tests: Iterable[str]) -> int:
            _status(phase="stats")
            self._whole_suite, self._phase = True, "stats"
            try:
                code = int(super().run_stats(tests=tests))
            finally:
                self._whole_suite = False
            if code not in (0, 5) and self._outcome.failed and dq._quarantine_failures(self._outcome, "stats"):
                return 0
            return code

        # -- the collected session ---------------------------------------------------------------------
        def _ensure_session(self) -> bool:
            if self._session is not None or self._session_failed:
                return self._session is not None
            from _pytest.config import _prepareconfig
            from _pytest.main import Session

            params = [
                "--rootdir=.",
                "--tb=native",
                "--capture=no",
                *self._pytest_args_regular_run([]),
                *self._pytest_add_cli_args,
            ]
            with change_cwd("mutants"):
                outcome = outcome_cls()
                config = _prepareconfig(params, plugins=[outcome, dq.QUARANTINE, *FIX_PLUGINS])
                config._do_configure()
                session = Session.from_config(config)
                config.hook.pytest_sessionstart(session=session)
                config.hook.pytest_collection(session=session)
            if outcome.failed or not session.items:
                _status(session_fallback=f"collection: {outcome.failed[:3]}")
                self._session_failed = True
                return False
            self._session = session
            self._items = {item.nodeid: item for item in session.items}
            self._outcome = outcome_cls()
            config.pluginmanager.register(self._outcome, "harness-outcome")
            self._watch = watch_cls("clean", float(SPEC.get("test_timeout") or 0))
            return True

        def _run_items(self, items: list[Any], *, whole: bool = False) -> int:
            """Run collected items; stop at the first failure unless ``whole`` (then every failure is kept)."""
            outcome = self._outcome
            outcome.failed.clear()
            outcome.texts.clear()
            outcome.keep_text = whole
            manager = self._session.config.pluginmanager
            if whole:
                manager.register(self._watch, "harness-watch")
            try:
                for i, item in enumerate(items):
                    nextitem = items[i + 1] if i + 1 < len(items) else None
                    item.ihook.pytest_runtest_protocol(item=item, nextitem=nextitem)
                    if outcome.failed and not whole:
                        return 1
                return 1 if outcome.failed else 0
            finally:
                if whole:
                    manager.unregister(self._watch)
                if outcome.failed:
                    with contextlib.suppress(Exception):
                        self._session._setupstate.teardown_exact(None)

        def _session_items(self, tests: Iterable[str]) -> list[Any] | None:
            wanted = list(tests)
            if not wanted:
                return [i for i in self._session.items if dq.QUARANTINE.entry(i.nodeid) is None]
            items = [self._items.get(t) for t in wanted]
            return None if any(i is None for i in items) else items

        # -- mutmut's entry points -------------------------------------------------------------------------
        def run_tests(self, *, mutant_name: str | None, tests: Iterable[str]) -> int:
            tests = list(tests)
            if mutant_name is not None:
                return self._run_mutant(mutant_name, tests)
            if self._phase == "forced_fail":
                return int(super().run_tests(mutant_name=None, tests=tests))
            _status(phase="clean")  # the clean run, in mutmut's main process
            self._phase = "clean"
            code: int | None = None
            if self._ensure_session():
                items = self._session_items(tests)
                if items is not None:
                    with change_cwd("mutants"):
                        code = self._run_items(items, whole=True)
            if code is None:
                code = self._whole_run(tests)
            if code and self._outcome.failed:
                if not dq._quarantine_failures(self._outcome, "clean"):
                    return code
                code = 0
            if code == 0 and dq._tests_left():
                _status(phase="clean-again")
                failures = dq.in_fork(lambda: self._again(tests))
                if "<second pass>" in failures:
                    _status(failed_tests=list(failures.values()))
                    return 1
                if failures and not dq._quarantine(dq.leaking_tests(failures)):
                    return 1
            return code

        def _whole_run(self, tests: list[str]) -> int:
            """mutmut's own pytest run of ``tests`` (all when empty), not stopping at the first failure."""
            self._whole_suite = True
            try:
                return int(super().run_tests(mutant_name=None, tests=tests))
            finally:
                self._whole_suite = False

        def _again(self, tests: list[str]) -> dict[str, str]:
            """The clean run's second pass, in a fork of the process every mutant is forked from: the tests
            that fail now fail in every mutant's process too, whatever the mutant (test -> failure)."""
            self._phase = "clean-again"
            items = self._session_items([]) if self._session is not None else None
            if items is not None:
                with change_cwd("mutants"):
                    self._run_items(items, whole=True)
            else:
                self._whole_run([t for t in tests if dq.QUARANTINE.entry(t) is None])
            return {n: self._outcome.texts.get(n, "") for n in dict.fromkeys(self._outcome.failed)}

        def _run_mutant(self, mutant_name: str, tests: list[str]) -> int:
            """In the forked child of one mutant: limits, then its tests; never returns into mutmut's loop."""
            global IN_MUTANT
            IN_MUTANT = True  # a forked mutant: never touch the status file the scheduler writes
            try:
                die_with_parent()
                problem = limit_memory(int(SPEC.get("memory_limit_mb", 0)))
                if problem:
                    with open(SPEC["limits"], "a", encoding="utf-8") as fh:
                        fh.write(json.dumps({"mutant": mutant_name, "warning": problem}) + "\n")
                from mutmut.state import state

                durations = state().duration_by_test  # fastest first, as mutmut's fork runner does
                tests = sorted(tests, key=lambda t: durations.get(t, 0.0))
                items = self._session_items(tests) if self._session is not None else None
                if items is not None:
                    os.chdir("mutants")
                    spent = test_budget.start(self._session.config, mutant_name, durations, SPEC)  # issue 14 hook
                    code = self._run_items(items)
                    spent.done(code)  # issue 14 hook
                else:
                    code = int(super().run_tests(mutant_name=mutant_name, tests=tests))
                if self._outcome.memory:
                    with open(SPEC["limits"], "a", encoding="utf-8") as fh:
                        fh.write(json.dumps({"mutant": mutant_name, "limit": "memory"}) + "\n")
                return code
            except KeyboardInterrupt:
                os._exit(2)
            except BaseException as exc:  # the harness's runner broke: say so, never claim a kill
                try:
                    with open(SPEC["limits"], "a", encoding="utf-8") as fh:
                        fh.write(json.dumps({"mutant": mutant_name, "error": repr(exc)[:300]}) + "\n")
                finally:
                    os._exit(35)

        def run_forced_fail(self) -> int:
            _status(phase="forced_fail")
            if not dq._tests_left():  # every test that covers mutated code was quarantined: nothing to check
                return 1
            self._phase = "forced_fail"
            if self._ensure_session():
                with change_cwd("mutants"):
                    return self._run_items(self._session_items([]) or [])
            return int(super().run_forced_fail())

    return HarnessRunner


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
    try:
        lines = journal.read_text(encoding="utf-8").splitlines()
    except OSError:
        return
    verdicts: dict[str, tuple[int, float]] = {}
    for line in lines:
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue  # the line a kill cut short
        if event.get("event") == "result":
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


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _wrap(module: Any, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    setattr(module, name, make(getattr(module, name)))


def _helpers() -> tuple[Any, Any, Any]:
    """The harness modules the driver uses (the mutmut adapter, sampling, quarantine), bound once before the
    target's packages are evicted from ``sys.modules`` so that later uses never import a mutated copy of them."""
    if not _HELPERS:
        import harness.collectors.mutation_quarantine as quarantine
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


def _reset_for_recheck(mm: Any) -> None:
    """Re-check interrupted verdicts, and survivors / no-test mutants whose covering tests changed."""
    from mutmut.state import state

    adapter = _helpers()[0]
    RECHECK_EXIT_CODES, stats_key = adapter.RECHECK_EXIT_CODES, adapter.stats_key

    changed = set(SPEC.get("changed_tests") or ())
    tests_by_function = state().tests_by_mangled_function_name

    def should_reset(key: str, code: int) -> bool:
        if code in RECHECK_EXIT_CODES:
            return True
        if code not in (0, 5, 33):
            return False
        tests = tests_by_function.get(stats_key(key), set())
        if code in (5, 33) and tests:
            return True  # it has tests now
        return any(t.split("::")[0] in changed for t in tests)

    count = mm._reset_mutant_results(should_reset)
    _flush()  # mutmut reloads the meta files next: a deferred save would hand it the stale verdicts
    _status(rechecked=count)


def _in_scope(mutants: list[Any]) -> list[Any]:
    """Sampling and diff mode (``harness.sampling.Scope``): keep the mutants the scope selects, before
    sharding, so every shard splits the same selection. Remembers the selection for the diffs."""
    global SCOPE_KEEP
    spec = SPEC.get("scope")
    if not spec:
        return mutants
    adapter, sampling, _ = _helpers()
    SCOPE_KEEP = sampling.Scope.from_spec(spec).select((m[1] for m in mutants), adapter.location)
    return [m for m in mutants if m[1] in SCOPE_KEEP]


def _diffs(todo: list[tuple[str, str]]) -> list[str]:
    """mutmut's diff of each (mutant, path), as ``get_diff_for_mutant`` makes it, but reading each mutated file
    and parsing each original function once, not once per mutant; runs in the diff pool's workers."""
    from difflib import unified_diff

    import libcst as cst
    from mutmut.mutation.data import MutantLineSpans
    from mutmut.mutation.diff_apply import generated_function_names, get_diff_for_mutant, parse_generated_function
    from mutmut.utils.format_utils import orig_function_and_class_names_from_key

    files: dict[str, tuple[Any, list[str]]] = {}
    originals: dict[tuple[str, str], str] = {}

    def code(path: str, generated: str, name: str, is_method: bool) -> str:
        spans, lines = files[path]
        span = spans.span_by_function_name[generated]
        function = parse_generated_function(
            "".join(lines[span.start - 1 : span.end]), name=generated, is_method=is_method
        )
        if function is None:
            raise KeyError(generated)
        return str(cst.Module([function.with_changes(name=cst.Name(name))]).code.strip())

    out = []
    for key, path in todo:
        try:
            if path not in files:
                spans = MutantLineSpans.load(path)
                if spans is None:
                    raise KeyError(path)
                files[path] = (spans, Path("mutants", path).read_text(encoding="utf-8").splitlines(keepends=True))
            orig_name, mutant_name = generated_function_names(key)
            name, class_name = orig_function_and_class_names_from_key(key)
            if (path, orig_name) not in originals:
                originals[path, orig_name] = code(path, orig_name, name, class_name is not None)
            before = originals[path, orig_name].split("\n")
            after = code(path, mutant_name, name, class_name is not None).split("\n")
            out.append("\n".join(unified_diff(before, after, fromfile=path, tofile=path, lineterm="")))
        except Exception:
            try:  # mutmut's own way (it parses the whole mutated file when its line index is unusable)
                out.append(get_diff_for_mutant(key, path=path))
            except Exception as exc:
                out.append(f"# diff unavailable: {exc}")
    return out


def _write_diffs(mm: Any) -> None:
    """Every in-scope mutant's diff, cached by its function's hash (mutmut recomputes them each time), the
    missing ones computed on every core (a libcst parse each: ~7 ms, seconds for a module's mutants)."""
    from multiprocessing import get_context

    restore_target_modules()

    from mutmut.mutation.data import SourceFileMutationData

    mangled_function = _helpers()[0].mangled_function

    cache_path = Path("mutants") / "harness-diffs.json"
    try:
        cache = json.loads(cache_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        cache = {}
    out: dict[str, list[str]] = {}
    todo: list[tuple[str, str, str]] = []
    shard = SPEC.get("shard")
    for path in mm.walk_mutatable_files():
        data = SourceFileMutationData(path=path)
        data.load()
        for key in data.exit_code_by_key:
            if shard and not in_shard(key, shard[0], shard[1]):
                continue
            if SCOPE_KEEP is not None and key not in SCOPE_KEEP:
                continue
            fhash = data.hash_by_function_name.get(mangled_function(key), "")
            cached = cache.get(key)
            if cached and cached[0] == fhash:
                out[key] = cached
            else:
                todo.append((key, str(path), fhash))
    chunks = [[(k, p) for k, p, _h in todo[i : i + 40]] for i in range(0, len(todo), 40)]
    if len(chunks) > 1:
        with get_context("fork").Pool(os.cpu_count() or 1) as pool:
            texts = [d for chunk in pool.map(_diffs, chunks) for d in chunk]
    else:
        texts = [d for chunk in chunks for d in _diffs(chunk)]
    for (key, _path, fhash), text in zip(todo, texts, strict=True):
        out[key] = [fhash, text]
    _write_atomic(cache_path, json.dumps(out))


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


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    SPEC.update(json.loads(Path(args[0]).read_text(encoding="utf-8")))
    SPEC["_file"] = str(Path(args[0]).resolve())
    _helpers()
    evict_target_modules(SPEC.get("target_packages") or ())
    _MAIN_PID[0] = os.getpid()
    die_with_parent()
    _status(phase="generate", started=time.time())

    import mutmut.__main__ as mm
    from mutmut.mutation import data as mdata
    from mutmut.workers import isolation

    mdata.SourceFileMutationData.save = _deferred_save  # type: ignore[method-assign]
    from mutmut.runners.harness import PytestRunner

    setattr(isolation, "PytestRunner", _make_runner(PytestRunner))  # noqa: B010
    dc.apply_fixes()
    FIX_PLUGINS[:] = dc.fix_plugins()
    if SPEC.get("changed_tests"):
        Path("mutants", "mutmut-stats.json").unlink(missing_ok=True)  # covering tests changed: full stats
    dc._heal_caches()
    before = dq._load_quarantine(stats_kept=Path("mutants", "mutmut-stats.json").is_file())
    hide = "introspection" in dc.active_fixes()
    hide_names = _helpers()[0].HIDE_INJECTED_NAMES

    def wrap_write(orig: Callable[..., Any]) -> Callable[..., Any]:
        def write_all_mutants_to_file(*, out: Any, source: str, filename: Any) -> Any:
            mutated = orig(out=out, source=source, filename=filename)
            if hide:  # every generated file imports mutmut's trampoline, with mutants or not
                out.write(hide_names)
            return mutated

        return write_all_mutants_to_file

    def wrap_create(orig: Callable[..., Any]) -> Callable[..., Any]:
        def create_mutants(*a: Any, **k: Any) -> Any:
            result = orig(*a, **k)
            changed = dc._record_generation()
            if changed:
                dq.forget_found(changed)
            return result

        return create_mutants

    def wrap_stats(orig: Callable[..., Any]) -> Callable[..., Any]:
        def collect_or_load_stats(*a: Any, **k: Any) -> Any:
            _status(phase="stats")
            result = orig(*a, **k)
            dq._settle_quarantine(before)
            _reset_for_recheck(mm)
            return result

        return collect_or_load_stats

    def wrap_scope(orig: Callable[..., Any]) -> Callable[..., Any]:
        def collect_source_file_mutation_data(*a: Any, **k: Any) -> Any:
            mutants, by_path = orig(*a, **k)
            if dc._restore_from_record(by_path):
                mutants = [(m, key, code) for m in by_path.values() for key, code in m.exit_code_by_key.items()]
            _DATA_BY_PATH.update(by_path)
            mutants = _in_scope(mutants)
            shard = SPEC.get("shard")
            if shard:
                mutants = [m for m in mutants if in_shard(m[1], shard[0], shard[1])]
            _PLAN[:] = mutants
            _journal(event="plan", total=len(mutants), todo=sum(1 for m in mutants if m[2] is None))
            _status(phase="associations", scope=len(mutants))
            return _PLAN, by_path

        return collect_source_file_mutation_data

    def wrap_register(orig: Callable[..., Any]) -> Callable[..., Any]:
        def register(result: Any, *a: Any) -> Any:
            line_selection.registered(result.mutant_name, result.exit_code, result.duration)  # issue 14 hook
            _journal(
                event="result",
                mutant=result.mutant_name,
                exit_code=result.exit_code,
                duration=result.duration,
            )
            return orig(result, *a)

        return register

    def wrap_forced(orig: Callable[..., Any]) -> Callable[..., Any]:
        def run_forced_fail_test(runner: Any) -> None:
            _status(phase="forced_fail")
            orig(runner)
            _status(
                phase="mutants", mutants_started=time.time(), cpu_at_start=_children_cpu(), own_cpu_at_start=_own_cpu()
            )
            _mark_current("mutants", "")

        return run_forced_fail_test

    def wrap_submit(orig: Callable[..., Any]) -> Callable[..., Any]:
        def submit(self: Any, mutant_name: str, tests: list[str], *a: Any) -> Any:
            picked = line_selection.submit_args(SPEC, mutant_name, tests, a, _journal, self)  # issue 14 hook
            if picked is None:  # issue 14 hook: the verdict cache held the verdict
                return None
            tests, a = picked  # issue 14 hook
            if tests:  # the harness names the mutants in flight when a run stops making progress
                _journal(event="start", mutant=mutant_name, at=time.time())
            return orig(self, mutant_name, tests, *a)

        return submit

    def wrap_print_stats(orig: Callable[..., Any]) -> Callable[..., Any]:
        def print_stats(data: Any, force_output: bool = False) -> None:
            if force_output:  # mutmut recounts every verdict of every file per mutant just to draw a spinner
                orig(data, force_output=True)

        return print_stats

    _wrap(mm, "write_all_mutants_to_file", wrap_write)
    _wrap(mm, "create_mutants", wrap_create)
    _wrap(mm, "collect_or_load_stats", wrap_stats)
    _wrap(mm, "collect_source_file_mutation_data", wrap_scope)
    _wrap(mm, "_register_mutant_result", wrap_register)
    _wrap(mm, "run_forced_fail_test", wrap_forced)
    _wrap(mm, "print_stats", wrap_print_stats)
    _wrap(isolation.ForkRunner, "submit", wrap_submit)

    _replay_journal()
    code = 0
    try:
        mm._run([], int(SPEC.get("max_children") or os.cpu_count() or 1))
        _status(finished=True)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
        _status(failed=True, exit=code)
    except KeyboardInterrupt:
        code = 130
        _status(interrupted=True)
    finally:
        _flush()
        line_selection.finish()  # issue 14 hook: the verdict cache is written
        dc._write_back_metas()
        sys.stdout = sys.__stdout__
        sys.stderr = sys.__stderr__
    begun = json.loads(Path(SPEC["status"]).read_text(encoding="utf-8"))
    _status(  # CPU seconds of the mutant phase: the mutants', and mutmut's scheduler's (forks, bookkeeping)
        children_cpu=_children_cpu() - float(begun.get("cpu_at_start", 0.0)),
        scheduler_cpu=_own_cpu() - float(begun.get("own_cpu_at_start", 0.0)),
        ended=time.time(),
    )
    if code == 0 or begun.get("all_quarantined"):
        _write_diffs(mm)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
