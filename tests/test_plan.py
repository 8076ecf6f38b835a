"""The gap plan: units needed (exact), arc and mutant descriptions, ranking by weighted gap, batches, and that
every item points at data the run reported. Pure: scorecards are built in memory."""

from __future__ import annotations

import json
from dataclasses import replace
from fractions import Fraction

import pytest
import reportdata

from harness import plan as planning
from harness.complexity import SourceInfo
from harness.config import Config, Targets, load_config
from harness.gate import gate, meets
from harness.model import (
    CoverageNumbers,
    Metric,
    ModuleCoverage,
    ModuleMutation,
    ModuleScorecard,
    MutantStatus,
    MutationCounts,
    ProjectTotals,
    Scorecard,
)
from harness.reporters import plan_report

# --------------------------------------------------------------------------------------------------- units


@pytest.mark.parametrize(
    ("numerator", "denominator", "target", "needed"),
    [
        (7, 10, 70.0, 0),  # exactly at the target
        (6, 10, 70.0, 1),
        (0, 10, 70.0, 7),
        (2, 3, 66.67, 1),  # 66.666.. % misses 66.67: one more (3/3)
        (2, 3, 66.66, 0),
        (333, 1000, 33.3, 0),  # decimal targets read exactly
        (99, 100, 100.0, 1),
        (0, 0, 80.0, 0),  # nothing to measure: nothing needed
        (5, 8, 85.0, 2),  # 6.8 -> 7 statements
    ],
)
def test_units_to_min(numerator: int, denominator: int, target: float, needed: int) -> None:
    assert planning.units_to_min(numerator, denominator, target) == needed
    if denominator:  # the gate agrees: exactly `needed` more passes, one fewer fails
        assert meets("min", Fraction(100 * (numerator + needed), denominator), target)
        if needed:
            assert not meets("min", Fraction(100 * (numerator + needed - 1), denominator), target)


@pytest.mark.parametrize(
    ("count", "total", "target", "needed"),
    [
        (0, 100, 1.0, 0),
        (1, 100, 1.0, 1),  # 1 % is not < 1 %
        (2, 300, 1.0, 0),  # 0.67 % < 1 %
        (5, 300, 1.0, 3),  # at most 2 flaky tests allowed
        (1, 10, 0.0, 1),  # a 0 % target allows none
        (3, 0, 1.0, 0),
    ],
)
def test_units_to_max(count: int, total: int, target: float, needed: int) -> None:
    assert planning.units_to_max(count, total, target) == needed
    if total:
        assert meets("max", Fraction(100 * (count - needed), total), target)


# --------------------------------------------------------------------------------------------------- AST

SOURCE = '''\
def sync_user_profiles(users, server):
    """Sync."""
    changed = []
    for user in users:
        server_user = server.get(user)
        if server_user:
            changed.append(user)
        elif user.startswith("x") and not server:
            continue
    while server:
        server = None
    return [c for c in changed if c]


class Store:
    def get(self, key):
        try:
            return self.data[key]
        except KeyError:
            return None

    def pick(self, value):
        match value:
            case 1:
                return "one"
            case _:
                return "other"


def never_called(x):
    return x
'''


@pytest.mark.parametrize(
    ("arc", "function", "text"),
    [
        ((6, 8), "sync_user_profiles", "the else of 'if server_user'"),
        ((6, 7), "sync_user_profiles", "the body of 'if server_user' (condition true)"),
        ((8, 4), "sync_user_profiles",
         "the else of 'elif user.startswith(\"x\") and not server' "
         "(condition false; there is no else clause)"),
        ((4, 5), "sync_user_profiles", "the body of 'for user in users' (an item to iterate)"),
        ((4, 10), "sync_user_profiles", "the exit of 'for user in users' (iterable exhausted or empty)"),
        ((10, 11), "sync_user_profiles", "the body of 'while server' (loop entered)"),
        ((10, 12), "sync_user_profiles", "the exit of 'while server' (condition false)"),
        ((24, 25), "Store.pick", "the body of 'case 1' (pattern matches)"),
        ((24, 26), "Store.pick", "'case 1' not matching"),
    ],
)
def test_describe_arc(arc: tuple[int, int], function: str, text: str) -> None:
    info = SourceInfo.parse(SOURCE)
    assert info.function_at(arc[0]) == function
    assert info.describe_arc(arc) == text


