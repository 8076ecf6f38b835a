"""Progress of a run as typed events, and the wall time of its phases.

The pipeline and the collectors emit :class:`ProgressEvent`\\ s through a :data:`Progress` callback; only the CLI
turns them into text (a live display on a terminal, periodic plain lines elsewhere). :class:`PhaseClock` times
the phases for the scorecard's ``meta.phase_seconds``. Nothing here prints.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class Phase(StrEnum):
    """The measuring phases, in run order; the values are the keys of ``meta.phase_seconds``."""

    COVERAGE = "coverage"
    RUNS = "runs"  # the repeated uninstrumented runs (timed; shared by runtime and flakiness)
    FLAKINESS = "flakiness"  # classifying the flaky tests by re-running them
    MUTATION = "mutation"


PHASE_LABEL = {Phase.COVERAGE: "coverage", Phase.RUNS: "timed runs", Phase.FLAKINESS: "flakiness",
               Phase.MUTATION: "mutation"}
TOTAL = "total"  # the key of the whole run's wall time in ``phase_seconds``


@dataclass(frozen=True)
class ProgressEvent:
    """One thing that happened.

    ``phase`` None is a note about the whole run (``message`` only). A phase starts with an event with neither
    ``done`` nor ``finished``, then reports ``done`` of ``total`` units (``total`` None: unknown) and the unit at
    work (``current``: a test id, a mutant name), and ends with ``finished``. ``eta`` is the seconds left when
    the collector knows better than ``done``/``total`` (e.g. mutants already judged by an earlier run).
    """

    phase: Phase | None
    done: int | None = None
    total: int | None = None
    current: str = ""
    message: str = ""
    eta: float | None = None
    finished: bool = False


Progress = Callable[[ProgressEvent], None]


def ignore(_event: ProgressEvent) -> None:
    """The callback when nobody listens."""


class PhaseClock:
    """Starts and ends phases (emitting their events) and times them.

    ``begin`` ends the phase before it, so the pipeline names only where each phase starts; ``finish`` ends the
    last one and returns the wall seconds by phase (the order they ran) plus ``"total"`` since construction.
    """

    def __init__(self, progress: Progress | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.emit: Progress = progress or ignore
        self._clock = clock
        self._started = clock()
        self._phase: Phase | None = None
        self._phase_started = 0.0
        self.seconds_by_phase: dict[str, float] = {}

    @property
    def phase(self) -> Phase | None:
        return self._phase

    def begin(self, phase: Phase, message: str = "") -> None:
        self.end()
        self._phase, self._phase_started = phase, self._clock()
        self.emit(ProgressEvent(phase, message=message))

    def step(self, done: int, total: int | None, current: str = "", eta: float | None = None) -> None:
        """``done`` of ``total`` units of the current phase."""
        self.emit(ProgressEvent(self._phase, done=done, total=total, current=current, eta=eta))

    def note(self, message: str) -> None:
        """A line about the run (not tied to a phase: it names what it is about)."""
        self.emit(ProgressEvent(None, message=message))

    def end(self) -> None:
        if self._phase is None:
            return
        phase, self._phase = self._phase, None
        self.seconds_by_phase[phase.value] = round(self._clock() - self._phase_started, 3)
        self.emit(ProgressEvent(phase, finished=True))

    def finish(self) -> dict[str, float]:
        self.end()
        return {**self.seconds_by_phase, TOTAL: round(self._clock() - self._started, 3)}
