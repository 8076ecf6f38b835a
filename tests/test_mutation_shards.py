"""``harness merge``'s core (harness.shards): shard reports folders -> the whole run's gated scorecard."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from harness import pipeline, shard_plan, shards
from harness.collectors import mutation
from harness.config import Config, load_config
from harness.errors import ArtifactError, UsageError
from harness.gate import gate
from harness.model import (
    Metric,
    ModuleMutation,
    ModuleScorecard,
    Mutant,
    MutantStatus,
    MutationCounts,
    ProjectTotals,
    QuarantineCause,
    QuarantinedTest,
    Scorecard,
    Status,
    Unmeasured,
)
from harness.notes import NoteKind, note, text_note
from harness.reporters import json_report
from harness.workspace import read_scorecard

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
GENERATION = {"pkg.mod": mutation.ModuleGeneration(8, mutation.names_digest(m.name for m in MUTANTS), 8)}
WHOLE = ModuleMutation(
    counts=MutationCounts.from_statuses(STATUSES), mutants=MUTANTS, statements=9, mutable_statements=6
)


def write_shard(folder: Path, shard: mutation.Shard, **fields: Any) -> Path:
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
        notes=(mutation.shard_note(shard, len(mine), 8),),
    )
    json_report.write(card, folder / "scorecard.json")
    names = [m.name for m in MUTANTS]
    mutation.write_results(
        mutation.MutationResult(
            by_module={"pkg.mod": part},
            shard=shard,
            mutants_digest=mutation.names_digest(names),
            mutants_total=8,
            **{"source_fingerprint": "src1", "config_fingerprint": "cfg1", "generation": GENERATION, **fields},
        ),
        folder,
    )
    return folder


def test_merge_dirs_gives_the_whole_run(tmp_path: Path) -> None:
    dirs = [write_shard(tmp_path / f"s{k}", mutation.Shard(k, 2)) for k in (1, 2)]
    card = gate(shards.merge_dirs(dirs).card, Config())
    assert card.modules[0].mutation == WHOLE
    assert card.totals.mutation == WHOLE.counts
    assert Metric.MUTATION_SCORE in card.metrics
    verdict = next(v for v in card.modules[0].verdicts if v.metric is Metric.MUTATION_SCORE)
    assert verdict.status is Status.FAIL and verdict.value == pytest.approx(
        100 * 5 / 8
    )  # 5 detected / 8 valid
    assert not any(n.text.startswith("mutation: shard ") for n in card.notes)
    assert any("merged from 2 shards" in n.text for n in card.notes)


def test_merge_dirs_accepts_project_roots_and_refuses_other_folders(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    write_shard(root / "reports", mutation.Shard(1, 1))
    assert shards.reports_dir(root) == root / "reports"
    with pytest.raises(UsageError, match=r"holds no mutation\.json"):
        shards.reports_dir(tmp_path / "empty")
    with pytest.raises(UsageError, match=r"^harness merge needs the reports folders of the shards$"):
        shards.merge_dirs([])


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"source_fingerprint": "src2"}, "different code .*source fingerprints"),
        ({"config_fingerprint": "cfg2"}, "different config .*config fingerprints"),
        ({"generation": {"pkg.mod": mutation.ModuleGeneration(9, "other", 9)}}, "generated different mutants"),
    ],
)
def test_merge_refuses_shards_of_other_code_or_config(tmp_path: Path, fields: dict[str, Any], message: str) -> None:
    """Same mutant names, other code or config: refused in one line (issue 10e)."""
    dirs = [write_shard(tmp_path / "s1", mutation.Shard(1, 2)), write_shard(tmp_path / "s2", mutation.Shard(2, 2),
                                                                            **fields)]
    with pytest.raises(ArtifactError, match=message) as info:
        shards.merge_dirs(dirs)
    assert "\n" not in str(info.value)


def test_merge_refuses_a_module_short_of_its_generated_mutants(tmp_path: Path) -> None:
    """The run's invariant across shards: the union of a module's mutants is what generation produced."""
    dirs = [write_shard(tmp_path / f"s{k}", mutation.Shard(k, 2)) for k in (1, 2)]
    doc = json.loads((dirs[1] / "mutation.json").read_text())
    doc["modules"]["pkg.mod"]["mutants"] = doc["modules"]["pkg.mod"]["mutants"][1:]
    (dirs[1] / "mutation.json").write_text(json.dumps(doc))
    with pytest.raises(ArtifactError, match=r"hold 7 of module pkg\.mod's 8 mutants in scope"):
        shards.merge_dirs(dirs)


def test_a_module_a_shard_lost_stays_not_measured(tmp_path: Path) -> None:
    lost = Unmeasured("pkg.mod", Metric.MUTATION_SCORE, "mutmut's results for pkg.mod are missing")
    s1 = write_shard(tmp_path / "s1", mutation.Shard(1, 2))
    s2 = write_shard(tmp_path / "s2", mutation.Shard(2, 2), unmeasured=(lost,), lost=("pkg.mod",))
    doc = json.loads((s2 / "mutation.json").read_text())
    doc["modules"]["pkg.mod"]["mutants"] = []
    (s2 / "mutation.json").write_text(json.dumps(doc))
    merged = shards.merge_dirs([s1, s2])
    assert merged.results.lost == ("pkg.mod",) and merged.results.unmeasured == (lost,)
    card = gate(merged.card, Config())
    assert card.unmeasured == (lost,) and not card.complete
    verdict = next(v for v in card.modules[0].verdicts if v.metric is Metric.MUTATION_SCORE)
    assert verdict.status is Status.NOT_MEASURED and "missing" in verdict.reason


def test_merge_unites_quarantine_and_recomputes_unjudged_modules(tmp_path: Path) -> None:
    flaky = QuarantinedTest("t.py::a", QuarantineCause.FLAKY)
    leak = QuarantinedTest("t.py::b", QuarantineCause.STATE_LEAK)
    dirs = [write_shard(tmp_path / "s1", mutation.Shard(1, 2), quarantined=(flaky,)),
            write_shard(tmp_path / "s2", mutation.Shard(2, 2), quarantined=(flaky, leak))]
    merged = shards.merge_dirs(dirs).results
    assert merged.quarantined == (flaky, leak) and merged.unmeasured == ()
    assert any("quarantined different tests" in n.text for n in merged.notes)


def test_a_shard_does_not_gate_its_partial_score() -> None:
    """A shard's scorecard leaves mutation out of its metrics; its partial score is skipped, never failed."""
    part = ModuleMutation(counts=MutationCounts(survived=3), mutants=MUTANTS[:3])
    card = Scorecard(project="pkg", root="/x", modules=(ModuleScorecard("pkg.mod", "pkg/mod.py", mutation=part),),
                     totals=ProjectTotals(mutation=part.counts), metrics=(Metric.LINE_COVERAGE,))
    for cfg in (Config(), load_config(Path("."), environ={}, cli={"gate.strict": True})[0]):
        verdict = next(v for v in gate(card, cfg).modules[0].verdicts if v.metric is Metric.MUTATION_SCORE)
        assert verdict.status is Status.SKIPPED and "harness merge" in verdict.reason


