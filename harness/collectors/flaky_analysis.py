"""The flakiness phase's pure analysis: which test ids are unstable, each test's outcomes over the runs, the
preceding tests of a run, bisection to a polluter and the classification of a flaky test from its reruns.

Pure: the reruns are a predicate the caller gives (:class:`harness.collectors.flakiness.Rerunner`). Re-exported
by :mod:`harness.collectors.flakiness`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from harness.collectors.records import RunRecord
from harness.model import FlakyClass, FlakyTest, ModuleFlakiness
from harness.notes import Note, NoteKind, note

Predicate = Callable[[Sequence[str]], bool]


_PARAMS = re.compile(r"^(?P<base>.*?::[^\[]*)(?P<params>\[.*\])$", re.DOTALL)


def base_id(nodeid: str) -> str:
    """The test function's id without its parametrize ids: ``t.py::test_x[a-1]`` -> ``t.py::test_x``."""
    m = _PARAMS.match(nodeid)
    return m.group("base") if m else nodeid


def unstable_ids(records: Sequence[RunRecord]) -> set[str]:
    """Test ids that are missing from a run in which their test function was collected.

    A parametrize id made from a timestamp or a random token changes from run to run: each of its ids shows
    up in some runs only, while the function's other runs carry different ids. Plain tests missing from a run
    (a crashed worker, a failed collection) are not unstable: their function is missing too.
    """
    ids_by_run = [{t.nodeid for t in r.tests} for r in records]
    runs = [(ids, {base_id(n) for n in ids}) for ids in ids_by_run]
    out = set()
    for nodeid in set().union(*ids_by_run):
        base = base_id(nodeid)
        if base == nodeid:
            continue
        if any(base in bases and nodeid not in ids for ids, bases in runs):
            out.add(nodeid)
    return out


def unstable_groups(unstable: Sequence[str]) -> dict[str, list[str]]:
    """Unstable ids grouped by their test function, both sorted."""
    groups: dict[str, list[str]] = defaultdict(list)
    for nodeid in sorted(unstable):
        groups[base_id(nodeid)].append(nodeid)
    return dict(sorted(groups.items()))


@dataclass(frozen=True)
class Observation:
    """One test's outcomes over the runs it ran in (skips do not count): the runs it failed and passed in."""

    nodeid: str
    failed_in: tuple[int, ...]
    passed_in: tuple[int, ...]

    @property
    def runs(self) -> int:
        return len(self.failed_in) + len(self.passed_in)

    @property
    def failures(self) -> int:
        return len(self.failed_in)

    @property
    def flaky(self) -> bool:
        return bool(self.failed_in) and bool(self.passed_in)

    @property
    def broken(self) -> bool:
        return bool(self.failed_in) and not self.passed_in


def observe(
    records: Sequence[RunRecord], unstable: set[str] | frozenset[str] = frozenset()
) -> dict[str, Observation]:
    """Outcomes of every stable test id that ran (passed or failed) in at least one run."""
    failed: dict[str, list[int]] = defaultdict(list)
    passed: dict[str, list[int]] = defaultdict(list)
    for i, record in enumerate(records):
        for t in record.tests:
            if t.nodeid in unstable or not t.ran:
                continue
            (failed if t.failed else passed)[t.nodeid].append(i)
    return {
        n: Observation(n, tuple(failed.get(n, ())), tuple(passed.get(n, ())))
        for n in sorted(set(failed) | set(passed))
    }


def preceding(record: RunRecord, nodeid: str) -> list[str]:
    """The tests that ran before ``nodeid`` in the same process of that run (same xdist worker), in order."""
    worker = next((t.worker for t in record.tests if t.nodeid == nodeid), None)
    out: list[str] = []
    for t in record.tests:
        if t.nodeid == nodeid:
            return out
        if t.worker == worker:
            out.append(t.nodeid)
    raise KeyError(nodeid)


def selectable(nodeids: Sequence[str], unstable: set[str] | frozenset[str]) -> list[str]:
    """``nodeids`` as a rerun can select them: an unstable id (gone in the next run) becomes its test
    function's id, which runs whatever ids that function has then; duplicates dropped, the order kept."""
    return list(dict.fromkeys(base_id(nodeid) if nodeid in unstable else nodeid for nodeid in nodeids))


def context_run(records: Sequence[RunRecord], indexes: Sequence[int], nodeid: str) -> int:
    """Of the runs ``indexes``, the one whose process ran the fewest tests before ``nodeid`` (cheapest)."""
    return min(indexes, key=lambda i: (len(preceding(records[i], nodeid)), i))


