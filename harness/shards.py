"""``harness merge DIR...``: the shards of a mutation run (``harness run --shard K/N``) made whole again.

Each shard's reports folder holds its scorecard (coverage, runtime and flakiness measured as usual) and its
``mutation.json`` (the verdicts of its slice of the mutants, the fingerprints of the code and config it measured,
what mutmut generated per module, its quarantined tests and unmeasured modules). Merging refuses shards of
different code or config, takes the first shard's scorecard, puts in the union of every shard's mutants per
module (counts recomputed from the verdicts: the same numbers a single run gives), the union of the quarantined
tests and the mutation cells not measured, and gates it again with mutation score measured. A shard never gates
its own partial score (``pipeline.enabled_metrics``). Pure apart from reading the shards' files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from harness.collectors import mutation
from harness.config import Config
from harness.errors import UsageError
from harness.gate import gate
from harness.model import Metric, MutationCounts, QuarantinedTest, Scorecard
from harness.serialize import scorecard_from_dict
from harness.workspace import read_json


def reports_dir(path: Path) -> Path:
    """A shard's reports folder: ``path`` itself, or ``path/reports`` when given the shard's project root."""
    for candidate in (path, path / "reports"):
        if (candidate / mutation.RESULTS_FILE).is_file():
            return candidate
    raise UsageError(f"{path} holds no {mutation.RESULTS_FILE}: not the reports folder of a mutation run")


def merge_dirs(dirs: Sequence[Path], cfg: Config) -> Scorecard:
    """The whole run's scorecard from its shards' reports folders (gated with ``cfg``)."""
    if not dirs:
        raise UsageError("harness merge needs the reports folders of the shards")
    folders = [reports_dir(d) for d in dirs]
    parts = [mutation.read_results(f / mutation.RESULTS_FILE) for f in folders]
    merged = mutation.merge(parts)
    by_module = merged.by_module
    card = scorecard_from_dict(read_json(folders[0] / "scorecard.json", "scorecard"))
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
    notes += (*merged.notes, f"mutation: merged from {len(parts)} shards ({', '.join(str(f) for f in folders)})")
    # The mutation cells and quarantine are the merged run's; every other metric's stay the first shard's.
    unmeasured = (*(u for u in card.unmeasured if u.metric is not Metric.MUTATION_SCORE), *merged.unmeasured)
    quarantined: dict[str, QuarantinedTest] = {q.nodeid: q for q in merged.quarantined}
    for q in card.quarantined:
        quarantined.setdefault(q.nodeid, q)
    whole = replace(card, modules=modules, totals=totals, metrics=metrics, notes=notes, unmeasured=unmeasured,
                    quarantined=tuple(quarantined[k] for k in sorted(quarantined)))
    return gate(whole, cfg)


def merged_results(dirs: Sequence[Path]) -> mutation.MutationResult:
    """The merged mutation results, to write as the whole run's ``mutation.json``."""
    return mutation.merge([mutation.read_results(reports_dir(d) / mutation.RESULTS_FILE) for d in dirs])
