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
