"""The gap plan end to end: `harness run`, then `harness plan`, on a fixture with known gaps, a real target.

Checked: the ranking is the order of the weighted gap recomputed here from scorecard.json and the documented
formula, the module known to have the largest weighted gap comes first, and every listed arc and mutant is in
the run's data.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import realtargets
from conftest import run_harness

from harness.complexity import SourceInfo

pytestmark = pytest.mark.slow

FAST = ("--set", "runtime.enabled=false", "--set", "flakiness.enabled=false")

BIG = "def big(n):\n" + "".join(
    f"    if n == {i}:\n        n += {i}\n        n *= 2\n" for i in range(12)) + "    return n\n"
GAPPY = {
    "pyproject.toml": '[project]\nname = "gappy"\nversion = "0"\n',
    "config/quality.toml": """
        [tiers.critical]
        modules = ["gappy.auth"]
        weight = 3
        branch_coverage = 95
    """,
    "gappy/__init__.py": "",
    # large and branchy, tested for one value only: the largest weighted gap
    "gappy/big.py": BIG,
    # small but critical (weight 3, 95 % branch target): second
    "gappy/auth.py": """
        def allowed(user, action):
            if user is None:
                return False
            if user == "admin":
                return True
            for right in ("read", "list"):
                if action == right:
                    return True
            return False
    """,
    # fully tested: not in the ranking
    "gappy/done.py": """
        def double(x):
            if x < 0:
                return -1
            return 2 * x
    """,
    "tests/test_gappy.py": """
        from gappy.auth import allowed
        from gappy.big import big
        from gappy.done import double


        def test_big():
            assert big(0) == 0


        def test_auth():
            assert allowed(None, "read") is False
            assert allowed("admin", "write") is True
            assert allowed("bob", "read") is True


        def test_double():
            assert double(-1) == -1
            assert double(0) == 0
            assert double(3) == 6
    """,
}


def _expected_gap(module: dict[str, Any], source: str) -> float:
    """The documented formula, recomputed from scorecard.json: tier weight x complexity weight x units."""
    units = 0
    for v in module["verdicts"]:
        cov = module["coverage"]["numbers"] if module["coverage"] else None
        if v["status"] != "fail" or cov is None:
            continue
        num, den = {"line_coverage": (cov["executed"], cov["statements"]),
                    "branch_coverage": (cov["covered_branches"], cov["branches"])}.get(v["metric"], (0, 0))
        if den:
            units += math.ceil(Fraction(repr(v["target"])) * den / 100) - num
    mut = module.get("mutation")
    for v in module["verdicts"]:
        if v["metric"] == "mutation_score" and v["status"] == "fail" and mut:
            c = mut["counts"]
            needed = math.ceil(Fraction(repr(v["target"])) * c["valid"] / 100) - c["detected"]
            if mut.get("population"):
                needed = math.ceil(needed * mut["population"] / c["total"])
            units += needed
    statements = module["coverage"]["numbers"]["statements"]
    decisions = SourceInfo.parse(source).decisions
    return {"critical": 3.0}.get(module["tier"] or "", 1.0) * (1 + decisions / statements) * units


def _check_plan(root: Path, scorecard: dict[str, Any], plan: dict[str, Any]) -> list[str]:
    """Ranking = order of the recomputed weighted gap; every arc/mutant item exists in the run's data."""
    by_module = {m["module"]: m for m in scorecard["modules"]}
    ranked = [m["module"] for m in plan["modules"]]
    expected = {name: _expected_gap(by_module[name], (root / by_module[name]["path"]).read_text())
                for name in ranked}
    for mp in plan["modules"]:
        assert mp["weighted_gap"] == pytest.approx(expected[mp["module"]]), mp["module"]
    assert ranked == sorted(ranked, key=lambda n: (-expected[n], n))
    failing = {m["module"] for m in scorecard["modules"]
               if any(v["status"] == "fail" and v["metric"] != "flaky_rate" for v in m["verdicts"])}
    assert set(ranked) == failing
    arcs = mutants = 0
    for item in plan["items"]:
        card = by_module[item["module"]]
        if item["arc"] is not None:
            assert item["arc"] in card["coverage"]["missing_arcs"], item
            arcs += 1
        for name in ([item["mutant"]] if item["mutant"] else []) + item["also"]:
            listed = {m["name"]: m["status"] for m in card["mutation"]["mutants"]}
            assert listed.get(name) in ("survived", "no_coverage"), item
            mutants += 1
        if item["lines"]:
            assert set(item["lines"]) <= set(card["coverage"]["missing_lines"]), item
    return [f"{len(ranked)} modules ranked, {len(plan['items'])} items ({arcs} arcs, {mutants} mutants) "
            f"all found in the run's data; top: {ranked[:3]}"]


