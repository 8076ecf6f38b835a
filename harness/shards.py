"""``harness merge DIR...``: the shards of a mutation run (``harness run --shard K/N``) made whole again.

Each shard's reports folder holds its scorecard (coverage, runtime and flakiness measured as usual) and its
``mutation.json`` (the verdicts of its slice of the mutants, the fingerprints of the code and config it measured,
what mutmut generated per module, its quarantined tests and unmeasured modules). Merging refuses shards of
different code or config, takes the first shard's scorecard, puts in the union of every shard's mutants per
module (counts recomputed from the verdicts: the same numbers a single run gives), the union of the quarantined
tests and the mutation cells not measured, with its verdicts cleared and mutation score among its metrics: the
pipeline gates it once and ends it as it ends a run (``pipeline.merge``). A shard never gates its own partial score
(``pipeline.enabled_metrics``). Pure apart from reading the shards' files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

from harness import shard_plan
from harness.collectors import mutation
from harness.collectors import mutmut_adapter as adapter
from harness.collectors.mutation import quarantine as mq
from harness.errors import ArtifactError, HarnessError, UsageError
from harness.model import Metric, ModuleMutation, MutationCounts, QuarantinedTest, Scorecard, Unmeasured
from harness.notes import Note, NoteKind, note
from harness.workspace import read_scorecard, reading


def reports_dir(path: Path) -> Path:
    """A shard's reports folder: ``path`` itself, or ``path/reports`` when given the shard's project root."""
    for candidate in (path, path / "reports"):
        if (candidate / mutation.RESULTS_FILE).is_file():
            return candidate
    raise UsageError(f"{path} holds no {mutation.RESULTS_FILE}: not the reports folder of a mutation run")


def read_part(path: Path) -> mutation.MutationResult:
    """One shard's ``mutation.json``, refused (naming the file) when its shape or its shard is wrong."""
    with reading(path):
        part = mutation.read_results(path)
        shard = part.shard
        if shard is not None and not (type(shard.index) is int and type(shard.count) is int
                                      and 1 <= shard.index <= shard.count):
            raise ValueError(f"shard: {shard.index!r}/{shard.count!r} is not K/N with 1 <= K <= N")
    return part


class Merged(NamedTuple):
    card: Scorecard  # not gated yet
    results: mutation.MutationResult  # the whole run's mutation.json


def merge_dirs(dirs: Sequence[Path]) -> Merged:
    """The whole run's scorecard (not gated) and mutation results from its shards' reports folders."""
    if not dirs:
        raise UsageError("harness merge needs the reports folders of the shards")
    folders = [reports_dir(d) for d in dirs]
    parts = [read_part(f / mutation.RESULTS_FILE) for f in folders]
    merged = merge_results(parts)
    by_module = merged.by_module
    card = read_scorecard(folders[0] / "scorecard.json")
    modules = tuple(
        replace(c, mutation=by_module.get(c.module, c.mutation), verdicts=()) for c in card.modules
    )
    totals = replace(
        card.totals, verdicts=(), mutation=sum((m.counts for m in by_module.values()), start=MutationCounts())
    )
    metrics = (
        card.metrics if Metric.MUTATION_SCORE in card.metrics else (*card.metrics, Metric.MUTATION_SCORE)
    )
    notes = tuple(n for n in card.notes if n.kind is not NoteKind.MUTATION_SHARD)
    notes += (*merged.notes, note(NoteKind.MUTATION_MERGED, shards=len(parts), folders=[str(f) for f in folders]))
    # The mutation cells and quarantine are the merged run's; every other metric's stay the first shard's.
    unmeasured = (*(u for u in card.unmeasured if u.metric is not Metric.MUTATION_SCORE), *merged.unmeasured)
    quarantined: dict[str, QuarantinedTest] = {q.nodeid: q for q in merged.quarantined}
    for q in card.quarantined:
        quarantined.setdefault(q.nodeid, q)
    whole = replace(card, modules=modules, totals=totals, metrics=metrics, notes=notes, unmeasured=unmeasured,
                    quarantined=tuple(quarantined[k] for k in sorted(quarantined)))
    return Merged(whole, merged)


