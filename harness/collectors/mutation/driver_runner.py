"""The driver's test runner: mutmut's PytestRunner with a collected session reused by every mutant, the
quarantine applied, and per-mutant limits (``runner = "session"``; ``"pytest"`` keeps mutmut's runs).

Part of the driver process (:mod:`.driver`). ``HarnessRunner``'s methods are mutmut's entry points
(``run_stats``, ``run_tests``, ``run_forced_fail``...), overridden in place: they keep mutmut's names and
signatures, and some are longer than the harness's other functions for it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from typing import Any

from harness import call_budget  # issue 14 hook: per-test time budget, tests run per mutant
from harness.collectors import mutmut_adapter as adapter
from harness.collectors.mutation import driver_plugins
from harness.collectors.mutation import driver_quarantine as dq
from harness.collectors.mutation import driver_state as state


def make_runner(base: type) -> type:
    from mutmut.utils.file_utils import change_cwd

    outcome_cls, watch_cls = driver_plugins.plugins()

    class HarnessRunner(base):  # type: ignore[misc]
        """mutmut's PytestRunner with a reusable collected session, quarantine and per-mutant limits."""

        def __init__(self) -> None:
            super().__init__()
            self._session: Any = None
            self._items: dict[str, Any] = {}
            self._outcome = outcome_cls()
            self._session_failed = state.SPEC.get("runner") != "session"
            self._whole_suite = False  # stats and clean runs: every test, not stopping at the first failure
            self._phase = ""

        def _pytest_args_regular_run(self, tests: Iterable[str]) -> list[str]:
            args = list(super()._pytest_args_regular_run(tests))
            if self._whole_suite:
                args = [a for a in args if a != "-x"] + ["--continue-on-collection-errors"]
            return args

        def _run_plugins(self, outcome: Any) -> list[Any]:
            plugins: list[Any] = [outcome, dq.QUARANTINE, *state.FIX_PLUGINS]
            if self._whole_suite:
                plugins.append(watch_cls(self._phase, float(state.SPEC.get("test_timeout") or 0)))
            return plugins

        def execute_pytest(self, params: list[str], **kwargs: Any) -> int:
            self._outcome = outcome_cls(keep_text=self._whole_suite)
            kwargs["plugins"] = [*kwargs.get("plugins", []), *self._run_plugins(self._outcome)]
            return int(super().execute_pytest(params, **kwargs))

        def list_all_tests(self) -> Any:
            """mutmut's test listing (a warm run, stats kept): the session every later run uses collects the
            tests once, instead of a ``--collect-only`` run and then the session's own collection (issue 14).
            The listing's arguments plus ``-p no:randomly -p no:random-order`` (order, not ids), the same
            quarantine plugin: the same ids; a collection error falls back to mutmut's listing."""
            state._mark_current("collect", "")
            if self._ensure_session():
                from mutmut.runners.harness import ListAllTestsResult

                state._status(listing_from_session=True)
                return ListAllTestsResult(ids=set(self._items))
            return super().list_all_tests()

        def _close_session(self) -> None:
            """End the collected session (mutmut is about to start pytest again in this process: new tests'
            stats); the next run that needs one collects it again."""
            session, self._session, self._items = self._session, None, {}
            if session is None:
                return
            with contextlib.suppress(Exception), change_cwd("mutants"):
                session.config.hook.pytest_sessionfinish(session=session, exitstatus=0)
                session.config._ensure_unconfigure()

        def run_stats(self, *, tests: Iterable[str]) -> int:
            state._status(phase="stats")
            self._close_session()
            self._whole_suite, self._phase = True, "stats"
            try:
                code = int(super().run_stats(tests=tests))
            finally:
                self._whole_suite = False
            failed = code not in adapter.PYTEST_PASSED and self._outcome.failed
            if failed and dq._quarantine_failures(self._outcome, "stats"):
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
                config = _prepareconfig(params, plugins=[outcome, dq.QUARANTINE, *state.FIX_PLUGINS])
                config._do_configure()
                session = Session.from_config(config)
                config.hook.pytest_sessionstart(session=session)
                config.hook.pytest_collection(session=session)
            if outcome.failed or not session.items:
                state._status(session_fallback=f"collection: {outcome.failed[:3]}")
                self._session_failed = True
                return False
            self._session = session
            self._items = {item.nodeid: item for item in session.items}
            self._outcome = outcome_cls()
            config.pluginmanager.register(self._outcome, "harness-outcome")
            self._watch = watch_cls("clean", float(state.SPEC.get("test_timeout") or 0))
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
            state._status(phase="clean")  # the clean run, in mutmut's main process
            self._phase = "clean"
            if not state.FORKS_AHEAD[0]:  # every mutant has its verdict: no test will run against one
                state._status(clean_skipped=True)
                return 0
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
                state._status(phase="clean-again")
                failures = dq.in_fork(lambda: self._again(tests))
                if "<second pass>" in failures:
                    state._status(failed_tests=list(failures.values()))
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
            try:
                state.die_with_parent()
                problem = state.limit_memory(int(state.SPEC.get("memory_limit_mb", 0)))
                if problem:
                    state._limits({"mutant": mutant_name, "warning": problem})
                from mutmut.state import state as mutmut_state

                durations = mutmut_state().duration_by_test  # fastest first, as mutmut's fork runner does
                tests = sorted(tests, key=lambda t: durations.get(t, 0.0))
                items = self._session_items(tests) if self._session is not None else None
                if items is not None:
                    os.chdir("mutants")
                    spent = call_budget.start(self._session.config, mutant_name, durations, state.SPEC)  # issue 14
                    code = self._run_items(items)
                    spent.done(code)  # issue 14 hook
                else:
                    code = int(super().run_tests(mutant_name=mutant_name, tests=tests))
                if self._outcome.memory:
                    state._limits({"mutant": mutant_name, "limit": "memory"})
                return code
            except KeyboardInterrupt:
                os._exit(adapter.INTERRUPTED_EXIT_CODE)
            except BaseException as exc:  # the harness's runner broke: say so, never claim a kill
                try:
                    state._limits({"mutant": mutant_name, "error": repr(exc)[:300]})
                finally:
                    os._exit(adapter.RUNNER_FAILED_EXIT_CODE)

        def run_forced_fail(self) -> int:
            state._status(phase="forced_fail")
            if not dq._tests_left() or not state.FORKS_AHEAD[0]:  # no test will run against a mutant
                return 1
            self._phase = "forced_fail"
            if self._ensure_session():
                with change_cwd("mutants"):
                    return self._run_items(self._session_items([]) or [])
            return int(super().run_forced_fail())

    return HarnessRunner

