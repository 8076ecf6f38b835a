"""Reporters read a Scorecard and return text; they never run tools or compute figures.

``write_all`` is the one place that puts reports on disk (atomically) under the reports folder.
"""

from __future__ import annotations

from pathlib import Path

from harness.model import Scorecard
from harness.reporters import json_report, markdown
from harness.workspace import atomic_write_text


def module_file_stem(module: str) -> str:
    return module.replace("/", "_")


def write_all(scorecard: Scorecard, reports: Path) -> list[Path]:
    """Write scorecard.json, scorecard.md and modules/<module>.{json,md}; returns the files written."""
    written = []
    json_report.write(scorecard, reports / "scorecard.json")
    written.append(reports / "scorecard.json")
    atomic_write_text(reports / "scorecard.md", markdown.summary(scorecard))
    written.append(reports / "scorecard.md")
    modules_dir = reports / "modules"
    for card in scorecard.modules:
        stem = module_file_stem(card.module)
        json_report.write_module(card, scorecard, modules_dir / f"{stem}.json")
        atomic_write_text(modules_dir / f"{stem}.md", markdown.module_page(card, scorecard))
        written += [modules_dir / f"{stem}.json", modules_dir / f"{stem}.md"]
    return written
