"""Independent reference runs of the tools the harness wraps, for the truth tests.

Every reference runs in a separate copy of the target (never the harness's work copy or data files), the way
a user would run the tool by hand: ``coverage run --branch --source=PKG -m pytest ...`` then ``coverage json``.
``compare_coverage`` lists every per-module difference between a harness scorecard and such a reference.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HARNESS_DIRS = ("reports", ".harness-cache")


def copy_target(root: Path, dest: Path) -> Path:
    """A separate copy of the target, without the harness's folders."""
    shutil.copytree(root, dest, ignore=shutil.ignore_patterns(*HARNESS_DIRS, "__pycache__", ".coverage*"))
    return dest


def _patch_subprocess(copy: Path) -> None:
    """Turn on coverage.py's subprocess measurement in the copy's own coverage config."""
    pyproject = copy / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8") if pyproject.exists() else ""
    if "[tool.coverage.run]" in text:
        text = text.replace("[tool.coverage.run]", '[tool.coverage.run]\npatch = ["subprocess"]', 1)
    else:
        text += '\n[tool.coverage.run]\npatch = ["subprocess"]\n'
    pyproject.write_text(text, encoding="utf-8")


def reference_coverage(root: Path, dest: Path, source: Sequence[str], pytest_args: Sequence[str],
                       *, subprocesses: bool = False, import_roots: Sequence[str] = ("",),
                       python: str = sys.executable) -> dict[str, Any]:
    """coverage.py's JSON report of a plain serial ``coverage run --branch`` of the suite in a copy of ``root``.

    Returns the report's file entries keyed by path relative to the copy. ``source`` are the packages' paths
    relative to the root (as the harness discovers them); ``pytest_args`` the tests and options; ``python`` the
    interpreter (the target's environment).
    """
    copy = copy_target(root, dest)
    if subprocesses:
        _patch_subprocess(copy)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HARNESS", "COVERAGE_PROCESS", "PYTEST_ADDOPTS"))}
    env["PYTHONPATH"] = os.pathsep.join(str(copy / r) if r else str(copy) for r in import_roots)
    sources = ",".join(str(copy / s) for s in source)
    run = subprocess.run([python, "-m", "coverage", "run", "--branch", f"--source={sources}", "-m",
                          "pytest", "-q", "-p", "no:cacheprovider", *pytest_args], cwd=copy, env=env,
                         capture_output=True, text=True, check=False)
    assert run.returncode in (0, 1), run.stdout[-3000:] + run.stderr[-3000:]
    if subprocesses or any(p.name.startswith(".coverage.") for p in copy.iterdir()):
        subprocess.run([python, "-m", "coverage", "combine", "--append"], cwd=copy, env=env,
                       check=True, capture_output=True)
    out = dest.parent / f"{dest.name}-coverage.json"
    subprocess.run([python, "-m", "coverage", "json", "-o", str(out), "--fail-under=0"], cwd=copy,
                   env=env, check=True, capture_output=True)
    files = json.loads(out.read_text(encoding="utf-8"))["files"]
    return {Path(k).relative_to(copy).as_posix() if Path(k).is_absolute() else k: v for k, v in files.items()}


def compare_coverage(scorecard: dict[str, Any], reference: dict[str, Any]) -> tuple[int, list[str]]:
    """(modules matched, differences) between a harness scorecard.json and a reference report.

    Compared per module: statements, executed lines, branches, covered branches, missing lines, missing arcs.
    A module the harness measured that the reference lacks (or the reverse) is a difference too.
    """
    diffs: list[str] = []
    matched = 0
    measured = {m["path"]: m for m in scorecard["modules"] if m["coverage"] is not None}
    for path, m in sorted(measured.items()):
        ref = reference.get(path)
        if ref is None:
            diffs.append(f"{m['module']}: measured by the harness, absent from the reference")
            continue
        nums, s = m["coverage"]["numbers"], ref["summary"]
        ours = (nums["statements"], nums["executed"], nums["branches"], nums["covered_branches"],
                m["coverage"]["missing_lines"],
                m["coverage"]["missing_arcs_text"])
        theirs = (s["num_statements"], s["covered_lines"], s["num_branches"], s["covered_branches"],
                  ref["missing_lines"], [f"{a}->{b if b > 0 else 'exit'}" for a, b in ref["missing_branches"]])
        if ours != theirs:
            diffs.append(f"{m['module']}: harness {ours[:4]} missing {ours[4]} {ours[5]} != reference "
                         f"{theirs[:4]} missing {theirs[4]} {theirs[5]}")
        else:
            matched += 1
    known = {m["path"] for m in scorecard["modules"]}
    for path in sorted(set(reference) & known - set(measured)):
        diffs.append(f"{path}: in the reference, not measured by the harness")
    return matched, diffs


