"""Reading a mutation run (pure apart from reading files): per-module verdicts from mutmut's meta files, the
diffs and sources, checked against what generation produced, with the driver's quarantine, limits and scope."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harness.collectors import mutmut_adapter as adapter
from harness.collectors.mutation import quarantine as mq
from harness.collectors.mutation.artifacts import MutationArtifacts
from harness.collectors.mutation.protocol import (
    DriverStatus,
    Limits,
    Shard,
    read_journal,
    read_limits,
    read_plain_json,
    read_status,
    read_text,
)
from harness.collectors.mutation.results import (
    ModuleGeneration,
    MutationResult,
    in_shard,
    mutant_order,
    names_digest,
    shard_note,
)
from harness.discover import ModuleInfo, Project
from harness.errors import ArtifactError, NoDataError
from harness.model import (
    Metric,
    ModuleMutation,
    Mutant,
    MutantStatus,
    MutationCounts,
    QuarantinedTest,
    Unmeasured,
)
from harness.notes import Note, NoteKind, note, read_note
from harness.sampling import sample, wilson


@dataclass(frozen=True)
class _Run:
    """What one run left besides the meta files, read once for every module."""

    diffs: dict[str, Any]
    limits: Limits
    generated: dict[str, dict[str, Any]] | None
    cover: dict[str, tuple[str, ...]]
    cause_by_test: dict[str, str]
    population: set[str] | None
    selected: set[str] | None
    budget: float | None = None  # the time budget that stopped the run, if it did (``mutation.time_budget``)


@dataclass(frozen=True)
class _Module:
    """One mutated module read: its verdicts, what generation produced, why it is lost or not measured."""

    mutation: ModuleMutation
    generation: ModuleGeneration
    names: list[str]
    scoped: list[str]  # in scope (sample, diff mode), before the shard's slice
    lost: str | None
    unmeasured: Unmeasured | None


def parse(art: MutationArtifacts, project: Project) -> MutationResult:
    """Per-module mutation results from mutmut's meta files, the diffs, the sources and the driver's records
    (generation, quarantine, limits). Pure (reads files).

    A module is *not measured* (an :class:`~harness.model.Unmeasured` entry, never n/a and never a score) when
    its mutants at the end are not the set generation produced (results missing, unreadable or changed during
    the run), or when none of its mutants got a verdict from a test: every covering test quarantined, or every
    mutant suspicious, interrupted or unchecked.
    """
    entries = [e for e in read_plain_json(art.quarantine).get("tests") or () if isinstance(e, Mapping)]
    quarantined = tuple(mq.from_entry(e) for e in entries)
    population, selected = _scoped(art)
    run = _Run(
        diffs=read_plain_json(art.diffs),
        limits=read_limits(art.limits),
        generated=_generated(art.generated),
        cover={k: tuple(v) for k, v in mq.covering_by_function(entries).items()},
        cause_by_test={q.nodeid: q.cause.value for q in quarantined},
        population=population,
        selected=selected,
        budget=_budget(art),
    )
    read = {m.name: _module(art, m, run) for m in art.modules}
    by_module = {name: r.mutation for name, r in read.items()}
    unmeasured = [r.unmeasured for r in read.values() if r.unmeasured is not None]
    all_names = [n for r in read.values() for n in r.names]
    for left_out in (m for m in project.modules if m not in art.modules):
        by_module[left_out.name] = ModuleMutation(
            counts=MutationCounts(),
            not_mutated_reason="not mutated: left out by config keys 'mutation.modules'/'mutation.exclude'",
        )
    if not all_names and not unmeasured:
        raise NoDataError(
            f"mutmut generated zero mutants in {', '.join(m.name for m in art.modules)}: nothing "
            f"it can mutate (module-level code, class bodies, decorated functions); log {art.log}"
        )
    status = read_status(art.status)
    started = status.get("mutants_started") or status.get("started")
    ended = status.get("ended")
    prints = read_plain_json(art.fingerprint)
    return MutationResult(
        by_module=by_module,
        shard=art.shard,
        mutants_digest=names_digest(all_names),
        mutants_total=len(all_names),
        run_seconds=float(ended) - float(started) if started and ended else 0.0,
        executed_this_run=_journal_results(art.journal),
        notes=tuple(_notes(art, status, run, by_module, quarantined, len(all_names))),
        quarantined=quarantined,
        unmeasured=tuple(unmeasured),
        source_fingerprint=str(prints.get("source", "")),
        config_fingerprint=str(prints.get("config", "")),
        generation={name: r.generation for name, r in read.items()},
        quarantine_cover=run.cover,
        lost=tuple(name for name, r in read.items() if r.lost),
        shard_plan=art.shard.plan_digest if art.shard is not None and art.shard.plan else "",
        planned=_planned(art.shard, (n for r in read.values() for n in r.scoped)),
    )


def _module(art: MutationArtifacts, m: ModuleInfo, run: _Run) -> _Module:
    source = read_text(art.sources / m.path)
    reach = _reach(source, m.path)
    meta, problem = _load_meta(art.meta_dir / (m.path + ".meta"))
    gen = run.generated.get(m.path) if run.generated is not None else None
    gen_names = list(gen["mutants"]) if gen is not None and isinstance(gen.get("mutants"), list) else None
    keys = list(meta.exit_code_by_key) if meta else []
    lost = lost_results(m, keys, problem, gen_names, gen, run.generated is not None)
    names = gen_names if gen_names is not None else keys
    in_population = sum(1 for k in keys if k in run.population) if run.population is not None else 0
    if run.selected is not None:
        keys = [k for k in keys if k in run.selected]
    generation = ModuleGeneration(mutants=len(names), digest=names_digest(names), in_scope=len(keys))
    scoped = keys
    if art.shard is not None:
        keys = [k for k in keys if in_shard(k, art.shard)]
    mutants = tuple(_mutant(m, key, meta, source, run) for key in sorted(keys, key=mutant_order))
    reason = None
    if not lost and not keys and gen_names == [] and not (meta and meta.exit_code_by_key):
        reason = "mutmut found nothing to mutate: " + (
            "no function it can mutate (module-level code, "
            "class bodies and decorated functions are out of its reach)"
            if reach.mutable_statements == 0
            else "its functions hold no mutable expression"
        )
    mm = ModuleMutation(
        counts=MutationCounts.from_statuses(x.status for x in mutants),
        mutants=mutants,
        statements=reach.statements,
        mutable_statements=reach.mutable_statements,
        unmutable_functions=reach.unmutable_functions,
        not_mutated_reason=reason,
        population=in_population if art.scope is not None and art.scope.sample else 0,
    )
    if lost:
        cell: Unmeasured | None = Unmeasured(m.name, Metric.MUTATION_SCORE, lost)
    elif run.budget is not None and (stopped := budget_unmeasured(m.name, mm, run.budget)) is not None:
        cell = stopped
    else:
        cell = mq.module_unmeasured(m.name, mm, run.cover, run.cause_by_test, run.limits.errors)
    return _Module(mutation=mm, generation=generation, names=names, scoped=scoped, lost=lost, unmeasured=cell)


def _mutant(m: ModuleInfo, key: str, meta: adapter.MetaFile | None, source: str, run: _Run) -> Mutant:
    assert meta is not None
    entry = run.diffs.get(key)
    diff = str(entry[1]) if isinstance(entry, list) and len(entry) == 2 else ""
    function = adapter.function_name(key)
    status = adapter.status_of(meta.exit_code_by_key[key])
    return Mutant(
        name=key,
        module=m.name,
        function=function,
        line=adapter.mutated_line(diff, source, function) if diff else None,
        status=status,
        diff=diff,
        duration=meta.durations_by_key.get(key),
        note=_mutant_note(key, status, run.limits, run.cover, run.cause_by_test),
    )


def _notes(
    art: MutationArtifacts,
    status: DriverStatus,
    run: _Run,
    by_module: Mapping[str, ModuleMutation],
    quarantined: Sequence[QuarantinedTest],
    generated: int,
) -> list[Note]:
    """The phase's notes: the driver's own, then the shard, scope, quarantine, limits and unjudged mutants."""
    notes = driver_notes(status)
    if art.shard is not None:
        scope = sum(mm.counts.total for mm in by_module.values())
        shard = art.shard
        if shard.plan:
            held = (x.name for mm in by_module.values() for x in mm.mutants)
            unnamed = sum(1 for name in held if name not in shard.plan)
            shard = replace(shard, split=f"{shard.split}: {unnamed} of them here")
        notes.append(shard_note(shard, scope, generated))
    notes += _scope_notes(art, by_module, run.population)
    notes += mq.quarantine_notes(quarantined, read_plain_json(art.quarantine), by_module)
    limits = run.limits
    if limits.memory:
        notes.append(note(NoteKind.MUTATION_MEMORY, mutants=len(limits.memory)))
    if limits.errors:
        notes.append(note(NoteKind.MUTATION_RUNNER, mutants=len(limits.errors),
                          first=str(next(iter(limits.errors.values()))), details=str(art.limits)))
    if limits.warnings:
        notes.append(note(NoteKind.MUTATION_WARNING, warning=str(next(iter(limits.warnings))),
                          mutants=len(limits.warnings)))
    unchecked = sum(mm.counts.not_checked + mm.counts.interrupted for mm in by_module.values())
    if run.budget is not None:
        total = sum(mm.counts.total for mm in by_module.values())
        notes.append(note(NoteKind.MUTATION_BUDGET, budget=run.budget, judged=total - unchecked, mutants=total))
    elif unchecked:
        notes.append(note(NoteKind.MUTATION_UNCHECKED, mutants=unchecked))
    suspicious = sum(mm.counts.suspicious for mm in by_module.values())
    if suspicious:
        notes.append(note(NoteKind.MUTATION_SUSPICIOUS, mutants=suspicious))
    return notes


def budget_unmeasured(module: str, mm: ModuleMutation, budget: float) -> Unmeasured | None:
    """A module the time budget stopped before all its mutants were judged: not measured, saying how far it
    got; None when every mutant of it was judged (its score stands)."""
    c = mm.counts
    unjudged = c.not_checked + c.interrupted
    if not unjudged:
        return None
    so_far = f"score so far {c.score:.1f} %" if c.score is not None else "no score yet"
    return Unmeasured(
        module,
        Metric.MUTATION_SCORE,
        f"time budget of {budget:g} s reached (config key 'mutation.time_budget'): {c.total - unjudged} of "
        f"{c.total} mutants judged ({so_far}); the next run resumes",
    )


def _budget(art: MutationArtifacts) -> float | None:
    """The time budget that stopped the run (``art.budget``, written by :mod:`.spawn`); None if it did not."""
    budget = read_plain_json(art.budget).get("budget")
    return float(budget) if isinstance(budget, (int, float)) and not isinstance(budget, bool) else None


def driver_notes(status: DriverStatus) -> list[Note]:
    """What the driver healed or changed on its own: the kinds it sent, with their facts."""
    out = []
    for sent in status.get("notes") or ():
        with contextlib.suppress(ValueError):
            out.append(read_note(sent))
    return out


def _load_meta(path: Path) -> tuple[adapter.MetaFile | None, str | None]:
    """(meta file, None), or (None, why not: "missing" or how it is unreadable)."""
    if not path.is_file():
        return None, "missing"
    try:
        return adapter.load_meta(path), None
    except ArtifactError as exc:
        return None, str(exc)


def _generated(path: Path) -> dict[str, dict[str, Any]] | None:
    """The driver's generation record: mutated file path -> {mutants, sha256, problem}; None when missing."""
    doc = read_plain_json(path)
    files = doc.get("files")
    if not isinstance(files, dict):
        return None
    return {str(k): v for k, v in files.items() if isinstance(v, dict)}