def test_functions_and_complexity() -> None:
    info = SourceInfo.parse(SOURCE)
    by_name = {f.qualname: f for f in info.functions}
    assert list(by_name) == ["sync_user_profiles", "Store.get", "Store.pick", "never_called"]
    # for, if, elif, and, while, comprehension (for + if) -> 1 + 7
    assert by_name["sync_user_profiles"].complexity == 8
    assert by_name["sync_user_profiles"].body_start == 3  # after the docstring
    assert by_name["Store.get"].complexity == 2  # except
    assert by_name["Store.pick"].complexity == 3  # two cases
    assert by_name["never_called"].complexity == 1
    assert info.decisions == 7 + 1 + 2
    assert info.clause_at(20) == "the 'except KeyError' handler"
    assert info.function_at(1) == "sync_user_profiles" and info.function_at(14) == "<module>"


# --------------------------------------------------------------------------------------------------- mutants


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("    if n < 0:", "    if n <= 0:", "a test that fails when `if n < 0:` becomes `if n <= 0:`"),
        ("    return a + b", "    return None",
         "a test that fails when `return a + b` becomes `return None`"),
        ("    x = compute_the_total(items, discount=discount_for(customer), tax=tax_rate_of(region))",
         "    x = compute_the_total(items, discount=discount_for(customer), tax=None)",
         "a test that fails when `…, tax=tax_rate_of(region))` becomes `…, tax=None)`"),
    ],
)
def test_describe_mutant(old: str, new: str, expected: str) -> None:
    diff = f"--- a.py\n+++ a.py\n@@ -1,2 +1,2 @@\n def f():\n-{old}\n+{new}\n"
    assert planning.describe_mutant(diff) == expected


def test_describe_mutant_without_diff() -> None:
    assert "no diff" in planning.describe_mutant("")


# --------------------------------------------------------------------------------------------------- the plan


def _plan(sc: Scorecard, cfg: Config | None = None, batch: int = 0) -> planning.Plan:
    sources = {c.module: reportdata.SOURCES[c.path] for c in sc.modules}
    return planning.build(sc, cfg or Config(), sources, batch_size=batch)


def test_demo_plan_items_exist_in_the_run_data() -> None:
    sc = reportdata.scorecard()
    plan = _plan(sc)
    assert [m.module for m in plan.modules] == ["demo.calc"]
    assert set(plan.met) == {"demo", "demo.util"}
    card = next(c for c in sc.modules if c.module == "demo.calc")
    assert card.coverage is not None and card.mutation is not None and card.flakiness is not None
    survivors = {m.name for m in card.mutation.mutants
                 if m.status in (MutantStatus.SURVIVED, MutantStatus.NO_COVERAGE)}
    kinds = {i.kind for i in plan.items}
    assert kinds == {"lines", "function", "mutant", "flaky"}  # branch coverage meets its target
    for item in plan.items:
        if item.arc is not None:
            assert item.arc in card.coverage.missing_arcs
        for name in (item.mutant, *item.also):
            assert name is None or name in survivors
        if item.test is not None:
            assert item.test in {f.nodeid for f in card.flakiness.flaky}
    texts = [i.text for i in plan.items]
    assert "line 5 in classify never run (the body of 'elif n == 0' (condition true))" in texts
    assert any("becomes `elif n == 1:`" in t for t in texts)
    listed = {i.mutant for i in plan.items if i.mutant} | {n for i in plan.items for n in i.also}
    assert listed == survivors  # each survivor once: as an item, or folded into the item covering its line
    assert any(i.also and "then 1 surviving mutant(s) there can be killed" in i.text for i in plan.items)


def test_needs_match_the_gate() -> None:
    sc = reportdata.scorecard()
    plan = _plan(sc)
    needs = {n.metric: n for n in plan.modules[0].needs}
    assert needs[Metric.LINE_COVERAGE].needed == 1  # 8/10 -> 9/10 >= 85 %
    assert needs[Metric.BRANCH_COVERAGE].needed == 0  # 5/6 >= 75 %
    assert needs[Metric.MUTATION_SCORE].needed == 1  # 3/5 detected -> 4/5 >= 70 %
    assert needs[Metric.FLAKY_RATE].needed == 1


