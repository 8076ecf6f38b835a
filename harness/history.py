"""Run history and baselines: what earlier runs measured, kept so that a run can be compared with them.

Every run appends one :class:`HistoryEntry` (time, git commit, config fingerprint, totals and per-module
figures) to ``<reports>/history.json``; ``harness trend`` prints it and the HTML dashboard draws it. A
baseline file (``harness baseline update``) holds one entry; :mod:`harness.ratchet` compares a run with it.
The figures are read from the model's own properties: nothing is recomputed here.

Files (both carry the format header of :mod:`harness.workspace`):
  history.json   kind "history",  {"entries": [entry, ...]}, oldest first, at most ``history.keep`` entries
  baseline.json  kind "baseline", {"entry": entry}
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness import __version__, git
from harness.config import Config
from harness.errors import ArtifactError, UsageError
from harness.model import METRICS, MODULE_METRICS, Metric, ModuleScorecard, RunMeta, Scorecard
from harness.notes import evidence_of
from harness.serialize import from_data, to_data
from harness.workspace import read_document, read_json, read_scorecard, reading, write_json

HISTORY_FILE = "history.json"
BASELINE_FILE = "baseline.json"


@dataclass(frozen=True)
class Figures:
    """One module's (or the project's) figures in one run, in percent; ``None`` is n/a or not measured."""

    line_coverage: float | None = None
    branch_coverage: float | None = None
    mutation_score: float | None = None
    flaky_rate: float | None = None
    test_seconds: float | None = None
    # The mutation score covers part of the module's mutants only (sampled, or diff mode's changed functions):
    # an estimate the ratchet does not compare.
    mutation_partial: bool = False

    @classmethod
    def read(cls, value: Callable[[Metric], float | None]) -> Figures:
        """The figures ``value`` gives each per-module metric (a field each, named by the metric)."""
        figures: dict[str, Any] = {m.value: value(m) for m in MODULE_METRICS}
        return cls(**figures)

    def value(self, metric: Metric) -> float | None:
        if metric is Metric.SUITE_RUNTIME:
            return None
        found: float | None = getattr(self, metric.value)
        return found


@dataclass(frozen=True)
class HistoryEntry:
    """The summary of one run, as history and baseline files store it."""

    time: str
    project: str
    commit: str | None = None
    dirty: bool = False
    config_fingerprint: str | None = None
    harness_version: str = __version__
    metrics: tuple[str, ...] = ()
    passed: bool = True
    missed: int = 0
    regressed: int = 0
    suite_runtime: float | None = None
    totals: Figures = field(default_factory=Figures)
    modules: dict[str, Figures] = field(default_factory=dict)

    def label(self) -> str:
        """``2026-11-21T18:00:00+00:00, commit 1a2b3c4d`` - how reports name a run."""
        commit = f", commit {self.commit[:8]}{'+dirty' if self.dirty else ''}" if self.commit else ""
        return f"{self.time}{commit}"


@dataclass(frozen=True)
class Baseline:
    """A baseline entry and where it came from (a file, or a history entry)."""

    entry: HistoryEntry
    source: str

    def describe(self) -> str:
        return f"{self.source} ({self.entry.label()})"


# --------------------------------------------------------------------------------------------------- entries


def module_figures(card: ModuleScorecard) -> Figures:
    """A module's figures, read through ``METRICS`` (``Figures`` has a field per per-module metric)."""
    mut, rt = card.mutation, card.runtime
    figures = Figures.read(lambda m: METRICS[m].module_value(card))
    return replace(figures, test_seconds=rt.test_seconds if rt and rt.tests else None,
                   mutation_partial=bool(mut and (mut.population or card.changes is not None)))


def entry_from_scorecard(sc: Scorecard) -> HistoryEntry:
    t = sc.totals
    # A project's flaky rate is 0 of 0 tests (n/a) when the flakiness phase did not run.
    totals = Figures.read(lambda m: METRICS[m].project_value(t))
    meta = sc.meta
    return HistoryEntry(
        time=meta.time,
        project=sc.project,
        commit=meta.commit,
        dirty=meta.dirty,
        config_fingerprint=meta.config_fingerprint,
        harness_version=meta.harness_version or __version__,
        metrics=tuple(m.value for m in sc.metrics),
        passed=sc.passed,
        missed=len(sc.violations),
        regressed=len(sc.regressions),
        suite_runtime=t.runtime.median if t.runtime else None,
        totals=totals,
        modules={c.module: module_figures(c) for c in sc.modules},
    )


