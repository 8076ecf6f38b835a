"""Runtime collector: suite wall time and what each module's tests cost. ``parse`` is pure.

Runtime = the median wall-clock time of the uninstrumented pytest-xdist runs (min and max beside it).
A test's duration = setup + call + teardown, the median over the runs. A module's test cost = the summed
duration of the tests that execute it (from the coverage contexts), with its slowest tests listed.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence

from harness.collectors.records import RunRecord
from harness.model import ModuleRuntime, SuiteRuntime, TestTiming

NAME = "runtime"


def durations_by_test(records: Sequence[RunRecord]) -> dict[str, float]:
    """Median duration of each test over the runs it ran in."""
    samples: dict[str, list[float]] = defaultdict(list)
    for record in records:
        for t in record.tests:
            if t.ran:
                samples[t.nodeid].append(t.duration)
    return {nodeid: statistics.median(values) for nodeid, values in samples.items()}


def parse(records: Sequence[RunRecord], tests_by_module: Mapping[str, Sequence[str]], workers: int,
          slowest: int = 5) -> tuple[SuiteRuntime, dict[str, ModuleRuntime]]:
    timed = [r for r in records if r.xdist] or list(records)
    durations = durations_by_test(timed)
    # Tests in one run (the largest run), not distinct ids over all runs: ids that change from run to run
    # (timestamps, random tokens in parametrize ids) would otherwise be counted once per run.
    suite = SuiteRuntime(wall_seconds=tuple(r.wall_seconds for r in timed), workers=workers,
                         cpu_seconds=tuple(r.cpu_seconds for r in timed),
                         tests=max((sum(1 for t in r.tests if t.ran) for r in timed), default=0))
    by_module: dict[str, ModuleRuntime] = {}
    for module, tests in tests_by_module.items():
        timings = sorted((TestTiming(t, durations[t]) for t in tests if t in durations),
                         key=lambda x: (-x.seconds, x.nodeid))
        by_module[module] = ModuleRuntime(test_seconds=sum(t.seconds for t in timings), tests=len(timings),
                                          slowest=tuple(timings[:slowest]))
    return suite, by_module
