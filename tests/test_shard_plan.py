"""Time-balanced shard plans (harness/shard_plan.py): every mutant in exactly one shard, the slowest shard within
LPT's bound, deterministic, and the file's shape round-trips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness import shard_plan as sp
from harness.collectors.mutation import Shard
from harness.model import Mutant, MutantStatus

costs_st = st.dictionaries(st.text(min_size=1, max_size=8), st.floats(min_value=0.0, max_value=100.0),
                           max_size=60)


@given(costs_st, st.integers(min_value=1, max_value=8))
def test_every_mutant_in_one_shard_and_balanced(costs: dict[str, float], shards: int) -> None:
    assignment = sp.plan(costs, shards)
    assert set(assignment) == set(costs)
    assert all(1 <= k <= shards for k in assignment.values())
    per_shard = sp.loads(assignment, costs, shards)
    if costs:
        # LPT: the slowest shard never exceeds the mean load plus the slowest mutant
        assert max(per_shard) <= sum(costs.values()) / shards + max(costs.values()) + 1e-9
    assert sp.plan(dict(reversed(list(costs.items()))), shards) == assignment  # same costs, same plan


def test_balances_better_than_a_hash_slice() -> None:
    costs = {f"m{i}": 10.0 if i < 4 else 0.1 for i in range(100)}  # four slow mutants
    per_shard = sp.loads(sp.plan(costs, 4), costs, 4)
    assert max(per_shard) - min(per_shard) < 0.5
    assert max(per_shard) <= 0.27 * sum(costs.values())


def test_expected_costs_fall_back_in_order() -> None:
    got = sp.expected_costs(["a", "b", "c", "d"], {"a": 2.0, "b": 0.0}, {"b": 1.0, "c": 3.0})
    assert got == {"a": 2.0, "b": 1.0, "c": 3.0, "d": 2.0}  # d: the median of the known figures
    assert sp.expected_costs(["x"], {}, {}) == {"x": 1.0}


def test_missing_and_document_round_trip() -> None:
    assignment = {"a": 1, "b": 2, "c": 2}
    assert sp.missing(assignment, {1: ["a"], 2: ["b"]}) == {2: ["c"]}
    assert sp.missing(assignment, {1: ["a"], 2: ["b", "c"]}) == {}
    doc = sp.to_document(assignment, 2, {"a": 1.0, "b": 2.0, "c": 0.5})
    assert doc["expected_seconds"] == [1.0, 2.5]
    assert sp.from_document(doc) == (2, assignment)
    with pytest.raises(ValueError, match="shard 3"):
        sp.from_document({**doc, "mutants": {"a": 3}})
    with pytest.raises(ValueError, match="not a format"):
        sp.from_document({"kind": "other"})


def test_a_shard_follows_the_plan_file_only_when_it_is_for_its_count(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "verdicts" / sp.FILE
    none = sp.for_shard(Shard(1, 2), path, tmp_path)
    assert none.plan is None and none.split == ("split by name hash: no shard plan at cache/verdicts/shard-plan.json "
                                                "yet; `harness merge` writes it")
    sp.write(path, {"a": 1, "b": 2}, 2, {"a": 1.0, "b": 3.0})
    followed = sp.for_shard(Shard(2, 2), path, tmp_path)
    assert followed.plan == {"a": 1, "b": 2} and followed.plan_digest == sp.digest({"b": 2, "a": 1})
    assert followed.split.startswith("split by the shard plan cache/verdicts/shard-plan.json")
    assert json.loads(path.read_text())["expected_seconds"] == [1.0, 3.0]
    other = sp.for_shard(Shard(1, 3), path, tmp_path)
    assert other.plan is None and "is for 2 shards" in other.split
    path.write_text('{"format": 1, "kind": "shard-plan", "shards": 2, "mutants": {"a": 5}}')
    broken = sp.for_shard(Shard(1, 2), path, tmp_path)
    assert broken.plan is None and "unusable (mutant 'a' has shard 5, not 1..2)" in broken.split
    path.write_text("not json")
    assert sp.for_shard(Shard(1, 2), path, tmp_path).plan is None
    assert sp.for_shard(Shard(1, 2), tmp_path / "elsewhere.json", tmp_path / "sub").split.endswith(
        f"{tmp_path / 'elsewhere.json'} yet; `harness merge` writes it")  # outside the root: named whole


def test_plan_path_defaults_to_the_verdict_cache_folder(tmp_path: Path) -> None:
    assert sp.path_for(tmp_path, "", tmp_path / ".c") == tmp_path / ".c" / "verdicts" / "shard-plan.json"
    assert sp.path_for(tmp_path, "ci/plan.json", tmp_path / ".c") == tmp_path / "ci" / "plan.json"


def test_durations_of_a_run() -> None:
    mutants = [Mutant("m1", "m", "f", 1, MutantStatus.KILLED, duration=2.0),
               Mutant("m2", "m", "f", 1, MutantStatus.NO_COVERAGE, duration=0.0),
               Mutant("m3", "m", "f", 1, MutantStatus.NOT_CHECKED)]
    last, estimates = sp.durations_of(mutants)
    assert (last, estimates) == ({"m1": 2.0}, {"m2": sp.NO_TEST_SECONDS})
    assert sp.expected_costs(["m1", "m2", "m3"], last, estimates)["m3"] == pytest.approx(1.0005)  # the median


def test_rebalance_keeps_mutants_where_they_were_unless_that_is_unbalanced() -> None:
    costs = {f"m{i}": 1.0 for i in range(8)}
    previous = {f"m{i}": 1 + i % 2 for i in range(8)}  # balanced already: 4 s each
    assert sp.rebalance(costs, 2, previous) == previous
    grown = {**costs, "new1": 1.0, "new2": 1.0}
    kept = sp.rebalance(grown, 2, previous)
    assert {k: kept[k] for k in previous} == previous and {kept["new1"], kept["new2"]} == {1, 2}
    skewed = {**costs, "m0": 10.0}  # shard 1 would take 13 s against 4 s: a fresh plan instead
    assert sp.rebalance(skewed, 2, previous) == sp.plan(skewed, 2)
    assert sp.rebalance(costs, 2, {"m0": 7, "gone": 1}) == sp.plan(costs, 2)  # a shard out of range is ignored


def test_expected_costs_prefer_the_last_duration_then_the_estimate_then_the_median() -> None:
    got = sp.expected_costs(["a", "b", "c", "d", "e", "f", "h"], {"a": 5.0, "b": 0.0, "e": 0.5, "h": 6.0},
                            {"b": 1.0, "c": 2.0, "f": 0.0})
    # known (positive) figures: 5, 1, 2, 0.5, 6 -> median 2; a zero figure is unknown
    assert got == {"a": 5.0, "b": 1.0, "c": 2.0, "d": 2.0, "e": 0.5, "f": 2.0, "h": 6.0}


def test_missing_names_every_mutant_of_a_shard_that_returned_nothing() -> None:
    assert sp.missing({"a": 1, "b": 2, "c": 2}, {1: ["a"]}) == {2: ["b", "c"]}


def test_document_rounds_expected_seconds_to_milliseconds() -> None:
    assert sp.to_document({"a": 1}, 1, {"a": 0.12345})["expected_seconds"] == [0.123]


@pytest.mark.parametrize("doc", [[], {"format": 1, "kind": "other"}, {"format": 2, "kind": "shard-plan"}])
def test_from_document_refuses_other_files(doc: object) -> None:
    with pytest.raises(ValueError, match="not a format-1 shard-plan file"):
        sp.from_document(doc)


@pytest.mark.parametrize("shards, mutants", [(0, {}), ("2", {"a": 1}), (2, None), (2, ["a"])])
def test_from_document_needs_shards_and_mutants(shards: object, mutants: object) -> None:
    with pytest.raises(ValueError, match=r"^a shard plan needs 'shards' >= 1 and 'mutants'$"):
        sp.from_document({"format": 1, "kind": "shard-plan", "shards": shards, "mutants": mutants})


def test_from_document_reads_a_single_shard_plan() -> None:
    assert sp.from_document({"format": 1, "kind": "shard-plan", "shards": 1, "mutants": {"a": 1}}) == (1, {"a": 1})


def test_the_plan_places_the_longest_first() -> None:
    assert sp.plan({"a": 1.0, "b": 5.0, "c": 5.0}, 2) == {"b": 1, "c": 2, "a": 1}
    with pytest.raises(ValueError, match=r"^shards must be >= 1$"):
        sp.plan({"a": 1.0}, 0)


def test_a_mutant_without_a_cost_adds_nothing_to_its_shard() -> None:
    assert sp.loads({"a": 1, "x": 2}, {"a": 2.5}, 2) == [2.5, 0.0]
