"""Interrupting ``harness run`` at a chosen phase boundary, deterministically (tests/faults/test_interrupts.py).

A run is paused at the start of the wanted phase, from inside the process the phase runs in, and the test sends
its signal only once the pause has begun (a marker file says so), so the signal always lands in that phase:

* coverage, runs, stats, clean, mutants: the fixture project's own ``tests/conftest.py`` pauses its first test
  of that phase (the phase is told by the environment: the harness's ``HARNESS__COVERAGE`` in its coverage run
  - not coverage.py's own variables, which an outer measuring run, the harness measuring itself, sets too -
  mutmut's ``MUTANT_UNDER_TEST``: ``stats``, ``""`` in the clean run, a mutant's name in the mutants phase;
  neither in the timed runs). Inert without ``INTERRUPT_AT``, so the project is the same in every run.
* generation: mutmut's ``create_mutants`` pauses first, in the mutation driver (a prelude ``hooked_main``
  adds to the driver's command);
* reports: the harness pauses right after writing ``scorecard.json``, before the other reports.

The interrupted run is started as ``python -c <hooked_main>`` (the real ``harness.cli.main`` with those hooks);
the uninterrupted and the resumed runs as ``python -m harness``. Stdlib only: imported by the driver too.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.notes import NoteKind

TESTS = Path(__file__).resolve().parent
PAUSE_SECONDS = 90.0  # a paused process that is never signalled (a bug) goes on after this

PHASES = ("coverage", "runs", "generation", "stats", "clean", "mutants", "reports")
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGKILL)

# Mutation on, every phase short: one timed run, two flakiness runs (one beyond it), serial pytest, a suite-runtime
# target no loaded machine misses (the figure is a wall time: scrubbed, and its verdict must not flip).
ARGS = ("--format", "plain", "--workers", "1", "--set", "mutation.enabled=true", "--set", "runtime.runs=1",
        "--set", "flakiness.runs=2", "--set", "targets.suite_runtime=3600")

_CONFTEST = '''
import os
import time

import pytest


def _phase():
    mutant = os.environ.get("MUTANT_UNDER_TEST")
    if mutant is None:
        return "coverage" if os.environ.get("HARNESS__COVERAGE") else "runs"
    if "__mutmut_" in mutant:
        return "mutants"
    return {"stats": "stats", "": "clean"}.get(mutant, mutant)


@pytest.fixture(autouse=True)
def _interrupt_point():
    """Pause the first test of the phase INTERRUPT_AT names (phase@marker) until signalled."""
    phase, _, marker = os.environ.get("INTERRUPT_AT", "").partition("@")
    if phase and _phase() == phase:
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            pass
        else:
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
            deadline = time.monotonic() + PAUSE
            while time.monotonic() < deadline:
                time.sleep(0.05)
    yield
'''

PROJECT = {
    "pyproject.toml": '[project]\nname = "intr"\nversion = "0"\n',
    "intr/__init__.py": "",
    "intr/calc.py": (
        'def classify(n):\n    if n < 0:\n        return "neg"\n    if n == 0:\n        return "zero"\n'
        '    return "pos"\n\n\ndef add(a, b):\n    return a + b\n'
    ),
    "tests/test_calc.py": (
        "from intr.calc import add, classify\n\n\ndef test_add():\n    assert add(1, 2) == 3\n\n\n"
        'def test_classify():\n    assert classify(-1) == "neg"\n    assert classify(0) == "zero"\n'
    ),
    "tests/conftest.py": f"PAUSE = {PAUSE_SECONDS!r}\n{_CONFTEST}",
}


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS") and k != "INTERRUPT_AT"}
    env["COLUMNS"] = "200"
    env.update(extra or {})
    return env


# ------------------------------------------------------------------------------------------ in the hooked run


def pause(phase: str) -> None:
    """The pause of the first process that reaches ``phase`` (INTERRUPT_AT = phase@marker)."""
    want, _, marker = os.environ.get("INTERRUPT_AT", "").partition("@")
    if want != phase:
        return
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    deadline = time.monotonic() + PAUSE_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.05)


def pause_in_generation() -> None:
    """In the mutation driver: mutmut's ``create_mutants`` pauses before generating (the driver wraps it)."""
    import mutmut.__main__ as mm

    original = mm.create_mutants

    def create_mutants(*args: Any, **kwargs: Any) -> Any:
        pause("generation")
        return original(*args, **kwargs)

    mm.create_mutants = create_mutants


