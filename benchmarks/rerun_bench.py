"""Benchmark (run on demand, not a test): how much of a cold run a warm re-run and a fresh checkout with the
verdict cache restored still cost (issue 14: warm after editing one function <= 10 % of the cold run's wall
time; fresh checkout with the cache restored <= 15 %, identical scorecard).

    python benchmarks/rerun_bench.py [TARGET ...] [--write]

For each target (default: toolz itsdangerous fastapi-azure-auth; any of tests/realtargets.py's table), every
run is ``harness run`` with the target's pytest args, mutation on and flakiness, runtime and history off (they
are not cached: each run repeats them, whatever this benchmark measures), timed (wall), in order:

1. cold: a fresh copy of the sdist, no sandbox, no cache; its ``.harness-cache/verdicts`` folder is then stashed;
2. warm, no change: the same copy again;
3. warm after editing one function: a ``pass`` statement is inserted after the first function docstring of the
   largest mutated module (a change to the function's source that adds no mutant and changes no behaviour:
   mutmut regenerates that function's mutants and the verdict cache's keys of exactly those change);
4. restored: another fresh copy of the sdist with only the stashed verdicts folder, as ``actions/cache``
   restores it in CI (docs/ci.md). Its scorecard is compared with the cold run's, timings and durations left out.

Each run's wall, its coverage and mutation phases (the scorecard's ``meta.phase_seconds``), whether the coverage
run was reused whole or in part (``reports/raw/coverage/reused.json``: coverage.reuse), the mutants forked (the
driver's ``executions.jsonl``), whether mutmut's stats run and clean run were skipped, and the ratios to the cold
run. The scorecards are compared without the note that says the coverage run was reused.
``--write`` replaces the section between ``<!-- rerun:begin -->`` and ``<!-- rerun:end -->`` in
docs/benchmarks.md (the rows of the targets run replace theirs, the other rows stay).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "benchmarks"))

from realtargets import harness_config, prepare, python_for  # noqa: E402
from selection_bench import timed_harness  # noqa: E402

DOC = REPO / "docs" / "benchmarks.md"
REUSE_NOTES = ("coverage.reused", "coverage.increment")  # what a reusing run says, and a cold run cannot
BEGIN, END = "<!-- rerun:begin -->", "<!-- rerun:end -->"
VOLATILE = frozenset({"duration", "seconds", "phase_seconds", "generated_at", "started", "finished", "root",
                      "wall_seconds", "elapsed", "timings", "time", "runtime_seconds", "mean", "median", "p95",
                      "max", "total_seconds"})


def harness_run(root: Path, target: str) -> dict[str, Any]:
    """One ``harness run`` (mutation on; flakiness, runtime and history off); its wall time and what it did."""
    args = [python_for(target), "-m", "harness", "run", str(root), *harness_config(target),
            "--set", "mutation.enabled=true", "--set", "flakiness.enabled=false", "--set", "runtime.enabled=false",
            "--set", "history.enabled=false", "--quiet"]
    load = os.getloadavg()[0]
    wall, code = timed_harness(args, root)
    raw = root / "reports" / "raw" / "mutation"
    card = json.loads((root / "reports" / "scorecard.json").read_text(encoding="utf-8"))
    status = json.loads((raw / "status.json").read_text(encoding="utf-8"))
    executions = raw / "executions.jsonl"
    forked = len(executions.read_text(encoding="utf-8").splitlines()) if executions.exists() else 0
    log = (raw / "mutmut.log").read_text(encoding="utf-8", errors="replace")
    reused_file = root / "reports" / "raw" / "coverage" / "reused.json"
    reused = json.loads(reused_file.read_text(encoding="utf-8")) if reused_file.exists() else None
    card["notes"] = [n for n in card.get("notes") or () if n.get("kind") not in REUSE_NOTES]
    return {
        "coverage": ("measured" if reused is None else "reused" if not reused.get("changed")
                     else f"{reused['rerun']} of {reused['tests']} tests re-measured"),
        "wall": wall,
        "exit": code,
        "load": load,
        "phases": card.get("meta", {}).get("phase_seconds") or {},
        "forked": forked,
        "stats_run": "Running stats" in log,
        "clean_skipped": bool(status.get("clean_skipped")),
        "scorecard": normalised(card),
    }


def normalised(value: Any) -> Any:
    """The scorecard without what differs between two runs of the same code: times, durations, the root."""
    if isinstance(value, dict):
        return {k: normalised(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [normalised(v) for v in value]
    return value


def differences(a: Any, b: Any, path: str = "") -> list[str]:
    """The JSON paths where two normalised scorecards differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b)) for d in differences(a.get(k), b.get(k), f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [path or "."]


def edit_one_function(root: Path, card: dict[str, Any]) -> str:
    """Insert a ``pass`` statement after the docstring of the documented function with the most mutants in the
    mutated module with the most mutants: its source changes (mutmut regenerates its mutants, the verdict cache's
    keys of exactly those change), its behaviour does not, and ``pass`` has nothing to mutate."""
    modules = [m for m in card.get("modules") or () if (m.get("mutation") or {}).get("counts")]
    modules.sort(key=lambda m: -sum(int(m["mutation"]["counts"].get(k) or 0)
                                    for k in ("killed", "timeout", "survived", "no_coverage")))
    doc = json.loads((root / "reports" / "mutation.json").read_text(encoding="utf-8"))
    for module in modules:
        path = root / module["path"]
        text = path.read_text(encoding="utf-8")
        per_function = Counter(m["function"] for m in doc["modules"][module["module"]]["mutants"])
        nodes = sorted((n for n in ast.walk(ast.parse(text)) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))),
                       key=lambda n: -per_function.get(n.name, 0))  # the function with the most mutants first
        for node in nodes:
            if ast.get_docstring(node, clean=False) and len(node.body) > 1:
                doc, after = node.body[0], node.body[1]
                lines = text.splitlines(keepends=True)
                indent = lines[after.lineno - 1][: after.col_offset]
                lines.insert(doc.end_lineno or doc.lineno, f"{indent}pass\n")
                path.write_text("".join(lines), encoding="utf-8")
                return f"{module['path']}: {node.name}"
    raise SystemExit("no function with a docstring and a body in the mutated modules")


