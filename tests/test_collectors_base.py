"""harness.collectors.base: the collector protocol's flow (run, parse, retry, keep, lost) that the pipeline
iterates."""

from __future__ import annotations

from typing import Any

import pytest

from harness.collectors.base import Measured, measure, measure_all
from harness.config import Config
from harness.errors import ConfigError, ToolError


class Fake:
    """A collector that records its calls; ``parse_fails`` errors are raised by parse, one per call."""

    name = "fake"
    needs: tuple[str, ...] = ()

    def __init__(self, *, on: bool = True, parse_fails: list[Exception] | None = None, run_fails: bool = False,
                 retries: int = 0, survives: bool = True) -> None:
        self.on, self.parse_fails, self.run_fails = on, list(parse_fails or []), run_fails
        self.retries, self.survives = retries, survives
        self.calls: list[str] = []
        self.seen: list[tuple[Any, Measured]] = []  # the (ctx, measured) every call after enabled received
        self.errors: list[Exception] = []  # what retry and lost were given

    def enabled(self, ctx: Any, measured: Measured) -> bool:
        self.calls.append("enabled")
        self.seen.append((ctx, measured))
        return self.on

    def begin(self, ctx: Any, measured: Measured) -> None:
        self.calls.append("begin")
        self.seen.append((ctx, measured))

    def run(self, ctx: Any, measured: Measured) -> str:
        self.calls.append("run")
        self.seen.append((ctx, measured))
        if self.run_fails:
            raise ToolError("tool failed")
        return "art"

    def parse(self, art: str, ctx: Any, measured: Measured) -> str:
        self.calls.append("parse")
        self.seen.append((ctx, measured))
        if self.parse_fails:
            raise self.parse_fails.pop(0)
        return art + "-stats"

    def retry(self, exc: Any, ctx: Any, measured: Measured) -> bool:
        self.calls.append("retry")
        self.seen.append((ctx, measured))
        self.errors.append(exc)
        self.retries -= 1
        return self.retries >= 0

    def keep(self, stats: str, ctx: Any, measured: Measured) -> None:
        self.calls.append("keep")
        self.seen.append((ctx, measured))
        measured.notes.append(stats)

    def lost(self, exc: ToolError, ctx: Any, measured: Measured) -> bool:
        self.calls.append("lost")
        self.seen.append((ctx, measured))
        self.errors.append(exc)
        measured.notes.append(f"lost: {exc}")
        return self.survives


def _measured() -> Measured:
    return Measured(cfg=Config(), metrics=())


CTX: Any = object()  # stands for the run's Context: every call must receive the one it was given


def test_every_call_receives_the_context_and_the_results_so_far() -> None:
    unstable, failed = ToolError("unstable"), ToolError("tool failed")
    c, m = Fake(parse_fails=[unstable], retries=1), _measured()
    measure(c, CTX, m)
    assert c.errors == [unstable]
    c2 = Fake(run_fails=True)
    measure_all([c2], CTX, m)
    assert [str(e) for e in c2.errors] == [str(failed)]
    for fake in (c, c2):
        assert fake.seen and all(ctx is CTX and got is m for ctx, got in fake.seen), fake.calls


def test_run_parse_keep() -> None:
    c, m = Fake(), _measured()
    measure(c, None, m)  # type: ignore[arg-type]
    assert c.calls == ["enabled", "begin", "run", "parse", "keep"] and m.notes == ["art-stats"]


def test_disabled_does_nothing() -> None:
    c, m = Fake(on=False), _measured()
    measure(c, None, m)  # type: ignore[arg-type]
    assert c.calls == ["enabled"] and m.notes == []


def test_a_refused_parse_runs_again_while_the_collector_asks_to_retry() -> None:
    c, m = Fake(parse_fails=[ToolError("unstable")], retries=1), _measured()
    measure(c, None, m)  # type: ignore[arg-type]
    assert c.calls == ["enabled", "begin", "run", "parse", "retry", "run", "parse", "keep"]


def test_a_failed_phase_leaves_its_cells_or_ends_the_run() -> None:
    c, m = Fake(run_fails=True), _measured()
    measure(c, None, m)  # type: ignore[arg-type]
    assert c.calls[-1] == "lost" and m.notes == ["lost: tool failed"]
    with pytest.raises(ToolError):
        measure(Fake(run_fails=True, survives=False), None, _measured())  # type: ignore[arg-type]
    with pytest.raises(ConfigError):  # not a tool's failure: never a lost cell
        measure(Fake(parse_fails=[ConfigError("bad")]), None, _measured())  # type: ignore[arg-type]


def test_collectors_run_in_order_and_check_what_they_need() -> None:
    first, second = Fake(), Fake()
    m = measure_all([first, second], None, _measured())  # type: ignore[arg-type, list-item]
    assert m.notes == ["art-stats", "art-stats"]
    needy = Fake()
    needy.needs = ("coverage",)
    with pytest.raises(AssertionError, match="needs coverage"):
        measure(needy, None, _measured())  # type: ignore[arg-type]
    needy.needs = ("coverage", "mutation")
    with pytest.raises(AssertionError, match="needs coverage, mutation, not measured before it"):
        measure(needy, None, _measured())  # type: ignore[arg-type]