def test_merge_ends_as_a_run_ends_gated_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`harness merge` and `harness run` end in one function (pipeline.finish): gated once, every report written,
    the history last; the merged card comes out of the shards not gated."""
    dirs = [write_shard(tmp_path / f"s{k}", mutation.Shard(k, 2)) for k in (1, 2)]
    merged = shards.merge_dirs(dirs)
    assert not merged.card.totals.verdicts and not any(m.verdicts for m in merged.card.modules)
    calls: list[Scorecard] = []
    real = pipeline.gate

    def counted(card: Scorecard, cfg: Config, **kw: Any) -> Scorecard:
        calls.append(card)
        return real(card, cfg, **kw)

    monkeypatch.setattr(pipeline, "gate", counted)
    monkeypatch.chdir(tmp_path)
    card = pipeline.merge(dirs, Config(), tmp_path / "out", None)
    assert len(calls) == 1
    assert card.modules[0].mutation == WHOLE and card.totals.mutation == WHOLE.counts
    assert next(v for v in card.modules[0].verdicts if v.metric is Metric.MUTATION_SCORE).status is Status.FAIL
    assert {"scorecard.json", "scorecard.md", "mutation.json", "history.json"} <= {
        p.name for p in (tmp_path / "out").iterdir()}
    assert shards.read_part(tmp_path / "out" / "mutation.json").by_module == merged.results.by_module


# ------------------------------------------------------------------------------------------------ shard plan

PLAN = {m.name: 1 if i < 6 else 2 for i, m in enumerate(MUTANTS)}


def planned_shards(tmp_path: Path, plan: dict[str, int] = PLAN) -> list[Path]:
    """Two shards that followed ``plan`` (as the driver does: ``protocol.in_shard`` with the plan), each listing
    the planned mutants it generated (as ``mutation.parse`` does)."""
    digest = shard_plan.digest(plan)
    return [write_shard(tmp_path / f"s{k}", mutation.Shard(k, 2, plan=plan, plan_digest=digest),
                        shard_plan=digest, planned=tuple(sorted(n for n, s in plan.items() if s == k)))
            for k in (1, 2)]


def move_mutant(src: Path, dst: Path | None, name: str) -> None:
    """Edit shard results: ``name``'s verdict leaves ``src`` (and goes to ``dst``)."""
    doc = json.loads((src / "mutation.json").read_text())
    entry = next(m for m in doc["modules"]["pkg.mod"]["mutants"] if m["name"] == name)
    doc["modules"]["pkg.mod"]["mutants"].remove(entry)
    (src / "mutation.json").write_text(json.dumps(doc))
    if dst is not None:
        other = json.loads((dst / "mutation.json").read_text())
        other["modules"]["pkg.mod"]["mutants"].append(entry)
        (dst / "mutation.json").write_text(json.dumps(other))


