"""The terminal scorecard's cells as a colour terminal shows them (a figure green when it meets its target, bold
red when it misses, dim without a figure), the module and project verdicts, the tests-cost column, and where
the layout switches (natural headers, shortened names, blocks) to the column."""

from __future__ import annotations

import io
import re
from dataclasses import replace

import pytest
import reportdata
from rich.cells import cell_len
from rich.console import Console, RenderableType
from rich.text import Text

from harness.model import Metric, Regression, Scorecard, Status, Unmeasured, Verdict
from harness.reporters import terminal

COLOURS = {"": "plain", "32": "green", "1;31": "bold red", "2": "dim", "1;33": "bold yellow", "1": "bold"}


def styled(renderable: RenderableType, width: int = 120) -> list[list[tuple[str, str]]]:
    """Each line of ``renderable`` on a colour terminal: its cells (runs at least two blanks apart) with their
    colour, e.g. ``[("plain", "demo.calc"), ("bold red", "80.0 %"), ...]``."""
    console = Console(file=io.StringIO(), width=width, color_system="standard", force_terminal=True)
    console.print(renderable)
    out = []
    for line in console.file.getvalue().splitlines():  # type: ignore[attr-defined]
        cells, colour = [], "plain"
        for k, part in enumerate(re.split(r"\x1b\[([\d;]*)m", line)):
            if k % 2:
                colour = COLOURS.get(part, "plain" if part == "0" else part)
                continue
            cells += [(colour, piece) for piece in re.split(r"\s{2,}", part.strip()) if piece]
        out.append(cells)
    return out


def render(sc: Scorecard, width: int) -> str:
    """What a console ``width`` columns wide without colour shows."""
    console = Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False)
    console.print(terminal.render(sc, width))
    return console.file.getvalue()  # type: ignore[attr-defined]


def look(cell: Text) -> tuple[str, str]:
    """A single cell's colour and text."""
    [[found]] = styled(cell)
    return found


def row_cells(sc: Scorecard) -> dict[str, list[tuple[str, str]]]:
    return {r.name: [look(c) for c in r.cells] for r in terminal.rows(sc)}


def passing(sc: Scorecard) -> Scorecard:
    """``sc`` with every missed target met and no regression."""
    def met(vs: tuple[Verdict, ...]) -> tuple[Verdict, ...]:
        return tuple(replace(v, status=Status.PASS) if v.status is Status.FAIL else v for v in vs)
    return replace(sc, modules=tuple(replace(m, verdicts=met(m.verdicts)) for m in sc.modules),
                   totals=replace(sc.totals, verdicts=met(sc.totals.verdicts)), regressions=())


def test_the_table_colours_each_figure_by_its_verdict() -> None:
    lines = styled(terminal.table(reportdata.scorecard(), 120))
    body = lines[next(i for i, ln in enumerate(lines) if ln and set(ln[0][1]) == {"─"}) + 1:]
    assert body[:2] == [
        [("plain", "demo"), *[("dim", "n/a")] * 5, ("green", "ok")],
        [("plain", "demo.calc"), ("bold red", "80.0 %"), ("green", "83.3 %"), ("bold red", "60.0 %"),
         ("bold red", "50.0 %"), ("plain", "0.75 s"), ("bold red", "MISSED")]]
    # TOTAL is bold; the project's coverage and score are figures, the gated flaky rate and runtime verdicts.
    assert body[-1] == [("bold", "TOTAL"), ("plain", "83.3 %"), ("plain", "83.3 %"), ("plain", "71.4 %"),
                        ("bold red", "33.3 %"), ("green", "1.50 s"), ("bold red", "MISSED")]


def test_the_blocks_name_each_module_in_bold_and_a_missed_target_in_red() -> None:
    lines = [ln for ln in styled(terminal.blocks(reportdata.scorecard()), 60) if ln]
    assert lines[0] == [("bold", "quality scorecard: demo")]
    calc = lines.index([("bold", "demo.calc"), ("bold red", "MISSED")])
    assert lines[calc + 1] == [("plain", "line coverage"), ("bold red", "80.0 %"),
                               ("bold red", "missed (target >= 85 %)")]
    assert lines[calc + 2] == [("plain", "branch coverage"), ("green", "83.3 %")]
    assert [("bold", "TOTAL"), ("bold red", "MISSED")] in lines


