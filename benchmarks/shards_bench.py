"""Benchmark (run on demand, not a test): shards balanced by the shard plan vs shards by name hash, against one
single run's mutation phase, on a real target.

    python benchmarks/shards_bench.py [--target toolz] [--shards 4] [--write]

Every run is ``harness run`` with mutation on (flakiness, runtime and history off) on a fresh copy of the target
(tests/realtargets.py), cold as a CI machine is: no sandbox, no verdict cache. In order:

1. one single run;
2. N shard runs ``--shard K/N`` with no plan file (name hash), one after another, then ``harness merge``, which
   writes the shard plan;
3. N shard runs that follow that plan (copied into each copy's cache folder, as CI restores it), then merged.

For each run: the mutation phase's wall time (the scorecard's ``phase_seconds``: generation, mutmut's stats,
clean and forced-fail runs, then the mutants) and the mutant part alone (the driver's status: first mutant to
last verdict). Printed, with the slowest shard / single ratio of each split, and the check that both merged runs
give the single run's verdicts and counts; ``--write`` adds it at the end of the shards section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from realtargets import harness_config, prepare, python_for  # noqa: E402

PLAN = Path(".harness-cache") / "verdicts" / "shard-plan.json"


def harness(args: list[str], cwd: Path, python: str = sys.executable) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS")}
    env["PYTHONPATH"] = str(REPO)
    proc = subprocess.run([python, "-m", "harness", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, check=False)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"harness {args[0]} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def run(base: Path, dest: Path, target: str, *extra: str, plan: Path | None = None) -> dict[str, Any]:
    """One cold ``harness run`` on a fresh copy; its mutation phase times and verdicts."""
    root = dest
    shutil.copytree(base, root)
    if plan is not None:
        (root / PLAN).parent.mkdir(parents=True)
        shutil.copyfile(plan, root / PLAN)
    harness(["run", str(root), *harness_config(target), "--set", "mutation.enabled=true",
             "--set", "flakiness.enabled=false", "--set", "runtime.enabled=false", "--set", "history.enabled=false",
             "--quiet", *extra], cwd=root, python=python_for(target))
    card = json.loads((root / "reports" / "scorecard.json").read_text(encoding="utf-8"))
    status = json.loads((root / "reports" / "raw" / "mutation" / "status.json").read_text(encoding="utf-8"))
    doc = json.loads((root / "reports" / "mutation.json").read_text(encoding="utf-8"))
    return {
        "root": root,
        "phase": float(card["meta"]["phase_seconds"]["mutation"]),
        "mutants_wall": float(status["ended"]) - float(status["mutants_started"]),
        "statuses": {m["name"]: m["status"] for mm in doc["modules"].values() for m in mm["mutants"]},
        "notes": card["notes"],
    }


def merge(parts: list[dict[str, Any]], where: Path) -> dict[str, Any]:
    """``harness merge`` of the shards, run in ``where`` (its cache folder receives the next plan)."""
    where.mkdir(parents=True, exist_ok=True)
    harness(["merge", *(str(p["root"] / "reports") for p in parts), "--output", str(where / "merged")], cwd=where)
    doc = json.loads((where / "merged" / "mutation.json").read_text(encoding="utf-8"))
    card = json.loads((where / "merged" / "scorecard.json").read_text(encoding="utf-8"))
    return {"statuses": {m["name"]: m["status"] for mm in doc["modules"].values() for m in mm["mutants"]},
            "counts": [c.get("mutation", {}).get("counts") for c in card["modules"]], "plan": where / PLAN}


def line(label: str, parts: list[dict[str, Any]], single: dict[str, Any], merged: dict[str, Any],
         single_counts: list[Any]) -> str:
    phases = [p["phase"] for p in parts]
    walls = [p["mutants_wall"] for p in parts]
    same = merged["statuses"] == single["statuses"] and merged["counts"] == single_counts
    return (f"- {label}: mutation phase per shard {', '.join(f'{x:.1f}' for x in phases)} s, slowest "
            f"**{max(phases) / single['phase']:.2f} x** the single run's; mutants alone "
            f"{', '.join(f'{x:.1f}' for x in walls)} s, slowest {max(walls) / single['mutants_wall']:.2f} x; "
            f"mutants per shard {', '.join(str(len(p['statuses'])) for p in parts)}; merged = single run: "
            f"{'yes' if same else 'NO'}\n")


def write(report: str) -> None:
    """Put ``report`` at the end of the shards section of docs/benchmarks.md (before the next section)."""
    doc = REPO / "docs" / "benchmarks.md"
    text = doc.read_text(encoding="utf-8")
    heading = "## Shards balanced by time (issue 14)"
    if heading not in text:
        text = text.rstrip("\n") + (f"\n\n{heading}\n\nWritten by `python benchmarks/shards_bench.py --write`: every "
                                    "run cold on a fresh copy, one after another on this machine.\n")
    start = text.index(heading) + len(heading)
    end = text.find("\n## ", start)
    end = len(text) if end < 0 else end + 1
    doc.write_text(text[:end].rstrip("\n") + "\n\n" + report + "\n" + text[end:], encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="toolz")
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--write", action="store_true", help="add the figures to its section of docs/benchmarks.md")
    args = parser.parse_args()
    n = args.shards
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="shards-bench-") as name:
        tmp = Path(name)
        base = prepare(args.target, tmp / "src")
        single = run(base, tmp / "single", args.target)
        single_card = json.loads((tmp / "single" / "reports" / "scorecard.json").read_text(encoding="utf-8"))
        single_counts = [c.get("mutation", {}).get("counts") for c in single_card["modules"]]
        hashed = [run(base, tmp / f"hash{k}", args.target, "--shard", f"{k}/{n}") for k in range(1, n + 1)]
        first = merge(hashed, tmp / "merge1")
        planned = [run(base, tmp / f"plan{k}", args.target, "--shard", f"{k}/{n}", plan=first["plan"])
                   for k in range(1, n + 1)]
        if not all(any("split by the shard plan" in str(note.get("text", "")) for note in p["notes"])
                   for p in planned):  # scorecard notes are {kind, module, text, data...}
            raise SystemExit("a planned shard did not follow the plan")
        second = merge(planned, tmp / "merge2")
        expected = json.loads(first["plan"].read_text(encoding="utf-8"))["expected_seconds"]
    report = (
        f"### {args.target} (every module), {n} shards, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, "
        f"load average {load:.1f} at start\n\n"
        f"- single run: mutation phase {single['phase']:.1f} s (mutants alone {single['mutants_wall']:.1f} s), "
        f"{len(single['statuses'])} mutants\n"
        + line("by name hash (no plan)", hashed, single, first, single_counts)
        + f"- the plan the first merge wrote: {', '.join(f'{x:.1f}' for x in expected)} s of mutant time (summed "
        f"durations, run {os.cpu_count()} at a time) per shard\n"
        + line("by the shard plan", planned, single, second, single_counts)
    )
    print(report)
    if args.write:
        write(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
