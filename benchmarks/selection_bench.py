"""Benchmark (run on demand, not a test): line-level vs function-level test selection, and per-test vs whole-set
time budgets, in the harness's mutation phase, side by side on the same copy of each target (issue 14).

    python benchmarks/selection_bench.py [--target toolz --target itsdangerous] [--modules toolz.itertoolz,...]
        [--configs function:set,line:set,line:test] [--write]

For each target: one fresh copy of its sdist (tests/realtargets.py), then for each configuration
``selection:timeout_budget`` one real ``harness run`` (coverage, then the mutation phase from scratch:
``mutation.incremental = false``; flakiness, runtime and history off). From each run's files:

- test executions: the tests each forked mutant actually ran (the driver's ``executions.jsonl``; a run stops at
  the first failing test), per mutant of the run (mutants with no test run count 0) and per executed mutant;
- tests selected per mutant (what would run if none failed), and how often line level fell back (by reason);
- verdicts (``reports/mutation.json``): agreement of every configuration with the first, and each difference;
- timeouts: how many, and the time spent in them (summed durations of the mutants judged timeout);
- the mutation phase's mutant wall time (driver status: mutants started -> ended).

Prints a Markdown section and with ``--write`` appends it to docs/benchmarks.md.
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
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from realtargets import harness_config, prepare  # noqa: E402

# Fixture targets (no download): the case of a mutant that makes one test wait, covered by many tests.
FIXTURES: dict[str, dict[str, str]] = {
    "waits": {
        "pyproject.toml": '[project]\nname = "waits"\nversion = "0"\n',
        "waits/__init__.py": "",
        "waits/core.py": (
            "import time\n\n\n"
            "def wait_until(predicate, timeout=0.2, step=0.01):\n"
            "    waited = 0.0\n"
            "    while not predicate():\n"
            "        if waited >= timeout:\n"
            "            return False\n"
            "        time.sleep(step)\n"
            "        waited += step\n"
            "    return True\n\n\n"
            "def retry(call, attempts=3, delay=0.01):\n"
            "    last = None\n"
            "    for _ in range(attempts):\n"
            "        try:\n"
            "            return call()\n"
            "        except ConnectionError as exc:\n"
            "            last = exc\n"
            "            time.sleep(delay)\n"
            "    raise ConnectionError(f'gave up after {attempts} attempts') from last\n"
        ),
        "tests/test_core.py": (
            "import itertools\nimport time\n\nimport pytest\n\nfrom waits.core import retry, wait_until\n\n\n"
            "@pytest.mark.parametrize('n', range(12))\n"
            "def test_wait_until_true_after_n_calls(n):\n"
            "    calls = itertools.count()\n"
            "    assert wait_until(lambda: next(calls) >= n % 3)\n\n\n"
            "def test_wait_until_gives_up():\n"
            "    assert wait_until(lambda: False, timeout=0.05) is False\n\n\n"
            "@pytest.mark.parametrize('n', range(8))\n"
            "def test_wait_until_in_a_slow_workflow(n):\n"
            "    time.sleep(0.15)  # the rest of a slower test\n"
            "    assert wait_until(lambda: True)\n\n\n"
            "@pytest.mark.parametrize('failures', range(3))\n"
            "def test_retry_succeeds(failures):\n"
            "    left = iter(range(failures, -1, -1))\n\n"
            "    def call():\n"
            "        if next(left):\n"
            "            raise ConnectionError\n"
            "        return 'ok'\n\n"
            "    assert retry(call) == 'ok'\n\n\n"
            "def test_retry_gives_up():\n"
            "    def call():\n"
            "        raise ConnectionError\n\n"
            "    with pytest.raises(ConnectionError, match='3 attempts'):\n"
            "        retry(call)\n\n\n"
            "@pytest.mark.parametrize('n', range(6))\n"
            "def test_retry_in_a_slow_workflow(n):\n"
            "    time.sleep(0.15)\n"
            "    assert retry(lambda: n) == n\n"
        ),
    },
}


def make_target(target: str, dest: Path) -> Path:
    """A fresh copy of ``target``: a fixture written here, or the pinned sdist (tests/realtargets.py)."""
    if target not in FIXTURES:
        return prepare(target, dest)
    root = dest / target
    for rel, text in FIXTURES[target].items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def timed_harness(args: list[str], root: Path) -> tuple[float, int]:
    """Run ``args`` (a ``python -m harness run`` command) in ``root`` with this checkout's harness and no HARNESS*
    variables; (its wall time, its exit code). Stops the benchmark unless the run measured (exit 0 or 1)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS")}
    env["PYTHONPATH"] = str(REPO)
    started = time.monotonic()
    proc = subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"harness run failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return wall, proc.returncode


