"""Tiers: named module groups with their own targets (defaults < tier < overrides) and a plan weight."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_tree

from harness.aggregate import Results, aggregate
from harness.config import Config, load_config
from harness.discover import ModuleInfo, Project
from harness.errors import ConfigError
from harness.gate import gate
from harness.model import CoverageNumbers, Metric, ModuleCoverage, Status

TIERS = """
[targets]
branch_coverage = 70

[tiers.critical]
modules = ["app.auth*", "app.billing.*"]
weight = 3
branch_coverage = 95
mutation_score = 85

[tiers.medium]
modules = ["app.*"]
branch_coverage = 60

[overrides."app.billing.legacy"]
branch_coverage = 50
"""


def _load(tmp_path: Path, toml: str) -> Config:
    write_tree(tmp_path, {"config/quality.toml": toml})
    return load_config(tmp_path, environ={})[0]


@pytest.mark.parametrize(
    ("module", "tier", "branch", "mutation"),
    [
        ("app.auth", "critical", 95.0, 85.0),
        ("app.auth.tokens", "critical", 95.0, 85.0),
        ("app.billing.invoice", "critical", 95.0, 85.0),
        ("app.billing.legacy", "critical", 50.0, 85.0),  # an override beats the tier
        ("app.views", "medium", 60.0, 70.0),  # the first matching tier wins; mutation from the defaults
        ("tools", None, 70.0, 70.0),  # in no tier: the defaults
    ],
)
def test_tier_targets_precedence(tmp_path: Path, module: str, tier: str | None, branch: float,
                                 mutation: float) -> None:
    cfg = _load(tmp_path, TIERS)
    found = cfg.tier_for(module)
    assert (found[0] if found else None) == tier
    targets = cfg.targets_for(module)
    assert (targets.branch_coverage, targets.mutation_score) == (branch, mutation)


def test_tier_weight_default_and_mapping(tmp_path: Path) -> None:
    cfg = _load(tmp_path, TIERS)
    weights = dict((name, t.weight) for name, t in cfg.tiers)
    assert weights == {"critical": 3.0, "medium": 1.0}
    assert cfg.tiers_by_module(["app.auth", "app.x", "lib"]) == {"app.auth": "critical", "app.x": "medium"}


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[tiers.critical]\nmodules = ["a"]\nbranch_coverag = 90\n', "tiers.critical.branch_coverag"),
        ('[tiers.critical]\nmodules = ["a"]\nbranch_coverage = 190\n', "tiers.critical.branch_coverage"),
        ('[tiers.critical]\nweight = 2\n', "tiers.critical.modules"),
        ('[tiers.critical]\nmodules = ["a"]\nweight = -1\n', "tiers.critical.weight"),
        ('[tiers.critical]\nmodules = ["a"]\n[tiers.critical.targets]\nline_coverage = 1\n',
         "tiers.critical.targets"),
        ('tiers = 3\n', "'tiers'"),
        ('[tiers]\ncritical = 3\n', "tiers.critical"),
    ],
)
def test_tier_errors_name_the_key(tmp_path: Path, toml: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        _load(tmp_path, toml)


def test_scorecard_carries_the_tier_and_the_gate_uses_its_targets(tmp_path: Path) -> None:
    cfg = _load(tmp_path, TIERS)
    project = Project(root=tmp_path, name="app", import_roots=("",), source=("app",), tests=("tests",),
                      modules=(ModuleInfo("app.auth", "app/auth.py", ""),
                               ModuleInfo("tools", "tools.py", "")))
    cov = ModuleCoverage(CoverageNumbers(statements=10, executed=10, branches=10, covered_branches=9))
    card = aggregate(project, Results(coverage={"app.auth": cov, "tools": cov}),
                     metrics=(Metric.LINE_COVERAGE, Metric.BRANCH_COVERAGE),
                     tiers=cfg.tiers_by_module(m.name for m in project.modules))
    card = gate(card, cfg)
    by_module = {c.module: c for c in card.modules}
    assert by_module["app.auth"].tier == "critical" and by_module["tools"].tier is None
    branch = {m: next(v for v in c.verdicts if v.metric is Metric.BRANCH_COVERAGE)
              for m, c in by_module.items()}
    assert (branch["app.auth"].target, branch["app.auth"].status) == (95.0, Status.FAIL)  # 90 % < 95 %
    assert (branch["tools"].target, branch["tools"].status) == (70.0, Status.PASS)


def test_reports_show_the_tier(tmp_path: Path) -> None:
    from harness.reporters import markdown

    cfg = _load(tmp_path, TIERS)
    project = Project(root=tmp_path, name="app", import_roots=("",), source=("app",), tests=("tests",),
                      modules=(ModuleInfo("app.auth", "app/auth.py", ""),))
    cov = {"app.auth": ModuleCoverage(CoverageNumbers(statements=1, executed=1))}
    card = gate(aggregate(project, Results(coverage=cov), metrics=(Metric.LINE_COVERAGE,),
                          tiers={"app.auth": "critical"}), cfg)
    assert "`app.auth` (critical)" in markdown.summary(card)
    assert "tier **critical**" in markdown.module_page(card.modules[0], card)
