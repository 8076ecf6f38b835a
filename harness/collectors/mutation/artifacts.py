"""Where the mutation phase's artifacts live: the sandbox, and the raw files copied out of it into
``reports/raw/mutation/`` (mutmut's meta files, the driver's journal, status, limits, diffs, records)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.collectors.mutation.protocol import JOURNAL, Shard
from harness.discover import ModuleInfo
from harness.sampling import Scope

NAME = "mutation"


@dataclass(frozen=True)
class MutationArtifacts:
    raw: Path  # reports/raw/mutation
    sandbox: Path
    modules: tuple[ModuleInfo, ...]  # the modules mutmut was asked to mutate
    shard: Shard | None = None
    scope: Scope | None = None  # sampling / diff mode (harness.sampling); None: every mutant

    @property
    def meta_dir(self) -> Path:
        return self.raw / "meta"

    @property
    def status(self) -> Path:
        return self.raw / "status.json"

    @property
    def stats_restored(self) -> Path:
        """Written when mutmut's stats came back from the verdict cache into a cold sandbox (its key)."""
        return self.raw / "stats-restored.json"

    @property
    def journal(self) -> Path:
        """This run's journal (copied from the sandbox's at the end): the plan, then each verdict."""
        return self.raw / "journal.jsonl"

    @property
    def live_journal(self) -> Path:
        """The driver's journal in the sandbox: it outlives a killed run, whose next run replays it."""
        return self.sandbox / "mutants" / JOURNAL

    @property
    def limits(self) -> Path:
        return self.raw / "limits.jsonl"

    @property
    def diffs(self) -> Path:
        return self.raw / "diffs.json"

    @property
    def log(self) -> Path:
        return self.raw / "mutmut.log"

    @property
    def sources(self) -> Path:
        return self.raw / "sources"

    @property
    def quarantine(self) -> Path:
        """The driver's quarantine record (copied from the sandbox): every quarantined test and its cause."""
        return self.raw / "quarantine.json"

    @property
    def generated(self) -> Path:
        """What mutmut generated for each mutated file (the driver's record): the run's mutant sets."""
        return self.raw / "generated.json"

    @property
    def stats(self) -> Path:
        return self.raw / "mutmut-stats.json"

    @property
    def current(self) -> Path:
        """The test or phase the driver is in now (read when a run stops making progress)."""
        return self.raw / "current.json"

    @property
    def fingerprint(self) -> Path:
        return self.raw / "fingerprint.json"

    @property
    def budget(self) -> Path:
        """Written when the phase's time budget (``mutation.time_budget``) stopped mutmut: budget, elapsed, phase."""
        return self.raw / "budget.json"
