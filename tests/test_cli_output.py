"""The CLI's progress output (harness.cli_output) as a user sees it: the live display's lines, drawn exactly on
a fixed clock (no time passes), and the plain lines of a phase that starts without a message."""

from __future__ import annotations

import io

from rich.console import Console

from harness.cli_output import LiveProgress, PlainProgress
from harness.progress import Phase, ProgressEvent


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _live_run() -> tuple[LiveProgress, io.StringIO]:
    """A live display after a finished phase, a count without a total, a count with rich's own ETA and a
    phase showing its message."""
    clock, notes = Clock(), io.StringIO()
    display = LiveProgress(Console(file=notes, width=100, force_terminal=True, color_system=None))
    display.progress.get_time = clock  # the tasks' elapsed time and speed read this clock
    display(ProgressEvent(Phase.COVERAGE, message="running the suite under coverage.py"))
    clock.now += 65
    display(ProgressEvent(Phase.COVERAGE, finished=True))
    display(ProgressEvent(Phase.FLAKINESS, done=3, total=None, current="tests/test_x.py::test_a"))
    display(ProgressEvent(Phase.MUTATION, done=2, total=48,
                          current="harness.collectors.mutation_driver.x_run__mutmut_1"))
    clock.now += 10  # 10 mutants in 10 s: 36 left, 36 s
    display(ProgressEvent(Phase.MUTATION, done=12, total=48,
                          current="harness.collectors.mutation_driver.x_run__mutmut_124"))
    display(ProgressEvent(Phase.RUNS, message="runtime and flakiness: 8 uninstrumented runs of the suite, in two "
                                              "orders, one worker each"))
    display(ProgressEvent(None, message="a [bold]note[/bold] about the run"))
    return display, notes


def _drawn(display: LiveProgress, *, colour: bool = False) -> str:
    out = Console(file=io.StringIO(), width=100, color_system="standard" if colour else None,
                  force_terminal=colour)
    out.print(display.progress.make_tasks_table(display.progress.tasks))
    return out.file.getvalue()  # type: ignore[attr-defined]


def test_live_display_lines_exactly() -> None:
    display, _ = _live_run()
    assert [line.rstrip() for line in _drawn(display).splitlines()] == [
        "coverage   ━━━━━━━━━━━━      done 0:01:05",
        "flakiness  ━━━━━━━━━━━━         3 0:00:10            tests/test_x.py::test_a",
        "mutation   ━━━              12/48 0:00:10 ETA 36.0 s harness.collectors.muta…river.x_run__mutmut_124",
        "timed runs ━━━━━━━━━━━━           0:00:00            runtime and flakiness: 8 uninstrumented runs o…",
    ]


def test_live_display_eta_is_dimmed_cyan_and_notes_go_to_its_console_unparsed() -> None:
    display, notes = _live_run()
    assert "\x1b[36mETA 36.0 s\x1b[0m" in _drawn(display, colour=True)  # rich's progress.remaining style
    assert notes.getvalue() == "> a [bold]note[/bold] about the run\n"


def test_live_display_finished_phase_that_counted_shows_its_count() -> None:
    clock = Clock()
    display = LiveProgress(Console(file=io.StringIO(), width=100, force_terminal=True, color_system=None))
    display.progress.get_time = clock
    display(ProgressEvent(Phase.MUTATION, done=0, total=None))
    assert _drawn(display).split()[2:] == ["0:00:00"]  # after the label and the bar: no count, ETA or unit
    display(ProgressEvent(Phase.MUTATION, done=5, total=None, current="m.x_f__mutmut_5", eta=12.0))
    clock.now += 3
    display(ProgressEvent(Phase.MUTATION, finished=True))
    assert _drawn(display).rstrip() == "mutation   ━━━━━━━━━━━━       5/5 0:00:03"


def test_plain_progress_phase_start_without_a_message_is_its_label_alone() -> None:
    lines: list[str] = []
    show = PlainProgress(lines.append, Clock())
    show(ProgressEvent(Phase.RUNS))
    show(ProgressEvent(Phase.RUNS, message="8 runs"))
    assert lines == ["> timed runs", "> timed runs: 8 runs"]


def test_live_display_on_a_narrow_terminal_keeps_every_column_but_the_unit_at_its_width() -> None:
    """The count, elapsed time and ETA columns keep their widths (the ETA's blank too), so the lines do not
    jump as figures change; the bar and the unit at work give way."""
    display = LiveProgress(Console(file=io.StringIO(), width=100, force_terminal=True, color_system=None))
    display.progress.get_time = Clock()
    display(ProgressEvent(Phase.FLAKINESS, done=5, total=None, current="tests/test_flaky_things.py::test_a_long_name"))
    out = Console(file=io.StringIO(), width=56, color_system=None)
    out.print(display.progress.make_tasks_table(display.progress.tasks))
    assert out.file.getvalue() == "flakiness  ━━━━━━━         5 0:00:00            tes…name\n"  # type: ignore[attr-defined]


def test_live_display_notes_are_dim_and_never_highlighted() -> None:
    notes = io.StringIO()
    display = LiveProgress(Console(file=notes, width=100, force_terminal=True, color_system="standard"))
    display(ProgressEvent(None, message="3 tests [x] 0.5 s"))
    assert notes.getvalue() == "\x1b[2m> 3 tests [x] 0.5 s\x1b[0m\n"  # numbers not coloured, brackets kept


def test_live_display_cuts_a_count_and_an_eta_too_long_for_their_columns_on_their_line() -> None:
    display = LiveProgress(Console(file=io.StringIO(), width=100, force_terminal=True, color_system=None))
    display.progress.get_time = Clock()
    display(ProgressEvent(Phase.MUTATION, done=12345, total=67890, current="x", eta=123456.0))
    assert [line.rstrip() for line in _drawn(display).splitlines()] == [
        "mutation   ━━           12345/67… 0:00:00 ETA 12345… x"]