_DRIVER = "from harness.collectors.mutation.driver import main"


def _hook_driver() -> None:
    """Start the mutation driver with the generation pause: a prelude before its ``-c`` code."""
    prelude = (f"import sys; sys.path.insert(0, {str(TESTS)!r}); import interrupts_util; "
               "interrupts_util.pause_in_generation(); ")
    original = subprocess.Popen

    class Popen(original):  # type: ignore[misc,valid-type]
        def __init__(self, args: Any, *rest: Any, **kwargs: Any) -> None:
            if isinstance(args, list) and len(args) > 2 and args[1] == "-c" and _DRIVER in args[2]:
                args = [args[0], "-c", prelude + args[2], *args[3:]]
            super().__init__(args, *rest, **kwargs)

    subprocess.Popen = Popen  # type: ignore[misc]


def _hook_reports() -> None:
    """The harness pauses once scorecard.json is written, before the other reports."""
    from harness.reporters import json_report

    original = json_report.write

    def write(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if Path(args[1] if len(args) > 1 else kwargs["path"]).name == "scorecard.json":
            pause("reports")
        return result

    json_report.write = write


def hooked_main() -> int:
    want = os.environ.get("INTERRUPT_AT", "").partition("@")[0]
    if want == "generation":
        _hook_driver()
    elif want == "reports":
        _hook_reports()
    from harness.cli import main

    return main(sys.argv[1:])


# ------------------------------------------------------------------------------------------ the test's side


@dataclass
class Interrupted:
    returncode: int
    stdout: str
    stderr: str
    survivors: list[str]  # processes of the interrupted run still alive 5 s after it ended (then killed)
    seconds: float


def _session_processes(sid: int) -> dict[int, str]:
    """pid -> command line of every live process of session ``sid`` (the interrupted run and its children)."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[3]) == sid and fields[0] != "Z":
                out[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:200]
        except (OSError, ValueError, IndexError):
            continue
    return out


def interrupt(root: Path, phase: str, sig: signal.Signals, workdir: Path, timeout: float = 300) -> Interrupted:
    """Run ``harness run root`` with the pause at ``phase``; once paused, send ``sig``: SIGINT to the whole
    process group (Ctrl-C in a terminal), SIGTERM and SIGKILL to the harness's process only (``kill PID``, the
    OOM killer). Waits for it to end, then for its children (5 s); kills and names those still alive."""
    marker = workdir / f"paused-{phase}-{sig.name}"
    marker.unlink(missing_ok=True)
    out, err = workdir / f"out-{phase}-{sig.name}", workdir / f"err-{phase}-{sig.name}"
    code = (f"import sys; sys.path.insert(0, {str(TESTS)!r}); import interrupts_util as u; "
            "raise SystemExit(u.hooked_main())")
    started = time.monotonic()
    with out.open("w") as fo, err.open("w") as fe:
        proc = subprocess.Popen([sys.executable, "-c", code, "run", str(root), *ARGS], cwd=root,
                                env=clean_env({"INTERRUPT_AT": f"{phase}@{marker}"}), stdout=fo, stderr=fe,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            while not marker.exists():
                if proc.poll() is not None:
                    raise AssertionError(f"the run ended (exit {proc.returncode}) before pausing in {phase}: "
                                         + err.read_text())
                if time.monotonic() - started > timeout:
                    raise AssertionError(f"no pause in {phase} within {timeout} s: " + err.read_text())
                time.sleep(0.05)
            while not marker.read_text():  # the pid is written just after the marker is created
                time.sleep(0.01)
            if sig is signal.SIGINT:
                os.killpg(proc.pid, sig)
            else:
                os.kill(proc.pid, sig)
            returncode = proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    seconds = time.monotonic() - started
    survivors = {}
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        survivors = _session_processes(proc.pid)
        if not survivors:
            break
        time.sleep(0.1)
    for pid in survivors:  # keep later runs deterministic: nothing of this run may write on
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while _session_processes(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return Interrupted(returncode, out.read_text(), err.read_text(), sorted(survivors.values()), seconds)


def run(root: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """``harness run root`` to completion (the uninterrupted and the resumed runs)."""
    return subprocess.run([sys.executable, "-m", "harness", "run", str(root), *ARGS], cwd=root, env=clean_env(),
                          capture_output=True, text=True, timeout=timeout, check=False,
                          stdin=subprocess.DEVNULL)


# ------------------------------------------------------------------------------------------ comparing scorecards

# Wall times and the run's facts: they differ between any two runs. ``baseline`` names the history entry the run
# was ratcheted against: a run interrupted in its reports phase has already appended its entry to the history
# (before writing the reports), so the resumed run names that one where an uninterrupted run names none; its
# figures are the same run's, so the regressions (compared) are the same.
_TIMING_KEYS = {"time", "phase_seconds", "duration", "seconds", "test_seconds", "wall_seconds", "cpu_seconds",
                "median", "minimum", "maximum", "cpu_median", "commit", "dirty", "baseline"}
_SECONDS = re.compile(r"\d+(\.\d+)? ?(s|ms|min|x)\b")
# Flaky evidence accumulates over sessions by design: an interrupted run that finished its timed runs added one.
_SESSIONS = re.compile(r"evidence accumulated over \d+ session\(s\): the median test has \d+ judged runs, so a flake "
                       r"failing >= [\d.]+ %")


def scrub(doc: Any, root: str) -> Any:
    """A scorecard (or any report) with the times, the run's facts and the project's path taken out."""
    if isinstance(doc, dict):
        out = {}
        for k, v in doc.items():
            if k in _TIMING_KEYS or (k == "data" and "kind" in doc and "text" in doc):  # a note: its text, scrubbed
                continue
            if k == "value" and doc.get("metric") == "suite_runtime":
                v = "<seconds>"
            out[k] = scrub(v, root)
        if isinstance(out.get("slowest"), list):  # ordered by duration
            out["slowest"] = sorted(out["slowest"], key=json.dumps)
        return out
    if isinstance(doc, list):
        return [scrub(v, root) for v in doc]
    if isinstance(doc, str):
        text = doc.replace(root, "<root>")
        text = _SESSIONS.sub("evidence accumulated over <n> session(s)", text)
        return _SECONDS.sub("<t>", text)
    return doc


def resume_note(note: dict[str, Any]) -> bool:
    """A note a resumed run may add to an uninterrupted run's: the driver healing what the interrupt left behind."""
    return note["kind"] == NoteKind.DRIVER_REGENERATED and note["text"].endswith(": its meta file was missing")


def scorecard(root: Path) -> Any:
    return scrub(json.loads((root / "reports" / "scorecard.json").read_text(encoding="utf-8")), str(root))


def split_notes(card: Any) -> tuple[Any, list[dict[str, Any]]]:
    """The scorecard without the resume notes, and those notes."""
    extra = [n for n in card["notes"] if resume_note(n)]
    return {**card, "notes": [n for n in card["notes"] if not resume_note(n)]}, extra


def verdicts(root: Path) -> dict[str, str]:
    """Every mutant's verdict (mutation.json)."""
    doc = json.loads((root / "reports" / "mutation.json").read_text(encoding="utf-8"))
    return {m["name"]: m["status"] for mm in doc["modules"].values() for m in mm["mutants"]}


def unparsable(folder: Path, skip: Sequence[str] = ("raw",)) -> list[str]:
    """JSON reports under ``folder`` that are not whole JSON documents (a write cut short)."""
    bad = []
    for path in sorted(folder.rglob("*.json")):
        if path.relative_to(folder).parts[0] in skip:
            continue
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            bad.append(path.relative_to(folder).as_posix())
    return bad
