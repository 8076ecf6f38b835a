"""Repeated, uninstrumented runs of the whole suite, shared by the runtime and flakiness collectors.

``plan`` says which runs to make (order, seed, with or without xdist); ``run`` makes them, each writing a run
record through the ``harness_pytest`` plugin plus its wall-clock time; ``load`` reads them back (pure).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from harness.collectors.pytest_run import run_pytest, xdist_args
from harness.collectors.records import RunRecord, load_record
from harness.config import Config
from harness.discover import Project
from harness.errors import ArtifactError

NAME = "runs"


@dataclass(frozen=True)
class RunSpec:
    order: str = "declared"  # declared | reversed | shuffle
    seed: int = 0
    xdist: bool = True

    def args(self, workers: int) -> list[str]:
        return [*xdist_args(workers if self.xdist else 1), f"--harness-order={self.order}",
                f"--harness-seed={self.seed}"]


def plan(cfg: Config) -> list[RunSpec]:
    """The runtime runs: the declared order under xdist, ``runtime.runs`` times."""
    return [RunSpec() for _ in range(cfg.runtime.runs)]


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
        records.append(load_record(record_path, log, result.wall_seconds, spec.xdist))
        index.append({"record": record_path.name, "wall_seconds": result.wall_seconds,
                      "returncode": result.returncode, **asdict(spec)})
        if progress:
            progress(i + 1, len(specs))
    (out_dir / "index.json").write_text(json.dumps({"format": 1, "runs": index}, indent=1), encoding="utf-8")
    return records


def load(raw: Path) -> list[RunRecord]:
    """Read the runs back from ``raw/runs`` (pure)."""
    out_dir = raw / NAME
    try:
        index = json.loads((out_dir / "index.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"no readable run index in {out_dir}: {exc}") from None
    return [load_record(out_dir / r["record"], out_dir / r["record"].replace(".json", ".log"),
                        float(r["wall_seconds"]), bool(r.get("xdist", True))) for r in index["runs"]]