def entry_to_data(entry: HistoryEntry) -> dict[str, Any]:
    data: dict[str, Any] = to_data(entry)
    return data


def entry_from_data(data: Any, where: Path, place: str = "entry") -> HistoryEntry:
    """Rebuild an entry; unknown keys are ignored, a missing time or project or a value of the wrong type is an
    :class:`ArtifactError` naming the file and the place (``entries[3].totals.line_coverage``)."""
    with reading(where):
        entry: HistoryEntry = from_data(HistoryEntry, data, place)
    return entry


# --------------------------------------------------------------------------------------------------- files


def read_history(reports: Path) -> list[HistoryEntry]:
    """The entries of ``<reports>/history.json``, oldest first; none when the file does not exist yet."""
    path = reports / HISTORY_FILE
    if not path.exists():
        return []
    return read_history_file(path)


def extended(reports: Path, sc: Scorecard, keep: int) -> list[HistoryEntry]:
    """The history's entries with this run appended (the last ``keep``), without writing them."""
    return [*read_history(reports), entry_from_scorecard(sc)][-keep:]


def write_history(reports: Path, entries: list[HistoryEntry]) -> None:
    """Replace the history file (atomically) with ``entries``."""
    write_json(reports / HISTORY_FILE, "history", {"entries": [entry_to_data(e) for e in entries]})


def append(reports: Path, sc: Scorecard, keep: int) -> list[HistoryEntry]:
    """Append this run to the history file (atomically) and return all the entries it now holds."""
    entries = extended(reports, sc, keep)
    write_history(reports, entries)
    return entries


def write_baseline(path: Path, entry: HistoryEntry) -> None:
    write_json(path, "baseline", {"entry": entry_to_data(entry)})


def read_baseline(path: Path) -> HistoryEntry:
    """A baseline from a baseline file, a history file (its last entry) or a scorecard.json."""
    doc = read_document(path)
    kind = doc.get("kind") if isinstance(doc, dict) else None
    if kind == "history":
        entries = read_history_file(path)
        if not entries:
            raise ArtifactError(f"baseline {path} is a history file without entries")
        return entries[-1]
    if kind == "scorecard":
        return entry_from_scorecard(read_scorecard(path))
    return entry_from_data(read_json(path, "baseline").get("entry"), path)


def read_history_file(path: Path) -> list[HistoryEntry]:
    doc = read_json(path, "history")
    with reading(path):
        entries: tuple[HistoryEntry, ...] = from_data(tuple[HistoryEntry, ...], doc.get("entries", []), "entries")
    return list(entries)


def check_given(path: Path, option: str) -> None:
    """A file the user named (``--baseline``, ``--from``, ``ratchet.baseline``) must exist: a usage error."""
    if not path.exists():
        raise UsageError(f"{option} names {path}, which does not exist")
    if not path.is_file():
        raise UsageError(f"{option} names {path}, which is not a file")


def resolve_baseline(root: Path, reports: Path, cfg: Config, explicit: Path | None = None) -> Baseline | None:
    """The baseline a run is ratcheted against, first found of:

    ``--baseline FILE``; the ``ratchet.baseline`` config key; ``<reports>/baseline.json``; the last history
    entry that had no regressions (so that a regressed run never lowers the bar for the next one).
    None when the ratchet is disabled (and no file was given) or there is nothing to compare with.
    """
    if explicit is not None:
        check_given(explicit, "--baseline")
        return Baseline(read_baseline(explicit), str(explicit))
    if not cfg.ratchet.enabled:
        return None
    if cfg.ratchet.baseline:
        path = root / cfg.ratchet.baseline
        if not path.exists():
            raise UsageError(f"config key 'ratchet.baseline' names {path}, which does not exist "
                             f"(write it with `harness baseline update --output {cfg.ratchet.baseline}`)")
        check_given(path, "config key 'ratchet.baseline'")
        return Baseline(read_baseline(path), cfg.ratchet.baseline)
    if (reports / BASELINE_FILE).exists():
        return Baseline(read_baseline(reports / BASELINE_FILE), str(reports / BASELINE_FILE))
    for entry in reversed(read_history(reports)):
        if not entry.regressed:
            return Baseline(entry, "last history entry")
    return None