def _run_and_plan(root: Path, *args: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    result = run_harness("run", root, "--quiet", *args)
    assert result.returncode in (0, 1), result.output
    planned = run_harness("plan", root, "--batch", "5")
    assert planned.returncode == 0, planned.output
    scorecard = json.loads((root / "reports" / "scorecard.json").read_text())
    plan = json.loads((root / "reports" / "plan.json").read_text())["plan"]
    return scorecard, plan, planned.stdout


def test_fixture_with_known_gaps(target_project) -> None:  # type: ignore[no-untyped-def]
    root = target_project(GAPPY)
    scorecard, plan, out = _run_and_plan(root, *FAST, "--set", "mutation.enabled=true")
    assert [m["module"] for m in plan["modules"]] == ["gappy.big", "gappy.auth"]
    assert "gappy.done" in plan["met"]
    assert {m["module"]: m["tier"] for m in scorecard["modules"]}["gappy.auth"] == "critical"
    texts = [i["text"] for i in plan["items"]]
    assert "line 7->6 in allowed: the else of 'if action == right' (condition false; there is no else " \
           "clause)" in texts, texts
    assert out.splitlines()[0].strip().startswith("1. gappy.big: weighted gap"), out
    print("\n" + "\n".join(_check_plan(root, scorecard, plan)))
    md = (root / "reports" / "plan.md").read_text()
    assert "### Batch 1: items 1-5" in md
    big = {m["module"]: m for m in scorecard["modules"]}["gappy.big"]
    counts = big["mutation"]["counts"]  # its untested branches: survivors, or no coverage where no test ran
    assert counts["survived"] + counts["no_coverage"] > 50, counts  # the mutated line (line selection)
    folded = [n for i in plan["items"] if i["module"] == "gappy.big" for n in i["also"]]
    assert len(folded) >= 60  # survivors on never-run lines ride with the branch item that covers them
    mutant_items = [i for i in plan["items"] if i["mutant"]]
    assert all(" becomes `" in i["text"] or "is removed" in i["text"] for i in mutant_items), mutant_items
    print("\n".join(i["text"] for i in mutant_items[:3]))


@pytest.mark.acceptance
@pytest.mark.parametrize("name", ["itsdangerous"])
def test_real_target(name: str, tmp_path: Path) -> None:
    root = realtargets.prepare(name, tmp_path / "src")
    # Demanding targets so that most modules have a gap to rank; mutation on a seeded sample (the plan scales
    # the mutants needed to the population).
    scorecard, plan, _ = _run_and_plan(root, *FAST, *realtargets.harness_config(name),
                                       "--set", "targets.branch_coverage=100",
                                       "--set", "targets.line_coverage=100", "--set", "mutation.enabled=true",
                                       "--sample", "150")
    assert plan["modules"], "the demanding targets leave gaps"
    assert any(i["mutant"] or i["also"] for i in plan["items"]), "survivors listed"
    print(f"\n{name}: " + "\n".join(_check_plan(root, scorecard, plan)))
