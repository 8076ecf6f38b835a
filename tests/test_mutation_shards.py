"""``harness merge``'s core (harness.shards): shard reports folders -> the whole run's gated scorecard."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import shards
from harness.collectors import mutation
from harness.config import Config
from harness.errors import UsageError
from harness.model import (
    Metric,
    ModuleMutation,
    ModuleScorecard,
    Mutant,
    MutantStatus,
    MutationCounts,
    ProjectTotals,
    Scorecard,
    Status,
)
from harness.reporters import json_report

STATUSES = [
    MutantStatus.KILLED,
    MutantStatus.SURVIVED,
    MutantStatus.KILLED,
    MutantStatus.TIMEOUT,
    MutantStatus.NO_COVERAGE,
    MutantStatus.KILLED,
    MutantStatus.KILLED,
    MutantStatus.SURVIVED,
]
MUTANTS = tuple(
    Mutant(f"pkg.mod.x_f__mutmut_{i}", "pkg.mod", "f", i, s, diff=f"-{i}\n+{i}")
    for i, s in enumerate(STATUSES, 1)
)
WHOLE = ModuleMutation(
    counts=MutationCounts.from_statuses(STATUSES), mutants=MUTANTS, statements=9, mutable_statements=6
)


def write_shard(folder: Path, shard: mutation.Shard) -> Path:
    mine = tuple(m for m in MUTANTS if mutation.in_shard(m.name, shard))
    part = ModuleMutation(
        counts=MutationCounts.from_statuses(m.status for m in mine),
        mutants=mine,
        statements=9,
        mutable_statements=6,
    )
    card = Scorecard(
        project="pkg",
        root="/x",
        modules=(ModuleScorecard("pkg.mod", "pkg/mod.py", mutation=part),),
        totals=ProjectTotals(mutation=part.counts),
        metrics=(Metric.LINE_COVERAGE,),
        notes=(f"mutation: shard {shard} holds {len(mine)} of 8 mutants",),
    )
    json_report.write(card, folder / "scorecard.json")
    names = [m.name for m in MUTANTS]
    mutation.write_results(
        mutation.MutationResult(
            by_module={"pkg.mod": part}, shard=shard, mutants_digest=mutation._digest(names), mutants_total=8
        ),
        folder,
    )
    return folder


def test_merge_dirs_gives_the_whole_run(tmp_path: Path) -> None:
    dirs = [write_shard(tmp_path / f"s{k}", mutation.Shard(k, 2)) for k in (1, 2)]
    card = shards.merge_dirs(dirs, Config())
    assert card.modules[0].mutation == WHOLE
    assert card.totals.mutation == WHOLE.counts
    assert Metric.MUTATION_SCORE in card.metrics
    verdict = next(v for v in card.modules[0].verdicts if v.metric is Metric.MUTATION_SCORE)
    assert verdict.status is Status.FAIL and verdict.value == pytest.approx(
        100 * 5 / 8
    )  # 5 detected / 8 valid
    assert not any(n.startswith("mutation: shard ") for n in card.notes)
    assert any("merged from 2 shards" in n for n in card.notes)


def test_merge_dirs_accepts_project_roots_and_refuses_other_folders(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    write_shard(root / "reports", mutation.Shard(1, 1))
    assert shards.reports_dir(root) == root / "reports"
    with pytest.raises(UsageError, match=r"holds no mutation\.json"):
        shards.reports_dir(tmp_path / "empty")
    with pytest.raises(UsageError, match="needs the reports folders"):
        shards.merge_dirs([], Config())