def lost_results(
    module: ModuleInfo,
    keys: Sequence[str],
    problem: str | None,
    generated: Sequence[str] | None,
    entry: Mapping[str, Any] | None,
    have_record: bool,
) -> str | None:
    """The invariant of a mutation run: a module's mutants at the end are exactly those generation produced.
    None when they are; else why the module cannot be scored (one sentence)."""
    if not have_record:
        return (
            "the mutation driver's record of what mutmut generated is missing, so this module's results cannot "
            "be checked; run again"
        )
    if generated is None:
        why = str(entry.get("problem")) if entry else "no mutated file was recorded"
        return f"mutmut generated no readable set of mutants for {module.path} ({why}); run again"
    if problem == "missing":
        if not generated:
            return None
        return (
            f"mutmut's results for {module.name} are missing (its meta file was deleted during the run?) although "
            f"generation produced {len(generated)} mutants; the next run regenerates them"
        )
    if problem is not None:
        return f"mutmut's results for {module.name} are unreadable ({problem}); the next run rebuilds them"
    if sorted(keys) != sorted(generated):
        return (
            f"mutmut's results for {module.name} hold {len(keys)} mutants but generation produced "
            f"{len(generated)}; the next run regenerates them"
        )
    return None


def _mutant_note(
    key: str,
    status: MutantStatus,
    limits: Limits,
    cover: Mapping[str, Sequence[str]],
    cause_by_test: Mapping[str, str],
) -> str:
    if key in limits.memory:
        return "killed by the memory limit"
    if key in limits.errors:
        return f"the harness's runner failed: {limits.errors[key]}"
    if status in (MutantStatus.NO_COVERAGE, MutantStatus.NOT_CHECKED):
        tests = cover.get(adapter.stats_key(key))
        if tests:
            return mq.quarantine_note(list(tests), cause_by_test)
    return ""


