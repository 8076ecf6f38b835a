"""The harness on every real target of targets.md, zero config: one Markdown table (run on demand, not a test).

    python benchmarks/targets_table.py [TARGET ...] [--no-mutation] [--timeout S] [--write]
    python benchmarks/targets_table.py --runtime-truth jmespath [--rounds 5]

For each target (all of tests/realtargets.py's table, or those named) a fresh copy of its sdist is prepared and
``harness run`` is started with ZERO config: only the pytest args targets.md says the suite needs, passed as
``--set pytest_args=[...]``, and default settings (mutation on; ``--no-mutation`` turns it off). Each run has a
timeout (the process group is killed); one target failing never stops the others. Then an independent plain
serial ``coverage run --branch -m pytest`` of the same suite (tests/truth.py, in a separate copy, subprocesses
measured) is compared module by module with the scorecard.

Columns: exit code, wall time, modules measured (every enabled cell has a figure or a structural n/a) /
modules, modules whose coverage figures equal the reference's / modules, quarantined tests by cause
(``scorecard.json`` ``quarantined``), not-measured cells (``unmeasured``), the first line of stderr on failure.
The per-module differences follow the table. ``--write`` puts both into docs/targets.md, in the section of the
mode (coverage only, or with mutation), leaving the other section as it is; in that section the rows of the targets
run replace theirs and the other targets' rows stay, so a section can be filled one target at a time.

``--runtime-truth TARGET`` checks the runtime figure instead: ``--rounds`` rounds, each a plain
``python -m pytest -n 2`` of the suite (in a separate copy) followed by a harness run with one timed run
(mutation and flakiness off); the median of the harness's reported runtimes must lie within the min-max of
the plain runs. Exits 1 when it does not.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))

import realtargets  # noqa: E402
from truth import copy_target  # noqa: E402

DOC = REPO / "docs" / "targets.md"
LOGS = Path(tempfile.gettempdir()) / "targets-table-logs"  # the harness's stderr of each failed run
SECTIONS = {False: "coverage-only", True: "with-mutation"}
TITLES = {False: "Zero config, mutation off (`--set mutation.enabled=false`)",
          True: "Zero config, default settings (mutation on)"}


@dataclass
class Row:
    target: str
    exit: str = "-"
    wall: float = 0.0
    modules: int = 0
    measured: int = 0
    omitted: int = 0  # left out by the target's own coverage config (n/a, not a failure)
    matched: str = "-"
    quarantined: str = ""
    unmeasured: str = ""
    failure: str = ""
    diffs: list[str] = field(default_factory=list)

    def cells(self) -> list[str]:
        total = self.modules or "-"
        measured = f"{self.measured}/{total}" + (f" ({self.omitted} omitted by its coverage config)"
                                                  if self.omitted else "")
        return [self.target, self.exit, f"{self.wall:.0f} s", measured, self.matched,
                self.quarantined or "-", self.unmeasured or "-", self.failure or "-"]


DIFFS_CAPTION = "Coverage differences from the independent run:"
HEADER = ["target", "exit", "wall", "measured / modules", "coverage = reference / modules", "quarantined",
          "not measured", "first stderr line on failure"]


def harness_env() -> dict[str, str]:
    """The environment of a harness run: no HARNESS_* settings, the worktree's harness first on sys.path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])])
    env["COLUMNS"] = "200"
    return env


def _start(stop: signal.Signals) -> None:
    """``preexec_fn`` of run_group: the memory cap; the stop signal's default action back (a shell script's
    ``cmd &`` starts its commands with SIGINT ignored, and an ignored signal stays ignored across exec)."""
    realtargets.limit_memory()
    if stop != signal.SIGKILL:
        signal.signal(stop, signal.SIG_DFL)


def run_group(cmd: Sequence[str], cwd: Path | None, env: dict[str, str], timeout: float | None,
              log: Path, stop: signal.Signals = signal.SIGKILL, grace: float = 300) -> tuple[int | None, float, str]:
    """Run ``cmd`` in its own process group (killed whole on timeout) with the memory cap of
    realtargets.limit_memory; (exit or None on timeout, wall, stderr). With ``stop`` (e.g. SIGINT, as Ctrl-C
    sends it to the foreground group) the group gets that signal at the timeout and ``grace`` seconds to end
    before it is killed."""
    started = time.monotonic()
    with log.open("w") as out, (log.with_suffix(".err")).open("w+") as err:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                start_new_session=True, preexec_fn=lambda: _start(stop))
        try:
            code: int | None = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, stop)
            try:
                proc.wait(timeout=None if stop == signal.SIGKILL else grace)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            code = None
        wall = time.monotonic() - started
        err.seek(0)
        return code, wall, err.read()


