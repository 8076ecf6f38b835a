"""The JSON reports on disk: scorecard.json and a module's page, each with its kind, read back whole."""

from __future__ import annotations

import json
from pathlib import Path

import reportdata

from harness.reporters import json_report
from harness.serialize import scorecard_from_dict, to_data


def test_scorecard_and_module_json(tmp_path: Path) -> None:
    sc = reportdata.scorecard()
    json_report.write(sc, tmp_path / "scorecard.json")
    doc = json.loads((tmp_path / "scorecard.json").read_text())
    assert doc["kind"] == "scorecard" and scorecard_from_dict(doc) == sc
    json_report.write_module(sc.modules[1], sc, tmp_path / "demo.calc.json")
    doc = json.loads((tmp_path / "demo.calc.json").read_text())
    assert (doc["kind"], doc["project"]) == ("module-scorecard", "demo")
    assert doc["module"] == json.loads(json.dumps(to_data(sc.modules[1])))
