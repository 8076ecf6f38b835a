"""The mutation driver's quarantine: tests that cannot judge mutants leave the phase, each with its cause.

Part of the driver process (:mod:`harness.collectors.mutation.driver`, whose state it shares); never imported
by the harness. The rules - what a cause is, how a test is matched - are the pure
:mod:`harness.collectors.mutation.quarantine`; here they are applied to mutmut's runs:

- ``Quarantine`` holds the tests (given by the spec, matched by config globs, found failing) and is the pytest
  plugin that deselects them from every run;
- ``classify`` re-runs each failing test alone on mutmut's copy and on the original code (``probe``, a fresh
  process) to tell a state leak and a broken test from a failure mutmut's instrumentation causes;
- ``cover_quarantined`` runs the quarantined tests on the original code under coverage.py, so the mutants left
  with no test because of them can say so;
- ``in_fork`` and ``leaking_tests``: the clean run's second pass, which finds tests failing on the state every
  mutant's process inherits.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from harness.collectors.mutation import driver_cache as cache
from harness.collectors.mutation import driver_plugins
from harness.collectors.mutation import driver_state as driver
from harness.notes import NoteKind

MAX_PROBED = 100  # failing tests re-run alone and on the original code; beyond, causes come from tracebacks
PROBE_FAILURE = "HARNESS-FAILURE"  # precedes each failure a probe prints


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
        mq = driver._helpers()[2]
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
    code = "from harness.collectors.mutation.driver_quarantine import probe; raise SystemExit(probe())"
    return [sys.executable, "-c", code, driver.SPEC["_file"], where, nodeid]


def _run_probe(where: str, nodeid: str) -> tuple[int | None, str]:
    """Run one test alone in a fresh process (on mutmut's copy or the original): (exit code or None when it
    did not finish in time, its output)."""
    limit = float(driver.SPEC.get("test_timeout") or 600) + 60
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
    mq = driver._helpers()[2]
    mutants_dir = str(Path("mutants").resolve())
    root = str(driver.SPEC.get("root") or Path.cwd())
    tests = [str(t) for t in driver.SPEC.get("tests") or ()]

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
        # A test that hung alone is not run again on the original (another time limit): its traceback decides.
        original, _out = _run_probe("original", nodeid) if code is not None else (0, "")
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
    workers = max(1, min(len(probed), int(driver.SPEC.get("max_children") or os.cpu_count() or 1)))
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
    driver.SPEC.update(json.loads(Path(spec_file).read_text(encoding="utf-8")))
    driver.SPEC["_file"] = spec_file
    driver.SPEC.pop("current", None)
    driver.evict_target_modules(driver.SPEC.get("target_packages") or ())
    base = Path("mutants").resolve() if where == "mutants" else Path.cwd().resolve()
    roots = [str(base / r) if r else str(base) for r in driver.SPEC.get("import_roots") or [""]]
    sys.path[:0] = roots
    os.chdir(base)
    if where == "mutants":
        os.environ["MUTANT_UNDER_TEST"] = ""
        cache.apply_fixes()
    import pytest

    outcome_cls, watch_cls = driver_plugins.plugins()
    outcome = outcome_cls(keep_text=where != "cover")
    plugins: list[Any] = [outcome, watch_cls("probe", float(driver.SPEC.get("test_timeout") or 0))]
    if where == "mutants":
        plugins += cache.fix_plugins()
    params = ["--rootdir=.", "--tb=short", "-q", "-p", "no:randomly", "-p", "no:random-order"]
    cov = _start_coverage(base, plugins) if where == "cover" else None
    code = int(pytest.main([*params, *driver.SPEC.get("pytest_args", []), *nodeids], plugins=plugins))
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

    include = [str(base / path) for path in driver.SPEC.get("modules") or {}]
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
    adapter = driver._helpers()[0]
    data = cov.get_data()
    out: dict[str, set[str]] = {}
    for path, module in (driver.SPEC.get("modules") or {}).items():
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
    limit = float(driver.SPEC.get("test_timeout") or 600) + 60
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
        driver._note(NoteKind.DRIVER_COVER_UNKNOWN, tests=len(todo))
        return
    for test, functions in json.loads(line.removeprefix("HARNESS-COVER ")).items():
        if test in todo:
            QUARANTINE.functions.setdefault(test, set()).update(functions)
    QUARANTINE.covered.update(todo)


def _read_quarantine_file() -> dict[str, Any]:
    mq = driver._helpers()[2]
    try:
        doc = json.loads((Path("mutants") / mq.QUARANTINE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # unreadable, not UTF-8, not JSON
        return {}
    return doc if isinstance(doc, dict) else {}


def _save_quarantine() -> None:
    mq = driver._helpers()[2]
    doc = {
        "format": 1,
        "tests": QUARANTINE.entries(),
        "found": sorted(QUARANTINE.found),
        "patterns": QUARANTINE.patterns,
    }
    driver._write_atomic(Path("mutants") / mq.QUARANTINE_FILE, json.dumps(doc))
    driver._status(quarantined=len(QUARANTINE.ids()))


def _load_quarantine(stats_kept: bool) -> set[str]:
    """Set up QUARANTINE from the spec and the last run's file; returns the tests the last run quarantined.

    Tests found failing last run stay quarantined while mutmut's stats are kept (they are not in them); with a
    full stats run they are judged again. The functions each quarantined test executed are kept unless its file
    changed."""
    previous = _read_quarantine_file()
    changed = {str(p) for p in driver.SPEC.get("changed_tests") or ()}
    for e in driver.SPEC.get("quarantine") or ():
        QUARANTINE.given[str(e["nodeid"])] = {k: e[k] for k in ("nodeid", "cause", "detail", "reproduce") if k in e}
    for e in driver.SPEC.get("crashed") or ():  # crashed an earlier start of this run's driver
        QUARANTINE.found[str(e["nodeid"])] = {k: e[k] for k in ("nodeid", "cause", "detail", "reproduce") if k in e}
    QUARANTINE.patterns = [str(p) for p in driver.SPEC.get("manual_quarantine") or ()]
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
        driver._status(phase="quarantine-cover")
        cover_quarantined(now)
    entered = {f for t in now - before for f in QUARANTINE.functions.get(t, ())}
    released: set[str] = set()
    for e in _read_quarantine_file().get("tests") or ():
        if isinstance(e, dict) and e.get("nodeid") in before - now:
            released.update(e.get("functions") or ())
    if entered or released:
        from mutmut.__main__ import _reset_mutant_results

        stats_key = driver._helpers()[0].stats_key

        def reset(key: str, code: int) -> bool:
            function = stats_key(key)
            return function in entered or (function in released and code in (0, 5, 33))

        count = _reset_mutant_results(reset)
        driver._flush()
        if count:
            driver._note(NoteKind.DRIVER_RECHECKED, verdicts=count)
    if state().tests_by_mangled_function_name:
        from mutmut.stats import save_stats

        save_stats()
    _save_quarantine()


def _quarantine_failures(outcome: Any, phase: str) -> bool:
    """Tests failed with no mutant active: quarantine them (True) or, with auto quarantine off or nothing
    classifiable, report them and let mutmut stop (False)."""
    failures = {n: outcome.texts.get(n, "") for n in dict.fromkeys(outcome.failed)}
    if not failures or "<collection>" in failures:
        driver._status(failed_tests=list(failures)[:20])
        return False
    driver._status(phase=f"{phase}-classify", failing=len(failures))
    return _quarantine(classify(failures))


def _quarantine(entries: dict[str, dict[str, Any]]) -> bool:
    """Leave these tests out of the rest of the phase (True), or with auto quarantine off report them (False)."""
    if not driver.SPEC.get("auto_quarantine", True):
        driver._status(failed_tests=list(entries)[:20], unjudging=list(entries.values())[:50])
        return False
    QUARANTINE.found.update(entries)
    _remove_from_stats(entries)
    cover_quarantined(entries)
    _reset_plan(entries)
    if not _tests_left():
        driver._status(all_quarantined=True)
    _save_quarantine()
    return True


def leaking_tests(failures: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Quarantine entries for tests that passed in the clean run but fail when the suite runs again in the same
    process: state left by the clean run, which every mutant's forked process inherits, makes them fail."""
    mq = driver._helpers()[2]
    mutants_dir = str(Path("mutants").resolve())
    tests = [str(t) for t in driver.SPEC.get("tests") or ()]
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
            driver.die_with_parent()
            sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115
            driver._write_atomic(out, json.dumps(run()))
        finally:
            os._exit(0)
    _pid, status = os.waitpid(pid, 0)
    doc, problem = driver._read_json(out)
    out.unlink(missing_ok=True)
    if problem is not None or not isinstance(doc, dict):
        code = os.waitstatus_to_exitcode(status)
        where, _ = driver._read_json(Path(driver.SPEC.get("current") or "current.json"))
        test = str(where.get("test") or "") if isinstance(where, dict) else ""
        driver._status(crashed_test=test, crash=code)  # the harness quarantines it and runs again
        return {"<second pass>": f"the second pass died (exit {code}) in test {test or '?'}"}
    return {str(k): str(v) for k, v in doc.items()}


def _reset_plan(ids: Iterable[str]) -> None:
    """Verdicts kept from earlier runs of mutants these newly quarantined tests executed are checked again."""
    functions = {f for t in ids for f in QUARANTINE.functions.get(t, ())}
    if not functions or not driver._PLAN:
        return
    stats_key = driver._helpers()[0].stats_key
    for i, (data, key, result) in enumerate(driver._PLAN):
        if result is not None and stats_key(key) in functions:
            data.exit_code_by_key[key] = None
            driver._PLAN[i] = (data, key, None)




def forget_found(changed: list[str]) -> None:
    """The instrumented code changed since the last run: the tests found failing on it are judged again."""
    if QUARANTINE.found:
        driver._note(NoteKind.DRIVER_REJUDGED, tests=len(QUARANTINE.found), changed=[str(c) for c in changed[:3]])
        QUARANTINE.found.clear()