def first_line(text: str) -> str:
    """The first line of stderr that is not progress; for a traceback, its last line (the exception)."""
    if "Traceback (most recent call last)" in text:
        lines = [ln for ln in text.splitlines() if ln.strip()]
        return ("traceback: " + lines[-1].strip()).replace("|", "\\|")[:200]
    for line in text.splitlines():
        if line.strip() and not line.startswith("> "):
            return line.strip().replace("|", "\\|")[:200]
    return ""


def module_measured(m: dict[str, Any]) -> bool:
    return m["coverage"] is not None and all(v["status"] != "not measured" for v in m["verdicts"])


def summarize_quarantine(scorecard: dict[str, Any], named: int = 4) -> str:
    """Quarantined tests by cause; the tests themselves when there are at most ``named`` of them."""
    quarantined = scorecard.get("quarantined", [])
    causes = Counter(q["cause"] for q in quarantined)
    text = ", ".join(f"{n} {c}" for c, n in sorted(causes.items()))
    if 0 < len(quarantined) <= named:
        text += ": " + "; ".join(f"`{q['nodeid']}` ({q['cause']})" for q in quarantined)
    return text.replace("|", "\\|")


def summarize_unmeasured(scorecard: dict[str, Any]) -> str:
    cells = [f"{u['module']} {u['metric']}: {u['cause']}" for u in scorecard.get("unmeasured", [])]
    if len(cells) > 3:
        cells = [*cells[:3], f"(+{len(cells) - 3} more)"]
    return "; ".join(c.replace("|", "\\|") for c in cells)


def measure(name: str, work: Path, *, mutation: bool, timeout: float | None) -> Row:
    row = Row(name)
    t = realtargets.TARGETS[name]
    try:
        root = realtargets.prepare(name, work / "src")
    except Exception as exc:  # a target that cannot be prepared is a row, not an abort
        row.exit, row.failure = "prep", first_line(str(exc)) or type(exc).__name__
        return row
    set_args = realtargets.harness_config(name)
    if not mutation:
        set_args += ["--set", "mutation.enabled=false"]
    limit = timeout or (t.timeout if not mutation else 4 * t.timeout)
    python = realtargets.python_for(name)
    cmd = [python, "-m", "harness", "run", str(root), *set_args]
    print(f"[{name}] $ harness run {' '.join(set_args)}  (timeout {limit:.0f} s)", file=sys.stderr, flush=True)
    code, row.wall, stderr = run_group(cmd, None, harness_env(), limit, work / "harness.log")
    row.exit = "timeout" if code is None else str(code)
    card_path = root / "reports" / "scorecard.json"
    if code not in (0, 1) or not card_path.exists():
        row.failure = f"timed out after {limit:.0f} s" if code is None else first_line(stderr)
        LOGS.mkdir(parents=True, exist_ok=True)
        (LOGS / f"{name}.stderr").write_text(stderr)
    if code is None or not card_path.exists():
        return row
    scorecard = json.loads(card_path.read_text())
    row.modules = len(scorecard["modules"])
    row.measured = sum(module_measured(m) for m in scorecard["modules"])
    row.omitted = sum(m["coverage"] is None and all(v["status"] != "not measured" for v in m["verdicts"])
                      for m in scorecard["modules"])
    row.quarantined = summarize_quarantine(scorecard)
    row.unmeasured = summarize_unmeasured(scorecard)
    print(f"[{name}] exit {row.exit} in {row.wall:.0f} s; independent coverage run", file=sys.stderr, flush=True)
    try:
        reference = realtargets.reference_for(root, work / "ref", set_args, python)
    except Exception as exc:
        row.matched = f"reference failed: {first_line(str(exc))}"
        return row
    matched, row.diffs, notes = realtargets.compare(name, scorecard, reference)
    row.diffs += [f"(allowed) {n}" for n in notes]
    row.matched = f"{matched}/{row.modules}"
    return row


