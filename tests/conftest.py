"""Shared fixtures: throwaway target projects written from a dict, and runs of the real ``harness`` command."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

REPO = Path(__file__).resolve().parent.parent

# No per-example deadline: on a loaded machine (CI, the harness's own flakiness runs) a 200 ms deadline turns a
# law into a timing test that fails at random; the suite's time is the runtime metric's business.
settings.register_profile("harness", deadline=None)
settings.load_profile("harness")

# The end-to-end runs' suite-runtime target: a wall time, missed by a tiny fixture suite on a loaded machine or
# under an outer coverage run (the harness measuring itself); a test about that verdict sets it itself (--set
# beats the environment).
LOAD_PROOF_RUNTIME = {"HARNESS_TARGETS__SUITE_RUNTIME": "3600"}


@pytest.fixture(autouse=True)
def _load_proof_runtime(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process end-to-end runs (``harness.cli.main``) of slow tests get the load-proof runtime target."""
    if request.node.get_closest_marker("slow") is not None:
        for name, value in LOAD_PROOF_RUNTIME.items():
            monkeypatch.setenv(name, value)


def write_tree(root: Path, files: Mapping[str, str]) -> Path:
    """Write ``{"pkg/mod.py": "source"}`` under ``root`` (sources are dedented)."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def tree_checksum(root: Path, skip: tuple[str, ...] = ("reports", ".harness-cache")) -> dict[str, str]:
    """sha256 of every file under root except the harness's own output folders."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts and rel.parts[0] in skip:
            continue
        if path.is_file():
            out[rel.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@dataclass
class HarnessResult:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_harness(*args: str | Path, cwd: Path | None = None, env: Mapping[str, str] | None = None,
                timeout: float = 900) -> HarnessResult:
    """Run the real ``harness`` command (``python -m harness``) in a subprocess.

    Mutation, the slowest phase, is on by default; these end-to-end runs measure it only where the test asks
    for it (``mutation.*``, ``--sample``, ``--since``, ``--shard`` or a profile), so each stays within seconds.
    """
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS")}
    full_env["COLUMNS"] = "200"
    words = " ".join(map(str, args))
    if not any(w in words for w in ("mutation.", "--sample", "--since", "--shard", "--profile")):
        full_env["HARNESS_MUTATION__ENABLED"] = "false"
    full_env.update(LOAD_PROOF_RUNTIME)
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, "-m", "harness", *map(str, args)], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout, check=False)
    return HarnessResult(proc.returncode, proc.stdout, proc.stderr)


SIMPLE_PROJECT = {
    "pyproject.toml": """
        [project]
        name = "simple"
        version = "0"
    """,
    "simple/__init__.py": "",
    "simple/calc.py": """
        def classify(n):
            if n < 0:
                return "neg"
            elif n == 0:
                return "zero"
            return "pos"


        def add(a, b):
            return a + b


        def unused(x):  # pragma: no cover
            return x * 2
    """,
    "tests/test_calc.py": """
        from simple.calc import add, classify


        def test_add():
            assert add(1, 2) == 3


        def test_classify():
            assert classify(-1) == "neg"
            assert classify(5) == "pos"
    """,
}


@pytest.fixture
def target_project(tmp_path: Path) -> Callable[..., Path]:
    """Factory: ``target_project(files=None, **extra_files)`` writes a throwaway project and returns its root.

    With no ``files`` it writes SIMPLE_PROJECT: simple/calc.py has 8 statements (7 run), 4 branches (3 taken),
    missing line 5, missing arc 4->5 and 2 lines excluded by ``# pragma: no cover``.
    """
    counter = iter(range(1000))

    def make(files: Mapping[str, str] | None = None, **extra: str) -> Path:
        root = tmp_path / f"project{next(counter)}"
        root.mkdir()
        write_tree(root, dict(SIMPLE_PROJECT if files is None else files))
        write_tree(root, {k.replace("__", "/"): v for k, v in extra.items()})
        return root

    return make
