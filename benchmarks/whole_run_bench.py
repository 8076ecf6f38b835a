"""Benchmark (run on demand, not a test): a whole default ``harness run`` vs the same work done by the bare tools
in sequence (issue 14: ratio harness / bare <= 0.5, with the same figures).

    python benchmarks/whole_run_bench.py [TARGET ...] [--budget S] [--timeout S] [--write]

For each target (default: toolz itsdangerous fastapi-azure-auth; any of tests/realtargets.py's table):

1. Harness: a fresh copy of the sdist, ``harness run`` with ZERO config exactly as benchmarks/targets_table.py
   starts it (only the pytest args targets.md says the suite needs), timed (wall). Read back: the scorecard
   (``reports/scorecard.json``), the uninstrumented whole-suite runs the runtime and flakiness phases made
   (``reports/raw/runs/index.json``: how many, which under xdist) with the scorecard's ``meta.workers``, and the
   per-mutant verdicts (``reports/raw/mutation/**/*.meta``, truth.harness_exit_codes).
2. Bare tools, in another fresh copy, in sequence, each timed: one ``coverage run --branch -m pytest`` of the
   suite (realtargets.reference_for: truth.reference_coverage in a copy that measures subprocesses, as the
   harness does by default; with ``coverage combine`` and ``coverage json``); as many plain ``python -m pytest
   -n N`` runs as the harness made uninstrumented runs, N its workers (targets_table.plain_pytest); one bare
   ``mutmut run`` with its defaults (truth.mutmut_copy: told only which files to mutate - the modules the
   harness mutates -, the tests, and realtargets.Target's ``mutmut_also_copy`` / ``mutmut_test_args``).
   Bare wall = the sum of the three.
3. One row: harness wall | bare wall (coverage / N pytest runs / mutmut) | ratio harness / bare | coverage
   figures equal to the bare run's (realtargets.compare: modules equal / modules) | mutation score harness vs
   bare over the mutants both judged, and the modules whose detected (killed + timeout) counts are equal |
   load average at the start of each side. The per-module differences follow the table. ``--write`` puts it
   into docs/benchmarks.md between ``<!-- whole-run:begin -->`` and ``<!-- whole-run:end -->``: the rows of the
   targets run replace theirs, the other rows stay.

Mutation time budget: the harness's default stops its mutation phase after ``mutation.time_budget`` (3600 s);
``--budget S`` passes ``--set mutation.time_budget=S`` (0 = none). Bare mutmut gets the same wall cap: at the cap
its process group gets SIGINT (Ctrl-C: mutmut saves the verdicts so far) and is killed 300 s later if still
running. When either side was capped the row says so; only mutants both judged are ever compared.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))

import realtargets  # noqa: E402
import targets_table  # noqa: E402
import truth  # noqa: E402

from harness.collectors.mutation import selected_modules  # noqa: E402
from harness.collectors.mutmut_adapter import status_of  # noqa: E402
from harness.config_schema import MutationSettings  # noqa: E402
from harness.stats import MutantStatus  # noqa: E402

DOC = REPO / "docs" / "benchmarks.md"
BEGIN, END = "<!-- whole-run:begin -->", "<!-- whole-run:end -->"
DEFAULT_TARGETS = ("toolz", "itsdangerous", "fastapi-azure-auth")
DEFAULT_BUDGET = MutationSettings().time_budget
JUDGED = (MutantStatus.KILLED, MutantStatus.TIMEOUT, MutantStatus.SURVIVED, MutantStatus.NO_COVERAGE)
DETECTED = (MutantStatus.KILLED, MutantStatus.TIMEOUT)
HEADER = ["target", "harness wall", "bare wall (coverage / pytest runs / mutmut)", "ratio harness / bare",
          "coverage = bare / modules", "mutation score harness vs bare (detected = bare / modules)",
          "load at start (harness, bare)"]
CAPTION = "Differences from the bare tools:"
T = TypeVar("T")


@dataclass
class Side:
    """One side's facts: wall seconds of each step, whether mutation was capped, its load at the start."""

    walls: dict[str, float] = field(default_factory=dict)
    capped: bool = False
    load: float = 0.0
    failure: str = ""

    @property
    def wall(self) -> float:
        return sum(self.walls.values())