def test_each_verdict_of_a_module_and_of_the_project() -> None:
    sc = reportdata.scorecard()
    assert [row_cells(sc)[n][-1] for n in ("demo", "demo.calc", "TOTAL")] == [
        ("green", "ok"), ("bold red", "MISSED"), ("bold red", "MISSED")]
    ok = passing(sc)
    assert ok.passed and {cells[-1] for cells in row_cells(ok).values()} == {("green", "ok")}
    util = ok.modules[2]
    unmeasured = replace(util, verdicts=(replace(util.verdicts[0], status=Status.NOT_MEASURED, value=None),
                                         *util.verdicts[1:]))
    incomplete = replace(ok, modules=(*ok.modules[:2], unmeasured))
    cells = row_cells(incomplete)
    assert cells["demo.util"][0] == ("bold yellow", "not measured")
    assert cells["demo.util"][-1] == cells["TOTAL"][-1] == ("bold yellow", "NOT MEASURED")
    assert cells["demo.calc"][-1] == ("green", "ok")
    regressed = replace(ok, regressions=(Regression("demo.util", Metric.LINE_COVERAGE, 100.0, 99.0, 0.5),))
    cells = row_cells(regressed)
    assert cells["demo.util"][-1] == cells["TOTAL"][-1] == ("bold red", "REGRESSED")
    assert cells["demo.calc"][-1] == ("green", "ok")
    # A missed target outranks a cell not measured, in the module's verdict and the project's.
    calc = sc.modules[1]
    both = replace(calc, verdicts=(*calc.verdicts[:-1], replace(calc.verdicts[-1], status=Status.NOT_MEASURED)))
    cells = row_cells(replace(sc, modules=(*sc.modules[:1], both, *sc.modules[2:])))
    assert cells["demo.calc"][-1] == cells["TOTAL"][-1] == ("bold red", "MISSED")


def test_a_metric_without_a_verdict_shows_a_dim_dash() -> None:
    sc = reportdata.scorecard()
    util = replace(sc.modules[2], verdicts=tuple(v for v in sc.modules[2].verdicts
                                                  if v.metric is not Metric.FLAKY_RATE))
    cells = row_cells(replace(sc, modules=(*sc.modules[:2], util)))
    assert cells["demo.util"][:4] == [("green", "100.0 %"), ("dim", "n/a"), ("green", "100.0 %"), ("dim", "-")]


def test_tests_cost_per_module_and_for_the_project() -> None:
    sc = reportdata.scorecard()
    cost = {name: cells[-2] for name, cells in row_cells(sc).items()}
    assert cost == {"demo": ("dim", "n/a"), "demo.calc": ("plain", "0.75 s"), "demo.util": ("plain", "0.12 s"),
                    "TOTAL": ("green", "1.50 s")}
    # The runtime not measured for one module: that module's cost says so, the others keep theirs.
    unmeasured = replace(sc, unmeasured=(Unmeasured("demo.calc", Metric.SUITE_RUNTIME, "its tests crashed"),))
    assert [row_cells(unmeasured)[n][-2] for n in ("demo.calc", "demo.util")] == [
        ("bold yellow", "not measured"), ("plain", "0.12 s")]
    # A module whose tests were timed but none ran, and a run that did not time the suite.
    idle = replace(sc.modules[2], runtime=replace(sc.modules[2].runtime, tests=0))
    assert row_cells(replace(sc, modules=(*sc.modules[:2], idle)))["demo.util"][-2] == ("dim", "n/a")
    untimed = replace(sc, metrics=tuple(m for m in Metric if m is not Metric.SUITE_RUNTIME))
    assert {cells[-2] for name, cells in row_cells(untimed).items() if name != "TOTAL"} == {("dim", "-")}
    # The project's cost: the runtime verdict's cell when gated, else the suite's median, else "-".
    ungated = replace(sc, totals=replace(sc.totals, verdicts=tuple(
        v for v in sc.totals.verdicts if v.metric is not Metric.SUITE_RUNTIME)))
    assert row_cells(ungated)["TOTAL"][-2] == ("plain", "1.50 s")
    assert row_cells(replace(ungated, totals=replace(ungated.totals, runtime=None)))["TOTAL"][-2] == ("plain", "-")


