"""benchmarks/whole_run_bench.py's pure parts (fast): the row, the ratio, the mutant comparison, the doc section."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import whole_run_bench as bench

from harness.stats import MutantStatus

K, T, S, N = MutantStatus.KILLED, MutantStatus.TIMEOUT, MutantStatus.SURVIVED, MutantStatus.NO_COVERAGE


def _row(name: str, harness: float, bare: tuple[float, float, float], **kw: object) -> bench.Row:
    row = bench.Row(name, exit="1", runs=10, serial_runs=3, workers=2, coverage="15/16", mutation="m",
                    **kw)  # type: ignore[arg-type]
    row.harness.walls["run"] = harness
    row.bare.walls.update(zip(("coverage", "pytest", "mutmut"), bare, strict=True))
    row.harness.load, row.bare.load = 3.0, 4.5
    return row


def test_the_bare_wall_is_the_sum_of_its_steps_and_the_ratio_harness_over_bare() -> None:
    row = _row("toolz", 100.0, (10.0, 40.0, 350.0))
    assert row.bare.wall == 400.0 and row.ratio == 0.25
    cells = row.cells()
    assert cells[1] == "100 s (exit 1; 10 runs, 3 of them serial, 2 workers)"
    assert cells[2] == "400 s (10 s / 10 x `pytest -n 2` 40 s / 350 s)"
    assert cells[3] == "**0.25**" and cells[6] == "3.0, 4.5"


def test_a_capped_side_and_a_failure_are_said_in_the_row() -> None:
    row = _row("fastapi-azure-auth", 3900.0, (12.0, 100.0, 3600.0), budget=3600.0)
    row.harness.capped = row.bare.capped = True
    row.bare.failure = "bare mutmut exited 1"
    cells = row.cells()
    assert "mutation capped by its budget" in cells[1] and "capped at 3600 s" in cells[2]
    assert cells[5] == "m; bare mutmut exited 1"


def test_no_ratio_without_both_walls() -> None:
    row = bench.Row("toolz")
    assert row.ratio is None and row.cells()[3] == "-"


def test_mutants_are_compared_only_where_both_sides_judged_them() -> None:
    ours = {"p.a.x_f__mutmut_1": K, "p.a.x_f__mutmut_2": S, "p.a.xǁCǁm__mutmut_1": T,
            "p.b.x_g__mutmut_1": K, "p.b.x_g__mutmut_2": K, "p.b.x_g__mutmut_3": MutantStatus.NOT_CHECKED}
    theirs = {"p.a.x_f__mutmut_1": T, "p.a.x_f__mutmut_2": S, "p.a.xǁCǁm__mutmut_1": K,
              "p.b.x_g__mutmut_1": K, "p.b.x_g__mutmut_2": S, "p.b.x_g__mutmut_3": K,
              "p.c.x_h__mutmut_1": MutantStatus.INTERRUPTED}
    cell, diffs = bench.compare_mutants(ours, theirs)
    # p.a: 2 of 3 detected on both sides (a timeout on one, a kill on the other); p.b: 2 of 2 vs 1 of 2
    assert cell == "80.0 % vs 60.0 % over 5 mutants; 1/2 modules (judged by one side only: harness 0, bare 1)"
    # p.a: the same counts (a kill and a timeout swapped places) is no difference
    assert diffs == ["p.b: harness 2 killed, bare 1 killed / 1 survived"]


def test_no_mutant_judged_by_both_is_said_not_scored() -> None:
    cell, diffs = bench.compare_mutants({"p.a.x__mutmut_1": K}, {"p.a.x__mutmut_1": MutantStatus.NOT_CHECKED})
    assert cell == "no mutant judged by both (harness 1, bare 0)" and diffs == []


def test_the_section_keeps_other_targets_rows_and_the_text_around_it(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n## Mutation phase\n\nhand-written\n")
    first = [_row("toolz", 100.0, (10.0, 40.0, 350.0)), _row("itsdangerous", 300.0, (5.0, 20.0, 500.0))]
    first[0].diffs = ["toolz.itertoolz: harness 1 killed, bare 1 timeout"]
    bench.write_doc(bench.table(first), ["toolz", "itsdangerous"], doc)
    bench.write_doc(bench.table([_row("toolz", 90.0, (10.0, 40.0, 350.0))]), ["toolz"], doc)
    text = doc.read_text()
    assert text.startswith("# Benchmarks\n\n## Mutation phase\n\nhand-written\n")
    assert text.count(bench.BEGIN) == 1 and text.count(bench.END) == 1
    section = text[text.index(bench.BEGIN):text.index(bench.END)]
    rows = [ln.split(" | ")[:2] for ln in section.splitlines() if ln.startswith("| ") and "| target |" not in ln]
    assert rows == [["| toolz", "90 s (exit 1; 10 runs, 3 of them serial, 2 workers)"],
                    ["| itsdangerous", "300 s (exit 1; 10 runs, 3 of them serial, 2 workers)"]]
    assert "harness 1 killed, bare 1 timeout" not in section  # toolz ran again: its old differences went
    stamps = [ln.split(" run ")[0] for ln in section.splitlines() if " run 20" in ln and ln.startswith("- ")]
    assert stamps == ["- toolz", "- itsdangerous"]
