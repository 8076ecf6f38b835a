"""Golden reports of whole fixture runs: every report a run, a merge and a plan write, scrubbed of what changes
between runs (times, durations, paths, the version), stored under tests/golden/runs/<scenario>/.

They pin the harness's behaviour across refactors byte for byte: `tests/test_golden_runs.py` regenerates them and
compares. Regenerate on purpose with ``python tests/golden_runs.py --update`` (or ``UPDATE_GOLDEN=1``).
"""

from __future__ import annotations

import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from conftest import SIMPLE_PROJECT, run_harness, write_tree
from fixtures import quarantine_projects as qp

from harness import __version__

GOLDEN = Path(__file__).resolve().parent / "golden" / "runs"
ONLY_MUTATION = ("--set", "runtime.enabled=false", "--set", "flakiness.enabled=false",
                 "--set", "mutation.enabled=true", "--workers", "1")
TIMED = ("--set", "targets.suite_runtime=100000", "--set", "runtime.runs=1", "--set", "flakiness.runs=2",
         "--set", "flakiness.seed=5", "--set", "mutation.enabled=false", "--workers", "1")
NO_HYPOTHESIS = ("--set", "pytest_args=['-p', 'no:hypothesispytest']")
# what varies between runs: keys that hold times, and decimal seconds in text
TIME_KEYS = re.compile(
    r'("(?:[a-z_]*seconds|[a-z_]*duration[a-z_]*|suite_runtime|elapsed|wall|cpu[a-z_]*|median|min|max|'
    r'extra_multiple|mean|total_seconds|test_seconds)": )-?[0-9][0-9.e+-]*'
)
PHASES = re.compile(r'"phase_seconds": \{[^}]*\}')


def scrub(text: str, roots: list[Path], timed: bool) -> str:
    for root in roots:
        text = text.replace(str(root), "<ROOT>")
    text = re.sub(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)?", "<TIME>", text)
    text = text.replace(f"quality-harness {__version__}", "quality-harness <VERSION>")
    text = PHASES.sub('"phase_seconds": <PHASES>', text)
    text = re.sub(r"time: coverage .*", "time: <PHASES>", text)
    text = TIME_KEYS.sub(r"\1<N>", text)
    text = re.sub(r"\d+\.\d+-\d+\.\d+ s of mutant time", "<N> s of mutant time", text)  # the next plan's loads
    if timed:  # every duration in every form (figures of the other scenarios are exact)
        text = re.sub(r"\d+\.\d+(e-?\d+)?", "<N>", text)
        text = re.sub(r"\b\d+ ms\b", "<N> ms", text)
        text = re.sub(r" {2,}", "  ", text)  # columns as wide as their (varying) widest figure
    return text


def collect(folder: Path, prefix: str, out: dict[str, str], roots: list[Path], timed: bool) -> None:
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and rel.parts[0] != "raw" and not path.name.startswith("."):
            out[f"{prefix}{rel.as_posix()}"] = scrub(path.read_text(encoding="utf-8"), roots, timed)


def _run(out: dict[str, str], key: str, roots: list[Path], timed: bool, *args: str | Path,
         cwd: Path | None = None) -> None:
    result = run_harness(*args, cwd=cwd)
    out[f"{key}.stdout"] = f"exit {result.returncode}\n" + scrub(result.stdout, roots, timed)


def simple(tmp: Path) -> dict[str, str]:
    """Coverage and mutation on the simple project, then its plan and trend."""
    root = write_tree(tmp / "simple", SIMPLE_PROJECT)
    out: dict[str, str] = {}
    _run(out, "run", [root], False, "run", root, *ONLY_MUTATION, cwd=root)
    _run(out, "plan", [root], False, "plan", root, cwd=root)
    _run(out, "trend", [root], False, "trend", root, cwd=root)
    collect(root / "reports", "reports/", out, [root], False)
    return out


def quarantine(tmp: Path) -> dict[str, str]:
    """A quarantined test whose module is left not measured (exit 3)."""
    root = write_tree(tmp / "introspection", qp.PROJECTS["introspection"])
    out: dict[str, str] = {}
    _run(out, "run", [root], False, "run", root, *ONLY_MUTATION, "--set", "targets.mutation_score=0", cwd=root)
    collect(root / "reports", "reports/", out, [root], False)
    return out


def shards(tmp: Path) -> dict[str, str]:
    """Two shards of the simple project, merged."""
    roots = [write_tree(tmp / f"shard{k}", SIMPLE_PROJECT) for k in (1, 2)]
    merged = tmp / "merged"
    every = [*roots, merged]
    out: dict[str, str] = {}
    for k, root in enumerate(roots, 1):
        _run(out, f"shard{k}", every, False, "run", root, *ONLY_MUTATION, "--shard", f"{k}/2", cwd=root)
    collect(roots[0] / "reports", "shard1/", out, every, False)
    _run(out, "merge", every, False, "merge", *(r / "reports" for r in roots), "--output", merged, cwd=tmp)
    collect(merged, "merged/", out, every, False)
    return out


# The simple project with one test clearly slower: the slowest tests are listed in the same order every run.
TIMED_PROJECT = {
    **SIMPLE_PROJECT,
    "tests/test_calc.py": SIMPLE_PROJECT["tests/test_calc.py"].replace(
        "def test_classify():\n", "def test_classify():\n            __import__('time').sleep(0.3)\n"),
}


def timed(tmp: Path) -> dict[str, str]:
    """Runtime and flakiness on (durations scrubbed)."""
    root = write_tree(tmp / "timed", TIMED_PROJECT)
    out: dict[str, str] = {}
    _run(out, "run", [root], True, "run", root, *TIMED, *NO_HYPOTHESIS, cwd=root)
    collect(root / "reports", "reports/", out, [root], True)
    return out


SCENARIOS: dict[str, Callable[[Path], dict[str, str]]] = {
    "simple": simple, "quarantine": quarantine, "shards": shards, "timed": timed,
}


def stored(name: str) -> dict[str, str]:
    folder = GOLDEN / name
    return {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(folder.rglob("*")) if p.is_file()}


def store(name: str, files: dict[str, str]) -> None:
    folder = GOLDEN / name
    for old in sorted(folder.rglob("*"), reverse=True) if folder.exists() else []:
        old.unlink() if old.is_file() else old.rmdir()
    for rel, text in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    names = [a for a in sys.argv[1:] if not a.startswith("--")] or list(SCENARIOS)
    for name in names:
        with tempfile.TemporaryDirectory() as tmp:
            files = SCENARIOS[name](Path(tmp))
        if "--update" in sys.argv:
            store(name, files)
        else:
            old = stored(name)
            bad = sorted(k for k in old.keys() | files.keys() if old.get(k) != files.get(k))
            print(f"{name}: {'identical' if not bad else 'DIFFERS: ' + ', '.join(bad)}")