def test_shards_that_followed_a_plan_merge_whole_and_write_the_next(tmp_path: Path) -> None:
    dirs = planned_shards(tmp_path)
    assert len(json.loads((dirs[0] / "mutation.json").read_text())["modules"]["pkg.mod"]["mutants"]) == 6
    assert shards.merge_dirs(dirs).card.modules[0].mutation == WHOLE
    path = tmp_path / "cache" / "verdicts" / shard_plan.FILE
    note = shards.write_next_plan(dirs, path, tmp_path)
    assert note is not None and note.kind is NoteKind.MUTATION_SHARD_PLAN
    assert note.text.startswith("mutation: the next shard plan (2 shards, ") and "cache/verdicts" in note.text
    count, nxt = shard_plan.from_document(json.loads(path.read_text()))
    assert count == 2 and set(nxt) == {m.name for m in MUTANTS}  # the mutants of this run, none gone
    assert sorted(nxt.values()) == [1, 1, 1, 1, 2, 2, 2, 2]  # 6 against 2 of equal cost: planned afresh
    assert shards.write_next_plan(dirs[:1], path, tmp_path) is None  # one part: nothing to plan


def test_merge_refuses_shards_that_split_by_different_plans(tmp_path: Path) -> None:
    hashed = write_shard(tmp_path / "h1", mutation.Shard(1, 2))
    with pytest.raises(ArtifactError, match=r"split the mutants differently \(1/2: by name hash, 2/2: [0-9a-f]{16}\)"
                                            r".*mutation\.shard_plan"):
        shards.merge_dirs([hashed, planned_shards(tmp_path)[1]])


def test_merge_refuses_a_planned_mutant_not_back_from_its_shard(tmp_path: Path) -> None:
    dirs = planned_shards(tmp_path)
    move_mutant(dirs[1], dirs[0], "pkg.mod.x_f__mutmut_8")  # shard 1 brought back one of shard 2's
    with pytest.raises(ArtifactError) as info:
        shards.merge_dirs(dirs)
    assert str(info.value) == ("shard 2/2 did not bring back 1 of the mutants the shard plan gives it (first: "
                               "pkg.mod.x_f__mutmut_8); refusing to merge: run that shard again")
    dirs = planned_shards(tmp_path / "again")
    move_mutant(dirs[0], None, "pkg.mod.x_f__mutmut_2")  # lost on the way: its module is short of it
    move_mutant(dirs[0], None, "pkg.mod.x_f__mutmut_1")
    with pytest.raises(ArtifactError, match=r"^shard 1/2 did not bring back 2 of .*\(first: pkg\.mod\.x_f__mutmut_1, "
                                            r"pkg\.mod\.x_f__mutmut_2\)"):
        shards.merge_dirs(dirs)
    lost = Unmeasured("pkg.mod", Metric.MUTATION_SCORE, "mutmut's results for pkg.mod are missing")
    dirs = planned_shards(tmp_path / "lost")
    doc = json.loads((dirs[0] / "mutation.json").read_text())
    doc.update(unmeasured=[{"module": "pkg.mod", "metric": "mutation_score", "cause": lost.cause, "tests": []}],
               lost=["pkg.mod"])
    doc["modules"]["pkg.mod"]["mutants"] = []
    (dirs[0] / "mutation.json").write_text(json.dumps(doc))
    assert shards.merge_dirs(dirs).card.unmeasured == (lost,)  # a module the shard lost is excused


# ------------------------------------------------------------------------------------- merge checks, in memory


