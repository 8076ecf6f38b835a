"""Time-balanced shard plans (harness/shard_plan.py): every mutant in exactly one shard, the slowest shard within
LPT's bound, deterministic, and the file's shape round-trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness import shard_plan as sp

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
