"""Mutation collector: mutmut 3.8.1 in a sandbox copy of the target; per-mutant verdicts from its meta files.

``run`` (:mod:`.spawn`) syncs the target into ``<cache>/mutation`` (never the user's tree, :mod:`.sandbox`),
writes mutmut's config there from the harness config, and runs mutmut through the driver (:mod:`.driver`:
mutmut's own ``run`` with a faster test runner, per-mutant limits and atomic result files, in a separate
process that talks to the harness through the files typed in :mod:`.protocol`), reporting done/total and ETA as
verdicts arrive. The sandbox and mutmut's ``mutants/`` stay between runs, so a second run re-tests only the
functions whose code changed (mutmut's function hashes) plus survivors and no-test mutants whose covering
tests changed, and a killed run resumes where it stopped. Artifacts land in ``reports/raw/mutation/``
(:mod:`.artifacts`); ``parse`` (:mod:`.parse`) is pure; a failed run is explained by :mod:`.diagnose`;
``reports/mutation.json``, whole or a shard's part, is written and read by :mod:`.results`.

A test that cannot judge mutants leaves the phase, never the run (:mod:`.quarantine`, pure; applied inside
mutmut by :mod:`.driver_quarantine`): given by the earlier phases (``run(quarantine=...)``), listed by config
(``mutation.quarantine``), or found by the driver failing on mutmut's instrumented copy with no mutant active.
The result lists them with their cause (``MutationResult.quarantined``); a module whose mutants no remaining
test can judge, or whose results do not match what mutmut generated, is not measured
(``MutationResult.unmeasured``), never n/a and never a score.

Mutation score (Stryker's definition) = detected / valid, detected = killed + timeout,
valid = detected + survived + no coverage; score on covered code = detected / (detected + survived).
Suspicious, skipped, interrupted and not-checked mutants are reported separately, outside both.
"""

from __future__ import annotations

from harness.collectors.mutation.artifacts import NAME, MutationArtifacts
from harness.collectors.mutation.diagnose import MAX_CRASHES, crash_culprit
from harness.collectors.mutation.parse import lost_results, parse
from harness.collectors.mutation.protocol import Limits, Shard, read_limits
from harness.collectors.mutation.results import (
    RESULTS_FILE,
    RESULTS_KIND,
    ModuleGeneration,
    MutationResult,
    in_shard,
    mutant_order,
    names_digest,
    read_results,
    shard_note,
    write_results,
)
from harness.collectors.mutation.sandbox import (
    auto_quarantine,
    config_fingerprint,
    hash_test_files,
    mutmut_config,
    prepare_sandbox,
    sandbox_dir,
    selected_modules,
    snapshot_sandbox,
    source_fingerprint,
)
from harness.collectors.mutation.spawn import journal_progress, run, stall_message
from harness.model import MutantStatus

__all__ = [
    "MAX_CRASHES",
    "NAME",
    "RESULTS_FILE",
    "RESULTS_KIND",
    "Limits",
    "ModuleGeneration",
    "MutantStatus",
    "MutationArtifacts",
    "MutationResult",
    "Shard",
    "auto_quarantine",
    "config_fingerprint",
    "crash_culprit",
    "hash_test_files",
    "in_shard",
    "journal_progress",
    "lost_results",
    "mutant_order",
    "mutmut_config",
    "names_digest",
    "parse",
    "prepare_sandbox",
    "read_limits",
    "read_results",
    "run",
    "sandbox_dir",
    "selected_modules",
    "shard_note",
    "snapshot_sandbox",
    "source_fingerprint",
    "stall_message",
    "write_results",
]
