"""The harness's configuration schema: every key declared once (name, type, default, help, range).

The sections are frozen dataclasses (:class:`Config` and its settings); :mod:`harness.config` loads, merges and
checks values against these declarations. Nothing here reads a file or the environment.
"""

from __future__ import annotations

import fnmatch
import os
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import MISSING, dataclass, field, fields, is_dataclass, replace
from typing import Any

from harness.errors import ConfigError
from harness.model import Metric, runs_needed

MAX_SECONDS = 1e6  # about 11 days: the upper bound of every duration key
MAX_SEED = 2**32 - 1


def key(default: Any, help: str, *, lo: float | None = None, hi: float | None = None,
        choices: tuple[str, ...] | None = None, check: Callable[[Any], str | None] | None = None) -> Any:
    """Declare a config key: its default, its help text (the user documentation) and its allowed range.

    Every numeric key has both bounds (a test checks it); ``check`` returns what is wrong with a value, if
    anything, for a rule a range cannot say (e.g. the form of ``mutation.shard``).
    """
    meta = {"help": help, "lo": lo, "hi": hi, "choices": choices, "check": check}
    if isinstance(default, (list, dict)):
        raise TypeError("use tuples for sequence defaults")
    return field(default=default, metadata=meta)


def _check_shard(text: str) -> str | None:
    """What is wrong with a ``mutation.shard`` value (``""`` or ``K/N`` with 1 <= K <= N), if anything."""
    if not text:
        return None
    match = re.fullmatch(r"\s*(\d{1,6})\s*/\s*(\d{1,6})\s*", text)
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        return "must be K/N with 1 <= K <= N (e.g. 1/4)"
    return None


@dataclass(frozen=True)
class Targets:
    """Targets a module must meet. Coverage and score are minimums (>=); runtime and flaky rate maxima (<)."""

    line_coverage: float = key(85.0, "Minimum line coverage, percent of statements executed.", lo=0, hi=100)
    branch_coverage: float = key(75.0, "Minimum branch coverage, percent of possible arcs taken.", lo=0, hi=100)
    mutation_score: float = key(70.0, "Minimum mutation score, detected / valid mutants, percent.", lo=0, hi=100)
    suite_runtime: float = key(10.0, "Maximum suite wall time in seconds (median of the runs); "
                                     "a project-level target.", lo=0, hi=MAX_SECONDS)
    flaky_rate: float = key(1.0, "Maximum flaky rate, percent of tests that both passed and failed.",
                            lo=0, hi=100)

    def value(self, metric: Metric) -> float:
        return float(getattr(self, metric.value))




@dataclass(frozen=True)
class CoverageSettings:
    enabled: bool = key(True, "Measure line and branch coverage (coverage.py, branch mode, per-test contexts).")
    parallel: bool = key(True, "Run the coverage pass under pytest-xdist with `workers` workers.")
    subprocess: bool = key(True, "Also measure Python subprocesses the tests start (coverage.py's process-start "
                                 "hook, as `[run] patch = [\"subprocess\"]`), e.g. a CLI tested through "
                                 "`subprocess.run`.")
    pytest_args: tuple[str, ...] = key((), "Extra pytest arguments for the coverage run only, after `pytest_args` "
                                           "(e.g. [\"-m\", \"not acceptance\"] to measure end-to-end tests the "
                                           "timed, repeated and mutation runs leave out). Their tests are judged "
                                           "for coverage only: flakiness and runtime see the repeated runs' tests.")
    reuse: bool = key(True, "Reuse the coverage run of an identical earlier run instead of running the suite "
                            "again (after an edit of function bodies, re-measure only the tests that ran the "
                            "edited modules): same files in the project copy, same tools, same coverage "
                            "settings (the key; kept in <cache_dir>/verdicts/coverage, restored with that "
                            "folder in CI). Only in runs without the flakiness phase, which judges the coverage "
                            "run as one of its runs. The run's notes say so; services and environment "
                            "variables are not in the key: false measures every time.")


@dataclass(frozen=True)
class RuntimeSettings:
    enabled: bool = key(True, "Measure suite wall time and per-test durations in uninstrumented xdist runs.")
    runs: int = key(3, "How many uninstrumented runs time the suite (the flakiness phase adds its own and "
                       "shares them).", lo=1, hi=1000)
    slowest: int = key(5, "How many slowest tests each module scorecard lists.", lo=0, hi=1000)