def _module(name: str, statements: int, executed: int, branches: int = 0, covered: int = 0,
            tier: str | None = None, killed: int | None = None, valid: int = 0) -> ModuleScorecard:
    mutation = None
    if killed is not None:
        mutation = ModuleMutation(counts=MutationCounts(killed=killed, survived=valid - killed))
    return ModuleScorecard(module=name, path=f"pkg/{name.split('.')[-1]}.py", tier=tier,
                           coverage=ModuleCoverage(CoverageNumbers(
                               statements=statements, executed=executed, branches=branches,
                               covered_branches=covered)),
                           mutation=mutation)


def _scorecard(*modules: ModuleScorecard, cfg: Config) -> Scorecard:
    sc = Scorecard(project="p", root="/nowhere", modules=modules, totals=ProjectTotals(),
                   metrics=(Metric.LINE_COVERAGE, Metric.BRANCH_COVERAGE, Metric.MUTATION_SCORE))
    return gate(sc, cfg)


BRANCHY = ("def f(a, b, c):\n" + "".join(f"    if a == {i}:\n        b += {i}\n" for i in range(8))
           + "    return b\n")
FLAT = "def g(a):\n" + "".join(f"    a += {i}\n" for i in range(16)) + "    return a\n"


@pytest.mark.parametrize(
    ("modules", "sources", "tiers", "expected"),
    [
        # same percentage gap: the bigger module has more units -> first
        ([_module("pkg.big", 200, 100), _module("pkg.small", 20, 10)], {}, {}, ["pkg.big", "pkg.small"]),
        # same units: the critical tier's weight puts the small module first
        ([_module("pkg.a", 100, 75), _module("pkg.b", 100, 75, tier="critical")], {}, {"critical": 3.0},
         ["pkg.b", "pkg.a"]),
        # same units, same tier: branchy code (complexity weight) first
        ([_module("pkg.flat", 18, 10), _module("pkg.branchy", 18, 10)],
         {"pkg.flat": FLAT, "pkg.branchy": BRANCHY}, {}, ["pkg.branchy", "pkg.flat"]),
        # a module meeting every target is not ranked
        ([_module("pkg.done", 10, 10), _module("pkg.todo", 10, 5)], {}, {}, ["pkg.todo"]),
        # mutants count as units too
        ([_module("pkg.cov", 100, 84), _module("pkg.mut", 100, 100, killed=10, valid=40)], {}, {},
         ["pkg.mut", "pkg.cov"]),
    ],
)
def test_ranking_by_weighted_gap(modules: list[ModuleScorecard], sources: dict[str, str],
                                 tiers: dict[str, float], expected: list[str]) -> None:
    cfg = Config(tiers=tuple((name, _tier(name, w)) for name, w in tiers.items()))
    plan = planning.build(_scorecard(*modules, cfg=cfg), cfg, sources)
    assert [m.module for m in plan.modules] == expected
    gaps = [m.weighted_gap for m in plan.modules]
    assert gaps == sorted(gaps, reverse=True)
    for mp in plan.modules:  # the weighted gap is the documented product
        assert mp.weighted_gap == pytest.approx(mp.tier_weight * mp.complexity_weight * mp.units)


def _tier(name: str, weight: float):  # type: ignore[no-untyped-def]
    from harness.config import Tier

    return Tier(modules=("pkg.nothing",), weight=weight)


@pytest.mark.parametrize(("batch", "sizes"), [(0, [4]), (1, [1, 1, 1, 1]), (3, [3, 1]), (10, [4])])
def test_batches(batch: int, sizes: list[int]) -> None:
    plan = _plan(reportdata.scorecard(), batch=batch)
    assert len(plan.items) == 4
    assert [len(b) for b in plan.batches] == sizes
    assert [i for b in plan.batches for i in b] == list(plan.items)