def write_next_plan(dirs: Sequence[Path], path: Path, root: Path) -> Note | None:
    """The next run's shard plan, for as many shards, from the merged run's per-mutant durations (each mutant kept
    on the shard that measured it unless that is unbalanced: ``shard_plan.rebalance``), written to ``path``;
    returns the note that says so (None for a single part: nothing to plan)."""
    parts = [read_part(reports_dir(d) / mutation.RESULTS_FILE) for d in dirs]
    count = len(parts)
    shown = path.relative_to(root) if path.is_relative_to(root) else path
    if count < 2:
        return None
    held = [(_number(p), x) for p in parts for mm in p.by_module.values() for x in mm.mutants]
    previous = {x.name: k for k, x in held}
    last, estimates = shard_plan.durations_of(x for _k, x in held)
    costs = shard_plan.expected_costs(previous, last, estimates)
    assignment = shard_plan.rebalance(costs, count, previous)
    expected = shard_plan.loads(assignment, costs, count)
    try:
        shard_plan.write(path, assignment, count, costs)
    except (OSError, HarnessError) as exc:
        return note(NoteKind.MUTATION_SHARD_PLAN_UNWRITTEN, path=str(shown), error=str(exc))
    return note(NoteKind.MUTATION_SHARD_PLAN, shards=count, low_seconds=round(min(expected), 3),
                high_seconds=round(max(expected), 3),
                path=str(shown))


def _number(part: mutation.MutationResult) -> int:
    """A part's shard number: K of its K/N, 1 for a whole run's results."""
    return part.shard.index if part.shard else 1


def _check_whole(parts: Sequence[mutation.MutationResult]) -> None:
    """Every shard of one K/N split, each once."""
    counts = {p.shard.count if p.shard else 1 for p in parts}
    indexes = sorted(_number(p) for p in parts)
    if len(counts) > 1 or indexes != list(range(1, counts.pop() + 1)):
        raise ArtifactError(f"shards do not form a whole run: got {', '.join(str(p.shard) for p in parts)}")


def _united_modules(parts: Sequence[mutation.MutationResult]) -> dict[str, ModuleMutation]:
    """Each module's mutants from every shard (a mutant with two verdicts refused), counts recomputed."""
    by_module: dict[str, ModuleMutation] = {}
    for part in parts:
        for name, mm in part.by_module.items():
            seen = by_module.get(name)
            if seen is None:
                by_module[name] = mm
                continue
            names = {x.name for x in seen.mutants}
            dup = next((x.name for x in mm.mutants if x.name in names), None)
            if dup:
                raise ArtifactError(f"mutant {dup} has a verdict in two shards")
            mutants = tuple(sorted((*seen.mutants, *mm.mutants), key=lambda x: mutation.mutant_order(x.name)))
            by_module[name] = replace(
                seen, mutants=mutants, counts=MutationCounts.from_statuses(x.status for x in mutants)
            )
    return by_module


def _check_fingerprints(parts: Sequence[mutation.MutationResult]) -> None:
    for what, attr, hint in (
        ("code", "source_fingerprint", "run every shard on the same commit"),
        ("config", "config_fingerprint", "run every shard with the same mutation settings"),
    ):
        seen = {getattr(p, attr) for p in parts}
        if len(seen) > 1:
            shown = ", ".join(f"{p.shard or 'whole'}: {getattr(p, attr) or 'none'}" for p in parts)
            raise ArtifactError(
                f"the shards were measured with different {what} ({attr.replace('_', ' ')}s {shown}); "
                f"refusing to merge: {hint}"
            )


def _check_same_plan(parts: Sequence[mutation.MutationResult]) -> None:
    """Every shard split the mutants by the same shard plan, or every one by name hash."""
    if len({p.shard_plan for p in parts}) > 1:
        shown = ", ".join(f"{p.shard}: {p.shard_plan or 'by name hash'}" for p in parts)
        raise ArtifactError(f"the shards split the mutants differently ({shown}); refusing to merge: every shard "
                            f"must read the same shard plan file (config key 'mutation.shard_plan', docs/ci.md)")