@dataclass(frozen=True)
class MutationSettings:
    """The mutation phase: mutmut 3 in a sandbox copy of the target (see harness/collectors/mutation.py)."""

    enabled: bool = key(True, "Measure the mutation score with mutmut (the slowest phase; "
                              "`--set mutation.enabled=false` for a quick run, `--sample N` or the pr profile "
                              "for a sample).")
    modules: tuple[str, ...] = key((), "Module-name globs to mutate; empty: every measured module. A glob that "
                                       "names no measured module is refused (a typo would mutate less than asked).")
    exclude: tuple[str, ...] = key((), "Module-name globs never to mutate, e.g. generated code. (Tests that trip "
                                       "on mutmut are quarantined one by one: see 'mutation.quarantine'.)")
    runner: str = key("session", "How a mutant's tests run: 'session' forks each mutant from one collected "
                                 "pytest session (fast); 'pytest' is mutmut's own pytest run per mutant.",
                      choices=("session", "pytest"))
    # issue 14 hook: line-level test selection, per-test time budget, content-keyed verdict cache
    selection: str = key("line", "Which tests a mutant runs: 'line' runs only the tests that executed its "
                                     "mutated line(s) in the coverage run (per-test contexts), fastest first, "
                                     "and calls a mutant on lines no test executed 'no coverage' without "
                                     "running it (function level where that is not sound); 'function' runs "
                                     "every test that called the mutated function (mutmut's selection).",
                         choices=("line", "function"))
    timeout_budget: str = key("set", "How a mutant's time is limited: 'test' stops it when one test's call runs "
                                     "over (its clean duration + timeout_constant) x timeout_multiplier, "
                                     "stretched by the machine's load; 'set' only when its tests together run "
                                     "over their summed budget (mutmut's).",
                              choices=("test", "set"))
    verdict_cache: bool = key(True, "Keep every verdict under a key made of what it depends on (the mutated "
                                    "function, the mutation, its tests' code and the project code they run, "
                                    "tool versions, verdict-changing settings) in <cache_dir>/verdicts, and "
                                    "reuse it wherever the key matches: restore that folder in CI "
                                    "(actions/cache, docs/ci.md) and a fresh checkout re-runs only the "
                                    "mutants whose key changed. Not read when 'incremental' is false.")
    max_children: int = key(0, "Mutants tested at once; 0 means one per CPU core.", lo=0, hi=512)
    timeout_multiplier: float = key(3.0, "A mutant times out after (its tests' clean duration + "
                                         "timeout_constant) x this (mutmut's default is 15).", lo=1, hi=1000)
    timeout_constant: float = key(0.5, "Seconds added to a mutant's expected test time before the "
                                       "multiplier (mutmut's default 1 s also covers a pytest start per "
                                       "mutant, which the session runner does not pay).", lo=0, hi=3600)
    memory_limit_mb: int = key(2048, "Address space a mutant's process may grow by, in MiB; a mutant that "
                                     "exceeds it fails its tests (killed by the limit). 0: no cap.",
                               lo=0, hi=524288)
    time_budget: float = key(3600.0, "Wall-clock seconds the mutation phase may take; when they are up mutmut "
                                     "is stopped as by Ctrl-C, the verdicts so far are kept and scored, each "
                                     "module with mutants not yet judged is not measured (exit 3, with how far "
                                     "it got) and the next run resumes where this one stopped. 0: no budget.",
                             lo=0, hi=MAX_SECONDS)
    incremental: bool = key(True, "Keep the sandbox and mutmut's results between runs: re-test only changed "
                                  "functions (false: start from scratch).")
    recheck_changed_tests: bool = key(True, "Re-check survivors and no-test mutants whose covering tests "
                                            "changed since the last run (mutmut itself does not).")
    shard: str = key("", "Run only slice K/N of the mutants (e.g. '2/4'; `harness run --shard 2/4`); combine "
                         "the shards' reports with `harness merge`.", check=_check_shard)
    shard_plan: str = key("", "The shard plan file every shard of a run reads, relative to the target root (empty: "
                              "<cache_dir>/verdicts/shard-plan.json, in the folder CI restores). `harness merge` "
                              "writes it from the merged run's durations, for the same number of shards; a run "
                              "--shard K/N follows it when it is for N shards (mutants it does not name, and every "
                              "mutant without it, by name hash).")
    # -- quarantine (issue 9): tests that cannot judge mutants leave the mutation phase, not the run
    quarantine: tuple[str, ...] = key((), "Test node ids or globs left out of the mutation phase (quarantine, "
                                          "cause 'manual'), e.g. ['tests/test_io.py::test_pickle*']; "
                                          "mutants only they cover count as no coverage.")
    auto_quarantine: bool = key(True, "Quarantine, with their cause, tests that fail on mutmut's instrumented "
                                      "copy with no mutant active (pickling, recursion, introspection, state "
                                      "leak...) and measure without them; false (and gate.strict, the release "
                                      "profile) stops the phase instead, naming them.")