# ----------------------------------------------------------------------------------------------- run facts


def config_fingerprint(cfg: Config) -> str:
    """sha256 (12 hex digits) of the settings that change what is measured (not workers, timeouts, paths)."""
    data = to_data(cfg)
    for volatile in ("workers", "timeout", "reports_dir", "cache_dir", "history", "ratchet"):
        data.pop(volatile, None)
    data.get("mutation", {}).pop("shard_plan", None)  # a path, like cache_dir: it changes no figure
    data.get("coverage", {}).pop("reuse", None)  # a cache policy: a reused run's figures are a run's figures
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]


def run_facts(root: Path, cfg: Config, meta: RunMeta | None = None) -> RunMeta:
    """What a history entry records about a run beyond its figures: git commit (if any), dirty, fingerprint.

    The one place here that runs a tool (read-only ``git``); a target outside git has no commit.
    """
    commit = git.output_or_none(root, "rev-parse", "HEAD")
    dirty = bool(git.output_or_none(root, "status", "--porcelain", "--untracked-files=no")) if commit else False
    return replace(meta or RunMeta(), commit=commit, dirty=dirty, config_fingerprint=config_fingerprint(cfg))


# ----------------------------------------------------------------------------------------------- flaky evidence

EVIDENCE_FILE = "flaky-evidence.json"


@dataclass(frozen=True)
class TestEvidence:
    """One test's outcomes summed over every run of unchanged code the harness has judged it in, across
    sessions (e.g. nightly runs), so that detection power grows night after night and a failure is never
    forgotten."""

    __test__ = False

    runs: int = 0
    failures: int = 0
    sessions: int = 0
    first_seen: str = ""
    last_failure: str | None = None

    def describe(self, nodeid: str) -> str:
        """``test X: 0 failures in 143 runs over 13 sessions`` (worded by :func:`notes.evidence_of`)."""
        return evidence_of(*self.facts(nodeid))

    def facts(self, nodeid: str) -> tuple[str, int, int, int, str | None]:
        return nodeid, self.failures, self.runs, self.sessions, self.last_failure


def read_evidence(reports: Path) -> dict[str, TestEvidence]:
    path = reports / EVIDENCE_FILE
    if not path.exists():
        return {}
    doc = read_json(path, "flaky-evidence")
    tests = doc.get("tests")
    if not isinstance(tests, dict):
        raise ArtifactError(f"{path}: 'tests' is not a table; delete the file to start the evidence afresh")
    out = {}
    for nodeid, data in tests.items():
        try:
            out[str(nodeid)] = TestEvidence(runs=int(data["runs"]), failures=int(data["failures"]),
                                            sessions=int(data["sessions"]), first_seen=str(data["first_seen"]),
                                            last_failure=data.get("last_failure"))
        except (KeyError, TypeError, ValueError):
            raise ArtifactError(f"{path}: the entry of {nodeid!r} is malformed; delete the file to start the "
                                "evidence afresh") from None
    return out


def update_evidence(reports: Path, outcomes: dict[str, tuple[int, int]], when: str) -> dict[str, TestEvidence]:
    """Add this session's (runs, failures) per test to ``<reports>/flaky-evidence.json``; returns the sums."""
    evidence = read_evidence(reports)
    for nodeid, (runs, failures) in outcomes.items():
        before = evidence.get(nodeid, TestEvidence(first_seen=when))
        evidence[nodeid] = TestEvidence(runs=before.runs + runs, failures=before.failures + failures,
                                        sessions=before.sessions + 1, first_seen=before.first_seen,
                                        last_failure=when if failures else before.last_failure)
    write_json(reports / EVIDENCE_FILE, "flaky-evidence",
               {"tests": {n: to_data(e) for n, e in sorted(evidence.items())}})
    return evidence
