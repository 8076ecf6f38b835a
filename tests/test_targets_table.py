"""benchmarks/targets_table.py's doc writer (fast): a section is filled one target at a time."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import targets_table


def _row(name: str, exit_code: str) -> targets_table.Row:
    return targets_table.Row(name, exit=exit_code, wall=1.0, modules=2, measured=2, matched="2/2")


def test_rows_of_targets_run_replace_theirs_and_the_others_stay(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    doc = tmp_path / "targets.md"
    doc.write_text("# Title\n\nhand-written text\n")
    monkeypatch.setattr(targets_table, "DOC", doc)
    first = [_row("toolz", "1"), _row("semver", "0")]
    first[0].diffs = ["toolz.x: differs"]
    targets_table.write_doc(targets_table.table(first), True, ["toolz", "semver"])
    targets_table.write_doc(targets_table.table([_row("toolz", "0"), _row("jmespath", "3")]), True,
                            ["toolz", "jmespath"])
    targets_table.write_doc(targets_table.table([_row("semver", "1")]), False, ["semver"])
    text = doc.read_text()
    assert text.startswith("# Title\n\nhand-written text\n")
    mutation = text[text.index("targets-table:with-mutation:begin"):text.index("targets-table:with-mutation:end")]
    rows = [ln.split(" | ")[:2] for ln in mutation.splitlines() if ln.startswith("| ") and "target |" not in ln]
    assert rows == [["| toolz", "0"], ["| semver", "0"], ["| jmespath", "3"]]  # targets.md order
    assert "toolz.x: differs" not in mutation  # toolz was run again: its old differences went with its row
    runs = [ln.split(": ", 1)[1] for ln in mutation.splitlines() if ln.startswith("- run ")]
    assert runs == ["semver.", "toolz, jmespath."]
    coverage = text[text.index("targets-table:coverage-only:begin"):]
    assert "| semver | 1 |" in coverage and "toolz" not in coverage


def test_rows_from_before_run_lists_are_kept_and_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = tmp_path / "targets.md"
    header = "| " + " | ".join(targets_table.HEADER) + " |\n|" + "---|" * len(targets_table.HEADER)
    doc.write_text("<!-- targets-table:with-mutation:begin -->\nold text\n\n" + header
                   + "\n| jmespath | 1 | 389 s | 8/8 | 8/8 | - | - | - |\n<!-- targets-table:with-mutation:end -->\n")
    monkeypatch.setattr(targets_table, "DOC", doc)
    targets_table.write_doc(targets_table.table([_row("semver", "0")]), True, ["semver"])
    text = doc.read_text()
    assert "| jmespath | 1 | 389 s |" in text and "| semver | 0 |" in text and "old text" not in text
    assert "- run earlier (see git log of this file): jmespath." in text


def test_quarantined_tests_are_named_when_few() -> None:
    few = {"quarantined": [{"nodeid": "tests/test_a.py::test_x[a|b]", "cause": "flaky"}]}
    assert targets_table.summarize_quarantine(few) == "1 flaky: `tests/test_a.py::test_x[a\\|b]` (flaky)"
    many = {"quarantined": [{"nodeid": f"t::{i}", "cause": "broken"} for i in range(5)]}
    assert targets_table.summarize_quarantine(many) == "5 broken"