def bisect(items: Sequence[str], reproduces: Predicate) -> list[str]:
    """Narrow ``items`` (which reproduce) to a small subset that still reproduces, by halving.

    Keeps the half that reproduces on its own; stops when neither half does (the effect needs tests from
    both), returning the smallest set found. ``reproduces`` is called O(log n) times.
    """
    current = list(items)
    while len(current) > 1:
        mid = len(current) // 2
        first, second = current[:mid], current[mid:]
        if reproduces(first):
            current = first
        elif reproduces(second):
            current = second
        else:
            break
    return current


def repeat(check: Callable[[], bool], times: int) -> bool:
    """``check()`` holds ``times`` times in a row (stops at the first miss, saving runs)."""
    return all(check() for _ in range(times))


@dataclass(frozen=True)
class Classification:
    kind: FlakyClass
    sequence: tuple[str, ...]  # the tests of the reproduction command, in order (the test itself last)
    polluter: str | None = None
    detail: str = ""


def outcomes(check: Callable[[], bool], times: int) -> frozenset[bool]:
    """The distinct results of up to ``times`` calls of ``check()``, stopping once both have been seen."""
    seen: set[bool] = set()
    for _ in range(times):
        seen.add(check())
        if len(seen) == 2:
            break
    return frozenset(seen)


def classify(
    nodeid: str, failing_context: Sequence[str], passing_context: Sequence[str], fails: Predicate, reruns: int
) -> Classification:
    """Classify a flaky test by re-running it; ``fails(sequence)`` runs the sequence in one fresh process and
    says whether its last test failed. The contexts are the tests that ran before it, in the same process, in
    a run where it failed and in one where it passed.

    Order-dependent: fails every time after its failing context and passes every time alone (a polluter
    precedes it), or fails every time alone and passes every time after its passing context (it needs state a
    test leaves). Every such finding is narrowed by bisection and must hold again ``reruns`` times.
    Non-deterministic: anything else.
    """
    alone = (nodeid,)
    order_fails = bool(failing_context) and repeat(lambda: fails([*failing_context, nodeid]), reruns)
    alone_results = outcomes(lambda: fails(alone), reruns)
    if order_fails and alone_results == {False}:
        culprits = bisect(failing_context, lambda s: fails([*s, nodeid]))
        if repeat(lambda: fails([*culprits, nodeid]), reruns):
            polluter = culprits[0] if len(culprits) == 1 else None
            who = f"`{polluter}`" if polluter else f"these {len(culprits)} tests together"
            return Classification(
                FlakyClass.ORDER_DEPENDENT,
                (*culprits, nodeid),
                polluter,
                f"fails after {who} ({reruns}/{reruns} reruns), passes alone ({reruns}/{reruns})",
            )
        return Classification(
            FlakyClass.NON_DETERMINISTIC,
            alone,
            detail=(
                "failed in its failing order and passed alone, but no smaller set of preceding tests made it "
                "fail every time"
            ),
        )
    if (
        alone_results == {True}
        and passing_context
        and repeat(lambda: not fails([*passing_context, nodeid]), reruns)
    ):
        setters = bisect(passing_context, lambda s: not fails([*s, nodeid]))
        if repeat(lambda: not fails([*setters, nodeid]), reruns):
            who = f"`{setters[0]}`" if len(setters) == 1 else f"these {len(setters)} tests together"
            return Classification(
                FlakyClass.ORDER_DEPENDENT,
                alone,
                None,
                f"fails alone ({reruns}/{reruns}), passes after {who}: it relies on state that test leaves",
            )
    if alone_results == {True, False}:
        detail = "passes and fails when run alone"
    elif order_fails:
        detail = "fails in its failing order and alone, yet passed in other runs"
    else:
        detail = "passes and fails with the same tests before it"
    return Classification(FlakyClass.NON_DETERMINISTIC, alone, detail=detail)


def by_module(
    tests_by_module: Mapping[str, Sequence[str]],
    judged: Mapping[str, Observation],
    flaky: Sequence[FlakyTest],
) -> dict[str, ModuleFlakiness]:
    """Attribute tests to the modules they execute (coverage contexts); modules no judged test executes are
    left out (n/a). Per module: flaky rate = its flaky tests / its tests run."""
    flaky_by_id = {f.nodeid: f for f in flaky}
    out = {}
    for module, tests in tests_by_module.items():
        run = [t for t in tests if t in judged]
        if run:
            out[module] = ModuleFlakiness(
                tests_run=len(run), flaky=tuple(flaky_by_id[t] for t in run if t in flaky_by_id)
            )
    return out


def detection_note(runs: int, repeated: int) -> Note:
    """The phase's detection power: the smallest failure probability ``runs`` judged runs see (worded in
    :mod:`harness.notes`)."""
    return note(NoteKind.FLAKY_DETECTION, runs=runs, repeated=repeated)
