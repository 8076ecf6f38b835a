"""Shards balanced by expected time (issue 14): a plan that gives each mutant to one of N shards so that the
shards' expected times are close, instead of slicing by the hash of the mutant's name.

Expected time of a mutant: its duration in the last run (mutmut's meta files, ``durations_by_key``), else the
summed clean durations of the tests selected for it, else the median of the known ones. The plan is the
greedy "longest first onto the least loaded shard" (LPT: the slowest shard is at most the mean plus the
slowest mutant, and within 4/3 of the best possible). The plan file is written once and read by every shard;
the merge checks that every planned mutant came back (:func:`missing`).

The plan file (config key ``mutation.shard_plan``, by default ``<cache_dir>/verdicts/shard-plan.json``, the folder
CI restores) is written by ``harness merge`` from the merged run's per-mutant durations, for the same N; a run
``--shard K/N`` follows it when it exists and is for N shards (:func:`for_shard`), a mutant it does not name (new
code) by its name's hash; without it (the first night) every mutant by its name's hash. The rule itself is
``protocol.in_shard``. The next plan keeps each mutant on the shard that measured it (whose verdict cache holds
its verdict) unless that leaves the slowest shard more than ``STICKY_SLACK`` over a fresh plan's
(:func:`rebalance`).

Pure apart from :func:`for_shard` (reads the plan file) and :func:`write` (writes it).
"""

from __future__ import annotations

import hashlib
import heapq
import json
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness.collectors.mutation.protocol import Shard
from harness.errors import ArtifactError
from harness.model import Mutant, MutantStatus
from harness.workspace import read_document, write_json

FORMAT = 1
KIND = "shard-plan"
FILE = "shard-plan.json"  # in <cache_dir>/verdicts unless config key mutation.shard_plan names another file
NO_TEST_SECONDS = 0.001  # a mutant no test executes is judged without a fork: next to nothing
STICKY_SLACK = 0.05  # the kept plan may be this much slower than a fresh one before it is redone


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


def digest(assignment: Mapping[str, int]) -> str:
    """Which plan: a sha256 prefix of its assignment (the shards of one run must all follow the same)."""
    return hashlib.sha256(json.dumps(sorted(assignment.items())).encode()).hexdigest()[:16]


def path_for(root: Path, setting: str, cache: Path) -> Path:
    """The plan file: config key ``mutation.shard_plan`` (relative to the target root), else in the cache."""
    return root / setting if setting else cache / "verdicts" / FILE


def for_shard(shard: Shard, path: Path, root: Path) -> Shard:
    """``shard`` with the plan it follows, from the file at ``path`` (named relative to ``root`` when inside it):
    the plan when the file exists and is for ``shard.count`` shards, else none (every mutant by name hash), with
    how it split (``split``: the shard's note)."""
    shown = path.relative_to(root) if path.is_relative_to(root) else path
    if not path.is_file():
        return replace(shard, split=f"split by name hash: no shard plan at {shown} yet; `harness merge` writes it")
    try:
        count, assignment = from_document(read_document(path))
    except (ArtifactError, ValueError) as exc:
        return replace(shard, split=f"split by name hash: the shard plan {shown} is unusable ({exc})")
    if count != shard.count:
        return replace(shard, split=f"split by name hash: the shard plan {shown} is for {count} shards")
    return replace(shard, plan=assignment, plan_digest=digest(assignment),
                   split=f"split by the shard plan {shown}, mutants it does not name by name hash")


def durations_of(mutants: Iterable[Mutant]) -> tuple[dict[str, float], dict[str, float]]:
    """(last durations, estimates) for :func:`expected_costs` from a run's mutants: a measured duration as it
    is; a mutant no test executes costs next to nothing; the rest (not checked) get the median."""
    last: dict[str, float] = {}
    estimates: dict[str, float] = {}
    for m in mutants:
        if m.duration is not None and m.duration > 0:
            last[m.name] = m.duration
        elif m.status is MutantStatus.NO_COVERAGE:
            estimates[m.name] = NO_TEST_SECONDS
    return last, estimates


def rebalance(costs: Mapping[str, float], shards: int, previous: Mapping[str, int]) -> dict[str, int]:
    """The next plan: each mutant stays on its ``previous`` shard (where its cached verdict is), new ones go
    longest first onto the least loaded shard; when that leaves the slowest shard more than ``STICKY_SLACK``
    over a fresh :func:`plan`'s, the fresh plan."""
    fresh = plan(costs, shards)
    kept = {n: k for n, k in previous.items() if n in costs and 1 <= k <= shards}
    load = loads(kept, costs, shards)
    heap = [(load[k - 1], k) for k in range(1, shards + 1)]
    heapq.heapify(heap)
    for name in sorted((n for n in costs if n not in kept), key=lambda n: (-costs[n], n)):
        total, shard = heapq.heappop(heap)
        kept[name] = shard
        heapq.heappush(heap, (total + costs[name], shard))
    best = max(loads(fresh, costs, shards), default=0.0)
    return kept if max(loads(kept, costs, shards), default=0.0) <= best * (1 + STICKY_SLACK) else fresh


def write(path: Path, assignment: Mapping[str, int], shards: int, costs: Mapping[str, float]) -> None:
    """The plan file, atomically (the header ``workspace.write_json`` adds is the document's own)."""
    doc = to_document(assignment, shards, costs)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, KIND, {k: v for k, v in doc.items() if k not in ("format", "kind")})