def part(shard: mutation.Shard | None, mutants: tuple[Mutant, ...] | None = None, **fields: Any
         ) -> mutation.MutationResult:
    """One shard's results as ``mutation.read_results`` gives them (``write_shard`` without the files)."""
    mine = mutants if mutants is not None else tuple(m for m in MUTANTS if shard is None or mutation.in_shard(
        m.name, shard))
    mm = ModuleMutation(counts=MutationCounts.from_statuses(m.status for m in mine), mutants=mine)
    base: dict[str, Any] = {"by_module": {"pkg.mod": mm}, "shard": shard, "generation": GENERATION,
                            "mutants_digest": mutation.names_digest(m.name for m in MUTANTS), "mutants_total": 8,
                            "source_fingerprint": "src1", "config_fingerprint": "cfg1"}
    return mutation.MutationResult(**{**base, **fields})


def halves(**second: Any) -> list[mutation.MutationResult]:
    return [part(mutation.Shard(1, 2)), part(mutation.Shard(2, 2), **second)]


def test_a_whole_run_merges_into_itself_with_its_facts() -> None:
    cover = {"pkg.mod.x_f": ("t.py::a",)}
    whole = part(None, planned=tuple(m.name for m in MUTANTS), quarantine_cover=cover)
    merged = shards.merge_results([whole])
    assert merged.by_module["pkg.mod"].mutants == MUTANTS and merged.shard is None and merged.notes == ()
    assert (merged.mutants_digest, merged.mutants_total) == (whole.mutants_digest, 8)
    assert (merged.source_fingerprint, merged.config_fingerprint) == ("src1", "cfg1")
    assert merged.generation == GENERATION and merged.quarantine_cover == cover and merged.lost == ()


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ([], "nothing to merge"),
        (halves(source_fingerprint="src2"), "the shards were measured with different code (source fingerprints "
         "1/2: src1, 2/2: src2); refusing to merge: run every shard on the same commit"),
        ([part(None), part(mutation.Shard(2, 2), config_fingerprint="")], "the shards were measured with different "
         "config (config fingerprints whole: cfg1, 2/2: none); refusing to merge: run every shard with the same "
         "mutation settings"),
        (halves(mutants_digest="other"), "the shards were run on different code (their mutant sets differ)"),
        ([part(mutation.Shard(1, 2)), part(mutation.Shard(2, 3))], "shards do not form a whole run: got 1/2, 2/3"),
        ([part(mutation.Shard(1, 2)), part(mutation.Shard(1, 2))], "shards do not form a whole run: got 1/2, 1/2"),
        (halves(generation={"pkg.mod": mutation.ModuleGeneration(9, "other", 9)}),
         "the shards' mutmut generated different mutants; refusing to merge"),
        ([part(mutation.Shard(1, 2), generation={}, mutants_total=9),
          part(mutation.Shard(2, 2), generation={}, mutants_total=9)],
         "the merged shards hold 8 of the run's 9 mutants"),
    ],
)
def test_merge_refuses_parts_that_are_not_one_run_saying_why(
    parts: list[mutation.MutationResult], message: str
) -> None:
    with pytest.raises(ArtifactError) as info:
        shards.merge_results(parts)
    assert str(info.value) == message


def test_merge_refuses_a_mutant_judged_by_two_shards() -> None:
    parts = [part(mutation.Shard(1, 2), mutants=MUTANTS[:4]), part(mutation.Shard(2, 2), mutants=MUTANTS[3:])]
    with pytest.raises(ArtifactError) as info:
        shards.merge_results(parts)
    assert str(info.value) == "mutant pkg.mod.x_f__mutmut_4 has a verdict in two shards"


def test_merge_refuses_a_module_generation_made_that_no_shard_brought_back() -> None:
    generation = {**GENERATION, "pkg.other": mutation.ModuleGeneration(3, "d", 3)}
    with pytest.raises(ArtifactError, match=r"^the merged shards hold 0 of module pkg\.other's 3 mutants in scope"):
        shards.merge_results([part(mutation.Shard(k, 2), generation=generation) for k in (1, 2)])


