"""Shards balanced by expected time (issue 14): a plan that gives each mutant to one of N shards so that the
shards' expected times are close, instead of slicing by the hash of the mutant's name.

Expected time of a mutant: its duration in the last run (mutmut's meta files, ``durations_by_key``), else the
summed clean durations of the tests selected for it, else the median of the known ones. The plan is the
greedy "longest first onto the least loaded shard" (LPT: the slowest shard is at most the mean plus the
slowest mutant, and within 4/3 of the best possible). The plan file is written once and read by every shard;
the merge checks that every planned mutant came back (:func:`missing`).

Pure: no file is read or written here (:func:`to_document` / :func:`from_document` are the file's shape).
"""

from __future__ import annotations

import heapq
import statistics
from collections.abc import Iterable, Mapping
from typing import Any

FORMAT = 1
KIND = "shard-plan"


def expected_costs(
    mutants: Iterable[str],
    last_durations: Mapping[str, float],
    test_estimates: Mapping[str, float],
) -> dict[str, float]:
    """Each mutant's expected seconds: its last duration, else its tests' estimate, else the median known."""
    names = list(dict.fromkeys(mutants))
    known = [v for n in names for v in (last_durations.get(n), test_estimates.get(n)) if v is not None and v > 0]
    fallback = statistics.median(known) if known else 1.0
    out = {}
    for name in names:
        last, estimate = last_durations.get(name), test_estimates.get(name)
        out[name] = last if last is not None and last > 0 else estimate if estimate is not None and estimate > 0 \
            else fallback
    return out


def plan(costs: Mapping[str, float], shards: int) -> dict[str, int]:
    """mutant -> shard (1-based): longest first, each onto the shard with the least expected time so far (ties:
    the lower shard; equal costs: by name), so the same costs always give the same plan."""
    if shards < 1:
        raise ValueError("shards must be >= 1")
    heap = [(0.0, k) for k in range(1, shards + 1)]
    out: dict[str, int] = {}
    for name in sorted(costs, key=lambda n: (-costs[n], n)):
        load, shard = heapq.heappop(heap)
        out[name] = shard
        heapq.heappush(heap, (load + costs[name], shard))
    return out


def loads(assignment: Mapping[str, int], costs: Mapping[str, float], shards: int) -> list[float]:
    """Expected seconds of each shard (index 0 is shard 1)."""
    out = [0.0] * shards
    for name, shard in assignment.items():
        out[shard - 1] += costs.get(name, 0.0)
    return out


def missing(assignment: Mapping[str, int], returned: Mapping[int, Iterable[str]]) -> dict[int, list[str]]:
    """The planned mutants a shard did not bring back (shard -> names): what the merge refuses."""
    got = {k: set(v) for k, v in returned.items()}
    out: dict[int, list[str]] = {}
    for name, shard in sorted(assignment.items()):
        if name not in got.get(shard, set()):
            out.setdefault(shard, []).append(name)
    return out


def to_document(assignment: Mapping[str, int], shards: int, costs: Mapping[str, float]) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "kind": KIND,
        "shards": shards,
        "expected_seconds": [round(x, 3) for x in loads(assignment, costs, shards)],
        "mutants": dict(sorted(assignment.items())),
    }


def from_document(doc: Any) -> tuple[int, dict[str, int]]:
    """(shards, mutant -> shard) from a plan file's JSON; ValueError naming what is wrong."""
    if not isinstance(doc, Mapping) or doc.get("format") != FORMAT or doc.get("kind") != KIND:
        raise ValueError(f"not a format-{FORMAT} {KIND} file")
    shards = doc.get("shards")
    mutants = doc.get("mutants")
    if not isinstance(shards, int) or shards < 1 or not isinstance(mutants, Mapping):
        raise ValueError("a shard plan needs 'shards' >= 1 and 'mutants'")
    out = {}
    for name, shard in mutants.items():
        if not isinstance(shard, int) or not 1 <= shard <= shards:
            raise ValueError(f"mutant {name!r} has shard {shard!r}, not 1..{shards}")
        out[str(name)] = shard
    return shards, out
