"""README's self-scorecard block is what docs/readme_scorecard.py writes from docs/self-scorecard.json."""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]


def _tool() -> Any:
    spec = importlib.util.spec_from_file_location("readme_scorecard", REPO / "docs" / "readme_scorecard.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("readme_scorecard", module)
    spec.loader.exec_module(module)
    return module


tool = _tool()


def _snapshot() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((REPO / "docs" / "self-scorecard.json").read_text(encoding="utf-8"))
    return doc


def test_readme_block_is_what_the_generator_writes() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = tool.render(_snapshot())
    assert block in readme, "README.md's scorecard block is out of date: run python docs/readme_scorecard.py"
    assert tool.replace_block(readme, block) == readme


def test_snapshot_is_a_quality_run_of_the_committed_config() -> None:
    doc = _snapshot()
    assert doc["kind"] == "scorecard" and doc["project"] == "quality-harness"
    assert str(doc["meta"]["config_source"]).endswith("config/quality.toml")


def test_readme_shows_the_dashboard_screenshot() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "](docs/dashboard.png)" in readme
    assert (REPO / "docs" / "dashboard.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_render_marks_misses_overrides_and_unmeasured_cells() -> None:
    doc = copy.deepcopy(_snapshot())
    card = next(c for c in doc["modules"] if any(v["status"] == "pass" and v["metric"] == "branch_coverage"
                                                   for v in c["verdicts"]))
    v = next(v for v in card["verdicts"] if v["metric"] == "branch_coverage")
    v.update(status="fail", value=12.5, target=95.0)
    doc["passed"] = False
    misses = sum(v["status"] == "fail" for c in doc["modules"] for v in c["verdicts"])
    misses += sum(v["status"] == "fail" for v in doc["totals"]["verdicts"])
    doc["unmeasured"] = [{"module": "harness.x", "metric": "mutation_score", "cause": "mutmut broke"}]
    text = tool.render(doc)
    assert f"❌ **{misses} target(s) missed" in text
    assert f"- missed: `{card['module']}` branch 12.5 % (target ≥ 95 %)" in text
    assert "12.5 % ❌ (≥ 95 %)" in text
    assert "- not measured: `harness.x` mutation: mutmut broke" in text


def test_render_refuses_other_documents() -> None:
    with pytest.raises(ValueError, match="format-1 scorecard"):
        tool.render({"kind": "history", "format": 1})


def test_check_mode_and_missing_markers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{tool.BEGIN}\nold\n{tool.END}\nend\n", encoding="utf-8")
    monkeypatch.setattr(tool, "README", readme)
    assert tool.main(["--check"]) == 1
    assert tool.main([]) == 0
    assert tool.main(["--check"]) == 0
    assert readme.read_text(encoding="utf-8").startswith("intro\n" + tool.BEGIN)
    with pytest.raises(ValueError, match="no"):
        tool.replace_block("no markers", "x")


def test_slim_keeps_every_figure_and_verdict() -> None:
    doc = {"modules": [{"module": "m", "verdicts": [1], "coverage": {"numbers": {"statements": 3}, "tests": ["t"],
                                                                     "missing_arcs": [[1, 2]]},
                        "mutation": {"counts": {"killed": 1}, "mutants": [{}]}, "runtime": None}]}
    assert tool.slim(doc) == {"modules": [{"module": "m", "verdicts": [1], "coverage": {"numbers": {"statements": 3}},
                                           "mutation": {"counts": {"killed": 1}}, "runtime": None}]}