def test_a_module_with_mutants_out_of_scope_merges_on_its_count_in_scope() -> None:
    """Diff mode or a sample keeps some of a module's mutants out of scope: the digest names every generated one."""
    everyone = [*(m.name for m in MUTANTS), "pkg.mod.x_f__mutmut_9", "pkg.mod.x_f__mutmut_10"]
    scoped = {"pkg.mod": mutation.ModuleGeneration(10, mutation.names_digest(everyone), 8)}
    merged = shards.merge_results([part(mutation.Shard(k, 2), generation=scoped) for k in (1, 2)])
    assert merged.by_module["pkg.mod"].mutants == MUTANTS
    short = [part(mutation.Shard(1, 2), generation=scoped),
             part(mutation.Shard(2, 2), generation=scoped, mutants=part(mutation.Shard(2, 2)).by_module[
                 "pkg.mod"].mutants[1:])]
    with pytest.raises(ArtifactError, match=r"hold 7 of module pkg\.mod's 8 mutants in scope"):
        shards.merge_results(short)


def test_merge_names_the_first_three_planned_mutants_a_shard_did_not_bring_back() -> None:
    names = tuple(m.name for m in MUTANTS)
    parts = [part(mutation.Shard(1, 2), mutants=(), planned=names[:6]),
             part(mutation.Shard(2, 2), mutants=MUTANTS, planned=names[6:])]  # shard 2 ran them all
    with pytest.raises(ArtifactError) as info:
        shards.merge_results(parts)
    assert str(info.value) == (
        "shard 1/2 did not bring back 6 of the mutants the shard plan gives it (first: pkg.mod.x_f__mutmut_1, "
        "pkg.mod.x_f__mutmut_2, pkg.mod.x_f__mutmut_3); refusing to merge: run that shard again")


def test_merge_unites_what_quarantined_tests_cover_and_leaves_a_module_they_alone_cover_not_measured() -> None:
    unjudged = tuple(replace(m, status=MutantStatus.NO_COVERAGE) for m in MUTANTS)
    flaky = QuarantinedTest("t.py::a", QuarantineCause.FLAKY)
    leak = QuarantinedTest("t.py::b", QuarantineCause.STATE_LEAK)
    parts = [part(mutation.Shard(1, 2), mutants=unjudged[:4], quarantined=(flaky,),
                  quarantine_cover={"pkg.mod.x_f": ("t.py::a",), "pkg.mod.x_g": ("t.py::a",)}),
             part(mutation.Shard(2, 2), mutants=unjudged[4:], quarantined=(leak, flaky),
                  quarantine_cover={"pkg.mod.x_f": ("t.py::b", "t.py::a")})]
    merged = shards.merge_results(parts)
    assert merged.quarantine_cover == {"pkg.mod.x_f": ("t.py::a", "t.py::b"), "pkg.mod.x_g": ("t.py::a",)}
    assert merged.quarantined == (flaky, leak)
    assert merged.unmeasured == (Unmeasured(
        "pkg.mod", Metric.MUTATION_SCORE, f"every test that covers it was quarantined (t.py::a ({flaky.cause.value}), "
        f"t.py::b ({leak.cause.value})); none of its 8 mutants could be judged", tests=("t.py::a", "t.py::b")),)
    [said] = merged.notes
    assert said.text == ("mutation: the shards quarantined different tests (flaky ones found in one run and not "
                         "another?); the merged run lists all 2")
    same = shards.merge_results([replace(p, quarantined=(flaky, leak)) for p in parts])
    assert same.notes == () and same.unmeasured == merged.unmeasured


def test_a_part_whose_shard_is_not_k_of_n_is_refused_naming_its_file(tmp_path: Path) -> None:
    folder = write_shard(tmp_path / "s1", mutation.Shard(1, 2))
    doc = json.loads((folder / "mutation.json").read_text())
    doc["shard"] = [1, "2"]
    (folder / "mutation.json").write_text(json.dumps(doc))
    with pytest.raises(ArtifactError, match=r"mutation\.json is malformed \(shard: 1/'2' is not K/N"):
        shards.read_part(folder / "mutation.json")


# ------------------------------------------------------------------------------ the first shard's scorecard