def test_untested_function_and_handler_items() -> None:
    source = ("def used(s):\n    try:\n        return int(s)\n    except ValueError:\n"
              "        return None\n\n\n"
              "def unused(x):\n    if x:\n        return 1\n    return 2\n")
    cov = ModuleCoverage(CoverageNumbers(statements=9, executed=5, branches=2, covered_branches=0),
                         missing_lines=(5, 9, 10, 11), missing_arcs=((9, 10), (9, 11)))
    card = ModuleScorecard(module="m", path="m.py", coverage=cov)
    sc = gate(Scorecard("p", "/x", (card,), ProjectTotals(), (Metric.LINE_COVERAGE, Metric.BRANCH_COVERAGE)),
              Config())
    plan = planning.build(sc, Config(), {"m": source})
    texts = [i.text for i in plan.items]
    assert texts == ["line 5 in used never run (the 'except ValueError' handler)",
                     "unused: no test calls it (lines 9-11 and 2 branches never run)"]


def test_plan_uses_the_runs_targets_and_tier_weights() -> None:
    cfg = Config(targets=Targets(line_coverage=50.0))
    sc = _scorecard(_module("pkg.a", 10, 6), cfg=cfg)
    assert planning.build(sc, Config(), {}).modules == ()  # the run's verdicts said 60 % >= 50 % passes


def test_markdown_and_json(tmp_path) -> None:  # type: ignore[no-untyped-def]
    sc = reportdata.scorecard()
    plan = _plan(sc, batch=2)
    files = plan_report.write(plan, tmp_path)
    md = (tmp_path / "plan.md").read_text()
    assert "## 1. `demo.calc`" in md and "### Batch 2: items 3-4 (`demo.calc`)" in md
    assert "| line coverage | 80.0 % | >= 85 % | 1 more statements |" in md
    doc = json.loads((tmp_path / "plan.json").read_text())
    assert doc["format"] == 1 and doc["kind"] == "plan"
    assert doc["plan"]["batches"] == [[1, 2], [3, 4]]
    assert [m["module"] for m in doc["plan"]["modules"]] == ["demo.calc"]
    assert len(files) == 2


def test_load_scorecard_refuses_a_missing_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from harness.errors import UsageError

    with pytest.raises(UsageError, match="harness run"):
        planning.load_scorecard(tmp_path / "scorecard.json")


def test_tier_from_config_when_the_card_has_none(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "quality.toml").write_text(
        '[tiers.critical]\nmodules = ["pkg.*"]\nweight = 4\n', encoding="utf-8")
    cfg, _ = load_config(tmp_path, environ={})
    sc = _scorecard(replace(_module("pkg.a", 10, 5)), cfg=cfg)
    mp = planning.build(sc, cfg, {}).modules[0]
    assert (mp.tier, mp.tier_weight) == ("critical", 4.0)


def test_sampled_mutants_needed_scale_to_the_population() -> None:
    card = _module("pkg.m", 10, 10, killed=100, valid=200)
    assert card.mutation is not None
    sampled = replace(card, mutation=replace(card.mutation, population=1000))
    cfg = Config()
    plain = planning.build(_scorecard(card, cfg=cfg), cfg, {}).modules[0]
    scaled = planning.build(_scorecard(sampled, cfg=cfg), cfg, {}).modules[0]
    need = {n.metric: n.needed for n in plain.needs}[Metric.MUTATION_SCORE]
    assert need == 40  # 140 of 200 for 70 %
    assert {n.metric: n.needed for n in scaled.needs}[Metric.MUTATION_SCORE] == 200  # x 1000/200


@pytest.mark.parametrize(("line", "start"), [(3, 3), (5, 5), (6, 6), (12, 12), (1, 1), (14, 14)])
def test_statement_at(line: int, start: int) -> None:
    assert SourceInfo.parse(SOURCE).statement_at(line) == start


def test_statement_at_a_continuation_line() -> None:
    info = SourceInfo.parse("def f():\n    warn(\n        'a'\n        'b',\n    )\n")
    assert [info.statement_at(n) for n in (2, 3, 4, 5)] == [2, 2, 2, 2]


def test_long_mutant_text_is_clipped() -> None:
    old = "    raise ValueError('" + "x" * 120 + "')"
    text = planning.describe_mutant(f"--- a\n+++ a\n@@ -1 +1 @@\n-{old}\n+    raise ValueError(None)\n")
    assert "…" in text and len(text) < 200