def run_config(root: Path, target: str, modules: list[str], selection: str, budget: str,
               incremental: bool = False) -> dict[str, Any]:
    """One ``harness run`` with mutation on, from scratch (the verdict cache written, not read); the figures
    read from its files. ``incremental``: the sandbox and the verdict cache are used as a normal run does."""
    args = [
        sys.executable, "-m", "harness", "run", str(root), *(harness_config(target) if target not in FIXTURES else ()),
        "--set", "mutation.enabled=true", "--set", "flakiness.enabled=false", "--set", "runtime.enabled=false",
        "--set", "history.enabled=false", "--set", f"mutation.incremental={str(incremental).lower()}",
        "--set", f"mutation.selection={selection}", "--set", f"mutation.timeout_budget={budget}", "--quiet",
    ]
    if modules:
        args += ["--set", "mutation.modules=" + json.dumps(modules)]
    wall, _ = timed_harness(args, root)
    raw = root / "reports" / "raw" / "mutation"
    doc = json.loads((root / "reports" / "mutation.json").read_text(encoding="utf-8"))
    mutants = {m["name"]: m for mm in doc["modules"].values() for m in mm["mutants"]}
    ran: dict[str, int] = {}
    for line in (raw / "executions.jsonl").read_text(encoding="utf-8").splitlines() if (
            raw / "executions.jsonl").exists() else []:
        event = json.loads(line)
        ran[event["mutant"]] = int(event["ran"])
    selects = [json.loads(ln) for ln in (raw / "journal.jsonl").read_text(encoding="utf-8").splitlines()
               if '"select"' in ln]
    status = json.loads((raw / "status.json").read_text(encoding="utf-8"))
    timeouts = [m for m in mutants.values() if m["status"] == "timeout"]
    cached = sum(1 for ln in (raw / "journal.jsonl").read_text(encoding="utf-8").splitlines() if '"cached"' in ln)
    card = json.loads((root / "reports" / "scorecard.json").read_text(encoding="utf-8"))
    return {
        "label": f"{selection} selection, {budget} budget",
        "wall": wall,
        "phase": float(status["ended"]) - float(status["mutants_started"]),
        "statuses": {k: m["status"] for k, m in mutants.items()},
        "mutants": len(mutants),
        "executed": len(ran),
        "executions": sum(ran.values()),
        "selected_function": sum(int(e["function"]) for e in selects),
        "selected_line": sum(int(e["line"]) if e["mode"] == "line" else int(e["function"]) for e in selects),
        "submitted": len(selects),
        "modes": Counter(str(e["mode"]) for e in selects),
        "timeouts": len(timeouts),
        "timeout_seconds": sum(float(m.get("duration") or 0.0) for m in timeouts),
        "counts": Counter(m["status"] for m in mutants.values()),
        "cached": cached,
        "scorecard": {m["module"]: (m.get("mutation") or {}).get("counts") for m in card.get("modules") or ()},
    }


