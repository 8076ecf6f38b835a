"""Where the harness may write: its work copy of the target, its raw artifacts and its reports.

Nothing the user owns is modified: every tool runs in a synced copy of the target under the cache dir, and
every file is written atomically (temp file + rename), so an interrupted run leaves the last good file intact.
Every JSON file the harness writes carries ``{"format": N, "harness_version": ...}``; readers refuse unknown
formats.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import __version__
from harness.config import Config
from harness.discover import SKIP_DIRS
from harness.errors import ArtifactError

# Format history of the harness's JSON files:
#   1 - first version (scorecard, module scorecards, run records, history entries)
FORMAT = 1


@dataclass(frozen=True)
class Workspace:
    """The paths of one run. ``work`` is the copy of the target every tool runs in."""

    root: Path
    reports: Path
    cache: Path

    @classmethod
    def for_target(cls, root: Path, cfg: Config) -> Workspace:
        root = root.resolve()
        return cls(root=root, reports=(root / cfg.reports_dir).resolve(), cache=(root / cfg.cache_dir).resolve())

    @property
    def work(self) -> Path:
        return self.cache / "work"

    @property
    def raw(self) -> Path:
        return self.reports / "raw"

    def excluded(self) -> set[Path]:
        return {self.reports, self.cache}


def atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, kind: str, payload: dict[str, Any]) -> None:
    """Write a harness JSON file with its format header, atomically."""
    doc = {"format": FORMAT, "kind": kind, "harness_version": __version__, **payload}
    atomic_write_text(path, json.dumps(doc, indent=2, sort_keys=False) + "\n")


def read_json(path: Path, kind: str) -> dict[str, Any]:
    """Read a harness JSON file, refusing unknown formats and kinds with a clear error."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArtifactError(f"{path} does not exist") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"{path} is not a readable harness file: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("kind") != kind:
        raise ArtifactError(f"{path} is not a {kind} file of format {FORMAT} "
                            f"(found format {doc.get('format') if isinstance(doc, dict) else '?'})")
    return doc


def _walk_files(root: Path, excluded: set[Path]) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        d = Path(dirpath)
        dirnames[:] = [n for n in dirnames if n not in SKIP_DIRS and not n.endswith(".egg-info")
                       and (d / n).resolve() not in excluded]
        for name in filenames:
            if name.endswith((".pyc", ".pyo")) or name.startswith(".coverage"):
                continue
            yield d / name


def sync_copy(src: Path, dest: Path, excluded: set[Path]) -> int:
    """Make ``dest`` mirror ``src`` (minus VCS, caches, venvs and ``excluded``); copy only changed files.

    Returns the number of files copied. Files that vanished from ``src`` are removed from ``dest``.
    """
    dest.mkdir(parents=True, exist_ok=True)
    wanted: set[Path] = set()
    copied = 0
    for f in _walk_files(src, excluded):
        rel = f.relative_to(src)
        target = dest / rel
        wanted.add(rel)
        try:
            s = f.stat()
        except OSError:
            continue
        try:
            t = target.stat()
            if t.st_size == s.st_size and t.st_mtime_ns == s.st_mtime_ns:
                continue
        except OSError:
            pass
        target.parent.mkdir(parents=True, exist_ok=True)
        if f.is_symlink():
            continue
        shutil.copy2(f, target)
        copied += 1
    for f in list(_walk_files(dest, set())):
        rel = f.relative_to(dest)
        if rel not in wanted:
            f.unlink()
    return copied