def measure(target: str, tmp: Path) -> dict[str, Any]:
    root = prepare(target, tmp / "cold")
    cold = harness_run(root, target)
    stash = tmp / "verdicts"
    shutil.copytree(root / ".harness-cache" / "verdicts", stash)
    warm = harness_run(root, target)
    edited = edit_one_function(root, json.loads((root / "reports" / "scorecard.json").read_text(encoding="utf-8")))
    after_edit = harness_run(root, target)
    fresh = prepare(target, tmp / "fresh")
    shutil.copytree(stash, fresh / ".harness-cache" / "verdicts")
    restored = harness_run(fresh, target)
    return {"target": target, "cold": cold, "warm": warm, "edited": edited, "after_edit": after_edit,
            "restored": restored, "differences": differences(cold["scorecard"], restored["scorecard"]),
            "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}


def row(r: dict[str, Any]) -> str:
    cold = r["cold"]

    def cell(run: dict[str, Any]) -> str:
        m, cm = run["phases"].get("mutation", 0.0), cold["phases"].get("mutation", 0.0) or 1.0
        c = run["phases"].get("coverage", 0.0)
        skipped = [s for s, on in (("stats run", not run["stats_run"]), ("clean run", run["clean_skipped"])) if on]
        return (f"{run['wall']:.1f} s = **{run['wall'] / cold['wall']:.2f} x** (coverage {c:.1f} s, "
                f"{run.get('coverage', 'measured')}; mutation phase {m:.1f} s = {m / cm:.2f} x; "
                f"{run['forked']} forked" + (f"; no {', no '.join(skipped)}" if skipped else "") + ")")

    return (f"| {r['target']} | {cold['wall']:.1f} s (coverage {cold['phases'].get('coverage', 0.0):.1f} s, "
            f"mutation phase {cold['phases'].get('mutation', 0.0):.1f} s, "
            f"{cold['forked']} forked) | {cell(r['warm'])} | {cell(r['after_edit'])} | {cell(r['restored'])} | "
            f"{'yes' if not r['differences'] else 'no: ' + ', '.join(r['differences'][:5])} | {cold['load']:.1f} |")


def section(rows: dict[str, str], notes: dict[str, str]) -> str:
    head = [
        BEGIN,
        "## Warm re-runs and a restored verdict cache (issue 14)",
        "",
        "`python benchmarks/rerun_bench.py [TARGET ...] --write` (see its docstring): `harness run` with mutation on "
        "and flakiness, runtime and history off; cold on a fresh copy, then again with no change, then after "
        "inserting a `pass` into one function, then a fresh copy with only the cold run's `.harness-cache/verdicts` "
        "restored. Aims: warm after an edit <= 0.10 x cold, restored <= 0.15 x cold with an identical scorecard.",
        "",
        "| target | cold | warm, no change | warm after editing one function | fresh checkout, cache restored | "
        "restored scorecard = cold | load at start |",
        "|---|---|---|---|---|---|---|",
    ]
    return "\n".join([*head, *rows.values(), "", *notes.values(), END])


def write(results: list[dict[str, Any]]) -> None:
    text = DOC.read_text(encoding="utf-8")
    rows: dict[str, str] = {}
    notes: dict[str, str] = {}
    if BEGIN in text:
        old = text[text.index(BEGIN):text.index(END)]
        for line in old.splitlines():
            if line.startswith("| ") and not line.startswith(("| target", "|---")):
                rows[line.split("|")[1].strip()] = line
            elif line.startswith("- ") and ":" in line:
                notes[line[2:].split(":")[0]] = line
    for r in results:
        rows[r["target"]] = row(r)
        notes[r["target"]] = f"- {r['target']}: run {r['when']}; edited {r['edited']}."
    block = section(rows, notes)
    if BEGIN in text:
        text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    DOC.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", default=["toolz", "itsdangerous", "fastapi-azure-auth"])
    parser.add_argument("--write", action="store_true", help="put the rows into docs/benchmarks.md")
    args = parser.parse_args()
    results = []
    for target in args.targets:
        with tempfile.TemporaryDirectory(prefix=f"rerun-{target}-") as tmp:
            result = measure(target, Path(tmp))
        results.append(result)
        print(row(result), flush=True)
        if result["differences"]:
            print(f"  {target}: the restored run's scorecard differs from the cold run's at "
                  f"{result['differences']}", flush=True)
    if args.write:
        write(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
