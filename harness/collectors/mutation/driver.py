"""The process that runs mutmut 3.8.1 in the harness's sandbox: ``mutmut run`` with the harness's changes.

Started by :mod:`.spawn` as ``python -c "...main()" SPEC`` with the sandbox as working
directory, it runs mutmut's own ``run`` (mutant generation, stats, clean run, forced-fail check, its scheduler
and its meta files, so ``mutmut results`` in the sandbox shows exactly the harness's verdicts) and changes:

* the test runner: with ``runner = "session"`` pytest collects the suite once in mutmut's main process and
  each forked mutant runs only its covering tests from that collected session, fastest first, stopping at the
  first failure (mutmut's own runner starts a whole pytest per mutant); the same session answers mutmut's test
  listing when its stats are kept (closed first if new tests need a stats run); ``runner = "pytest"`` keeps
  mutmut's;
* quarantine, per test: tests given by the earlier phases (flaky, broken, parallel-unsafe) or by config
  (``mutation.quarantine``) are deselected from every run; tests that fail on the instrumented copy with no
  mutant active (stats and clean runs run the whole suite instead of stopping at the first failure) are re-run
  alone and on the original code, get their cause (:mod:`.quarantine`) and leave the
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
* scope: a shard (K/N) keeps only its deterministic slice of the mutants (``protocol.in_shard``, with the shard
  plan the spec carries); survivors and no-test mutants whose covering tests changed since the last run are
  re-checked.

This module installs the changes and runs mutmut. The runner lives in :mod:`.driver_runner` (its pytest plugins
in :mod:`.driver_plugins`), the quarantine in :mod:`.driver_quarantine`, the fixes and the caches' healing in
:mod:`.driver_cache`, the process's state, files and persistence in :mod:`.driver_state`, the diffs in
:mod:`.driver_diffs`. It talks to the harness through files only (spec in, status/journal/diffs/quarantine out,
typed in :mod:`.protocol`). Not imported by the harness.
"""