def test_the_first_shards_scorecard_carries_every_other_metric_with_its_verdicts_cleared(tmp_path: Path) -> None:
    flaky = QuarantinedTest("t.py::a", QuarantineCause.FLAKY)
    s1 = write_shard(tmp_path / "s1", mutation.Shard(1, 2), quarantined=(flaky,))
    s2 = write_shard(tmp_path / "s2", mutation.Shard(2, 2))
    other = ModuleMutation(counts=MutationCounts(killed=1), mutants=())
    no_lines = Unmeasured("pkg.mod", Metric.LINE_COVERAGE, "coverage.py wrote no data")
    first = read_scorecard(s1 / "scorecard.json")
    first = gate(replace(
        first, modules=(*first.modules, ModuleScorecard("pkg.other", "pkg/other.py", mutation=other)),
        metrics=(Metric.LINE_COVERAGE, Metric.MUTATION_SCORE), notes=(*first.notes, text_note("coverage: kept")),
        unmeasured=(no_lines, Unmeasured("pkg.mod", Metric.MUTATION_SCORE, "the shard's own")),
        quarantined=(QuarantinedTest("t.py::c", QuarantineCause.STATE_LEAK),
                     QuarantinedTest("t.py::a", QuarantineCause.STATE_LEAK))), Config())
    assert first.totals.verdicts and all(m.verdicts for m in first.modules)
    json_report.write(first, s1 / "scorecard.json")
    second = read_scorecard(s2 / "scorecard.json")
    json_report.write(replace(second, project="not the first"), s2 / "scorecard.json")
    card = shards.merge_dirs([s1, s2]).card
    assert card.project == "pkg" and card.totals.verdicts == () and all(m.verdicts == () for m in card.modules)
    assert [m.mutation for m in card.modules] == [WHOLE, other] and card.totals.mutation == WHOLE.counts
    assert card.metrics == (Metric.LINE_COVERAGE, Metric.MUTATION_SCORE)
    kinds = [NoteKind.TEXT, NoteKind.MUTATION_SHARDS_QUARANTINE, NoteKind.MUTATION_MERGED]  # the shard's own: gone
    assert [n.kind for n in card.notes] == kinds
    assert card.notes[-1].data == {"shards": 2, "folders": [str(s1), str(s2)]}
    assert card.unmeasured == (no_lines,)
    assert card.quarantined == (flaky, QuarantinedTest("t.py::c", QuarantineCause.STATE_LEAK))


def test_shards_that_mutated_nothing_merge_to_zero_counts(tmp_path: Path) -> None:
    dirs = [write_shard(tmp_path / f"s{k}", mutation.Shard(k, 2), generation={}) for k in (1, 2)]
    for folder in dirs:
        doc = json.loads((folder / "mutation.json").read_text())
        doc.update(modules={}, mutants_total=0)
        (folder / "mutation.json").write_text(json.dumps(doc))
    assert shards.merge_dirs(dirs).card.totals.mutation == MutationCounts()


# --------------------------------------------------------------------------------------------- the next plan


def timed_shards(tmp_path: Path) -> list[Path]:
    """Two shards whose mutants carry measured durations (mutant i took i * 0.0111 s)."""
    dirs = [write_shard(tmp_path / f"s{k}", mutation.Shard(k, 2)) for k in (1, 2)]
    for folder in dirs:
        doc = json.loads((folder / "mutation.json").read_text())
        for entry in doc["modules"]["pkg.mod"]["mutants"]:
            entry["duration"] = entry["line"] * 0.0111
        (folder / "mutation.json").write_text(json.dumps(doc))
    return dirs


def test_the_next_plan_note_states_the_planned_loads_to_the_millisecond_and_the_path_under_the_root(
    tmp_path: Path,
) -> None:
    dirs = timed_shards(tmp_path)
    path = tmp_path / "cache" / shard_plan.FILE
    said = shards.write_next_plan(dirs, path, tmp_path)
    expected = json.loads(path.read_text())["expected_seconds"]
    assert said is not None and said.data == {"shards": 2, "low_seconds": min(expected),
                                              "high_seconds": max(expected), "path": f"cache/{shard_plan.FILE}"}
    assert sorted(expected) == [0.2, 0.2] and shards.write_next_plan(dirs, path, tmp_path / "elsewhere") == note(
        NoteKind.MUTATION_SHARD_PLAN, shards=2, low_seconds=0.2, high_seconds=0.2, path=str(path))


def test_a_next_plan_that_cannot_be_written_is_a_note(tmp_path: Path) -> None:
    dirs = [write_shard(tmp_path / f"s{k}", mutation.Shard(k, 2)) for k in (1, 2)]
    (tmp_path / "blocker").write_text("a file where the plan's folder should be")
    said = shards.write_next_plan(dirs, tmp_path / "blocker" / shard_plan.FILE, tmp_path)
    assert said is not None and said.kind is NoteKind.MUTATION_SHARD_PLAN_UNWRITTEN
    assert said.data["path"] == f"blocker/{shard_plan.FILE}" and "blocker" in said.data["error"]
    assert said.text == (f"mutation: the next shard plan could not be written to blocker/{shard_plan.FILE} "
                         f"({said.data['error']})")
