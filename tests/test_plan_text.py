"""How the gap plan words a surviving mutant and a run of missed lines, and the units at the edges of a target."""

from __future__ import annotations

import pytest

from harness import plan as planning
from harness.model import CoverageNumbers, ModuleCoverage


def _diff(old: str, new: str | None) -> str:
    return "--- a.py\n+++ a.py\n@@ -1 +1 @@\n" + f"-{old}\n" + (f"+{new}\n" if new is not None else "")


FIFTY = "value = first(alpha, beta, gamma, delta, epsilon1)"  # 50 characters, quoted whole


@pytest.mark.parametrize(
    ("old", "new", "change"),
    [
        ("    x = 1", None, ("x = 1", "")),  # a removed line
        (FIFTY, FIFTY.replace("1", "2"), (FIFTY, FIFTY.replace("1", "2"))),
        (FIFTY + "x", FIFTY.replace("1", "2") + "x", ("…delta, epsilon1)x", "…delta, epsilon2)x")),
        ("    total = compute_the_total(items, discount, tax_rate_of_the_region)", "    y",  # one side long
         ("total = compute_the_total(items, discount, tax_rate_of_the_region)", "y")),
        ("first = compute_the_total(items, discount=discount_for(customer), tax=1)",  # the first token differs
         "second = compute_the_total(items, discount=discount_for(customer), tax=1)",
         ("first = compute_the_total…", "second = compute_the_total…")),
        ("x = compute_the_total(items, discount=discount_for(customer), tax=tax_rate)",  # the last token differs
         "x = compute_the_total(items, discount=discount_for(customer), tax=tax_rates",
         ("…, tax=tax_rate)", "…, tax=tax_rates")),
        ("a.b(c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r, s)",  # fewer than 4 tokens before the change
         "a.c(c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r, s)", ("a.b(c,…", "a.c(c,…")),
    ],
)
def test_mutant_change_quotes_short_lines_whole_and_long_ones_around_the_change(
        old: str, new: str | None, change: tuple[str, str]) -> None:
    assert planning.mutant_change(_diff(old, new)) == change


def test_mutant_change_joins_the_lines_of_each_side() -> None:
    diff = "--- a\n+++ a\n@@ -1,2 +1 @@\n-    a = 1\n-    b = 2\n+    c = 3\n"
    assert planning.mutant_change(diff) == ("a = 1 b = 2", "c = 3")
    assert planning.describe_mutant(_diff("    x = 1", None)) == "a test that fails when `x = 1` is removed"
    assert planning.describe_mutant("") == "a test that fails on this mutant (no diff recorded)"


def test_long_mutant_text_keeps_its_first_46_and_last_25_characters() -> None:
    old, new = "msg = '" + "word " * 30 + "'", "msg = '" + "other " * 30 + "'"
    assert planning.describe_mutant(_diff(old, new)) == (
        "a test that fails when `…= 'word word word word word word word word wo…ord word word word word '` "
        "becomes `…= 'other other other other other other other …other other other other '`")
    exactly = "y" * 62  # 72 characters once narrowed to "…= 'y…y'" - no clipping
    assert "…" not in planning.describe_mutant(_diff(exactly, exactly[:-1] + "z"))


@pytest.mark.parametrize(("missing", "texts"), [((5,), ["line 5"]), ((5, 6), ["lines 5-6"]),
                                                ((5, 6, 7, 9), ["lines 5-7", "line 9"])])
def test_missed_lines_are_named_as_runs(missing: tuple[int, ...], texts: list[str]) -> None:
    cov = ModuleCoverage(numbers=CoverageNumbers(statements=20, executed=20 - len(missing)), missing_lines=missing)
    items = planning.coverage_items("m", cov, None, lines_gap=True, branch_gap=False)
    assert [it.text for it in items] == [f"{t} in <module> never run" for t in texts]


@pytest.mark.parametrize(("numerator", "denominator", "target", "needed"), [(0, 1, 80.0, 1), (1, 1, 80.0, 0)])
def test_units_to_min_of_a_single_unit(numerator: int, denominator: int, target: float, needed: int) -> None:
    assert planning.units_to_min(numerator, denominator, target) == needed


@pytest.mark.parametrize(("count", "total", "target", "needed"), [(1, 1, 50.0, 1), (1, 5, 20.1, 0), (2, 5, 20.1, 1)])
def test_units_to_max_edges(count: int, total: int, target: float, needed: int) -> None:
    """One test of one flaky is 100 %; 1 of 5 is 20 % < 20.1 %, so one flaky test is allowed."""
    assert planning.units_to_max(count, total, target) == needed
