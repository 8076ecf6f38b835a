"""The coverage run's artifacts kept by content, so a run on an unchanged project does not measure it again (issue 14).

What coverage.py reports for a suite depends on the files the suite runs in (every file of the work copy: the
code, the tests, their data, the pytest and coverage settings), on the tools (Python and every installed
distribution, the harness's pytest plugin) and on the settings of the coverage run (pytest arguments, workers,
subprocess measurement, the test timeout). :func:`reuse_key` hashes exactly those, by content only, like the
verdict cache's keys: a fresh checkout in CI that restores ``<cache_dir>/verdicts`` finds the same key.

A bundle is one folder ``<cache_dir>/verdicts/coverage/<key>/`` holding the run's artifacts (coverage.py's data
file and JSON report, the contexts per file, the run record and log) and ``bundle.json`` (the work copy's path
when it was made, its time). :func:`restore` copies them back, rewriting the absolute paths coverage.py stored
when the work copy now lives elsewhere; :func:`keep` stores a finished run's (the newest :data:`KEEP` bundles
stay). What the key does not see - services and environment variables outside the project - is why the reuse
is said in the run's notes and can be turned off (``coverage.reuse``).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from harness.config import Config
from harness.discover import Project
from harness.verdict_cache import digest, tool_versions
from harness.workspace import atomic_write_text, hash_files

DIR = "coverage"
FORMAT = 1
KEEP = 4  # bundles kept, newest first
BUNDLE = "bundle.json"
CONTEXTS_FILE = "contexts.json"
DATA_FILE = ".coverage"
FILES = (DATA_FILE, "coverage.json", CONTEXTS_FILE, "record.json", "pytest.log")


def reuse_key(project: Project, cfg: Config, work: Path, workers: int) -> str:
    """The key of a coverage run in ``work`` (before it runs): sha256 of every file of the work copy, the tools
    and the settings that change what the run measures."""
    plugin = Path(__file__).resolve().parents[2] / "harness_pytest.py"
    try:
        plugin_digest = digest(plugin.read_bytes())
    except OSError:  # installed without the source tree beside it: its version stands for it
        plugin_digest = ""
    parts = {
        "format": FORMAT,
        "files": sorted(hash_files(work).items()),
        "tools": sorted(tool_versions().items()),
        "plugin": plugin_digest,
        "settings": {
            "source": list(project.source),
            "tests": list(project.tests),
            "pytest_args": list(cfg.pytest_args),
            "coverage_pytest_args": list(cfg.coverage.pytest_args),
            "subprocess": cfg.coverage.subprocess,
            "workers": workers,
            "timeout": cfg.timeout,
        },
    }
    return digest(json.dumps(parts, sort_keys=True, separators=(",", ":")))


def restore(folder: Path, key: str, raw: Path, work: Path) -> dict[str, Any] | None:
    """Copy the bundle ``key`` into ``raw`` (the coverage run's artifact folder); its ``bundle.json`` facts, or
    None when there is no complete bundle of this format (nothing is copied then)."""
    bundle = folder / DIR / key
    try:
        facts = json.loads((bundle / BUNDLE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(facts, dict) or facts.get("format") != FORMAT or not all((bundle / n).is_file()
                                                                                for n in FILES):
        return None
    raw.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        shutil.copyfile(bundle / name, raw / name)
    old = str(facts.get("work") or "")
    if old and old != str(work):
        relocate(raw, old, str(work))
    return facts


def relocate(raw: Path, old: str, new: str) -> None:
    """Rewrite the absolute paths under the work copy ``old`` to ``new`` in coverage.py's data file and in the
    contexts per file (coverage.py's JSON report names files relative to the work copy)."""
    with sqlite3.connect(raw / DATA_FILE) as db:
        db.execute("UPDATE file SET path = ? || substr(path, ?) WHERE substr(path, 1, ?) = ?",
                   (new, len(old) + 1, len(old), old))
    path = raw / CONTEXTS_FILE
    doc = json.loads(path.read_text(encoding="utf-8"))
    files = doc.get("files")
    if isinstance(files, dict):
        doc["files"] = {(new + k[len(old):] if k.startswith(old) else k): v for k, v in files.items()}
        atomic_write_text(path, json.dumps(doc, indent=2) + "\n")


def keep(folder: Path, key: str, raw: Path, work: Path) -> bool:
    """Store the finished run's artifacts in ``raw`` as the bundle ``key`` (atomically: a folder renamed into
    place); keep the newest :data:`KEEP` bundles. False when an artifact is missing."""
    if not all((raw / n).is_file() for n in FILES):
        return False
    target = folder / DIR
    target.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key[:12]}.", dir=target))
    try:
        for name in FILES:
            shutil.copyfile(raw / name, tmp / name)
        facts = {"format": FORMAT, "work": str(work), "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        (tmp / BUNDLE).write_text(json.dumps(facts) + "\n", encoding="utf-8")
        shutil.rmtree(target / key, ignore_errors=True)
        tmp.rename(target / key)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    bundles = sorted((p for p in target.iterdir() if p.is_dir() and not p.name.startswith(".")),
                     key=lambda p: p.stat().st_mtime, reverse=True)
    for old in bundles[KEEP:]:
        shutil.rmtree(old, ignore_errors=True)
    return True