def table(rows: Sequence[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(r.cells()) + " |" for r in rows]
    diffs = [f"- {r.target}: {d}" for r in rows for d in r.diffs]
    if diffs:
        lines += ["", DIFFS_CAPTION, "", *diffs]
    return "\n".join(lines)


def _rows_and_diffs(text: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The table rows (by target) and the difference lines (by target) of a generated table."""
    rows = {ln.split("|")[1].strip(): ln for ln in text.splitlines()
            if ln.startswith("| ") and not ln.startswith("| target |")}
    diffs: dict[str, list[str]] = {}
    for ln in text.splitlines():
        if ln.startswith("- ") and ":" in ln:
            diffs.setdefault(ln[2:].split(":", 1)[0], []).append(ln)
    return rows, diffs


def merge_table(old: str, new: str, header: Sequence[str] = HEADER, caption: str = DIFFS_CAPTION) -> str:
    """``new``'s table with the rows (and difference lines) of ``old`` for targets ``new`` did not run; rows in
    realtargets.TARGETS order, so a section can be filled one target at a time. ``header`` and ``caption`` (of
    the difference lines) are those of the table (benchmarks/whole_run_bench.py has its own)."""
    old_rows, old_diffs = _rows_and_diffs(old)
    new_rows, new_diffs = _rows_and_diffs(new)
    rows = {**old_rows, **new_rows}
    diffs = {**{t: d for t, d in old_diffs.items() if t not in new_rows}, **new_diffs}
    order = [t for t in realtargets.TARGETS if t in rows] + sorted(set(rows) - set(realtargets.TARGETS))
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *(rows[t] for t in order)]
    listed = [d for t in order for d in diffs.get(t, [])]
    if listed:
        lines += ["", caption, "", *listed]
    return "\n".join(lines)


def write_doc(text: str, mutation: bool, names: Sequence[str]) -> None:
    """Put the table into its section of docs/targets.md: rows of the targets run replace theirs, the other
    rows stay (each row says when it was run in the section's run list)."""
    section = SECTIONS[mutation]
    begin, end = f"<!-- targets-table:{section}:begin -->", f"<!-- targets-table:{section}:end -->"
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    doc = DOC.read_text() if DOC.exists() else (
        "# The harness on real targets\n\nGenerated by `benchmarks/targets_table.py` (see its docstring): each "
        "pinned sdist of targets.md, zero config (only the pytest args the suite needs), compared with an "
        "independent plain serial `coverage run --branch -m pytest` of the same suite.\n")
    runs: list[str] = []
    if begin in doc and end in doc:
        old = doc[doc.index(begin):doc.index(end)]
        text = merge_table(old, text)
        kept = set(_rows_and_diffs(old)[0]) - set(names)
        for line in old.splitlines():
            if line.startswith("- run ") and ": " in line:
                when, _, listed = line.partition(": ")
                rest = [t for t in listed.rstrip(".").split(", ") if t in kept]
                kept -= set(rest)
                if rest:
                    runs.append(f"{when}: {', '.join(rest)}.")
        if kept:  # rows written before runs were listed
            runs.insert(0, f"- run earlier (see git log of this file): {', '.join(sorted(kept))}.")
    runs.append(f"- run {stamp}: {', '.join(names)}.")
    block = (f"{begin}\n## {TITLES[mutation]}\n\n`python benchmarks/targets_table.py"
             f"{'' if mutation else ' --no-mutation'} [TARGET ...] --write`, 2 cores, shared machine (wall times "
             f"under load); rows by run:\n\n" + "\n".join(runs) + f"\n\n{text}\n{end}")
    if begin in doc and end in doc:
        doc = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _m: block, doc, flags=re.S)
    else:
        doc = doc.rstrip("\n") + "\n\n" + block + "\n"
    DOC.write_text(doc)


def plain_pytest(root: Path, work: Path, set_args: Sequence[str], workers: int,
                 python: str = sys.executable, ran: Sequence[int] = (0,)) -> float:
    """Wall time of ``python -m pytest -n WORKERS`` of the suite as the harness runs it, in a copy of ``root``
    (made once at ``work``); a run whose exit code is not in ``ran`` raises (pass ``(0, 1)`` for a suite with
    failing tests: it still ran; 2-5 are pytest's interrupted, internal error, usage error, no tests)."""
    project, cfg = realtargets.harness_project(root, set_args)
    copy = work if work.exists() else copy_target(root, work)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HARNESS", "PYTEST_ADDOPTS"))}
    env["PYTHONPATH"] = os.pathsep.join(str(copy / r) if r else str(copy) for r in project.import_roots)
    env["PYTHONHASHSEED"] = "0"
    cmd = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", str(workers),
           *realtargets.reference_args(cfg, project)]
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=copy, env=env, capture_output=True, text=True, check=False, timeout=600)
    wall = time.perf_counter() - started
    if proc.returncode not in ran:
        raise RuntimeError(f"plain pytest exited {proc.returncode}: {proc.stdout[-500:]}")
    return wall