def _reach(source: str, path: str) -> adapter.Reach:
    try:
        return adapter.reach(source)
    except (SyntaxError, ValueError):
        raise ArtifactError(f"cannot parse {path} to measure what mutmut can reach") from None


def _scoped(art: MutationArtifacts) -> tuple[set[str] | None, set[str] | None]:
    """(population, selection) of a sampled or diff-mode run, from every mutant in the meta files - the
    driver's rule (harness.sampling) on the same names; (None, None) when every mutant is in scope."""
    if art.scope is None:
        return None, None
    names: list[str] = []
    for m in art.modules:
        meta, _problem = _load_meta(art.meta_dir / (m.path + ".meta"))
        if meta is not None:
            names += meta.exit_code_by_key
    population = art.scope.population(names, adapter.location)
    return population, sample(population, art.scope.sample, art.scope.seed)


def _scope_notes(
    art: MutationArtifacts, by_module: Mapping[str, ModuleMutation], population: set[str] | None
) -> list[Note]:
    scope = art.scope
    if scope is None or population is None:
        return []
    notes = []
    if scope.functions is not None:
        changed = sum(len(fs) for fs in scope.functions.values())
        notes.append(note(NoteKind.MUTATION_DIFF, since=scope.since, mutants=len(population), functions=changed))
    if scope.sample:
        counts = sum((mm.counts for mm in by_module.values()), start=MutationCounts())
        bounds = wilson(counts.detected, counts.valid)
        notes.append(note(NoteKind.MUTATION_SAMPLE, mutants=counts.total, population=len(population),
                          seed=scope.seed, score=counts.score, interval=list(bounds) if bounds else None))
    return notes



def _planned(shard: Shard | None, scoped: Iterable[str]) -> tuple[str, ...]:
    """The mutants in scope the shard plan gives this shard (what `harness merge` checks came back): every shard
    generates every mutant, so each knows which of the plan's still exist."""
    if shard is None or not shard.plan:
        return ()
    plan = shard.plan
    return tuple(sorted(name for name in scoped if plan.get(name) == shard.index))


def _journal_results(journal: Path) -> int:
    return sum(1 for e in read_journal(journal) or () if e["event"] == "result")
