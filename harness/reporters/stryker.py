"""Stryker's mutation-testing-report-schema (version 2) JSON, so Stryker's HTML viewer, dashboard and their
GitHub/SonarQube integrations can read the harness's mutation results.

The schema is vendored in ``harness/schemas/`` (npm package ``mutation-testing-report-schema``
:data:`SCHEMA_PACKAGE_VERSION`). Our statuses map to Stryker's in exactly one table, :data:`STRYKER_STATUS`,
chosen so that Stryker's mutation score equals ours: suspicious, skipped, interrupted and not-checked mutants
are excluded from valid mutants on both sides (Stryker excludes Ignored and Pending the same way).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.collectors.mutmut_adapter import diff_sides
from harness.model import Metric, Mutant, MutantStatus, Scorecard

SCHEMA_VERSION = "2"
SCHEMA_PACKAGE_VERSION = "3.8.4"
SCHEMA_FILE = "mutation-testing-report-schema.json"

STRYKER_STATUS: dict[MutantStatus, str] = {
    MutantStatus.KILLED: "Killed",
    MutantStatus.TIMEOUT: "Timeout",
    MutantStatus.SURVIVED: "Survived",
    MutantStatus.NO_COVERAGE: "NoCoverage",
    MutantStatus.SUSPICIOUS: "Ignored",  # mutmut: the tests ran suspiciously long; excluded from the score
    MutantStatus.SKIPPED: "Ignored",
    MutantStatus.INTERRUPTED: "Pending",  # the check did not finish: the outcome is unknown
    MutantStatus.NOT_CHECKED: "Pending",
}
STATUS_REASON: dict[MutantStatus, str] = {
    MutantStatus.SUSPICIOUS: "mutmut: suspicious (the tests took far longer than on unmutated code)",
    MutantStatus.SKIPPED: "mutmut: skipped",
    MutantStatus.INTERRUPTED: "mutmut: the check was interrupted",
    MutantStatus.NOT_CHECKED: "mutmut: not checked",
    MutantStatus.NO_COVERAGE: "no test executes the mutated code",
}
DEFAULT_THRESHOLDS = (80, 60)  # Stryker's own defaults, used when no module has a mutation target


@dataclass(frozen=True)
class Span:
    """Where a mutant sits in its file: 1-based lines and columns, end exclusive (Stryker's convention)."""

    start_line: int
    start_column: int
    end_line: int
    end_column: int
    replacement: str


_INDEXES: dict[int, tuple[Sequence[str], dict[str, list[int]]]] = {}


def _line_index(source_lines: Sequence[str]) -> dict[str, list[int]]:
    """Line numbers by right-stripped text, built once per source (a report locates every mutant of a file in
    the same list: scanning it per mutant was O(mutants x lines))."""
    found = _INDEXES.get(id(source_lines))
    if found is not None and found[0] is source_lines:
        return found[1]
    index: dict[str, list[int]] = {}
    for i, text in enumerate(source_lines):
        index.setdefault(text.rstrip(), []).append(i + 1)
    if len(_INDEXES) >= 8:
        _INDEXES.clear()
    _INDEXES[id(source_lines)] = (source_lines, index)
    return index


def locate(mutant: Mutant, source_lines: Sequence[str]) -> Span:
    """The mutant's span in the file.

    mutmut's diffs are of the mutated function alone, so their hunk line numbers are not file lines: the first
    removed line is looked up in the source nearest to ``mutant.line``. A one-line change is narrowed to the
    characters that differ, so a viewer shows exactly the replaced text.
    """
    removed, added = diff_sides(mutant.diff)
    line = max(mutant.line or 1, 1)
    if removed and source_lines:
        candidates = _line_index(source_lines).get(removed[0].rstrip())
        if candidates:
            line = min(candidates, key=lambda n: (abs(n - line), n))
    line = min(line, max(len(source_lines), 1))
    if len(removed) == 1 and len(added) == 1:
        old, new = removed[0], added[0]
        prefix = 0
        while prefix < min(len(old), len(new)) and old[prefix] == new[prefix]:
            prefix += 1
        suffix = 0
        while (suffix < min(len(old), len(new)) - prefix
               and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]):
            suffix += 1
        return Span(line, prefix + 1, line, len(old) - suffix + 1, new[prefix:len(new) - suffix])
    if not removed:
        return Span(line, 1, line, 1, "\n".join(added))
    indent = len(removed[0]) - len(removed[0].lstrip())
    last = line + len(removed) - 1
    replacement = "\n".join(added)[indent:] if added else ""
    return Span(line, indent + 1, last, len(removed[-1]) + 1, replacement)


def thresholds(sc: Scorecard) -> tuple[int, int]:
    """(high, low): the span of the modules' mutation-score targets, so Stryker's colours follow our gate."""
    targets = [v.target for c in sc.modules for v in c.verdicts if v.metric is Metric.MUTATION_SCORE]
    if not targets:
        return DEFAULT_THRESHOLDS
    return min(100, math.ceil(max(targets))), max(0, math.floor(min(targets)))


def mutant_result(mutant: Mutant, source_lines: Sequence[str]) -> dict[str, Any]:
    span = locate(mutant, source_lines)
    out: dict[str, Any] = {
        "id": mutant.name,
        "mutatorName": "mutmut",
        "location": {"start": {"line": span.start_line, "column": span.start_column},
                     "end": {"line": span.end_line, "column": span.end_column}},
        "status": STRYKER_STATUS[mutant.status],
        "replacement": span.replacement,
        "description": f"{mutant.function}: {mutant.diff.strip()}" if mutant.diff else mutant.function,
    }
    if mutant.status in STATUS_REASON:
        out["statusReason"] = STATUS_REASON[mutant.status]
    if mutant.duration is not None:
        out["duration"] = round(mutant.duration * 1000, 3)
    return out


def report(sc: Scorecard, sources: Mapping[str, str]) -> dict[str, Any]:
    """The report as data; ``sources`` maps module names to their source text (read by the writer)."""
    high, low = thresholds(sc)
    files: dict[str, Any] = {}
    for card in sc.modules:
        if card.mutation is None:
            continue
        source = sources.get(card.module, "")
        lines = source.splitlines()
        files[card.path] = {
            "language": "python",
            "source": source,
            "mutants": [mutant_result(m, lines) for m in card.mutation.mutants],
        }
    return {
        "schemaVersion": SCHEMA_VERSION,
        "thresholds": {"high": high, "low": low},
        "projectRoot": sc.root,
        "files": files,
        "framework": {"name": "quality-harness (mutmut)",
                      "version": sc.meta.harness_version},
        "config": {"project": sc.project},
    }
