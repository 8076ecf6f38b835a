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
  phase; every quarantined test's mutated functions are recorded, so the harness can say which mutants were
  left with no test because of it. ``auto_quarantine = false`` stops instead, naming each test and its cause;
* fixes instead of quarantine: a higher recursion limit for mutmut's trampoline frames, trampolines that
  give classes made through them their caller's module (picklable), and mutmut's injected names hidden from
  module introspection (``mutmut_adapter.HIDE_INJECTED_NAMES`` appended to each generated file);
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

It talks to the harness through files only (spec in, status/journal/diffs/quarantine out). Not imported by the
harness.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import hashlib
import inspect
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
import types
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

SPEC: dict[str, Any] = {}
SCOPE_KEEP: set[str] | None = None  # the mutants a sampled or diff-mode run tests (None: all)
PR_SET_PDEATHSIG = 1
IN_MUTANT = False
GENERATED_FILE = "harness-generated.json"
RECURSION_FACTOR = 3  # a call through mutmut's trampoline takes three frames (wrapper, trampoline, function)
MAX_PROBED = 100  # failing tests re-run alone and on the original code; beyond, causes come from tracebacks
PROBE_FAILURE = "HARNESS-FAILURE"  # precedes each failure a probe prints
_NOTES: list[str] = []  # what the driver healed or changed on its own; the harness prints them


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


# --------------------------------------------------------------------------------------------------- fixes


def apply_fixes() -> None:
    """The fixes that let tests run on mutmut's instrumented copy as on the original (spec ``fixes``)."""
    fixes = set(SPEC.get("fixes", ("recursion", "pickling", "introspection")))
    if "recursion" in fixes:
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, RECURSION_FACTOR * limit + 200))
    if "pickling" in fixes:
        import mutmut.mutation.trampoline as trampoline

        if not getattr(trampoline.wrap_in_trampoline, "_harness", False):
            trampoline.wrap_in_trampoline = caller_module_trampolines(trampoline.wrap_in_trampoline)


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
    adapter = _helpers()[0]
    hide = "introspection" in set(SPEC.get("fixes", ("introspection",)))
    return f"{adapter.GENERATOR_VERSION}:{'hide' if hide else 'plain'}"


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


# --------------------------------------------------------------------------------------------------- quarantine


class Quarantine:
    """The tests left out of the mutation phase, and a pytest plugin that deselects them from every run.

    ``given``: from the earlier phases (spec ``quarantine``); ``patterns``: config ``mutation.quarantine``
    (their matches are recorded as ``manual``); ``found``: failing on the instrumented copy with no mutant
    active (this run, or kept from the last while mutmut's stats are kept). ``functions``: the mutated
    functions each quarantined test executed (in mutmut's stats run, and on the original code:
    ``cover_quarantined``).
    """

    def __init__(self) -> None:
        self.given: dict[str, dict[str, Any]] = {}
        self.patterns: list[str] = []
        self.manual: dict[str, dict[str, Any]] = {}
        self.found: dict[str, dict[str, Any]] = {}
        self.functions: dict[str, set[str]] = {}
        self.covered: set[str] = set()  # tests whose coverage on the original code is in ``functions``

    def entry(self, nodeid: str) -> dict[str, Any] | None:
        for table in (self.found, self.given, self.manual):
            if nodeid in table:
                return table[nodeid]
        mq = _helpers()[2]
        for table in (self.found, self.given):
            key = next((k for k in table if mq.matches(nodeid, k)), None)
            if key is not None:
                return table[key]
        pattern = mq.first_match(nodeid, self.patterns)
        if pattern is None:
            return None
        entry = {
            "nodeid": nodeid,
            "cause": "manual",
            "detail": f"config key 'mutation.quarantine': {pattern}",
            "reproduce": "",
        }
        self.manual[nodeid] = entry
        return entry

    def entries(self) -> list[dict[str, Any]]:
        out = {**self.manual, **self.given, **self.found}
        return [
            {**e, "functions": sorted(self.functions.get(n, ())), "covered": n in self.covered}
            for n, e in sorted(out.items())
        ]

    def ids(self) -> set[str]:
        return set(self.manual) | set(self.given) | set(self.found)

    # -- pytest hooks --------------------------------------------------------------------------------------
    def pytest_ignore_collect(self, collection_path: Any, config: Any) -> bool | None:
        if not Path(collection_path).is_file():
            return None
        rel = Path(os.path.relpath(collection_path, config.rootpath)).as_posix()
        return True if rel in self.found or rel in self.given else None

    def pytest_collection_modifyitems(self, session: Any, config: Any, items: list[Any]) -> None:
        keep: list[Any] = []
        drop: list[Any] = []
        for item in items:
            (drop if self.entry(item.nodeid) is not None else keep).append(item)
        if drop:
            items[:] = keep
            config.hook.pytest_deselected(items=drop)