def _check_plan(parts: Sequence[mutation.MutationResult], lost: Mapping[str, Unmeasured]) -> None:
    """Every planned mutant that still exists (each shard lists the plan's mutants for it that its run generated,
    in scope) came back from its planned shard (``shard_plan.missing``); a module a shard lost is excused."""
    returned = {_number(p): {x.name for mm in p.by_module.values() for x in mm.mutants}
                for p in parts}
    assignment = {m: _number(p) for p in parts for m in p.planned
                  if adapter.location(m)[0] not in lost}
    gone = shard_plan.missing(assignment, returned)
    if gone:
        shard = min(gone)
        names = gone[shard]
        raise ArtifactError(
            f"shard {shard}/{len(parts)} did not bring back {len(names)} of the mutants the shard plan gives it "
            f"(first: {', '.join(names[:3])}); refusing to merge: run that shard again"
        )


def _check_generation(
    parts: Sequence[mutation.MutationResult], by_module: dict[str, ModuleMutation], lost: Mapping[str, Unmeasured]
) -> None:
    """The run's invariant across shards: each module's merged mutants are those generation produced (in scope);
    a module a shard reported lost stays not measured instead."""
    generation = parts[0].generation
    if any(p.generation != generation for p in parts):
        raise ArtifactError("the shards' mutmut generated different mutants; refusing to merge")
    for name, gen in generation.items():
        merged = by_module.get(name)
        held = sorted(x.name for x in merged.mutants) if merged else []
        whole = len(held) == gen.in_scope and (gen.in_scope != gen.mutants or mutation.names_digest(held) == gen.digest)
        if not whole and name not in lost:
            raise ArtifactError(
                f"the merged shards hold {len(held)} of module {name}'s {gen.in_scope} mutants in scope; a shard "
                f"is missing or was edited"
            )
    if not generation:
        total = sum(mm.counts.total for mm in by_module.values())
        expected = parts[0].mutants_total
        if expected and total != expected:
            raise ArtifactError(f"the merged shards hold {total} of the run's {expected} mutants")


def merge_results(parts: Sequence[mutation.MutationResult]) -> mutation.MutationResult:
    """Combine shard results into the whole run's: every mutant once, counts recomputed from the union.

    Raises :class:`ArtifactError` (one line) when the parts were measured on different code or config (their
    fingerprints or mutant sets differ), when a shard is missing or given twice, when a mutant has two verdicts,
    or when a module's merged mutants are not the set generation produced and no shard said it lost some (a
    module a shard did lose stays not measured).
    """
    if not parts:
        raise ArtifactError("nothing to merge")
    _check_fingerprints(parts)
    digests = {p.mutants_digest for p in parts}
    if len(digests) > 1:
        raise ArtifactError("the shards were run on different code (their mutant sets differ)")
    _check_whole(parts)
    _check_same_plan(parts)
    by_module = _united_modules(parts)
    lost = {u.module: u for p in parts for u in p.unmeasured if u.module in p.lost}
    _check_plan(parts, lost)
    _check_generation(parts, by_module, lost)
    quarantined: dict[str, QuarantinedTest] = {}
    cover: dict[str, set[str]] = {}
    for p in parts:
        for q in p.quarantined:
            quarantined.setdefault(q.nodeid, q)
        for k, v in p.quarantine_cover.items():
            cover.setdefault(k, set()).update(v)
    cause_by_test = {q.nodeid: q.cause.value for q in quarantined.values()}
    covered = {k: tuple(sorted(v)) for k, v in cover.items()}
    unmeasured = list(lost.values())
    for name, mm in sorted(by_module.items()):
        if name not in lost:
            cell = mq.module_unmeasured(name, mm, covered, cause_by_test)
            if cell is not None:
                unmeasured.append(cell)
    notes = []
    if len({frozenset(q.nodeid for q in p.quarantined) for p in parts}) > 1:
        notes.append(note(NoteKind.MUTATION_SHARDS_QUARANTINE, tests=len(quarantined)))
    return mutation.MutationResult(
        by_module=by_module,
        shard=None,
        mutants_digest=parts[0].mutants_digest,
        mutants_total=parts[0].mutants_total,
        notes=tuple(notes),
        quarantined=tuple(quarantined[k] for k in sorted(quarantined)),
        unmeasured=tuple(unmeasured),
        source_fingerprint=parts[0].source_fingerprint,
        config_fingerprint=parts[0].config_fingerprint,
        generation=dict(parts[0].generation),
        quarantine_cover=covered,
        lost=tuple(sorted(lost)),
    )
