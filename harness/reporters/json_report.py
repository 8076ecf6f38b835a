"""JSON reports: ``scorecard.json`` (the whole run) and ``modules/<module>.json`` (one module)."""

from __future__ import annotations

from pathlib import Path

from harness.model import ModuleScorecard, Scorecard
from harness.serialize import scorecard_to_dict, to_data
from harness.workspace import write_json


def write(scorecard: Scorecard, path: Path) -> None:
    write_json(path, "scorecard", scorecard_to_dict(scorecard))


def write_module(card: ModuleScorecard, scorecard: Scorecard, path: Path) -> None:
    write_json(path, "module-scorecard", {"project": scorecard.project, "module": to_data(card)})
