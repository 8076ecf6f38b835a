"""Repeated, uninstrumented runs of the whole suite, shared by the runtime and flakiness collectors.

``plan`` says which runs to make (order, seed, with or without xdist); ``run`` makes them, each writing a run
record through the ``harness_pytest`` plugin plus its wall-clock time; ``load`` reads them back (pure).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from harness.collectors.pytest_run import order_args, run_pytest, xdist_args
from harness.collectors.records import RunRecord, load_record
from harness.config import Config
from harness.discover import Project
from harness.errors import ArtifactError
from harness.workspace import write_json

NAME = "runs"


@dataclass(frozen=True)
class RunSpec:
    order: str = "declared"  # declared | reversed | shuffle
    seed: int = 0
    xdist: bool = True

    def args(self, workers: int) -> list[str]:
        return [*xdist_args(workers if self.xdist else 1), *order_args(self.order, self.seed)]


ORDERS: tuple[str, ...] = ("declared", "reversed", "shuffle")


def plan(cfg: Config, seed: int | None = None) -> list[RunSpec]:
    """The shared runs: what the runtime and flakiness phases need, each run made once.

    Runtime alone: the declared order under xdist, ``runtime.runs`` times. Flakiness: ``flakiness.runs`` runs
    cycling the orders (declared, reversed, shuffled) and xdist (with, without), so all six combinations come
    round every six runs; shuffled runs get seeds ``base, base+1, ...`` where base is ``flakiness.seed``, or
    ``seed``, or drawn afresh when both are 0. The runtime phase times only xdist runs: declared xdist
    runs are added while there are fewer than ``runtime.runs``.
    """
    if not cfg.flakiness.enabled:
        return [RunSpec() for _ in range(cfg.runtime.runs)] if cfg.runtime.enabled else []
    base = cfg.flakiness.seed or seed or random.SystemRandom().randrange(1, 2**31)
    specs = []
    shuffles = 0
    for i in range(cfg.flakiness.runs):
        order = ORDERS[i % len(ORDERS)]
        run_seed = 0
        if order == "shuffle":
            run_seed = base + shuffles
            shuffles += 1
        specs.append(RunSpec(order=order, seed=run_seed, xdist=i % 2 == 0))
    if cfg.runtime.enabled:
        missing = cfg.runtime.runs - sum(s.xdist for s in specs)
        specs += [RunSpec() for _ in range(max(0, missing))]
    return specs


def run(project: Project, cfg: Config, work: Path, raw: Path, specs: Sequence[RunSpec],
        progress: Callable[[int, int], None] | None = None) -> list[RunRecord]:
    """Make every planned run; returns their records in plan order."""
    out_dir = raw / NAME
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("run-*.json"):
        old.unlink()
    index = []
    records = []
    workers = cfg.effective_workers()
    for i, spec in enumerate(specs):
        record_path = out_dir / f"run-{i:03d}.json"
        log = out_dir / f"run-{i:03d}.log"
        result = run_pytest(project, cfg, work, [*spec.args(workers), f"--harness-record={record_path}"], log)
        records.append(load_record(record_path, log, result.wall_seconds, spec.xdist, result.cpu_seconds))
        index.append({"record": record_path.name, "wall_seconds": result.wall_seconds,
                      "cpu_seconds": result.cpu_seconds,
                      "returncode": result.returncode, **asdict(spec)})
        if progress:
            progress(i + 1, len(specs))
    write_json(out_dir / "index.json", "run-index", {"runs": index})
    return records


def load(raw: Path) -> list[RunRecord]:
    """Read the runs back from ``raw/runs`` (pure)."""
    out_dir = raw / NAME
    try:
        index = json.loads((out_dir / "index.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"no readable run index in {out_dir}: {exc}") from None
    return [load_record(out_dir / r["record"], out_dir / r["record"].replace(".json", ".log"),
                        float(r["wall_seconds"]), bool(r.get("xdist", True)), float(r.get("cpu_seconds", 0.0)))
            for r in index["runs"]]