def runtime_rounds(name: str, rounds: int, workers: int) -> tuple[list[float], list[float]]:
    """(plain pytest wall times, the harness's reported runtimes), made alternately, one of each per round."""
    with tempfile.TemporaryDirectory(prefix=f"runtime-{name}-") as tmp:
        work = Path(tmp)
        root = realtargets.prepare(name, work / "src")
        python = realtargets.python_for(name)
        set_args = [*realtargets.harness_config(name), "--set", "mutation.enabled=false",
                    "--set", "flakiness.enabled=false", "--set", "runtime.runs=1"]
        plain: list[float] = []
        reported: list[float] = []
        for i in range(rounds):
            plain.append(plain_pytest(root, work / "plain", set_args, workers, python))
            code, _, stderr = run_group([python, "-m", "harness", "run", str(root), "--workers",
                                         str(workers), *set_args], None, harness_env(), 900, work / "h.log")
            if code not in (0, 1):
                raise RuntimeError(f"harness exited {code}: {first_line(stderr)}")
            card = json.loads((root / "reports" / "scorecard.json").read_text())
            reported.append(card["totals"]["runtime"]["median"])
            print(f"round {i + 1}: plain {plain[-1]:.2f} s, harness reports {reported[-1]:.2f} s",
                  file=sys.stderr, flush=True)
    return plain, reported


def runtime_truth(name: str, rounds: int, workers: int) -> bool:
    plain, reported = runtime_rounds(name, rounds, workers)
    median = statistics.median(reported)
    ok = min(plain) <= median <= max(plain)
    print(f"{name}: plain pytest -n {workers}: min {min(plain):.2f} s, median {statistics.median(plain):.2f} s, "
          f"max {max(plain):.2f} s; harness median of reported runtimes {median:.2f} s "
          f"({'within' if ok else 'OUTSIDE'} the plain min-max)")
    return ok


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("targets", nargs="*", help=f"targets (default: all): {', '.join(realtargets.TARGETS)}")
    p.add_argument("--no-mutation", action="store_true", help="--set mutation.enabled=false")
    p.add_argument("--timeout", type=float, default=None,
                   help="seconds per harness run (default: the target's, x4 with mutation)")
    p.add_argument("--write", action="store_true", help="write the table into docs/targets.md")
    p.add_argument("--runtime-truth", metavar="TARGET", default=None, help="check the runtime figure instead")
    p.add_argument("--rounds", type=int, default=5, help="rounds of the runtime check (default: 5)")
    p.add_argument("--workers", type=int, default=2, help="xdist workers of the runtime check (default: 2)")
    args = p.parse_args(argv)
    if args.runtime_truth:
        return 0 if runtime_truth(args.runtime_truth, args.rounds, args.workers) else 1
    names = realtargets.selected(args.targets) if args.targets else list(realtargets.TARGETS)
    rows = []
    for name in names:
        with tempfile.TemporaryDirectory(prefix=f"targets-{name}-") as tmp:
            rows.append(measure(name, Path(tmp), mutation=not args.no_mutation, timeout=args.timeout))
        print(table(rows[-1:]), file=sys.stderr, flush=True)
    text = table(rows)
    print(text)
    if args.write:
        write_doc(text, not args.no_mutation, names)
    return 0


if __name__ == "__main__":
    sys.exit(main())
