"""Benchmark (run on demand, not a test): bare ``mutmut run`` with its defaults vs the harness's mutation
phase, in one go, on the same modules of the same target.

    python benchmarks/mutation_bench.py [--target toolz] [--modules toolz.itertoolz,toolz.dicttoolz]

Both start from a fresh copy of the target's sdist (tests/realtargets.py downloads and installs it). Bare
mutmut gets only what it cannot guess (which files to mutate, where the tests are); everything else is its
defaults: one child per core, fork isolation, timeout 15 x (tests' duration + 1 s), a pytest run per mutant.
The harness runs its mutation phase exactly as ``harness run`` does (sandbox, config, driver, parse).

Prints, and with ``--write`` appends to docs/benchmarks.md:
- wall time of each, and the ratio bare / harness;
- verdict agreement: mutants with the same mutmut status in both / mutants;
- core utilisation of the harness's mutant phase: summed mutant durations / (phase wall x cores), and the
  CPU time of the mutants and of mutmut's scheduler (forks, bookkeeping) / (phase wall x cores);
- a warm re-run after editing one function: which mutants ran again, and its wall time / the cold run's.
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

from realtargets import prepare  # noqa: E402

from harness.collectors import mutation  # noqa: E402
from harness.collectors.mutmut_adapter import load_meta, mutmut_status_name  # noqa: E402
from harness.config import load_config  # noqa: E402
from harness.discover import discover  # noqa: E402
from harness.workspace import Workspace  # noqa: E402

# target -> (module path, text to find, replacement): a behaviour-preserving edit of one function
WARM_EDIT = {
    "toolz": (
        "toolz/itertoolz.py",
        "    return next(iter(seq))\n",
        "    it = iter(seq)\n    return next(it)\n",
    ),
}


def bare_mutmut(root: Path, paths: list[str], tests: list[str]) -> tuple[float, dict[str, str]]:
    """``mutmut run`` with its defaults in ``root``; (wall seconds, {mutant: mutmut status})."""
    table = (
        f"\n[tool.mutmut]\nsource_paths = {json.dumps(sorted({p.split('/')[0] for p in paths}))}\n"
        f"only_mutate = {json.dumps(paths)}\npytest_add_cli_args_test_selection = {json.dumps(tests)}\n"
    )
    pyproject = root / "pyproject.toml"
    pyproject.write_text((pyproject.read_text() if pyproject.exists() else "") + table)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HARNESS", "PYTEST_ADDOPTS"))}
    started = time.monotonic()
    subprocess.run(
        [str(Path(sys.executable).parent / "mutmut"), "run"],
        cwd=root,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wall = time.monotonic() - started
    verdicts = {}
    for p in paths:
        meta = load_meta(root / "mutants" / (p + ".meta"))
        verdicts.update({k: mutmut_status_name(v) for k, v in meta.exit_code_by_key.items()})
    return wall, verdicts


def harness_phase(root: Path, modules: list[str]) -> tuple[float, dict[str, str], dict[str, Any], list[str]]:
    """The harness's mutation phase; (wall, {mutant: mutmut status}, utilisation figures, mutants run)."""
    cfg, _ = load_config(root, cli={"mutation.enabled": True, "mutation.modules": modules})
    project = discover(root, cfg)
    ws = Workspace.for_target(root, cfg)
    started = time.monotonic()
    art = mutation.run(project, cfg, ws)
    result = mutation.parse(art, project)
    wall = time.monotonic() - started
    verdicts = {}
    durations = 0.0
    for m in art.modules:
        meta = load_meta(art.meta_dir / (m.path + ".meta"))
        verdicts.update({k: mutmut_status_name(v) for k, v in meta.exit_code_by_key.items()})
        durations += sum(meta.durations_by_key.values())
    status = json.loads(art.status.read_text())
    phase = float(status["ended"]) - float(status["mutants_started"])
    cores = os.cpu_count() or 1
    ran = [json.loads(ln)["mutant"] for ln in art.journal.read_text().splitlines() if '"result"' in ln]
    children, scheduler = float(status.get("children_cpu", 0.0)), float(status.get("scheduler_cpu", 0.0))
    figures = {
        "phase_wall": phase,
        "cores": cores,
        "duration_util": durations / (phase * cores) if phase else 0.0,
        "cpu_util": (children + scheduler) / (phase * cores) if phase else 0.0,
        "mutants": sum(mm.counts.total for mm in result.by_module.values()),
    }
    return wall, verdicts, figures, ran


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="toolz")
    parser.add_argument("--modules", default="toolz.itertoolz,toolz.dicttoolz")
    parser.add_argument("--tests", default="toolz", help="bare mutmut's test selection")
    parser.add_argument("--write", action="store_true", help="append the figures to docs/benchmarks.md")
    args = parser.parse_args()
    modules = args.modules.split(",")
    with tempfile.TemporaryDirectory(prefix="mutation-bench-") as tmp:
        base = prepare(args.target, Path(tmp) / "src")
        paths = [m.replace(".", "/") + ".py" for m in modules]
        bare_root, harness_root = Path(tmp) / "bare", Path(tmp) / "harness"
        shutil.copytree(base, bare_root)
        shutil.copytree(base, harness_root)
        load = os.getloadavg()[0]
        bare_wall, bare = bare_mutmut(bare_root, paths, args.tests.split(","))
        cold_wall, ours, figures, _ = harness_phase(harness_root, modules)
        warm = ""
        if args.target in WARM_EDIT:
            path, old, new = WARM_EDIT[args.target]
            source = harness_root / path
            source.write_text(source.read_text().replace(old, new, 1))
            warm_wall, _, _, ran = harness_phase(harness_root, modules)
            functions = sorted({name.rpartition("__mutmut_")[0].rpartition(".")[2] for name in ran})
            warm = (
                f"- warm re-run after editing one function of {path}: {len(ran)} mutants re-ran "
                f"(functions {', '.join(functions) or 'none'}), {warm_wall:.1f} s = "
                f"{warm_wall / cold_wall:.2f} x the cold run's {cold_wall:.1f} s\n"
            )
    same = sum(1 for k, v in bare.items() if ours.get(k) == v)
    flips = Counter((v, ours.get(k)) for k, v in bare.items() if ours.get(k) != v)
    report = (
        f"### {args.target} ({', '.join(modules)}), {time.strftime('%Y-%m-%d %H:%M')}, "
        f"{figures['cores']} cores, load average {load:.1f} at start\n\n"
        f"- bare `mutmut run` (defaults): {bare_wall:.1f} s; harness mutation phase: {cold_wall:.1f} s; "
        f"**ratio {bare_wall / cold_wall:.2f} x**\n"
        f"- verdicts: {same}/{len(bare)} mutants agree (**{100 * same / max(len(bare), 1):.2f} %**)"
        + (f"; differing (bare -> harness): {dict(flips)}" if flips else "")
        + "\n"
        f"- harness mutant phase: {figures['mutants']} mutants in {figures['phase_wall']:.1f} s; core "
        f"utilisation (summed mutant durations / wall x cores) **{100 * figures['duration_util']:.0f} %**; "
        f"CPU time of the mutants and mutmut's scheduler / wall x cores {100 * figures['cpu_util']:.0f} %\n" + warm
    )
    print(report)
    if args.write:
        doc = REPO / "docs" / "benchmarks.md"
        text = doc.read_text() if doc.exists() else "# Benchmarks\n"
        if "## Mutation phase" not in text:
            text += "\n## Mutation phase\n\nWritten by `python benchmarks/mutation_bench.py --write`.\n\n"
        doc.write_text(text.rstrip("\n") + "\n\n" + report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
