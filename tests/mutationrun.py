"""The mutation phase end to end, in-process: what ``harness run`` does for the mutation metric.

``measure(root, ...)`` loads the config (with ``--set``-style settings), discovers the project, runs the real
mutation collector (mutmut in its sandbox, through the driver), aggregates, gates and writes every report, and
returns the exit code ``harness run`` would give (``cli._conclude``). Coverage, runtime and flakiness are left
out; ``quarantine`` stands for the tests the flakiness phase hands the mutation phase.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from harness.aggregate import Results, aggregate
from harness.cli import _conclude
from harness.collectors import mutation
from harness.config import load_config, parse_set
from harness.discover import discover
from harness.gate import gate
from harness.model import Metric, QuarantinedTest, RunMeta, Scorecard
from harness.reporters import terminal, write_all
from harness.workspace import Workspace


@dataclass
class Measured:
    exit_code: int
    card: Scorecard
    result: mutation.MutationResult
    output: str

    def counts(self) -> dict[str, dict[str, int]]:
        """Module -> the mutation counts (by status), as mutation.json has them."""
        return {m: {k: v for k, v in _counts(mm).items()} for m, mm in self.result.by_module.items()}

    def quarantined(self) -> dict[str, str]:
        return {q.nodeid: q.cause.value for q in self.result.quarantined}

    def unmeasured(self) -> dict[str, str]:
        return {u.module: u.cause for u in self.result.unmeasured}

    def scorecard_json(self, root: Path) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads((root / "reports" / "scorecard.json").read_text(encoding="utf-8"))
        return doc


def _counts(mm: Any) -> dict[str, int]:
    c = mm.counts
    return {f: getattr(c, f) for f in ("killed", "timeout", "survived", "no_coverage", "suspicious", "skipped",
                                       "interrupted", "not_checked")}


def measure(root: Path, *settings: str, quarantine: Sequence[QuarantinedTest] = ()) -> Measured:
    """Run the mutation phase on ``root`` with ``key=value`` settings; every report is written."""
    cfg, source = load_config(root, environ={}, cli=parse_set(["mutation.enabled=true", *settings]))
    project = discover(root, cfg)
    ws = Workspace.for_target(root, cfg)
    art = mutation.run(project, cfg, ws, quarantine=quarantine)
    result = mutation.parse(art, project)
    card = aggregate(project, Results(mutation=result.by_module, notes=result.notes,
                                      unmeasured=result.unmeasured, quarantined=result.quarantined),
                     metrics=(Metric.MUTATION_SCORE,), meta=RunMeta(config_source=source))
    card = gate(card, cfg)
    write_all(card, ws.reports)
    mutation.write_results(result, ws.reports)
    out = io.StringIO()
    console = Console(file=out, width=200, highlight=False)
    for line in terminal.verdict_lines(card):
        console.print(line, highlight=False, markup=False)

    def say(line: str, style: str = "") -> None:
        console.print(line, markup=False, style=style)

    code = _conclude(card, say)
    return Measured(code, card, result, out.getvalue())