from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import selection_driver as line_selection  # issue 14 hook: line-level test selection, verdict cache
from harness.collectors import mutmut_adapter as adapter
from harness.collectors.mutation import driver_cache as dc
from harness.collectors.mutation import driver_quarantine as dq
from harness.collectors.mutation import driver_state as state
from harness.collectors.mutation import protocol
from harness.collectors.mutation.driver_diffs import write_diffs
from harness.collectors.mutation.driver_runner import make_runner
from harness.model import MutantStatus
from harness.sampling import Scope


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _wrap(module: Any, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    setattr(module, name, make(getattr(module, name)))



def _reset_for_recheck(mm: Any) -> None:
    """Re-check interrupted verdicts, and survivors / no-test mutants whose covering tests changed."""
    from mutmut.state import state as mutmut_state

    changed = set(state.SPEC.get("changed_tests") or ())
    tests_by_function = mutmut_state().tests_by_mangled_function_name

    def should_reset(key: str, code: int) -> bool:
        if code in adapter.RECHECK_EXIT_CODES:
            return True
        if adapter.status_of(code) not in (MutantStatus.SURVIVED, MutantStatus.NO_COVERAGE):
            return False
        tests = tests_by_function.get(adapter.stats_key(key), set())
        if adapter.status_of(code) is MutantStatus.NO_COVERAGE and tests:  # it has tests now? (line selection:
            # tests that execute its line in this run's coverage data)
            return line_selection.has_tests(state.SPEC, key.replace("__init__.", ""), sorted(tests))  # issue 14 hook
        return any(t.split("::")[0] in changed for t in tests)

    count = mm._reset_mutant_results(should_reset)
    state._flush()  # mutmut reloads the meta files next: a deferred save would hand it the stale verdicts
    state._status(rechecked=count)


def _in_scope(mutants: list[Any]) -> list[Any]:
    """Sampling and diff mode (``harness.sampling.Scope``): keep the mutants the scope selects, before
    sharding, so every shard splits the same selection. Remembers the selection for the diffs."""
    spec = state.SPEC.get("scope")
    if not spec:
        return mutants
    state.SCOPE_KEEP = Scope.from_spec(spec).select((m[1] for m in mutants), adapter.location)
    return [m for m in mutants if m[1] in state.SCOPE_KEEP]


Wrapper = Callable[[Callable[..., Any]], Callable[..., Any]]


def _wrap_write(orig: Callable[..., Any]) -> Callable[..., Any]:
    hide = "introspection" in dc.active_fixes()

    def write_all_mutants_to_file(*, out: Any, source: str, filename: Any) -> Any:
        mutated = orig(out=out, source=source, filename=filename)
        if hide:  # every generated file imports mutmut's trampoline, with mutants or not
            out.write(adapter.HIDE_INJECTED_NAMES)
        return mutated

    return write_all_mutants_to_file


def _wrap_create(orig: Callable[..., Any]) -> Callable[..., Any]:
    def create_mutants(*a: Any, **k: Any) -> Any:
        result = orig(*a, **k)
        changed = dc._record_generation()
        if changed:
            dq.forget_found(changed)
        return result

    return create_mutants


def _wrap_stats(mm: Any, before: set[str]) -> Wrapper:
    def wrap(orig: Callable[..., Any]) -> Callable[..., Any]:
        def collect_or_load_stats(*a: Any, **k: Any) -> Any:
            state._status(phase="stats")
            if state.SPEC.get("tests_listed"):  # issue 14: restored stats of exactly these files
                runner = a[0] if a else k["runner"]
                runner.list_all_tests = _known_tests
                state._status(listing_skipped=True)
            result = orig(*a, **k)
            dq._settle_quarantine(before)
            _reset_for_recheck(mm)
            return result

        return collect_or_load_stats

    return wrap


def _known_tests() -> Any:
    """mutmut's test listing as the restored stats know it (every test they name): with the stats bundle's key
    covering every file of the sandbox, collecting again finds the same ids, no obsolete and no new test."""
    from mutmut.runners.harness import ListAllTestsResult, collected_test_names
    from mutmut.state import state as mutmut_state

    return ListAllTestsResult(ids=collected_test_names().union(*mutmut_state().tests_by_mangled_function_name.values()))


def _wrap_scope(orig: Callable[..., Any]) -> Callable[..., Any]:
    def collect_source_file_mutation_data(*a: Any, **k: Any) -> Any:
        mutants, by_path = orig(*a, **k)
        if dc._restore_from_record(by_path):
            mutants = [(m, key, code) for m in by_path.values() for key, code in m.exit_code_by_key.items()]
        state._DATA_BY_PATH.update(by_path)
        mutants = _in_scope(mutants)
        shard = state.SPEC.get("shard")
        if shard:
            plan = state.SPEC.get("shard_plan")
            mutants = [m for m in mutants if protocol.in_shard(m[1], shard[0], shard[1], plan)]
        state._PLAN[:] = mutants
        state.FORKS_AHEAD[0] = _forks_ahead(mutants)
        state._journal({"event": "plan", "total": len(mutants), "todo": sum(1 for m in mutants if m[2] is None)})
        state._status(phase="associations", scope=len(mutants))
        return state._PLAN, by_path

    return collect_source_file_mutation_data


def _forks_ahead(mutants: list[Any]) -> bool:
    """Will any mutant of the plan be forked? Not when each has a verdict (kept, or in the verdict cache) or no
    test: then mutmut's clean and forced-fail runs check a suite no mutant will run, and are skipped."""
    from mutmut.state import state as mutmut_state

    mapping = mutmut_state().tests_by_mangled_function_name
    for _, name, result in mutants:
        if result is not None:
            continue
        name = name.replace("__init__.", "")  # as mutmut's loop does
        tests = mapping.get(adapter.stats_key(name), set())
        if tests and line_selection.will_fork(state.SPEC, name, sorted(tests),  # issue 14 hook
                                              lambda t: dq.QUARANTINE.entry(t) is not None):
            return True
    return False


def _wrap_register(orig: Callable[..., Any]) -> Callable[..., Any]:
    def register(result: Any, *a: Any) -> Any:
        line_selection.registered(result.mutant_name, result.exit_code, result.duration)  # issue 14 hook
        state._journal(
            {
                "event": "result",
                "mutant": result.mutant_name,
                "exit_code": result.exit_code,
                "duration": result.duration,
            }
        )
        return orig(result, *a)

    return register


def _wrap_forced(orig: Callable[..., Any]) -> Callable[..., Any]:
    def run_forced_fail_test(runner: Any) -> None:
        state._status(phase="forced_fail")
        orig(runner)
        state._status(
            phase="mutants", mutants_started=time.time(), cpu_at_start=_children_cpu(), own_cpu_at_start=_own_cpu()
        )
        state._mark_current("mutants", "")

    return run_forced_fail_test


def _journal_event(**event: Any) -> None:  # issue 14 hook: selection and cache events (protocol.SelectEvent...)
    state._journal(event)  # type: ignore[arg-type]


def _wrap_submit(orig: Callable[..., Any]) -> Callable[..., Any]:
    def submit(self: Any, mutant_name: str, tests: list[str], *a: Any) -> Any:
        picked = line_selection.submit_args(state.SPEC, mutant_name, tests, a, _journal_event, self,  # issue 14 hook
                                            lambda t: dq.QUARANTINE.entry(t) is not None,  # issue 14 hook
                                            state.FIXTURE_SECONDS)
        if picked is None:  # issue 14 hook: the verdict cache held the verdict
            return None
        tests, a = picked  # issue 14 hook
        if tests:  # the harness names the mutants in flight when a run stops making progress
            state._journal({"event": "start", "mutant": mutant_name, "at": time.time()})
        return orig(self, mutant_name, tests, *a)

    return submit


def _wrap_print_stats(orig: Callable[..., Any]) -> Callable[..., Any]:
    def print_stats(data: Any, force_output: bool = False) -> None:
        if force_output:  # mutmut recounts every verdict of every file per mutant just to draw a spinner
            orig(data, force_output=True)

    return print_stats


def _start(argv: list[str] | None) -> None:
    """Read the spec, bind the harness modules the driver uses, evict the target's, mark the status file."""
    args = sys.argv[1:] if argv is None else argv
    state.SPEC.update(json.loads(Path(args[0]).read_text(encoding="utf-8")))
    state.SPEC["_file"] = str(Path(args[0]).resolve())
    state._helpers()
    state.evict_target_modules(state.SPEC.get("target_packages") or ())
    state._MAIN_PID[0] = os.getpid()
    state.die_with_parent()
    state._status(phase="generate", started=time.time())


def _patch(mm: Any) -> None:
    """mutmut's functions the driver changes (see the module docstring), its caches healed first."""
    from mutmut.mutation import data as mdata
    from mutmut.runners.harness import PytestRunner
    from mutmut.workers import isolation

    mdata.SourceFileMutationData.save = state._deferred_save  # type: ignore[method-assign]
    setattr(isolation, "PytestRunner", make_runner(PytestRunner))  # noqa: B010
    dc.apply_fixes()
    state.FIX_PLUGINS[:] = dc.fix_plugins()
    if state.SPEC.get("changed_tests"):
        Path("mutants", protocol.STATS_FILE).unlink(missing_ok=True)  # covering tests changed: full stats
    dc._heal_caches()
    before = dq._load_quarantine(stats_kept=Path("mutants", protocol.STATS_FILE).is_file())
    _wrap(mm, "write_all_mutants_to_file", _wrap_write)
    _wrap(mm, "create_mutants", _wrap_create)
    _wrap(mm, "collect_or_load_stats", _wrap_stats(mm, before))
    _wrap(mm, "collect_source_file_mutation_data", _wrap_scope)
    _wrap(mm, "_register_mutant_result", _wrap_register)
    _wrap(mm, "run_forced_fail_test", _wrap_forced)
    _wrap(mm, "print_stats", _wrap_print_stats)
    _wrap(isolation.ForkRunner, "submit", _wrap_submit)


def main(argv: list[str] | None = None) -> int:
    _start(argv)
    import mutmut.__main__ as mm

    _patch(mm)
    state._replay_journal()
    code = 0
    try:
        mm._run([], int(state.SPEC.get("max_children") or os.cpu_count() or 1))
        state._status(finished=True)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
        state._status(failed=True, exit=code)
    except KeyboardInterrupt:
        code = protocol.DRIVER_INTERRUPTED
        state._status(interrupted=True)
    finally:
        state._step("finish")  # the timeline's last steps: journal, verdict cache, metas, diffs
        state._flush()
        line_selection.finish()  # issue 14 hook: the verdict cache is written
        dc._write_back_metas()
        sys.stdout = sys.__stdout__
        sys.stderr = sys.__stderr__
    begun = json.loads(Path(state.SPEC["status"]).read_text(encoding="utf-8"))
    state._status(  # CPU seconds of the mutant phase: the mutants', and mutmut's scheduler's (forks, bookkeeping)
        children_cpu=_children_cpu() - float(begun.get("cpu_at_start", 0.0)),
        scheduler_cpu=_own_cpu() - float(begun.get("own_cpu_at_start", 0.0)),
        ended=time.time(),
    )
    stopped = code == protocol.DRIVER_INTERRUPTED and begun.get("mutants_started")
    if code == 0 or begun.get("all_quarantined") or stopped:
        state._step("diffs")
        write_diffs(mm)  # an interrupted mutants phase too: the time budget's stop is scored
    return code


if __name__ == "__main__":
    raise SystemExit(main())