@dataclass(frozen=True)
class FlakinessSettings:
    """The flakiness phase: repeated runs in alternating orders (shared with the runtime phase), reruns."""

    enabled: bool = key(True, "Measure the flaky rate: repeat the suite, classify tests that pass and fail.")
    runs: int = key(runs_needed(0.25, 0.95), "Repeated runs of the suite, alternating declared, reversed and "
                    "shuffled orders with and without xdist. The default 11 sees a test failing 25 % of the "
                    "time with >= 95 % probability (1-(1-p)^n); the runtime phase reuses the xdist runs.",
                    lo=2, hi=1000)
    reruns: int = key(3, "How many times each classification step is repeated: the flaky test alone (a fresh "
                         "process each time), in its failing order, and with its bisected polluter.",
                      lo=1, hi=100)
    max_classified: int = key(20, "Flaky tests re-run to classify them (order-dependent or "
                                  "non-deterministic); beyond this many they are reported unclassified.",
                              lo=0, hi=10000)
    seed: int = key(0, "Base seed of the shuffled runs (seed, seed+1, ...); 0 draws fresh seeds each run. "
                       "The seeds used are printed in the scorecard notes.", lo=0, hi=MAX_SEED)


@dataclass(frozen=True)
class HistorySettings:
    enabled: bool = key(True, "Append every run's summary (time, git commit, config fingerprint, totals and "
                              "per-module figures) to <reports_dir>/history.json; `harness trend` prints it.")
    keep: int = key(200, "How many runs the history file keeps; the oldest are dropped first.", lo=1, hi=100000)


@dataclass(frozen=True)
class RatchetSettings:
    enabled: bool = key(True, "Fail the gate when a module's figure regresses against the baseline by more than "
                              "the tolerance, even while it still meets its target.")
    baseline: str = key("", "Baseline file, relative to the target root (written by `harness baseline update`). "
                             "Empty: <reports_dir>/baseline.json if present, else the last history entry "
                             "without regressions. `--baseline FILE` overrides.")
    tolerance: float = key(0.5, "Percentage points a module's coverage or mutation score may fall below, or its "
                                "flaky rate rise above, the baseline's before the gate fails.", lo=0, hi=100)
    runtime_tolerance: float = key(50.0, "Percent the suite's median wall time may grow over the baseline's "
                                         "before the gate fails (wall time is noisy).", lo=0, hi=1e6)


@dataclass(frozen=True)
class Tier:
    """A named tier (e.g. critical / high / medium): module globs, a plan weight and its own targets.

    Written ``[tiers.critical] modules = ["pkg.auth.*"], weight = 3, branch_coverage = 95``; the target keys
    are those of ``targets``. A module belongs to the first tier, in file order, with a matching glob.
    Targets apply as defaults < tier < ``overrides``.
    """

    modules: tuple[str, ...] = key((), "Module-name globs of the tier's modules (first matching tier wins).")
    weight: float = key(1.0, "How much a gap in this tier counts in `harness plan`'s ranking (untiered: 1).",
                        lo=0, hi=1000)
    targets: Mapping[str, float] = field(default_factory=lambda: types.MappingProxyType({}),
                                         metadata={"help": "The tier's targets (keys of `targets`)."})


@dataclass(frozen=True)
class GateSettings:
    strict: bool = key(False, "Strict gate: a metric the run did not measure fails instead of being skipped.")
    sample_lower_bound: bool = key(False, "With sampled mutants, a mutation score passes only when the lower "
                                          "bound of its 95 % interval meets the target.")


@dataclass(frozen=True)
class SampleSettings:
    mutants: float = key(0.0, "Mutants to test: 0 = all; N >= 1 = a random sample of N; 0 < f < 1 = that "
                              "fraction. The score is reported with its 95 % (Wilson) interval.", lo=0,
                      hi=1e9)
    seed: int = key(0, "Seed of the mutant sample: the same seed and code give the same sample.", lo=0,
                    hi=MAX_SEED)