def mutmut_copy(root: Path, dest: Path, paths: Sequence[str], tests: Sequence[str],
                also_copy: Sequence[str] = ()) -> Path:
    """A separate copy of ``root`` set up for a bare ``mutmut run`` with its defaults (see reference_mutmut)."""
    copy = copy_target(root, dest)
    table = (f"\n[tool.mutmut]\nsource_paths = {json.dumps(sorted({p.split('/')[0] for p in paths}))}\n"
             f"only_mutate = {json.dumps(list(paths))}\n"
             f"pytest_add_cli_args_test_selection = {json.dumps(list(tests))}\n"
             + (f"also_copy = {json.dumps(list(also_copy))}\n" if also_copy else ""))
    pyproject = copy / "pyproject.toml"
    pyproject.write_text((pyproject.read_text(encoding="utf-8") if pyproject.exists() else "") + table,
                         encoding="utf-8")
    return copy


def mutmut_command(python: str = sys.executable) -> list[str]:
    """``mutmut run`` in the environment of ``python`` (the target's: its test dependencies)."""
    return [python, "-m", "mutmut", "run"]


def mutmut_env() -> dict[str, str]:
    """The environment of a bare mutmut run: none of the harness's, pytest's or coverage.py's outer settings."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("HARNESS", "PYTEST_ADDOPTS", "COVERAGE_PROCESS"))}


def mutmut_exit_codes(copy: Path, paths: Sequence[str]) -> dict[str, int | None]:
    """{mutant name: mutmut's exit code} from the meta files of a bare run in ``copy`` (None: not checked)."""
    from harness.collectors.mutmut_adapter import load_meta

    codes: dict[str, int | None] = {}
    for p in paths:
        meta = copy / "mutants" / (p + ".meta")
        if meta.exists():
            codes.update(load_meta(meta).exit_code_by_key)
    return codes


def harness_exit_codes(root: Path) -> dict[str, int | None]:
    """{mutant name: mutmut's exit code} of a harness run on ``root``, from the raw meta files it keeps."""
    from harness.collectors.mutmut_adapter import load_meta

    codes: dict[str, int | None] = {}
    for meta in (root / "reports" / "raw" / "mutation").rglob("*.meta"):
        codes.update(load_meta(meta).exit_code_by_key)
    return codes


def reference_mutmut(root: Path, dest: Path, paths: Sequence[str], tests: Sequence[str],
                     timeout: float = 3600, also_copy: Sequence[str] = ()) -> dict[str, str]:
    """A bare ``mutmut run`` with its defaults in a separate copy of ``root``: {mutant name: mutmut status}.

    mutmut is told only what it cannot guess: which files to mutate (``paths``, relative to the root), the
    tests to run (``tests``) and the files its work copy needs beyond the ones mutmut copies itself
    (``also_copy``: mutmut copies only ``tests/``, ``test/``, ``setup.cfg``, ``pyproject.toml`` and lock files,
    so a suite that reads e.g. ``README.md`` fails mutmut's clean run without it). A failed ``mutmut run``
    raises with the end of its output.
    """
    from harness.collectors.mutmut_adapter import mutmut_status_name

    copy = mutmut_copy(root, dest, paths, tests, also_copy)
    log = dest.parent / f"{dest.name}-mutmut.log"
    with log.open("w") as out:
        run = subprocess.run(mutmut_command(), cwd=copy, env=mutmut_env(), check=False, stdout=out,
                             stderr=subprocess.STDOUT, timeout=timeout)
    if run.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise RuntimeError(f"bare mutmut run exited {run.returncode} ({log}):\n{tail}")
    return {k: mutmut_status_name(v) for k, v in mutmut_exit_codes(copy, paths).items()}
