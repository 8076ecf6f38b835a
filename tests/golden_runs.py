"""Golden reports of whole fixture runs: every report a run, a merge and a plan write, scrubbed of what changes
between runs (times, durations, paths, the version), stored under tests/golden/runs/<scenario>/.

They pin the harness's behaviour across refactors byte for byte: `tests/test_golden_runs.py` regenerates them and
compares. Regenerate on purpose with ``python tests/golden_runs.py --update`` (or ``UPDATE_GOLDEN=1``).
"""

from __future__ import annotations

import json
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
# The default suite-runtime target (run_harness's load-proof one would show in every report): the goldens pin the
# defaults; the timed scenarios set theirs on the command line.
DEFAULT_RUNTIME = {"HARNESS_TARGETS__SUITE_RUNTIME": "10"}
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
    result = run_harness(*args, cwd=cwd, env=DEFAULT_RUNTIME)
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

# One real target (tests/realtargets.py): coverage, runtime and two flakiness runs; mutation off to keep it short, a
# suite-runtime target no loaded machine misses (its verdict must not flip with the load), and serial runs: under
# xdist which tests execute a module varies with how the tests fall on the workers (toolz's memoize caches make
# test_memoize_curry_cache reach toolz._signatures only when no earlier test on its worker filled the cache).
TARGETS_GOLDEN = GOLDEN.parent / "targets"
TARGET_ARGS = ("--set", "mutation.enabled=false", "--set", "flakiness.runs=2", "--set", "targets.suite_runtime=100000",
               "--workers", "1")
COMMIT = re.compile(r'("commit": )"[0-9a-f]{7,40}"')
ENVIRONMENT = re.compile(r'("(?:harness_version|python)": )"[^"]*"')
DURATION = re.compile(r"\b\d+(\.\d+)?(?= (s|ms)\b)|\b\d+(\.\d+)?(?=x one)")


TIMING = re.compile(r"[a-z_]*seconds|[a-z_]*duration[a-z_]*|median|minimum|maximum|cpu_median|mean|min|max|elapsed|"
                    r"wall|extra_multiple")


def _scrub_target_json(text: str) -> str:
    """scorecard.json of a real target with every time taken out by its key (lists of run times too, and the suite
    runtime verdict's value), and each "slowest" list (which of many fast tests are slowest varies between runs)
    reduced to its length."""
    def walk(x: object) -> object:
        if isinstance(x, dict):
            timed = x.get("metric") == "suite_runtime"
            return {k: "<N>" if TIMING.fullmatch(k) or (timed and k == "value")
                    else len(v) if k == "slowest" and isinstance(v, list) else walk(v) for k, v in x.items()}
        return [walk(v) for v in x] if isinstance(x, list) else x

    return json.dumps(walk(json.loads(text)), indent=2, ensure_ascii=False) + "\n"


def real_target(name: str, tmp: Path) -> dict[str, str]:
    """``harness run`` on a fresh copy of real target ``name``: its scorecard.json and Markdown report, scrubbed
    of times (by key in the JSON, every duration in the text), paths, dates, commits and the environment's
    versions. Figures that do not depend on time (coverage, tests, flaky counts) are kept exact."""
    import realtargets

    root = realtargets.prepare(name, tmp / "src")
    result = run_harness("run", root, *realtargets.harness_config(name), *TARGET_ARGS, cwd=root,
                         timeout=realtargets.TARGETS[name].timeout)
    assert result.returncode in (0, 1), result.output  # measured: targets met or missed, never a tool error
    reports = root / "reports"
    texts = {"scorecard.json": _scrub_target_json((reports / "scorecard.json").read_text(encoding="utf-8")),
             "scorecard.md": (reports / "scorecard.md").read_text(encoding="utf-8")}
    out = {}
    for rel, text in texts.items():
        text = ENVIRONMENT.sub(r'\1"<V>"', COMMIT.sub(r'\1"<COMMIT>"', scrub(text, [root], False)))
        out[rel] = DURATION.sub("<N>", text)
    return out


def stored(name: str, base: Path = GOLDEN) -> dict[str, str]:
    folder = base / name
    return {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(folder.rglob("*")) if p.is_file()}


def store(name: str, files: dict[str, str], base: Path = GOLDEN) -> None:
    folder = base / name
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