def test_the_table_keeps_headers_whole_down_to_its_natural_width() -> None:
    """At exactly the table's natural width (measured on the rule line at 200 columns) the headers stay on one
    line; one column less and they wrap onto their words."""
    sc = reportdata.long_names_scorecard()
    heads, rows = terminal.headers(sc), terminal.rows(sc)
    natural = max(cell_len(ln.strip()) for ln in render(sc, 200).splitlines() if set(ln.strip()) == {"─"})
    assert terminal.layout(heads, rows, natural) == terminal.layout(heads, rows, 200)
    narrower = terminal.layout(heads, rows, natural - 1)
    assert narrower is not None and narrower.widths < terminal.layout(heads, rows, 200).widths  # type: ignore[union-attr]
    assert "line coverage" in render(sc, natural) and "line coverage" not in render(sc, natural - 1)


def test_the_narrowest_table_gives_names_min_name_columns_then_blocks() -> None:
    sc = reportdata.long_names_scorecard()
    heads, rows = terminal.headers(sc), terminal.rows(sc)
    narrowest = min(w for w in range(1, 201) if terminal.layout(heads, rows, w) is not None)
    assert terminal.layout(heads, rows, narrowest).name_width == terminal.MIN_NAME  # type: ignore[union-attr]
    assert "─" in render(sc, narrowest) and "─" not in render(sc, narrowest - 1)


def test_folded_names_keep_their_figures_on_their_last_line() -> None:
    """Names that would shorten alike fold whole over lines of the name column's width; the row's figures sit
    on its last line, right-aligned under their headers, the verdict left-aligned."""
    base = reportdata.scorecard()
    twins = [f"pkg.{'x' * 30}.{'y' * 10}{k}.{'z' * 30}" for k in range(2)]
    sc = replace(base, modules=tuple(replace(base.modules[1], module=n) for n in twins))
    lay = terminal.layout(terminal.headers(sc), terminal.rows(sc), 90)
    assert lay is not None and lay.fold
    lines = render(sc, 90).splitlines()
    for name in twins:
        first = next(i for i in range(len(lines))
                     if "".join(ln[:lay.name_width] for ln in lines[i: i + 3]).strip() == name)
        assert lines[first + 2][lay.name_width:].split() == [
            "80.0", "%", "83.3", "%", "60.0", "%", "50.0", "%", "0.75", "s", "MISSED"]
        assert not lines[first][lay.name_width:].strip()
    header, row = lines[2], lines[first + 2]
    assert header.index("coverage") + len("coverage") == row.index("80.0 %") + len("80.0 %")
    assert header.index("verdict") == row.index("MISSED")


@pytest.mark.parametrize("name", ["harness.collectors.mutation", "pkg.mod [core]", "a"])
def test_shorten_fits_every_width_keeping_both_ends(name: str) -> None:
    for width in range(1, len(name) + 2):
        short = terminal.shorten(name, width)
        assert cell_len(short) == min(width, len(name)), (width, short)
        if width < len(name):
            head, tail = short.split(terminal.ELLIPSIS)
            assert name.startswith(head) and name.endswith(tail) and len(head) + len(tail) == width - 1


def test_shorten_keeps_a_tier_with_brackets_whole() -> None:
    """A tier is any TOML key, blanks and brackets included; a module name never has a blank."""
    assert terminal.shorten("harness.collectors.mutation [x [y]", 21) == "harnes…utation [x [y]"


def test_wrap_keeps_hyphenated_words_and_an_empty_line() -> None:
    line = "QUARANTINED tests/test_a.py::test_state: state-leak: fails after order-dependent setup"
    for width in range(24, 60):
        assert all(w in " ".join(terminal.wrap(line, width)).split() for w in ("state-leak:", "order-dependent"))
    assert terminal.wrap("", 80) == [""]