@dataclass
class Row:
    target: str
    harness: Side = field(default_factory=Side)
    bare: Side = field(default_factory=Side)
    exit: str = "-"
    runs: int = 0  # the harness's uninstrumented whole-suite runs
    serial_runs: int = 0  # of which without xdist
    workers: int = 0
    budget: float = DEFAULT_BUDGET
    coverage: str = "-"
    mutation: str = "-"
    diffs: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        return self.harness.wall / self.bare.wall if self.harness.wall and self.bare.wall else None

    def cells(self) -> list[str]:
        h, b = self.harness, self.bare
        runs = f"{self.runs} runs" + (f", {self.serial_runs} of them serial" if self.serial_runs else "")
        harness = (f"{h.wall:.0f} s (exit {self.exit}; {runs}, {self.workers} workers"
                   + ("; mutation capped by its budget" if h.capped else "") + ")")
        parts = [f"{b.walls[k]:.0f} s" if k in b.walls else "-" for k in ("coverage", "pytest", "mutmut")]
        bare = (f"{b.wall:.0f} s ({parts[0]} / {self.runs} x `pytest -n {self.workers}` {parts[1]} / {parts[2]}"
                + (f", capped at {self.budget:.0f} s" if b.capped else "") + ")")
        ratio = "-" if self.ratio is None else f"**{self.ratio:.2f}**"
        failures = "; ".join(f for f in (h.failure, b.failure) if f)
        mutation = self.mutation + (f"; {failures}" if failures else "")
        return [self.target, harness, bare, ratio, self.coverage, mutation.replace("|", "\\|"),
                f"{h.load:.1f}, {b.load:.1f}"]