QUARANTINE = Quarantine()


def _remove_from_stats(ids: Iterable[str]) -> None:
    """Take quarantined tests out of mutmut's test mapping (after noting the functions they executed)."""
    from mutmut.state import state

    gone = set(ids)
    if not gone:
        return
    mapping = state().tests_by_mangled_function_name
    for function, tests in mapping.items():
        for t in tests & gone:
            QUARANTINE.functions.setdefault(t, set()).add(function)
        tests -= gone
    for t in gone:
        state().duration_by_test.pop(t, None)


def _tests_left() -> int:
    from mutmut.state import state

    return sum(len(t) for t in state().tests_by_mangled_function_name.values())


def _probe_command(where: str, nodeid: str) -> list[str]:
    code = "from harness.collectors.mutation_driver import probe; raise SystemExit(probe())"
    return [sys.executable, "-c", code, SPEC["_file"], where, nodeid]


def _run_probe(where: str, nodeid: str) -> tuple[int | None, str]:
    """Run one test alone in a fresh process (on mutmut's copy or the original): (exit code or None when it
    did not finish in time, its output)."""
    limit = float(SPEC.get("test_timeout") or 600) + 60
    env = dict(os.environ)
    env.pop("MUTANT_UNDER_TEST", None)  # mutmut's main process sets it ("stats"); the probe decides
    try:
        proc = subprocess.run(
            _probe_command(where, nodeid),
            capture_output=True,
            text=True,
            timeout=limit,
            check=False,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout if isinstance(exc.stdout, str) else ""
        return None, out + f"\nharness: did not finish within {limit:g} s alone"
    output = proc.stdout + proc.stderr
    _, marker, failure = output.partition(PROBE_FAILURE)  # the test's own failure, not pytest's summary
    return proc.returncode, failure if marker else output


def classify(failures: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Quarantine entries (cause, evidence, a command that shows it) for tests that failed on mutmut's
    instrumented copy with no mutant active. Each is re-run alone (passes: state leak) and, failing alone, on the
    original code (fails: broken); otherwise its traceback tells the cause."""
    mq = _helpers()[2]
    mutants_dir = str(Path("mutants").resolve())
    root = str(SPEC.get("root") or Path.cwd())
    tests = [str(t) for t in SPEC.get("tests") or ()]

    def one(item: tuple[str, str]) -> dict[str, Any]:
        nodeid, text = item
        entry: dict[str, Any] = {"nodeid": nodeid}
        code, alone = _run_probe("mutants", nodeid)
        if code in (0, 5):
            entry.update(
                cause="state-leak",
                detail=f"passes alone, fails after other tests in one process: {mq.evidence(text)}",
                reproduce=mq.reproduce_instrumented(mutants_dir, nodeid, after=tests),
            )
            return entry
        original, _out = _run_probe("original", nodeid) if code is not None else (1, "")
        if original not in (0, 5):
            entry.update(
                cause="broken",
                detail=f"fails on the original code too: {mq.evidence(alone or text)}",
                reproduce=mq.reproduce_original(root, nodeid),
            )
            return entry
        cause_, line = mq.cause_from_traceback(alone if code is not None and alone.strip() else text)
        if code is None:
            line = f"hung: {line}"
        entry.update(cause=cause_.value, detail=line, reproduce=mq.reproduce_instrumented(mutants_dir, nodeid))
        return entry

    items = sorted(failures.items())
    probed, rest = items[:MAX_PROBED], items[MAX_PROBED:]
    workers = max(1, min(len(probed), int(SPEC.get("max_children") or os.cpu_count() or 1)))
    with ThreadPoolExecutor(workers) as pool:
        entries = list(pool.map(one, probed))
    for nodeid, text in rest:
        cause, line = mq.cause_from_traceback(text)
        entries.append(
            {
                "nodeid": nodeid,
                "cause": cause.value,
                "detail": f"{line} (not re-run alone: over {MAX_PROBED} tests failed)",
                "reproduce": mq.reproduce_instrumented(mutants_dir, nodeid),
            }
        )
    return {e["nodeid"]: e for e in entries}


def probe(argv: list[str] | None = None) -> int:
    """Entry point of the driver's helper runs, in a fresh process (the driver's own state never leaks in):

    - ``probe SPEC mutants NODEID``: the test alone on mutmut's instrumented copy, no mutant active, the driver's
      fixes applied; prints the failure, returns pytest's exit code;
    - ``probe SPEC original NODEID``: the same on the original code;
    - ``probe SPEC cover NODEID...``: the tests on the original code under coverage.py, one context per test;
      prints ``HARNESS-COVER {test: [mutmut function keys it executed]}`` - what each quarantined test covers
      when it runs as written (on the instrumented copy it may fail before it gets there).
    """
    args = sys.argv[1:] if argv is None else argv
    spec_file, where, *nodeids = args
    SPEC.update(json.loads(Path(spec_file).read_text(encoding="utf-8")))
    SPEC["_file"] = spec_file
    SPEC.pop("current", None)
    evict_target_modules(SPEC.get("target_packages") or ())
    base = Path("mutants").resolve() if where == "mutants" else Path.cwd().resolve()
    roots = [str(base / r) if r else str(base) for r in SPEC.get("import_roots") or [""]]
    sys.path[:0] = roots
    os.chdir(base)
    if where == "mutants":
        os.environ["MUTANT_UNDER_TEST"] = ""
        apply_fixes()
    import pytest

    outcome_cls, watch_cls = _plugins()
    outcome = outcome_cls(keep_text=where != "cover")
    plugins: list[Any] = [outcome, watch_cls("probe", float(SPEC.get("test_timeout") or 0))]
    params = ["--rootdir=.", "--tb=short", "-q", "-p", "no:randomly", "-p", "no:random-order"]
    cov = _start_coverage(base, plugins) if where == "cover" else None
    code = int(pytest.main([*params, *SPEC.get("pytest_args", []), *nodeids], plugins=plugins))
    if cov is not None:
        cov.stop()
        sys.stdout.write("\nHARNESS-COVER " + json.dumps(_covered_functions(cov, base)) + "\n")
    for text in outcome.texts.values():
        sys.stdout.write(f"\n{PROBE_FAILURE}\n{text}\n")
    return code


def _start_coverage(base: Path, plugins: list[Any]) -> Any:
    """coverage.py over the mutated modules' sources, switching context at each test (the node id)."""
    import coverage
    import pytest

    include = [str(base / path) for path in SPEC.get("modules") or {}]
    cov = coverage.Coverage(data_file=None, include=include, config_file=False)

    class Contexts:
        @pytest.hookimpl(hookwrapper=True)
        def pytest_runtest_protocol(self, item: Any, nextitem: Any) -> Any:
            cov.switch_context(item.nodeid)
            yield
            cov.switch_context("")

    plugins.append(Contexts())
    cov.start()
    return cov


def _covered_functions(cov: Any, base: Path) -> dict[str, list[str]]:
    adapter = _helpers()[0]
    data = cov.get_data()
    out: dict[str, set[str]] = {}
    for path, module in (SPEC.get("modules") or {}).items():
        source = base / path
        try:
            spans = adapter.function_spans(module, source.read_text(encoding="utf-8"))
        except OSError:
            continue
        for line, contexts in (data.contexts_by_lineno(str(source)) or {}).items():
            keys = [key for start, end, key in spans if start <= line <= end]
            for context in contexts:
                if context and keys:
                    out.setdefault(context, set()).update(keys)
    return {t: sorted(keys) for t, keys in out.items()}


def cover_quarantined(ids: Iterable[str]) -> None:
    """What each of these quarantined tests executes on the original code (``probe cover``), added to the
    functions it is known to cover, so mutants left with no test because of it say so."""
    todo = sorted(set(ids) - QUARANTINE.covered)
    if not todo:
        return
    limit = float(SPEC.get("test_timeout") or 600) + 60
    env = dict(os.environ)
    env.pop("MUTANT_UNDER_TEST", None)
    command = [*_probe_command("cover", "")[:-1], *todo]
    try:
        proc = subprocess.run(
            command, capture_output=True, text=True, timeout=limit, check=False, stdin=subprocess.DEVNULL, env=env
        )
        output = proc.stdout
    except subprocess.TimeoutExpired as exc:
        output = exc.stdout if isinstance(exc.stdout, str) else ""
    line = next((ln for ln in output.splitlines() if ln.startswith("HARNESS-COVER ")), None)
    if line is None:
        _note(f"mutation: could not tell what {len(todo)} quarantined test(s) cover on the original code")
        return
    for test, functions in json.loads(line.removeprefix("HARNESS-COVER ")).items():
        if test in todo:
            QUARANTINE.functions.setdefault(test, set()).update(functions)
    QUARANTINE.covered.update(todo)


def _read_quarantine_file() -> dict[str, Any]:
    mq = _helpers()[2]
    try:
        doc = json.loads((Path("mutants") / mq.QUARANTINE_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _save_quarantine() -> None:
    mq = _helpers()[2]
    doc = {
        "format": 1,
        "tests": QUARANTINE.entries(),
        "found": sorted(QUARANTINE.found),
        "patterns": QUARANTINE.patterns,
    }
    _write_atomic(Path("mutants") / mq.QUARANTINE_FILE, json.dumps(doc))
    _status(quarantined=len(QUARANTINE.ids()))


def _load_quarantine(stats_kept: bool) -> set[str]:
    """Set up QUARANTINE from the spec and the last run's file; returns the tests the last run quarantined.

    Tests found failing last run stay quarantined while mutmut's stats are kept (they are not in them); with a
    full stats run they are judged again. The functions each quarantined test executed are kept unless its file
    changed."""
    previous = _read_quarantine_file()
    changed = {str(p) for p in SPEC.get("changed_tests") or ()}
    for e in SPEC.get("quarantine") or ():
        QUARANTINE.given[str(e["nodeid"])] = {k: e[k] for k in ("nodeid", "cause", "detail", "reproduce") if k in e}
    QUARANTINE.patterns = [str(p) for p in SPEC.get("manual_quarantine") or ()]
    before: set[str] = set()
    found_before = set(previous.get("found") or ())
    for e in previous.get("tests") or ():
        if not isinstance(e, dict) or "nodeid" not in e:
            continue
        nodeid = str(e["nodeid"])
        before.add(nodeid)
        if nodeid.split("::")[0] not in changed and e.get("covered"):
            QUARANTINE.functions[nodeid] = set(e.get("functions") or ())
            QUARANTINE.covered.add(nodeid)
        if stats_kept and nodeid in found_before and nodeid.split("::")[0] not in changed:
            QUARANTINE.found[nodeid] = {k: e[k] for k in ("nodeid", "cause", "detail", "reproduce") if k in e}
    return before


def _settle_quarantine(before: set[str]) -> None:
    """After mutmut's stats: take every quarantined test out of the mapping, find what each executes on the
    original code, and reset the verdicts that depended on a test entering or leaving the quarantine."""
    from mutmut.state import state

    now = QUARANTINE.ids()
    _remove_from_stats(now)
    if now - QUARANTINE.covered:
        _status(phase="quarantine-cover")
        cover_quarantined(now)
    entered = {f for t in now - before for f in QUARANTINE.functions.get(t, ())}
    released: set[str] = set()
    for e in _read_quarantine_file().get("tests") or ():
        if isinstance(e, dict) and e.get("nodeid") in before - now:
            released.update(e.get("functions") or ())
    if entered or released:
        from mutmut.__main__ import _reset_mutant_results

        stats_key = _helpers()[0].stats_key

        def reset(key: str, code: int) -> bool:
            function = stats_key(key)
            return function in entered or (function in released and code in (0, 5, 33))

        count = _reset_mutant_results(reset)
        _flush()
        if count:
            _note(f"mutation: {count} verdict(s) re-checked: the tests covering them entered or left the quarantine")
    if state().tests_by_mangled_function_name:
        from mutmut.stats import save_stats

        save_stats()
    _save_quarantine()


def _quarantine_failures(outcome: Any, phase: str) -> bool:
    """Tests failed with no mutant active: quarantine them (True) or, with auto quarantine off or nothing
    classifiable, report them and let mutmut stop (False)."""
    failures = {n: outcome.texts.get(n, "") for n in dict.fromkeys(outcome.failed)}
    if not failures or "<collection>" in failures:
        _status(failed_tests=list(failures)[:20])
        return False
    _status(phase=f"{phase}-classify", failing=len(failures))
    return _quarantine(classify(failures))


def _quarantine(entries: dict[str, dict[str, Any]]) -> bool:
    """Leave these tests out of the rest of the phase (True), or with auto quarantine off report them (False)."""
    if not SPEC.get("auto_quarantine", True):
        _status(failed_tests=list(entries)[:20], unjudging=list(entries.values())[:50])
        return False
    QUARANTINE.found.update(entries)
    _remove_from_stats(entries)
    cover_quarantined(entries)
    _reset_plan(entries)
    if not _tests_left():
        _status(all_quarantined=True)
    _save_quarantine()
    return True


def leaking_tests(failures: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Quarantine entries for tests that passed in the clean run but fail when the suite runs again in the same
    process: state left by the clean run, which every mutant's forked process inherits, makes them fail."""
    mq = _helpers()[2]
    mutants_dir = str(Path("mutants").resolve())
    tests = [str(t) for t in SPEC.get("tests") or ()]
    return {
        nodeid: {
            "nodeid": nodeid,
            "cause": "state-leak",
            "detail": f"passes in mutmut's clean run, fails when the suite runs again in that process (as every "
            f"mutant's tests do): {mq.evidence(text)}",
            "reproduce": mq.reproduce_instrumented(mutants_dir, nodeid, after=tests),
        }
        for nodeid, text in failures.items()
    }


def in_fork(run: Callable[[], dict[str, str]]) -> dict[str, str]:
    """``run()`` in a forked child (its side effects stay there); its result (test -> failure) comes back
    through a file. A child that dies without a result gives ``{"<second pass>": why}``."""
    out = Path(".harness-second-pass.json").resolve()
    out.unlink(missing_ok=True)
    pid = os.fork()
    if pid == 0:  # the child never returns
        try:
            die_with_parent()
            sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115
            _write_atomic(out, json.dumps(run()))
        finally:
            os._exit(0)
    _pid, status = os.waitpid(pid, 0)
    doc, problem = _read_json(out)
    out.unlink(missing_ok=True)
    if problem is not None or not isinstance(doc, dict):
        return {"<second pass>": f"the second pass died (wait status {status}): {problem}"}
    return {str(k): str(v) for k, v in doc.items()}


def _reset_plan(ids: Iterable[str]) -> None:
    """Verdicts kept from earlier runs of mutants these newly quarantined tests executed are checked again."""
    functions = {f for t in ids for f in QUARANTINE.functions.get(t, ())}
    if not functions or not _PLAN:
        return
    stats_key = _helpers()[0].stats_key
    for i, (data, key, result) in enumerate(_PLAN):
        if result is not None and stats_key(key) in functions:
            data.exit_code_by_key[key] = None
            _PLAN[i] = (data, key, None)


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
            plugins: list[Any] = [outcome, QUARANTINE]
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
            if code not in (0, 5) and self._outcome.failed and _quarantine_failures(self._outcome, "stats"):
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
                config = _prepareconfig(params, plugins=[outcome, QUARANTINE])
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
                return [i for i in self._session.items if QUARANTINE.entry(i.nodeid) is None]
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
                if not _quarantine_failures(self._outcome, "clean"):
                    return code
                code = 0
            if code == 0 and _tests_left():
                _status(phase="clean-again")
                failures = in_fork(lambda: self._again(tests))
                if "<second pass>" in failures:
                    _status(failed_tests=list(failures.values()))
                    return 1
                if failures and not _quarantine(leaking_tests(failures)):
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
                self._whole_run([t for t in tests if QUARANTINE.entry(t) is None])
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
                    code = self._run_items(items)
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
            if not _tests_left():  # every test that covers mutated code was quarantined: nothing to check
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


# --------------------------------------------------------------------------------------------------- caches

_GENERATED: dict[str, dict[str, Any]] = {}  # path -> what the generation of this run left (GENERATED_FILE)
_PREVIOUS_SHAS: dict[str, Any] = {}  # path -> the mutated file's hash the last generation recorded


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


def _heal_caches() -> None:
    """Before mutmut reads anything: rebuild what it cannot read, and regenerate every mutated file that is not
    what the last generation wrote (``GENERATED_FILE``: its hash, and its meta file listing its mutants).

    mutmut itself reads a missing meta file as "no mutants" for a file it thinks is up to date (a kill during
    generation, a deleted file), and stops with a traceback on an unreadable one; either way a module would be
    scored n/a, or never again. Deleting the mutated file makes mutmut generate it again; a readable meta file
    is kept, so the verdicts of unchanged functions survive."""
    from mutmut.utils.file_utils import walk_mutatable_files

    adapter, _, mq = _helpers()
    mutants = Path("mutants")
    if not mutants.is_dir():
        return
    stats = mutants / "mutmut-stats.json"
    doc, problem = _read_json(stats, adapter.stats_problem)
    if problem not in (None, "missing"):
        stats.unlink()
        _note(f"mutation: mutmut's stats file was {problem}; rebuilt (a full stats run)")
    qfile = mutants / mq.QUARANTINE_FILE
    doc, problem = _read_json(
        qfile, lambda d: None if isinstance(d, dict) and isinstance(d.get("tests", []), list) else "not a record"
    )
    if problem not in (None, "missing"):
        qfile.unlink()
        stats.unlink(missing_ok=True)  # tests quarantined last run are judged again by a full stats run
        _note(f"mutation: the quarantine record was {problem}; rebuilt (a full stats run)")
    record, problem = _read_json(mutants / GENERATED_FILE)
    files: dict[str, Any] = {}
    if isinstance(record, dict) and record.get("generator") == generator_version():
        files = record["files"] if isinstance(record.get("files"), dict) else {}
    elif problem not in (None, "missing"):
        _note(f"mutation: the generation record was {problem}; every mutated file is generated again")
    _PREVIOUS_SHAS.update({str(k): v.get("sha256") for k, v in files.items() if isinstance(v, dict)})
    for path in walk_mutatable_files():
        mutated, meta = mutants / path, mutants / f"{path}.meta"
        doc, problem = _read_json(meta, adapter.meta_problem)
        if problem not in (None, "missing"):
            meta.unlink()
            _note(f"mutation: mutmut's meta file of {path} was {problem}; rebuilt and its mutants tested again")
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
        elif entry.get("sha256") != _sha256(mutated):
            reason = "the mutated file is not what generation wrote (an interrupted generation?)"
        elif sorted(doc["exit_code_by_key"]) != sorted(entry.get("mutants") or []):
            reason = "its meta file does not list the mutants generation produced"
        if reason is not None:
            mutated.unlink()
            (mutants / f"{path}.spans").unlink(missing_ok=True)
            if problem == "missing" or (files and problem is None and reason != "not in the generation record"):
                _note(f"mutation: regenerated the mutants of {path}: {reason}")


def _record_generation() -> None:
    """What generation left for each mutated file: its hash, its mutants and function hashes (from its meta
    file). The invariant of the run: each module's mutants at the end are exactly these."""
    from mutmut.utils.file_utils import walk_mutatable_files

    adapter = _helpers()[0]
    files: dict[str, dict[str, Any]] = {}
    for path in walk_mutatable_files():
        mutated, meta = Path("mutants") / path, Path("mutants") / f"{path}.meta"
        entry: dict[str, Any] = {"sha256": _sha256(mutated), "mutants": None, "hashes": {}}
        doc, problem = _read_json(meta, adapter.meta_problem)
        if problem is None:
            entry["mutants"] = sorted(doc["exit_code_by_key"])
            entry["hashes"] = dict(doc.get("hash_by_function_name") or {})
        else:
            entry["problem"] = f"meta file {problem} after generation"
        files[str(path)] = entry
    _GENERATED.clear()
    _GENERATED.update(files)
    _write_atomic(
        Path("mutants") / GENERATED_FILE, json.dumps({"generator": generator_version(), "files": files})
    )
    changed = [p for p, e in files.items() if _PREVIOUS_SHAS.get(p) != e["sha256"]]
    if changed and QUARANTINE.found:  # the instrumented code changed: the tests it failed are judged again
        _note(
            f"mutation: {len(QUARANTINE.found)} test(s) quarantined last run are judged again: the mutated code "
            f"changed ({', '.join(changed[:3])})"
        )
        QUARANTINE.found.clear()


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
        _atomic_save(data)
        restored.append(str(path))
    if restored:
        _note(
            f"mutation: the meta file of {', '.join(restored[:3])} lost its mutants during the run (a test deleting "
            f"files in the work copy?); restored from the generation record and tested"
        )
    return bool(restored)


def _write_back_metas() -> None:
    """At the end: every module's meta file as mutmut holds it, where a test deleted it during the run."""
    for data in _DATA_BY_PATH.values():
        if not Path(data.meta_path).is_file():
            try:
                _atomic_save(data)
            except OSError as exc:
                _note(f"mutation: could not write back {data.meta_path}: {exc}")
                continue
            _note(f"mutation: {data.meta_path} was deleted during the run (by a test?); written back")


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
    apply_fixes()
    if SPEC.get("changed_tests"):
        Path("mutants", "mutmut-stats.json").unlink(missing_ok=True)  # covering tests changed: full stats
    _heal_caches()
    before = _load_quarantine(stats_kept=Path("mutants", "mutmut-stats.json").is_file())
    hide = "introspection" in set(SPEC.get("fixes", ("introspection",)))
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
            _record_generation()
            return result

        return create_mutants

    def wrap_stats(orig: Callable[..., Any]) -> Callable[..., Any]:
        def collect_or_load_stats(*a: Any, **k: Any) -> Any:
            _status(phase="stats")
            result = orig(*a, **k)
            _settle_quarantine(before)
            _reset_for_recheck(mm)
            return result

        return collect_or_load_stats

    def wrap_scope(orig: Callable[..., Any]) -> Callable[..., Any]:
        def collect_source_file_mutation_data(*a: Any, **k: Any) -> Any:
            mutants, by_path = orig(*a, **k)
            if _restore_from_record(by_path):
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
        _write_back_metas()
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
