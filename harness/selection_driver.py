"""The driver's side of issue 14's speed-ups, through small hooks in harness/collectors/mutation/ (collector:
``driver_spec``; driver: ``submit_args``, ``registered``, ``finish``): line-level test selection
(:mod:`harness.selection`), the per-test budget's settings (:mod:`harness.call_budget`) and the verdict cache
(:mod:`harness.verdict_cache`)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.call_budget import load_factor
from harness.selection import MutmutFiles, Selection, contexts_document, read_line_contexts, sha256_text

if TYPE_CHECKING:
    from harness.config import Config


# --------------------------------------------------------------------------------------------------- the driver's hook


def spec_for(mode: str, data_file: Path, work: Path, paths: Sequence[str], out: Path) -> dict[str, Any]:
    """The driver spec's selection keys (collector side): the mode, and the coverage run's line contexts of the
    mutated files written to ``out`` with the hash of the source coverage.py measured (the driver compares it
    with the sandbox's). No coverage data: line mode falls back to function level for every mutant."""
    spec: dict[str, Any] = {"selection": mode, "line_contexts": None}
    if not data_file.is_file():
        return spec
    try:
        contexts = read_line_contexts(data_file, work, paths)
    except Exception as exc:  # coverage.py's own errors: unreadable data is "no data", never a failure
        spec["line_contexts_error"] = f"{type(exc).__name__}: {exc}"[:300]
        return spec
    hashes = {}
    for path in contexts:
        try:
            hashes[path] = sha256_text((work / path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            continue
    out.write_text(json.dumps(contexts_document(contexts, hashes)), encoding="utf-8")
    spec["line_contexts"] = str(out)
    return spec


class DriverSelection:
    """In the driver (mutmut's main process): mutmut's function-level tests of a mutant -> the tests it runs.

    ``selection = "line"`` runs the line-level selection; ``"function"`` keeps mutmut's and only records what
    line level would have picked. Either way each mutant's choice is handed to ``record`` (the journal)."""

    def __init__(self, spec: Mapping[str, Any], root: Path = Path(".")) -> None:
        self.mode = str(spec.get("selection") or "function")
        self.spec = spec
        self.root = root
        self._files: MutmutFiles | None = None

    def files(self) -> MutmutFiles:
        if self._files is None:
            doc: Any = None
            path = self.spec.get("line_contexts")
            if path:
                try:
                    doc = json.loads(Path(path).read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    doc = None
            modules = {str(v): str(k) for k, v in (self.spec.get("modules") or {}).items()}
            self._files = MutmutFiles(self.root, modules, doc)
        return self._files

    def pick(
        self, mutant: str, tests: Sequence[str], durations: Mapping[str, float]
    ) -> tuple[list[str], Selection]:
        """(the tests to run, fastest first; the line-level selection computed)."""
        chosen = self.files().select(mutant, tests, durations)
        if self.mode == "line":
            return list(chosen.tests), chosen
        return sorted(tests, key=lambda t: (durations.get(t, 0.0), t)), chosen


LIMITS_VERSION = 2  # how mutmut_limits computes a mutant's budget (in the verdict cache's key): 2 = fixtures, load


def mutmut_limits(tests: Iterable[str], durations: Mapping[str, float], constant: float,
                  multiplier: float, fixtures: Mapping[str, float] | None = None,
                  load: float = 1.0) -> tuple[int, float]:
    """mutmut's (CPU seconds limit, estimated seconds) for a mutant running ``tests``: mutmut's parent stops the
    mutant (SIGXCPU) after (estimated + constant) x multiplier wall seconds and the child at twice that in CPU.

    mutmut estimates with the tests' *call* durations only; a mutant's fork also sets up and tears down each
    test's fixtures, and its first test pays the module- and session-scoped ones the clean run charged to some
    other test. With a tight multiplier that made survivors of a fixture-heavy suite "timeouts" (issue 14,
    fastapi-azure-auth: 7 of 120 sampled mutants, all surviving under bare mutmut's budget). So the estimate
    adds each test's ``fixtures`` seconds (setup + teardown in the clean run) and the largest of them (a scoped
    fixture the fork pays once), and the budget is stretched by ``load`` (:func:`call_budget.load_factor`),
    as the per-test budget is."""
    import math

    chosen = list(tests)
    fixtures = fixtures or {}
    estimated = sum(durations.get(t, 0.0) + fixtures.get(t, 0.0) for t in chosen)
    if chosen and fixtures:
        estimated += max(fixtures.values())
    wall = (estimated + constant) * multiplier * max(load, 1.0)
    if load > 1.0:  # mutmut computes the wall budget from the estimate: give it the stretched one
        estimated = wall / multiplier - constant
    return math.ceil(wall * 2), round(estimated, 6)


def driver_spec(cfg: Config, data_file: Path, work: Path, paths: Sequence[str], raw: Path,
                verdict_cache_folder: str | None = None, fixes: Sequence[str] = ()) -> dict[str, Any]:
    """Every spec key of issue 14's speed-ups (the collector's hook): test selection (line contexts of
    ``paths``: every project module, so the verdict cache knows which code each test runs), per-test budget,
    verdict cache, logs."""
    spec = spec_for(cfg.mutation.selection, data_file, work, paths, raw / "line-contexts.json")
    spec.update(
        verdict_cache=verdict_cache_folder,
        verdict_cache_read=cfg.mutation.incremental,
        verdict_settings={
            "timeout_multiplier": cfg.mutation.timeout_multiplier,
            "timeout_constant": cfg.mutation.timeout_constant,
            "timeout_budget": cfg.mutation.timeout_budget,
            "memory_limit_mb": cfg.mutation.memory_limit_mb,
            "runner": cfg.mutation.runner,
            "selection": cfg.mutation.selection,
            "pytest_args": list(cfg.pytest_args),
            "fixes": fixes,
            "limits": LIMITS_VERSION,
        },
        timeout_budget=cfg.mutation.timeout_budget,
        timeout_constant=cfg.mutation.timeout_constant,
        timeout_multiplier=cfg.mutation.timeout_multiplier,
        executions=str(raw / "executions.jsonl"),
    )
    return spec


_DRIVER: list[DriverSelection] = []
_CACHE: list[Any] = []  # the driver's verdict_cache.DriverCache


def _driver(spec: Mapping[str, Any]) -> tuple[DriverSelection, Any]:
    if not _DRIVER:
        from harness.verdict_cache import DriverCache

        _DRIVER.append(DriverSelection(spec))
        _CACHE.append(DriverCache(spec, _DRIVER[0].files()))
    return _DRIVER[0], _CACHE[0]


def submit_args(spec: Mapping[str, Any], mutant: str, tests: Sequence[str], args: tuple[Any, ...],
                journal: Any, runner: Any = None, quarantined: Any = None,
                fixtures: Mapping[str, float] | None = None) -> tuple[list[str], tuple[Any, ...]] | None:
    """The driver's hook on mutmut's ``ForkRunner.submit(mutant, tests, cpu_limit, estimated)``: the tests the
    mutant runs and mutmut's limits for them (an empty list makes mutmut record "no tests" (33) without a
    fork); journals ``{"event": "select", mode, function, line}``. None: the verdict cache held the mutant's
    verdict, handed to ``runner`` as a result without a fork (journaled as ``{"event": "cached"}``).
    ``quarantined(test)``: tests left out of the phase never judge the mutant, so they stay out of its key.
    mutmut's limits are replaced by :func:`mutmut_limits` of the chosen tests (``fixtures``: each test's setup
    and teardown seconds in the clean run)."""
    from mutmut.configuration import config
    from mutmut.state import state

    selector, cache = _driver(spec)
    durations = state().duration_by_test
    chosen, sel = selector.pick(mutant, tests, durations)
    journal(event="select", mutant=mutant, mode=sel.mode, function=len(tests), line=len(sel.tests))
    cached = cache.lookup(mutant, [t for t in chosen if quarantined is None or not quarantined(t)])
    if cached is not None and runner is not None and hasattr(runner, "_no_tests_results"):
        from mutmut.workers.isolation import MutantResult

        journal(event="cached", mutant=mutant, exit_code=cached[0])
        runner._no_tests_results.append(MutantResult(mutant_name=mutant, exit_code=cached[0], duration=cached[1]))
        return None
    if len(args) < 2:
        return chosen, args
    cfg = config()
    cpu, estimated = mutmut_limits(chosen, durations, cfg.timeout_constant, cfg.timeout_multiplier, fixtures,
                                   load_factor())
    return chosen, (cpu, estimated, *args[2:])


def _chosen(spec: Mapping[str, Any], mutant: str, tests: Sequence[str]) -> list[str]:
    """The tests :func:`submit_args` will give the mutant (line selection narrows mutmut's ``tests``)."""
    from mutmut.state import state

    return _driver(spec)[0].pick(mutant, tests, state().duration_by_test)[0]


def has_tests(spec: Mapping[str, Any], mutant: str, tests: Sequence[str]) -> bool:
    """Does the mutant have tests to run now? A mutant that line selection judged "no coverage" keeps that
    verdict on later runs until a test executes its line."""
    return bool(_chosen(spec, mutant, tests))


def will_fork(spec: Mapping[str, Any], mutant: str, tests: Sequence[str], quarantined: Any = None) -> bool:
    """Will :func:`submit_args` send this mutant to a forked process (it has tests to run and the verdict cache
    does not hold its verdict)? Asked before mutmut's clean run, which a run that forks nothing skips."""
    chosen = _chosen(spec, mutant, tests)
    return bool(chosen) and not _driver(spec)[1].peek(
        mutant, [t for t in chosen if quarantined is None or not quarantined(t)])


def registered(mutant: str, exit_code: int | None, seconds: float | None) -> None:
    """The driver's hook on mutmut's result registration: the verdict goes to the cache under its key."""
    if _CACHE and exit_code is not None:
        _CACHE[0].store(mutant, int(exit_code), float(seconds or 0.0))


def finish() -> None:
    """The driver's hook at the end of the run: the verdict cache is written."""
    if _CACHE:
        _CACHE[0].cache.save()
