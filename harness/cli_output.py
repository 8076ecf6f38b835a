"""The CLI's terminal output: which consoles (plain or rich), and progress shown live or as plain lines.

Part of the CLI: it writes only to the consoles :mod:`harness.cli` hands it. ``--format auto`` (the default)
is ``rich`` on a terminal and ``plain`` elsewhere (pipes, CI logs, tox); ``plain`` has no colour, no style and
no live display; ``rich`` has colours, unless ``NO_COLOR`` is set, even through a pipe. A live display needs
a terminal on stderr; without one, progress is plain lines: a phase's start and end at once, its steps at most
one per :data:`PLAIN_INTERVAL` seconds.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Column
from rich.text import Text

from harness.progress import PHASE_LABEL, Phase, ProgressEvent
from harness.progress import Progress as ProgressFn
from harness.reporters.fmt import duration
from harness.reporters.terminal import shorten

FORMATS = ("auto", "plain", "rich")
PLAIN_INTERVAL = 10.0
UNIT = {Phase.COVERAGE: "tests", Phase.RUNS: "runs", Phase.FLAKINESS: "flaky tests", Phase.MUTATION: "mutants"}


def isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no such method, or a closed file
        return False


def is_rich(fmt: str, stream: IO[str]) -> bool:
    return fmt == "rich" or (fmt == "auto" and isatty(stream))


def console(fmt: str, *, stderr: bool = False) -> Console:
    """A console for stdout (or stderr) in format ``fmt``: rich (rich's own colour detection, NO_COLOR
    honoured; forced to colour when asked for off a terminal) or plain (no escape sequence at all)."""
    stream = sys.stderr if stderr else sys.stdout
    if is_rich(fmt, stream):
        return Console(stderr=stderr, highlight=False, force_terminal=None if isatty(stream) else True)
    return Console(stderr=stderr, highlight=False, color_system=None, force_terminal=False, emoji=False)


def _step_text(event: ProgressEvent, phase: Phase, done: int, elapsed: float) -> str:
    """``120/480 mutants, elapsed 62.0 s, ETA 250 s: harness.x__mutmut_3`` (``event`` of ``phase``, ``done``)."""
    unit = UNIT[phase]
    count = f"{done}/{event.total} {unit}" if event.total else f"{done} {unit}"
    eta = event.eta
    if eta is None and event.total and done:
        eta = elapsed / done * (event.total - done)
    return (count + f", elapsed {duration(elapsed)}" + (f", ETA {duration(eta)}" if eta is not None else "")
            + (f": {event.current}" if event.current else ""))


class PlainProgress:
    """Progress as plain lines (logs, pipes): ``> coverage: ...``. A phase's start and end and the run's notes
    are written at once; a phase's steps at most once per ``interval`` seconds of ``clock``."""

    def __init__(self, write: Callable[[str], None], clock: Callable[[], float] = time.monotonic,
                 interval: float = PLAIN_INTERVAL) -> None:
        self._write = write
        self._clock = clock
        self._interval = interval
        self._last = float("-inf")
        self._started: dict[Phase, float] = {}

    def __call__(self, event: ProgressEvent) -> None:
        now = self._clock()
        if event.phase is None:
            self._write(f"> {event.message}")
            return
        label = PHASE_LABEL[event.phase]
        started = self._started.setdefault(event.phase, now)
        if event.finished:
            self._write(f"> {label}: done in {duration(now - started)}")
        elif event.done is None:
            self._started[event.phase] = self._last = now
            self._write(f"> {label}: {event.message}" if event.message else f"> {label}")
        elif now - self._last >= self._interval:
            self._last = now
            self._write(f"> {label}: {_step_text(event, event.phase, event.done, now - started)}")


class _Count(ProgressColumn):
    """``12/48``; ``done`` for a finished phase that never counted."""

    def render(self, task: Task) -> Text:
        if task.fields.get("count"):
            return Text(task.fields["count"])
        if task.total is None:
            return Text(f"{int(task.completed)}" if task.completed else "")
        return Text(f"{int(task.completed)}/{int(task.total)}")


class _Eta(ProgressColumn):
    """The collector's ETA when it gave one (it knows about resumed work), else rich's estimate."""

    def render(self, task: Task) -> Text:
        if task.finished:
            return Text("")
        eta = task.fields.get("eta")
        eta = task.time_remaining if eta is None else eta
        return Text("" if eta is None else f"ETA {duration(eta)}", style="progress.remaining")


class _Fitted:
    """One line cut to the width it is given: in the middle for a test id or mutant name (its end says which
    one), at the end for a message."""

    def __init__(self, text: str, *, middle: bool) -> None:
        self.text, self.middle = text, middle

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if self.middle:
            yield Text(shorten(self.text, options.max_width))  # shortened to fit: nothing to wrap or cut
        else:
            yield Text(self.text, no_wrap=True)  # cut by the column's overflow: an ellipsis

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(min(1, cell_len(self.text)), cell_len(self.text))


class _Current(ProgressColumn):
    """The test or mutant at work, else the phase's message: the column that gives way on a narrow terminal."""

    def render(self, task: Task) -> _Fitted:
        return _Fitted(task.fields.get("current", ""), middle=not task.fields.get("message"))


class LiveProgress:
    """A rich live display on a terminal: a line per phase with its bar, done/total, elapsed time, ETA and
    the test or mutant at work; the run's notes are printed above it."""

    def __init__(self, console: Console) -> None:
        # Fixed widths, so that only the last column (the unit at work) gives way on a narrow terminal. The label,
        # count and elapsed time have no blank to wrap at; a long ETA ("ETA 12345 s") is kept on its line.
        self.progress = Progress(
            TextColumn("{task.description}", table_column=Column(width=10)), BarColumn(bar_width=12),
            _Count(table_column=Column(width=9, justify="right")),
            TimeElapsedColumn(table_column=Column(width=7)),
            _Eta(table_column=Column(width=10, no_wrap=True)), _Current(), console=console)
        self._tasks: dict[Phase, TaskID] = {}

    def __call__(self, event: ProgressEvent) -> None:
        if event.phase is None:
            self.progress.console.print(f"> {event.message}", markup=False, highlight=False, style="dim")
            return
        task = self._tasks.get(event.phase)
        if task is None:
            task = self._tasks[event.phase] = self.progress.add_task(
                PHASE_LABEL[event.phase], total=None, current="", message=False, eta=None, count="")
        if event.finished:
            done = int(self.progress.tasks[task].completed)
            self.progress.update(task, total=done or 1, completed=done or 1, current="", eta=None,
                                 count="" if done else "done")
        elif event.done is None:
            self.progress.update(task, current=event.message, message=True)
        else:
            self.progress.update(task, completed=event.done, total=event.total or None, current=event.current,
                                 message=False, eta=event.eta)


@contextmanager
def progress_display(err: Console, *, quiet: bool, live: bool,
                     clock: Callable[[], float] = time.monotonic) -> Iterator[ProgressFn | None]:
    """The progress callback for a run: none (quiet), a live display (stopped on leaving) or plain lines."""
    if quiet:
        yield None
    elif live:
        display = LiveProgress(err)
        with display.progress:
            yield display
    else:
        yield PlainProgress(lambda line: err.print(line, markup=False, highlight=False, soft_wrap=True,
                                                   style="dim"), clock)
