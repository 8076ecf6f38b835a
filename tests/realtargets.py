"""Real open-source targets (../shared/targets.md): pinned PyPI sdists that ship their tests.

``prepare(name)`` downloads the sdist once (cached under tests/.target-cache, or $HARNESS_TARGET_CACHE),
installs its extra test dependencies into the running interpreter, and returns a fresh unpacked copy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

CACHE = Path(os.environ.get("HARNESS_TARGET_CACHE", Path(__file__).parent / ".target-cache"))


@dataclass(frozen=True)
class Target:
    name: str
    version: str
    deps: tuple[str, ...] = ()
    pytest_args: tuple[str, ...] = ()
    tests: tuple[str, ...] = ()
    source: tuple[str, ...] = ()
    setup: tuple[tuple[str, str], ...] = ()  # files to create: (relative path, content)

    @property
    def sdist_stem(self) -> str:
        return f"{self.name.replace('-', '_')}-{self.version}"


TARGETS = {
    "toolz": Target("toolz", "1.2.0"),
    "itsdangerous": Target("itsdangerous", "2.2.0", deps=("freezegun",)),
    "semver": Target("semver", "3.1.1", pytest_args=("-o", "addopts=--import-mode=importlib")),
    "python-slugify": Target("python-slugify", "9.2.0"),
    "starlette-exporter": Target("starlette-exporter", "0.24.0", deps=("fastapi", "httpx"),
                                 setup=(("tests/static/test.txt", "static file\n"),)),
}


def _download(t: Target) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    for candidate in CACHE.glob(f"*{t.version}.tar.gz"):
        if candidate.name.lower().replace("-", "_").startswith(t.name.lower().replace("-", "_")):
            return candidate
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-q",
                    "-d", str(CACHE), f"{t.name}=={t.version}"], check=True)
    return _download(t)


def _install(t: Target, root: Path) -> None:
    """Install the target (for its metadata and runtime dependencies) and its extra test dependencies.

    The harness puts its work copy first on sys.path, so the installed copy's code is never the one measured.
    """
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", str(root),
                    *t.deps], check=True, capture_output=True)


def prepare(name: str, dest: Path) -> Path:
    """Unpack a fresh copy of target ``name`` under ``dest``; returns the project root."""
    t = TARGETS[name]
    archive = _download(t)
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")
    roots = [p for p in dest.iterdir() if p.is_dir()]
    assert len(roots) == 1, roots
    root = roots[0]
    for rel, content in t.setup:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(content)
    _install(t, root)
    for junk in [*root.glob("*.egg-info"), *root.glob("src/*.egg-info"), root / "build"]:
        shutil.rmtree(junk, ignore_errors=True)
    return root


def harness_config(name: str) -> list[str]:
    """``--set`` arguments a target needs (its pytest args)."""
    t = TARGETS[name]
    out = []
    if t.pytest_args:
        out += ["--set", "pytest_args=[" + ", ".join(f"'{a}'" for a in t.pytest_args) + "]"]
    if t.tests:
        out += ["--set", "tests=[" + ", ".join(f"'{a}'" for a in t.tests) + "]"]
    return out
