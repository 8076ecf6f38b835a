"""Reporters read a Scorecard and return text; they never run tools or compute figures.

``write_all`` is the one place that puts reports on disk (atomically) under the reports folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from harness.model import Scorecard
from harness.reporters import json_report, markdown
from harness.workspace import atomic_write_text, write_json

if TYPE_CHECKING:
    from harness.history import HistoryEntry


def module_file_stem(module: str) -> str:
    return module.replace("/", "_")


def read_sources(scorecard: Scorecard, source_root: Path) -> dict[str, str | None]:
    """Each module's source text, read at report time from the project root (None when unreadable)."""
    out: dict[str, str | None] = {}
    for card in scorecard.modules:
        try:
            out[card.module] = (source_root / card.path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            out[card.module] = None
    return out


def write_all(scorecard: Scorecard, reports: Path, *, history: Sequence[HistoryEntry] = (),
              source_root: Path | None = None) -> list[Path]:
    """Write scorecard.json, scorecard.md and modules/<module>.{json,md}, junit.xml, html/, badges/ and (when
    mutation was measured) Stryker's mutation-report.json; returns the files written.

    ``history`` feeds the HTML trend sparklines; module sources are read from ``source_root`` (default: the
    scorecard's project root).
    """
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
    written += _write_more(scorecard, reports, history, source_root or Path(scorecard.root))
    return written


def _write_more(scorecard: Scorecard, reports: Path, history: Sequence[HistoryEntry],
                source_root: Path) -> list[Path]:
    from harness.model import Metric
    from harness.reporters import badge, html, junit, stryker

    written = []
    sources = read_sources(scorecard, source_root)
    atomic_write_text(reports / "junit.xml", junit.report(scorecard))
    written.append(reports / "junit.xml")
    for rel, text in html.pages(scorecard, sources, history).items():
        atomic_write_text(reports / "html" / rel, text)
        written.append(reports / "html" / rel)
    for name, text in badge.badges(scorecard).items():
        atomic_write_text(reports / "badges" / name, text)
        written.append(reports / "badges" / name)
    if Metric.MUTATION_SCORE in scorecard.metrics or any(c.mutation for c in scorecard.modules):
        texts = {k: v for k, v in sources.items() if v is not None}
        write_json(reports / "mutation-report.json", "stryker-report", stryker.report(scorecard, texts))
        written.append(reports / "mutation-report.json")
    return written
