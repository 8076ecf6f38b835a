"""Progress: phase events and wall times (harness.progress), shown as plain lines at most every 10 s (an injected
clock, no time passes) or as a rich live display; the consoles --format and NO_COLOR choose."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import run_harness
from rich.console import Console

from harness import cli_output
from harness.cli import build_parser
from harness.cli_output import LiveProgress, PlainProgress, progress_display
from harness.progress import Phase, PhaseClock, ProgressEvent

ESCAPE = "\x1b["
COLOUR = re.compile(r"\x1b\[[0-9;]*(3[0-7]|38;|9[0-7])")  # a foreground colour, whatever the other attributes


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_phase_clock_emits_begin_steps_end_and_times_each_phase() -> None:
    clock, events = FakeClock(), []
    phases = PhaseClock(events.append, clock)
    clock.now += 1  # discovery, sync: in the total only
    phases.begin(Phase.COVERAGE, "running")
    clock.now += 12.3
    phases.begin(Phase.RUNS)  # ends coverage
    phases.step(1, 4)
    clock.now += 8.1
    phases.note("a note")
    assert phases.finish() == {"coverage": 12.3, "runs": 8.1, "total": 21.4}
    assert events == [
        ProgressEvent(Phase.COVERAGE, message="running"),
        ProgressEvent(Phase.COVERAGE, finished=True),
        ProgressEvent(Phase.RUNS),
        ProgressEvent(Phase.RUNS, done=1, total=4),
        ProgressEvent(None, message="a note"),
        ProgressEvent(Phase.RUNS, finished=True),
    ]


def test_plain_progress_writes_steps_at_most_every_10_s_and_every_start_and_end() -> None:
    clock, lines = FakeClock(), []
    show = PlainProgress(lines.append, clock)
    show(ProgressEvent(None, message="syncing"))
    show(ProgressEvent(Phase.MUTATION, message="mutmut 3 in the sandbox"))
    for done in range(1, 41):  # a mutant every second
        clock.now += 1
        show(ProgressEvent(Phase.MUTATION, done=done, total=40, current=f"m.x_f__mutmut_{done}"))
    show(ProgressEvent(Phase.MUTATION, finished=True))
    assert lines == [
        "> syncing",
        "> mutation: mutmut 3 in the sandbox",
        "> mutation: 10/40 mutants, elapsed 10.0 s, ETA 30.0 s: m.x_f__mutmut_10",
        "> mutation: 20/40 mutants, elapsed 20.0 s, ETA 20.0 s: m.x_f__mutmut_20",
        "> mutation: 30/40 mutants, elapsed 30.0 s, ETA 10.0 s: m.x_f__mutmut_30",
        "> mutation: 40/40 mutants, elapsed 40.0 s, ETA 0.0 s: m.x_f__mutmut_40",
        "> mutation: done in 40.0 s",
    ]


def test_plain_progress_prefers_the_collectors_eta_and_counts_without_a_total() -> None:
    clock, lines = FakeClock(), []
    show = PlainProgress(lines.append, clock, interval=0)
    show(ProgressEvent(Phase.RUNS))
    clock.now += 5
    show(ProgressEvent(Phase.MUTATION, done=3, total=10, eta=99.0))
    show(ProgressEvent(Phase.FLAKINESS, done=2, total=None, current="t::a"))
    assert lines[1:] == ["> mutation: 3/10 mutants, elapsed 0.0 s, ETA 99.0 s",
                         "> flakiness: 2 flaky tests, elapsed 0.0 s: t::a"]


def test_live_display_has_a_line_per_phase_with_count_elapsed_eta_and_current() -> None:
    console = Console(file=io.StringIO(), width=120, force_terminal=True, color_system=None)
    display = LiveProgress(console)
    display(ProgressEvent(Phase.COVERAGE, message="running the suite under coverage.py"))
    display(ProgressEvent(Phase.COVERAGE, finished=True))
    display(ProgressEvent(Phase.MUTATION, message="generating mutants"))
    display(ProgressEvent(Phase.MUTATION, done=12, total=48, current="harness.x_f__mutmut_3", eta=30.0))
    out = Console(file=io.StringIO(), width=120, color_system=None)
    out.print(display.progress.make_tasks_table(display.progress.tasks))
    lines = out.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert lines[0].startswith("coverage") and "0:00:00" in lines[0]
    assert lines[1].startswith("mutation") and "12/48" in lines[1] and "ETA 30.0 s" in lines[1]
    assert lines[1].rstrip().endswith("harness.x_f__mutmut_3")


def test_live_display_on_a_narrow_terminal_shortens_only_the_current_unit_in_the_middle() -> None:
    console = Console(file=io.StringIO(), width=80, force_terminal=True, color_system=None)
    display = LiveProgress(console)
    display(ProgressEvent(Phase.RUNS, message="runtime and flakiness: 8 uninstrumented runs of the suite"))
    display(ProgressEvent(Phase.MUTATION, done=12, total=480, eta=250.0,
                          current="harness.collectors.mutation_driver.x_run__mutmut_123"))
    out = Console(file=io.StringIO(), width=80, color_system=None)
    out.print(display.progress.make_tasks_table(display.progress.tasks))
    runs, mutation = out.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert runs.startswith("timed runs ") and len(mutation.rstrip()) <= 80
    assert re.match(r"mutation +12/480 0:00:00 ETA 250 s +harness\.col\S*…\S*mutmut_123$", mutation.rstrip())


def test_progress_display_is_silent_when_quiet_and_plain_off_a_terminal() -> None:
    err = Console(file=io.StringIO(), color_system=None)
    with progress_display(err, quiet=True, live=False) as progress:
        assert progress is None
    with progress_display(err, quiet=False, live=False) as progress:
        assert isinstance(progress, PlainProgress)
        progress(ProgressEvent(None, message="[not markup] syncing"))
    assert err.file.getvalue() == "> [not markup] syncing\n"  # type: ignore[attr-defined]


def _printed(fmt: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """What a console of format ``fmt`` writes to stdout (not a terminal under pytest)."""
    monkeypatch.setattr("sys.stdout", io.StringIO())
    console = cli_output.console(fmt)
    console.print("[green]ok[/green] [bold red]MISSED[/bold red]")
    return console.file.getvalue()  # type: ignore[attr-defined]


def test_formats_choose_colours(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under pytest stdout is not a terminal: auto and plain print no escape sequence, rich forces colour
    (the user asked for it), and NO_COLOR takes the colour away from rich too."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    assert ESCAPE not in _printed("auto", monkeypatch)
    assert ESCAPE not in _printed("plain", monkeypatch)
    assert COLOUR.search(_printed("rich", monkeypatch))
    monkeypatch.setenv("NO_COLOR", "1")
    assert not COLOUR.search(_printed("rich", monkeypatch))


def test_auto_is_plain_off_a_terminal_even_with_force_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert ESCAPE not in _printed("auto", monkeypatch)


@pytest.mark.parametrize("command", ["run", "merge"])
def test_format_option(command: str) -> None:
    extra = ["reports"] if command == "merge" else []
    assert build_parser().parse_args([command, *extra]).format == "auto"
    assert build_parser().parse_args([command, *extra, "--format", "plain"]).format == "plain"
    with pytest.raises(SystemExit):
        build_parser().parse_args([command, *extra, "--format", "fancy"])


@pytest.mark.slow
def test_piped_run_prints_plain_progress_and_phase_times(target_project: Callable[..., Path]) -> None:
    root = target_project()
    result = run_harness("run", root, "--set", "runtime.runs=1", "--set", "flakiness.enabled=false",
                         "--workers", "1")
    assert result.returncode == 0, result.output
    assert ESCAPE not in result.output
    assert "> coverage: running the suite under coverage.py" in result.stderr
    assert re.search(r"> coverage: done in \d+\.\d s", result.stderr)
    assert "> timed runs: runtime: 1 uninstrumented runs of the suite" in result.stderr
    phases = json.loads((root / "reports" / "scorecard.json").read_text())["meta"]["phase_seconds"]
    assert list(phases) == ["coverage", "runs", "total"]
    assert phases["total"] >= phases["coverage"] + phases["runs"] > 0
    assert re.search(r"^time: coverage \d+\.\d s · runs \d+\.\d s · total \d+(\.\d)? s$", result.stdout, re.M)