@dataclass(frozen=True)
class Config:
    """The whole configuration. Nested sections are dataclasses; ``overrides`` maps module globs to targets."""

    source: tuple[str, ...] = key((), "Source packages or directories to measure, relative to the target root. "
                                      "Empty: discovered (src/ layout, flat packages).")
    tests: tuple[str, ...] = key((), "Test paths handed to pytest. Empty: tests/ or test/, else tests inside the "
                                     "package.")
    omit: tuple[str, ...] = key((), "Module-name globs to leave out of the scorecard (e.g. 'pkg._version').")
    pytest_args: tuple[str, ...] = key((), "Extra pytest arguments for every phase (after the harness's own, "
                                           "e.g. '-o', 'addopts=--import-mode=importlib').")
    workers: int = key(0, "pytest-xdist workers; 0 means one per CPU core.", lo=0, hi=512)
    timeout: float = key(1800.0, "Seconds one pytest run may take before the harness stops it.", lo=1,
                         hi=MAX_SECONDS)
    reports_dir: str = key("reports", "Where reports are written, relative to the target root.")
    cache_dir: str = key(".harness-cache", "Where the harness keeps its work copy and caches, relative to the "
                                           "target root.")
    targets: Targets = field(default_factory=Targets, metadata={"help": "Default targets for every module."})
    overrides: tuple[tuple[str, Mapping[str, float]], ...] = field(
        default=(), metadata={"help": "Per-module targets: a table per module-name glob, e.g. "
                                      "[overrides.\"pkg.core.*\"] branch_coverage = 100. Later globs win."})
    coverage: CoverageSettings = field(default_factory=CoverageSettings, metadata={"help": "Coverage phase."})
    runtime: RuntimeSettings = field(default_factory=RuntimeSettings, metadata={"help": "Runtime phase."})
    mutation: MutationSettings = field(default_factory=MutationSettings, metadata={"help": "Mutation phase."})
    flakiness: FlakinessSettings = field(default_factory=FlakinessSettings,
                                         metadata={"help": "Flakiness phase."})
    history: HistorySettings = field(default_factory=HistorySettings, metadata={"help": "Run history."})
    ratchet: RatchetSettings = field(default_factory=RatchetSettings, metadata={"help": "Baseline ratchet."})
    tiers: tuple[tuple[str, Tier], ...] = field(
        default=(), metadata={"help": "Named tiers by module glob with their own targets and plan weight, "
                                      "e.g. [tiers.critical] modules = [\"pkg.auth.*\"], weight = 3, "
                                      "mutation_score = 85."})
    profile: str = key("", "The profile to apply (`--profile`): its settings sit between the config file and "
                           "HARNESS_* variables. Built in: pr, nightly, release (see README).")
    profiles: tuple[tuple[str, Mapping[str, Any]], ...] = field(
        default=(), metadata={"help": "Profiles: [profiles.NAME] tables of config settings; a built-in name "
                                      "extends the built-in profile."})
    gate: GateSettings = field(default_factory=GateSettings, metadata={"help": "Gate options."})
    sample: SampleSettings = field(default_factory=SampleSettings, metadata={"help": "Mutant sampling."})
    since: str = key("", "Diff mode: a git ref (e.g. origin/main); coverage and mutation figures are also "
                         "given for the lines and functions changed since it, and only the changed "
                         "functions' mutants are tested. Empty: off.")
    archive: bool = key(False, "Write one archive (reports/archive-*.tar.gz) with every report and a "
                               "description of the environment (Python, packages, git commit, config).")

    def targets_for(self, module: str) -> Targets:
        """The targets of one module: the defaults with every matching override applied in order."""
        result = self.targets
        tier = self.tier_for(module)
        if tier is not None:
            result = replace(result, **tier[1].targets)
        for pattern, values in self.overrides:
            if fnmatch.fnmatchcase(module, pattern):
                result = replace(result, **values)
        return result

    def tier_for(self, module: str) -> tuple[str, Tier] | None:
        """(name, tier) of the first tier with a glob matching ``module``; None when it is in no tier."""
        for name, tier in self.tiers:
            if any(fnmatch.fnmatchcase(module, pattern) for pattern in tier.modules):
                return name, tier
        return None

    def tiers_by_module(self, modules: Iterable[str]) -> dict[str, str]:
        """Module name -> tier name, for the modules in a tier."""
        return {m: t[0] for m in modules if (t := self.tier_for(m)) is not None}

    def effective_workers(self) -> int:
        return self.workers or (os.cpu_count() or 1)


def check_globs(cfg: Config, modules: Iterable[str]) -> None:
    """Refuse an ``overrides`` or ``tiers`` glob that matches none of the project's modules: a typo would
    otherwise leave the module's targets silently as they were. The error names the key and the glob."""
    names = sorted(modules)
    globs = [(f'overrides."{pattern}"', pattern) for pattern, _ in cfg.overrides]
    globs += [(f"tiers.{name}.modules", pattern) for name, tier in cfg.tiers for pattern in tier.modules]
    for where, pattern in globs:
        if not any(fnmatch.fnmatchcase(n, pattern) for n in names):
            shown = ", ".join(names[:5]) + (f" (+{len(names) - 5} more)" if len(names) > 5 else "")
            raise ConfigError(f"config key '{where}': glob {pattern!r} matches no module of the project "
                              f"(modules: {shown})")


def describe_keys(cls: type = Config, prefix: str = "") -> list[tuple[str, str, str]]:
    """(key, default, help) for every declared key: the source of ``harness config --help`` and the docs."""
    rows = []
    hints = typing.get_type_hints(cls)
    for f in fields(cls):
        tp = hints[f.name]
        if isinstance(tp, type) and is_dataclass(tp):
            rows += describe_keys(tp, f"{prefix}{f.name}.")
            continue
        default = f.default if f.default is not MISSING else "{}"
        rows.append((prefix + f.name, repr(default), f.metadata.get("help", "")))
    return rows