def table(rows: Sequence[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(r.cells()) + " |" for r in rows]
    diffs = [f"- {r.target}: {d}" for r in rows for d in r.diffs]
    return "\n".join(lines + (["", CAPTION, "", *diffs] if diffs else []))


def module_of(mutant: str) -> str:
    """``toolz.itertoolz.x_take__mutmut_2`` -> ``toolz.itertoolz`` (a method's class is joined by mutmut's ǁ)."""
    return mutant.rpartition(".")[0]


def _score(counts: Mapping[MutantStatus, int]) -> float | None:
    valid = sum(counts[s] for s in JUDGED)
    return 100 * sum(counts[s] for s in DETECTED) / valid if valid else None


def _counts_text(counts: Mapping[MutantStatus, int]) -> str:
    return " / ".join(f"{counts[s]} {s.value}" for s in JUDGED if counts[s])


def compare_mutants(ours: Mapping[str, MutantStatus], theirs: Mapping[str, MutantStatus]) -> tuple[str, list[str]]:
    """(the row's mutation cell, per-module differences) over the mutants both sides judged (killed, timeout,
    survived or no coverage): the score (detected / judged) of each side and the modules whose detected counts
    are equal / the modules with a mutant both judged."""
    both = sorted(k for k in ours.keys() & theirs.keys() if ours[k] in JUDGED and theirs[k] in JUDGED)
    if not both:
        return (f"no mutant judged by both (harness {sum(s in JUDGED for s in ours.values())}, bare "
                f"{sum(s in JUDGED for s in theirs.values())})"), []
    by_module: dict[str, tuple[Counter[MutantStatus], Counter[MutantStatus]]] = {}
    for key in both:
        mine, other = by_module.setdefault(module_of(key), (Counter(), Counter()))
        mine[ours[key]] += 1
        other[theirs[key]] += 1
    diffs = []
    equal = 0
    for module, (mine, other) in sorted(by_module.items()):
        if sum(mine[s] for s in DETECTED) == sum(other[s] for s in DETECTED):
            equal += 1
        if mine != other:
            diffs.append(f"{module}: harness {_counts_text(mine)}, bare {_counts_text(other)}")
    total_ours = sum((m for m, _ in by_module.values()), Counter[MutantStatus]())
    total_theirs = sum((o for _, o in by_module.values()), Counter[MutantStatus]())
    left = (len([s for s in ours.values() if s in JUDGED]) - len(both),
            len([s for s in theirs.values() if s in JUDGED]) - len(both))
    cell = (f"{_score(total_ours):.1f} % vs {_score(total_theirs):.1f} % over {len(both)} mutants; "
            f"{equal}/{len(by_module)} modules")
    if any(left):
        cell += f" (judged by one side only: harness {left[0]}, bare {left[1]})"
    return cell, diffs


def write_doc(text: str, names: Sequence[str], doc: Path = DOC) -> None:
    """Put the table into its section of ``doc``: rows of the targets run replace theirs, the other rows (and
    their differences) stay; the section says when each target was run."""
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    old_doc = doc.read_text() if doc.exists() else "# Benchmarks\n"
    old = old_doc[old_doc.index(BEGIN):old_doc.index(END)] if BEGIN in old_doc and END in old_doc else ""
    merged = targets_table.merge_table(old, text, HEADER, CAPTION) if old else text
    stamps = {m.group(1): m.group(2) for m in re.finditer(r"^- (\S+) run (.+)\.$", old, re.M)}
    stamps.update(dict.fromkeys(names, stamp))
    rows = [ln.split("|")[1].strip() for ln in merged.splitlines() if ln.startswith("| ") and "| target |" not in ln]
    block = (f"{BEGIN}\n## Whole default run vs the bare tools (issue 14)\n\n"
             "`python benchmarks/whole_run_bench.py [TARGET ...] --write` (see its docstring): `harness run` with "
             "zero config vs, in another fresh copy, one `coverage run --branch -m pytest`, the same number of "
             "plain `pytest -n N` runs and one bare `mutmut run` (its defaults), each timed; 2 cores, shared "
             "machine (wall times under load). Aim: ratio <= 0.5 with equal figures.\n\n"
             + "".join(f"- {t} run {stamps[t]}.\n" for t in rows if t in stamps) + f"\n{merged}\n{END}")
    doc.write_text(old_doc.replace(old + END, block) if old else old_doc.rstrip("\n") + "\n\n" + block + "\n")


def timed(walls: dict[str, float], step: str, fn: Callable[[], T]) -> T:
    """``fn()``, its wall seconds added to ``walls[step]``."""
    started = time.monotonic()
    try:
        return fn()
    finally:
        walls[step] = walls.get(step, 0.0) + time.monotonic() - started


def run_harness(row: Row, root: Path, set_args: list[str], python: str, timeout: float) -> dict[str, Any] | None:
    """The zero-config harness run (step 1); its scorecard, or None when it left none."""
    row.harness.load = os.getloadavg()[0]
    print(f"[{row.target}] $ harness run {' '.join(set_args)}  (timeout {timeout:.0f} s)", file=sys.stderr,
          flush=True)
    code, row.harness.walls["run"], stderr = targets_table.run_group(
        [python, "-m", "harness", "run", str(root), *set_args], None, targets_table.harness_env(), timeout,
        root.parent / "harness.log")
    row.exit = "timeout" if code is None else str(code)
    card_path = root / "reports" / "scorecard.json"
    if code is None or not card_path.exists():
        row.harness.failure = ("harness: " + (f"timed out after {timeout:.0f} s" if code is None
                                              else targets_table.first_line(stderr)))
        return None
    card: dict[str, Any] = json.loads(card_path.read_text())
    index = root / "reports" / "raw" / "runs" / "index.json"  # absent when runtime and flakiness are off
    runs = json.loads(index.read_text())["runs"] if index.exists() else []
    row.runs, row.serial_runs = len(runs), sum(not r.get("xdist", True) for r in runs)
    row.workers = int(card["meta"]["workers"])
    row.harness.capped = (root / "reports" / "raw" / "mutation" / "budget.json").exists()
    return card


def run_bare_mutmut(row: Row, root: Path, work: Path, python: str) -> dict[str, MutantStatus]:
    """One bare ``mutmut run`` with its defaults on the modules the harness mutates, capped like the harness's
    mutation phase (SIGINT at the cap); its per-mutant verdicts."""
    t = realtargets.TARGETS[row.target]
    project, cfg = realtargets.harness_project(root, realtargets.harness_config(row.target))
    paths = [m.path for m in selected_modules(project, cfg)]
    copy = truth.mutmut_copy(root, work / "mutmut", paths, [*project.tests, *t.mutmut_test_args],
                             t.mutmut_also_copy)
    print(f"[{row.target}] bare mutmut run on {len(paths)} files (cap {row.budget or 'none'})", file=sys.stderr,
          flush=True)
    code, row.bare.walls["mutmut"], _ = targets_table.run_group(
        truth.mutmut_command(python), copy, truth.mutmut_env(), row.budget or None, work / "mutmut.log",
        stop=signal.SIGINT)
    row.bare.capped = code is None
    if code not in (0, None):
        row.bare.failure = f"bare mutmut exited {code} (see {work / 'mutmut.log'})"
    return {k: status_of(v) for k, v in truth.mutmut_exit_codes(copy, paths).items()}


def run_bare(row: Row, root: Path, work: Path, python: str) -> tuple[dict[str, Any] | None, dict[str, MutantStatus]]:
    """The bare tools in sequence (step 2); (coverage.py's report of the coverage run, mutmut's verdicts)."""
    row.bare.load = os.getloadavg()[0]
    set_args = realtargets.harness_config(row.target)
    print(f"[{row.target}] bare coverage run, {row.runs} x pytest -n {row.workers}", file=sys.stderr, flush=True)
    try:
        reference = timed(row.bare.walls, "coverage",
                          lambda: realtargets.reference_for(root, work / "ref", set_args, python))
    except (AssertionError, OSError, RuntimeError) as exc:
        reference, row.bare.failure = None, f"bare coverage run failed: {targets_table.first_line(str(exc))}"
    truth.copy_target(root, work / "plain")  # made before the timed runs, which reuse it
    for _ in range(row.runs):
        timed(row.bare.walls, "pytest", lambda: targets_table.plain_pytest(root, work / "plain", set_args,
                                                                           row.workers, python, ran=(0, 1)))
    return reference, run_bare_mutmut(row, root, work, python)


def measure(name: str, work: Path, budget: float | None, timeout: float | None) -> Row:
    row = Row(name, budget=DEFAULT_BUDGET if budget is None else budget)
    python = realtargets.python_for(name)
    set_args = realtargets.harness_config(name)
    if budget is not None:
        set_args += ["--set", f"mutation.time_budget={budget:g}"]
    root = realtargets.prepare(name, work / "harness")
    limit = timeout or ((row.budget or 4 * 3600) + 2 * realtargets.TARGETS[name].timeout)
    card = run_harness(row, root, set_args, python, limit)
    if card is None:
        return row
    reference, bare = run_bare(row, realtargets.prepare(name, work / "bare-src"), work / "bare", python)
    if reference is not None:
        matched, row.diffs, notes = realtargets.compare(name, card, reference)
        omitted = sum(m["coverage"] is None for m in card["modules"])
        row.coverage = f"{matched}/{len(card['modules'])}" + (f" ({omitted} with no coverage figure)"
                                                              if omitted else "")
        row.diffs += [f"(allowed) {n}" for n in notes]
    ours = {k: status_of(v) for k, v in truth.harness_exit_codes(root).items()}
    row.mutation, mutation_diffs = compare_mutants(ours, bare)
    row.diffs += mutation_diffs
    return row


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("targets", nargs="*", help=f"targets (default: {' '.join(DEFAULT_TARGETS)})")
    p.add_argument("--budget", type=float, default=None,
                   help=f"mutation time budget of both sides, seconds (0 = none; default: the harness's, "
                        f"{DEFAULT_BUDGET:.0f})")
    p.add_argument("--timeout", type=float, default=None,
                   help="seconds of the harness run before it is killed (default: budget + 2 x the target's)")
    p.add_argument("--write", action="store_true", help=f"write the table into {DOC.relative_to(REPO)}")
    args = p.parse_args(argv)
    names = realtargets.selected(args.targets or DEFAULT_TARGETS)
    rows = []
    for name in names:
        with tempfile.TemporaryDirectory(prefix=f"whole-run-{name}-") as tmp:
            rows.append(measure(name, Path(tmp), args.budget, args.timeout))
        print(table(rows[-1:]), file=sys.stderr, flush=True)
    text = table(rows)
    print(text)
    if args.write:
        write_doc(text, names)
    return 0


if __name__ == "__main__":
    sys.exit(main())
