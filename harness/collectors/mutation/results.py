"""The mutation phase's results: per module verdicts, what generation produced, and ``reports/mutation.json``,
whole or one shard's part (``harness merge`` reads them back).

Mutation score (Stryker's definition) = detected / valid, detected = killed + timeout,
valid = detected + survived + no coverage; score on covered code = detected / (detected + survived).
Suspicious, skipped, interrupted and not-checked mutants are reported separately, outside both.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from harness.collectors.mutation import protocol
from harness.collectors.mutation.protocol import Shard
from harness.model import ModuleMutation, QuarantinedTest, Unmeasured
from harness.notes import Note, NoteKind, note
from harness.serialize import from_data, to_data
from harness.workspace import read_json, write_json

RESULTS_FILE = "mutation.json"
RESULTS_KIND = "mutation-results"


@dataclass(frozen=True)
class ModuleGeneration:
    """What mutmut generated for one module (before scope and shard), and how many of them are in scope."""

    mutants: int
    digest: str
    in_scope: int


@dataclass(frozen=True)
class MutationResult:
    by_module: dict[str, ModuleMutation]
    shard: Shard | None
    mutants_digest: (
        str  # the whole run's mutant names (every shard's), to check merged shards belong together
    )
    mutants_total: int
    run_seconds: float = 0.0
    executed_this_run: int = 0
    notes: tuple[Note, ...] = ()
    # Tests left out of the mutation phase (given, manual and found), each with its cause.
    quarantined: tuple[QuarantinedTest, ...] = ()
    # Modules whose mutation score could not be measured (no usable test left, results lost), with the cause.
    unmeasured: tuple[Unmeasured, ...] = ()
    # sha256 prefixes of the measured code (mutated modules and test files) and of the verdict-relevant config:
    # `harness merge` refuses shards that differ in either.
    source_fingerprint: str = ""
    config_fingerprint: str = ""
    generation: dict[str, ModuleGeneration] = field(default_factory=dict)
    # mutmut's function key (pkg.mod.x_f) -> the quarantined tests that executed it.
    quarantine_cover: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Modules whose results broke the run's invariant (not the mutants generation produced); their cells in
    # ``unmeasured`` come from the run, never recomputed by a merge.
    lost: tuple[str, ...] = ()
    # A shard that followed a shard plan (harness.shard_plan): the plan's digest and the mutants in scope it gives
    # this shard (those this run generated), which `harness merge` checks came back; "" and () by name hash.
    shard_plan: str = ""
    planned: tuple[str, ...] = ()


def mutant_order(key: str) -> tuple[str, int]:
    base, _, n = key.rpartition("__mutmut_")
    return base, int(n) if n.isdigit() else 0


def names_digest(names: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(names)).encode()).hexdigest()[:16]



def shard_note(shard: Shard, in_scope: int, generated: int) -> Note:
    """The note a shard's run adds about itself, saying how the mutants were split (``shard.split``: by the shard
    plan or by name hash, and why); ``harness merge`` takes it out by its kind."""
    return note(NoteKind.MUTATION_SHARD, shard=str(shard), in_scope=in_scope, generated=generated,
                split=shard.split)


def in_shard(mutant: str, shard: Shard) -> bool:
    """Does ``shard`` hold ``mutant``? (:func:`protocol.in_shard`, the driver's rule, with the shard's plan.)"""
    return protocol.in_shard(mutant, shard.index, shard.count, shard.plan)

# --------------------------------------------------------------------------------------------------- results


def write_results(result: MutationResult, reports: Path) -> Path:
    """``reports/mutation.json``: every mutant's verdict per module, whole or one shard's part, with what a merge
    checks (fingerprints, what generation produced per module) and the quarantine and unmeasured cells."""
    path = reports / RESULTS_FILE
    write_json(
        path,
        RESULTS_KIND,
        {
            "shard": [result.shard.index, result.shard.count] if result.shard else None,
            "mutants_digest": result.mutants_digest,
            "mutants_total": result.mutants_total,
            "source_fingerprint": result.source_fingerprint,
            "config_fingerprint": result.config_fingerprint,
            "generation": {name: to_data(g) for name, g in sorted(result.generation.items())},
            "quarantined": to_data(result.quarantined),
            "quarantine_cover": {k: list(v) for k, v in sorted(result.quarantine_cover.items())},
            "unmeasured": to_data(result.unmeasured),
            "lost": list(result.lost),
            "shard_plan": {"digest": result.shard_plan, "planned": list(result.planned)} if result.shard_plan
            else None,
            "notes": to_data(result.notes),
            "modules": {name: to_data(mm) for name, mm in sorted(result.by_module.items())},
        },
    )
    return path


def read_results(path: Path) -> MutationResult:
    doc = read_json(path, RESULTS_KIND)
    shard = Shard(*doc["shard"]) if doc.get("shard") else None
    by_module = {name: from_data(ModuleMutation, data) for name, data in doc.get("modules", {}).items()}
    plan = doc.get("shard_plan") or {}
    if not isinstance(plan, dict):
        raise ValueError("shard_plan: not an object")
    return MutationResult(
        by_module=by_module,
        shard=shard,
        mutants_digest=str(doc.get("mutants_digest", "")),
        mutants_total=int(doc.get("mutants_total", 0)),
        notes=from_data(tuple[Note, ...], doc.get("notes") or []),
        quarantined=from_data(tuple[QuarantinedTest, ...], doc.get("quarantined") or []),
        unmeasured=from_data(tuple[Unmeasured, ...], doc.get("unmeasured") or []),
        source_fingerprint=str(doc.get("source_fingerprint", "")),
        config_fingerprint=str(doc.get("config_fingerprint", "")),
        generation={k: from_data(ModuleGeneration, v) for k, v in (doc.get("generation") or {}).items()},
        quarantine_cover={str(k): tuple(v) for k, v in (doc.get("quarantine_cover") or {}).items()},
        lost=tuple(str(m) for m in doc.get("lost") or ()),
        shard_plan=str(plan.get("digest") or ""),
        planned=tuple(str(m) for m in plan.get("planned") or ()),
    )


