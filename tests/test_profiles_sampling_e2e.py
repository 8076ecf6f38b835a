"""Sampling and diff mode end to end, with mutmut, on tests/fixtures/sampling_project.py.

Sampling acceptance: the full run gives the known score; 20 seeded samples of 200 mutants each must give at
least 18 intervals containing it. Real sampled runs are made for seed 0 (on a fresh cache, timed against the
full run) and seed 1 (reusing the sandbox, as incremental runs do); the other seeds are scored by the
collector's own ``parse`` over the full run's verdicts with the sampled scope - the exact code path of a run
that reuses them - and the real runs are checked to agree with it.

Diff mode acceptance: in a git repository, after changing one function, a ``--since HEAD`` run tests only that
function's mutants.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import run_harness, write_tree
from fixtures.sampling_project import SAMPLING_PROJECT, TEXT

from harness.collectors import mutation as mutation_collector
from harness.config import Config
from harness.discover import discover
from harness.sampling import Scope, wilson

pytestmark = pytest.mark.slow

FAST = ("--quiet", "--set", "mutation.enabled=true", "--set", "runtime.enabled=false",
        "--set", "flakiness.enabled=false")


def _run(root: Path, *args: str) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    result = run_harness("run", root, *FAST, *args)
    elapsed = time.perf_counter() - started
    assert result.returncode in (0, 1), result.output
    return json.loads((root / "reports" / "scorecard.json").read_text()), elapsed


def _mutants_phase(raw: Path) -> float:
    """Seconds the driver spent testing mutants (status.json: mutants_started -> ended)."""
    status = json.loads((raw / "status.json").read_text())
    return float(status["ended"]) - float(status["mutants_started"])


def _sampled_counts(root: Path, raw: Path, seed: int, size: int) -> tuple[int, int, int]:
    """(total, detected, valid) of the seed's sample: the collector's parse over the full run's verdicts."""
    project = discover(root, Config())
    art = mutation_collector.MutationArtifacts(
        raw=raw, sandbox=root / ".harness-cache" / "mutation",
        modules=mutation_collector.selected_modules(project, Config()), scope=Scope(sample=size, seed=seed))
    result = mutation_collector.parse(art, project)
    counts = [mm.counts for mm in result.by_module.values()]
    return (sum(c.total for c in counts), sum(c.detected for c in counts), sum(c.valid for c in counts))


def test_twenty_samples_of_200_cover_the_full_score(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "calc", SAMPLING_PROJECT)
    full, full_seconds = _run(root)
    fm = full["totals"]["mutation"]
    full_score = 100 * fm["detected"] / fm["valid"]
    assert fm["total"] >= 600 and fm["not_checked"] == 0
    raw = tmp_path / "full-raw"
    shutil.copytree(root / "reports" / "raw" / "mutation", raw)

    inside = 0
    by_seed = {}
    for seed in range(20):
        total, detected, valid = _sampled_counts(root, raw, seed, 200)
        assert total == 200
        low, high = wilson(detected, valid)  # type: ignore[misc]
        inside += low <= full_score <= high
        by_seed[seed] = (total, detected, valid, low, high)

    # Real sampled runs: seed 0 from scratch (timed), seed 1 reusing the full run's sandbox.
    fresh, sampled_seconds = _run(root, "--sample", "200", "--set", "cache_dir=.cache-sampled")
    phase = {"full": _mutants_phase(raw), "sampled": _mutants_phase(root / "reports" / "raw" / "mutation")}
    reused, _ = _run(root, "--sample", "200", "--set", "sample.seed=1")
    for seed, card in ((0, fresh), (1, reused)):
        m = card["totals"]["mutation"]
        assert (m["total"], m["detected"], m["valid"]) == by_seed[seed][:3], seed
        assert any("random sample of 200 of" in n["text"] for n in card["notes"])
        ops = next(x for x in card["modules"] if x["module"] == "calc.ops")
        assert ops["mutation"]["population"] > 0 and len(ops["mutation"]["score_interval"]) == 2

    print(f"\nsampling: full score {full_score:.1f} % ({fm['detected']}/{fm['valid']} of {fm['total']} "
          f"mutants); {inside}/20 seeded 200-mutant intervals contain it")
    for seed, (_t, d, v, lo, hi) in by_seed.items():
        print(f"  seed {seed:2d}: {100 * d / v:5.1f} % [{lo:5.1f}, {hi:5.1f}]")
    print(f"wall time: full run {full_seconds:.1f} s, sampled run (fresh cache) {sampled_seconds:.1f} s, "
          f"ratio {sampled_seconds / full_seconds:.2f}; mutant-testing phase alone {phase['full']:.1f} s vs "
          f"{phase['sampled']:.1f} s, ratio {phase['sampled'] / phase['full']:.2f} (the rest is fixed: "
          f"mutant generation, mutmut's test mapping, clean and forced-fail runs, coverage)")
    assert inside >= 18


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
                   check=True, capture_output=True)


def test_since_runs_only_the_changed_functions_mutants(tmp_path: Path) -> None:
    files = {k: v for k, v in SAMPLING_PROJECT.items() if k != "tests/test_ops.py"}
    files["calc/ops.py"] = "def op0(a, b):\n    return a + b * 2\n"
    files["tests/test_ops.py"] = "from calc import ops\n\n\ndef test_op0():\n    assert ops.op0(1, 2) == 5\n"
    files[".gitignore"] = "reports/\n.harness-cache/\n"
    root = write_tree(tmp_path / "calc", files)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "base")
    # a behaviour-preserving edit of one function: the tests still pass
    (root / "calc" / "text.py").write_text(TEXT.lstrip("\n").replace("if not s:", "if len(s) == 0:"))

    card, _ = _run(root, "--since", "HEAD")
    by_module = {m["module"]: m for m in card["modules"]}
    text, ops = by_module["calc.text"], by_module["calc.ops"]
    assert text["changes"]["functions"] == ["whisper"] and ops["changes"] is None
    names = [m["name"] for m in text["mutation"]["mutants"]]
    assert names and all("x_whisper__mutmut_" in n for n in names), names
    assert ops["mutation"]["counts"]["total"] == 0
    executed = [json.loads(line) for line in
                (root / "reports" / "raw" / "mutation" / "journal.jsonl").read_text().splitlines()]
    ran = {e["mutant"] for e in executed if e.get("event") == "result"}
    assert ran and all("x_whisper__mutmut_" in n for n in ran), ran
    assert text["changes"]["coverage"]["statements"] == 1  # the one changed line is a statement
    assert text["changes"]["mutation"]["total"] == len(names)
    assert any("diff mode since HEAD" in n["text"] for n in card["notes"])
    md = (root / "reports" / "modules" / "calc.text.md").read_text()
    assert "## Changed since `HEAD`" in md
    print(f"\n--since HEAD: {len(ran)} mutants ran, all in calc.text.whisper (of {text['mutation']['counts']}"
          f" in scope); calc.ops: 0")