def section(target: str, modules: list[str], runs: list[dict[str, Any]], load: float) -> str:
    base = runs[0]
    head = (
        f"### {target} ({', '.join(modules) if modules else 'every module'}), {time.strftime('%Y-%m-%d %H:%M')}, "
        f"{os.cpu_count()} cores, load average {load:.1f} at start\n\n"
        f"{base['mutants']} mutants; {base['submitted']} had tests by mutmut's function-level selection "
        f"(the others are no coverage in every configuration).\n\n"
        "| configuration | test executions | per mutant | per executed mutant | mutants executed | "
        "tests selected per mutant | timeouts | time in timeouts | mutant phase | verdicts equal to the first |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n"
    )
    rows = []
    notes = []
    for r in runs:
        same = sum(1 for k, v in base["statuses"].items() if r["statuses"].get(k) == v)
        share = 100 * same / max(len(base["statuses"]), 1)
        selected = r["selected_line"] if r["label"].startswith("line") else r["selected_function"]
        rows.append(
            f"| {r['label']} | {r['executions']} | {r['executions'] / max(r['mutants'], 1):.2f} | "
            f"{r['executions'] / max(r['executed'], 1):.2f} | {r['executed']} | "
            f"{selected / max(r['mutants'], 1):.2f} | {r['timeouts']} | {r['timeout_seconds']:.1f} s | "
            f"{r['phase']:.1f} s | {same}/{len(base['statuses'])} ({share:.2f} %) |"
        )
        flips = Counter((v, r["statuses"].get(k)) for k, v in base["statuses"].items() if r["statuses"].get(k) != v)
        reclassified = flips.get(("survived", "no_coverage"), 0)
        detected = {"killed", "timeout"}
        same_detection = sum(
            1 for k, v in base["statuses"].items() if (v in detected) == (r["statuses"].get(k) in detected)
        )
        if flips:
            notes.append(
                f"- {r['label']}: verdicts agree on {100 * same / max(len(base['statuses']), 1):.2f} % of mutants, "
                f"{100 * (same + reclassified) / max(len(base['statuses']), 1):.2f} % counting survived -> no "
                f"coverage (a line no test executed) as agreeing; detected or not agrees on "
                f"{100 * same_detection / max(len(base['statuses']), 1):.2f} %"
            )
        if flips:
            names = [k for k, v in base["statuses"].items() if r["statuses"].get(k) != v]
            notes.append(
                f"- {r['label']} vs {base['label']}: " + ", ".join(f"{a} -> {b}: {n}" for (a, b), n in flips.items())
                + f" ({', '.join(sorted(names)[:12])}{' ...' if len(names) > 12 else ''})"
            )
        if r["label"].startswith("line"):
            notes.append(f"- {r['label']}: line level for {r['modes'].get('line', 0)} of {r['submitted']} mutants; "
                         "fallbacks to function level: "
                         + (", ".join(f"{m} {n}" for m, n in sorted(r["modes"].items()) if m != "line") or "none"))
        notes.append(f"- {r['label']}: " + ", ".join(f"{s} {n}" for s, n in sorted(r["counts"].items())))
    return head + "\n".join(rows) + "\n\n" + "\n".join(notes) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", action="append", default=[])
    parser.add_argument("--modules", action="append", default=[],
                        help="comma-separated modules, one option per --target (default: every module)")
    parser.add_argument("--configs", default="function:set,line:set")
    parser.add_argument("--fresh-checkout", action="store_true",
                        help="then a fresh copy with only the last run's verdict cache restored")
    parser.add_argument("--write", action="store_true", help="append the figures to docs/benchmarks.md")
    args = parser.parse_args()
    targets = args.target or ["toolz", "itsdangerous"]
    configs = [tuple(c.split(":")) for c in args.configs.split(",")]
    out = []
    for i, target in enumerate(targets):
        modules = [m for m in (args.modules[i] if i < len(args.modules) else "").split(",") if m]
        with tempfile.TemporaryDirectory(prefix="selection-bench-") as tmp:
            root = make_target(target, Path(tmp) / "first")
            load = os.getloadavg()[0]
            runs = [run_config(root, target, modules, s, b) for s, b in configs]
            cache_text = ""
            if args.fresh_checkout:
                # A fresh copy of the target with only the verdict cache folder of the last run restored.
                fresh = make_target(target, Path(tmp) / "fresh")
                shutil.copytree(root / ".harness-cache" / "verdicts", fresh / ".harness-cache" / "verdicts")
                warm = run_config(fresh, target, modules, *configs[-1], incremental=True)
                cold = runs[-1]
                same = warm["statuses"] == cold["statuses"]
                cache_text = (
                    f"\nFresh checkout with the verdict cache restored ({warm['label']}): "
                    f"{warm['cached']} of {warm['submitted']} submitted mutants taken from the cache, "
                    f"{warm['executed']} executed; whole `harness run` {warm['wall']:.1f} s = "
                    f"**{warm['wall'] / cold['wall']:.2f} x** the cold run's {cold['wall']:.1f} s (mutant phase "
                    f"{warm['phase']:.1f} s vs {cold['phase']:.1f} s); verdicts "
                    f"{'identical' if same else 'DIFFERENT'}, scorecard's mutation counts "
                    f"{'identical' if warm['scorecard'] == cold['scorecard'] else 'DIFFERENT'}.\n"
                )
        text = section(target, modules, runs, load) + cache_text
        print(text, flush=True)
        out.append(text)
    if args.write:
        doc = REPO / "docs" / "benchmarks.md"
        text = doc.read_text(encoding="utf-8")
        title = "## Test selection and time budgets (issue 14)"
        if title not in text:
            text = text.rstrip("\n") + f"\n\n{title}\n\nWritten by `python benchmarks/selection_bench.py --write`.\n"
        doc.write_text(text.rstrip("\n") + "\n\n" + "\n".join(out), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
