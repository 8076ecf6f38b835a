"""``harness merge DIR...``: the shards of a mutation run (``harness run --shard K/N``) made whole again.

Each shard's reports folder holds its scorecard (coverage, runtime and flakiness measured as usual) and its
``mutation.json`` (the verdicts of its slice of the mutants). Merging takes the first shard's scorecard, puts
in the union of every shard's mutants per module (counts recomputed from the verdicts: the same numbers a
single run gives), and gates it again with mutation score measured. Pure apart from reading the shards' files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from harness.collectors import mutation
from harness.config import Config
from harness.errors import UsageError
from harness.gate import gate
from harness.model import Metric, MutationCounts, Scorecard
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


def merge_dirs(dirs: Sequence[Path], cfg: Config) -> Scorecard:
    """The whole run's scorecard from its shards' reports folders (gated with ``cfg``)."""
    if not dirs:
        raise UsageError("harness merge needs the reports folders of the shards")
    folders = [reports_dir(d) for d in dirs]
    parts = [read_part(f / mutation.RESULTS_FILE) for f in folders]
    by_module = mutation.merge(parts)
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
    notes = tuple(n for n in card.notes if not n.startswith("mutation: shard "))
    notes += (f"mutation: merged from {len(parts)} shards ({', '.join(str(f) for f in folders)})",)
    merged = replace(card, modules=modules, totals=totals, metrics=metrics, notes=notes)
    return gate(merged, cfg)


def merged_results(dirs: Sequence[Path]) -> mutation.MutationResult:
    """The merged mutation results, to write as the whole run's ``mutation.json``."""
    parts = [read_part(reports_dir(d) / mutation.RESULTS_FILE) for d in dirs]
    return mutation.MutationResult(
        by_module=mutation.merge(parts),
        shard=None,
        mutants_digest=parts[0].mutants_digest,
        mutants_total=parts[0].mutants_total,
    )
