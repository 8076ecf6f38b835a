"""The model's laws: totals are sums, percentages are the tools' fractions, empty is n/a."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.model import CoverageNumbers, MutantStatus, MutationCounts, percent

counts = st.integers(min_value=0, max_value=10_000)
numbers = st.builds(CoverageNumbers, counts, counts, counts, counts, counts, counts)
mutations = st.builds(MutationCounts, counts, counts, counts, counts, counts, counts, counts, counts)


def test_percent_is_none_without_denominator() -> None:
    assert percent(0, 0) is None
    assert percent(3, 4) == 75.0


def test_mutation_score_definition() -> None:
    c = MutationCounts(killed=6, timeout=1, survived=2, no_coverage=1, suspicious=3, skipped=4, interrupted=1)
    assert c.detected == 7
    assert c.valid == 10  # suspicious, skipped and interrupted are excluded from valid
    assert c.score == 70.0
    assert c.covered_score == 100 * 7 / 9
    assert c.total == 18
    assert MutationCounts().score is None


def test_from_statuses_counts_every_status() -> None:
    statuses = list(MutantStatus)
    c = MutationCounts.from_statuses([*statuses, MutantStatus.KILLED])
    assert c.total == len(statuses) + 1
    assert c.killed == 2


# 40 examples each: a sum that depends on order or grouping shows in nearly any list of two or more.
@settings(max_examples=40)
@given(st.lists(numbers, max_size=20), st.randoms())
def test_coverage_totals_are_order_independent(items: list[CoverageNumbers], rnd) -> None:  # type: ignore[no-untyped-def]
    shuffled = list(items)
    rnd.shuffle(shuffled)
    assert sum(items, CoverageNumbers()) == sum(shuffled, CoverageNumbers())
    total = sum(items, CoverageNumbers())
    assert total.statements == sum(i.statements for i in items)


@settings(max_examples=40)
@given(st.lists(mutations, max_size=20), st.integers(min_value=0, max_value=20))
def test_mutation_sum_of_parts_equals_sum_of_whole(items: list[MutationCounts], cut: int) -> None:
    left = sum(items[:cut], MutationCounts())
    right = sum(items[cut:], MutationCounts())
    assert left + right == sum(items, MutationCounts())
