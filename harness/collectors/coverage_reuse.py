"""The coverage run's artifacts kept by content, so a run on an unchanged project does not measure it again (issue 14).

What coverage.py reports for a suite depends on the files the suite runs in (every file of the work copy: the
code, the tests, their data, the pytest and coverage settings), on the tools (Python and every installed
distribution, the harness's pytest plugin) and on the settings of the coverage run (pytest arguments, workers,
subprocess measurement, the test timeout). :func:`base_key` and :func:`full_key` hash exactly those, by content
only, like the verdict cache's keys: a fresh checkout in CI that restores ``<cache_dir>/verdicts`` finds the same key.

A bundle is one folder ``<cache_dir>/verdicts/coverage/<key>/`` holding the run's artifacts (coverage.py's data
file and JSON report, the contexts per file, the run record and log) and ``bundle.json`` (the work copy's path
when it was made, its time). :func:`restore` copies them back, rewriting the absolute paths coverage.py stored
when the work copy now lives elsewhere; :func:`keep` stores a finished run's (the newest :data:`KEEP` bundles
stay). What the key does not see - services and environment variables outside the project - is why the reuse
is said in the run's notes and can be turned off (``coverage.reuse``).

After an edit of function bodies only, :func:`plan_increment` finds the newest bundle of the same tools and
settings whose files differ only in project modules, and names the tests to measure again: those that executed
a line of an edited module, and those sharing a fixture of wider scope with them (its value may have changed).
Everything else a test does is unchanged when none of the code it ran changed; an edited body that ran at import
(a decorator's), or code outside function bodies changed, makes a full run. :func:`merge_data` replaces
those tests' contexts and the edited modules' data with the partial run's, in coverage.py's own data file.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.config import Config
from harness.discover import Project
from harness.verdict_cache import digest, function_bodies, tool_versions
from harness.workspace import atomic_write_text

DIR = "coverage"
FORMAT = 1
KEEP = 4  # bundles kept, newest first
BUNDLE = "bundle.json"
CONTEXTS_FILE = "contexts.json"
DATA_FILE = ".coverage"
FILES = (DATA_FILE, "coverage.json", CONTEXTS_FILE, "record.json", "pytest.log")


def base_key(project: Project, cfg: Config, workers: int) -> str:
    """The key's part that is not the files: the tools, the harness's pytest plugin and the coverage run's
    settings (a bundle of another base is never reused, not even in part)."""
    plugin = Path(__file__).resolve().parents[2] / "harness_pytest.py"
    try:
        plugin_digest = digest(plugin.read_bytes())
    except OSError:  # installed without the source tree beside it: its version stands for it
        plugin_digest = ""
    parts = {
        "format": FORMAT,
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


def full_key(base: str, files: Mapping[str, str]) -> str:
    """The key of a coverage run: its base and the digest of every file of the work copy (workspace.hash_files)."""
    return digest(json.dumps([base, sorted(files.items())], separators=(",", ":")))


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
    try:
        for name in FILES:
            shutil.copyfile(bundle / name, raw / name)
        for name in (CONTEXTS_FILE, "coverage.json", "record.json"):
            if not isinstance(json.loads((raw / name).read_text(encoding="utf-8")), dict):
                raise ValueError(f"{name} is not a JSON object")
        old = str(facts.get("work") or "")
        with sqlite3.connect(raw / DATA_FILE) as db:
            db.execute("SELECT count(*) FROM file, line_bits, arc").fetchone()  # coverage.py's tables are there
        if old and old != str(work):
            relocate(raw, old, str(work))
    except (OSError, ValueError, sqlite3.Error):  # a damaged bundle: measured again, as if there were none
        for name in FILES:
            (raw / name).unlink(missing_ok=True)
        return None
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


def keep(folder: Path, key: str, raw: Path, work: Path, extra: Mapping[str, Any] | None = None) -> bool:
    """Store the finished run's artifacts in ``raw`` as the bundle ``key`` (atomically: a folder renamed into
    place), with ``extra`` facts in its ``bundle.json`` (:func:`bundle_facts`); keep the newest :data:`KEEP`
    bundles. False when an artifact is missing."""
    if not all((raw / n).is_file() for n in FILES):
        return False
    target = folder / DIR
    target.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key[:12]}.", dir=target))
    try:
        for name in FILES:
            shutil.copyfile(raw / name, tmp / name)
        facts = {**(extra or {}), "format": FORMAT, "work": str(work),
                 "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
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


# ---------------------------------------------------------------------------------------- after editing function bodies

def skeleton(text: str) -> str:
    """A module's code outside its function bodies, without line numbers: what runs when it is imported."""
    lines = text.splitlines()
    dropped: set[int] = set()
    for first, last in function_bodies(text):
        dropped.update(range(first, last + 1))
    return "\n".join(line for n, line in enumerate(lines, start=1) if n not in dropped)


def import_lines(data_file: Path) -> dict[str, set[int]]:
    """The lines of each measured file coverage.py recorded outside any test (context ""): import, collection,
    exit."""
    from coverage import CoverageData

    data = CoverageData(basename=str(data_file))
    data.read()
    return {path: {int(n) for n, contexts in data.contexts_by_lineno(path).items() if "" in contexts}
            for path in data.measured_files()}


def body_digests(text: str) -> list[str]:
    """The digest of each function body of a module (verdict_cache.function_bodies' order), by its text only."""
    lines = text.splitlines()
    return [digest("\n".join(lines[first - 1:last])) for first, last in function_bodies(text)]


def bundle_facts(project: Project, base: str, files: Mapping[str, str], raw: Path, work: Path) -> dict[str, Any]:
    """What :func:`plan_increment` needs of a finished run besides its artifacts: the base key, the digest of
    every file, and per project module the digest of its skeleton and of each function body, and the bodies
    that ran outside any test (a module-level call such as a decorator, an import-time registry, an exit hook)."""
    modules = {}
    outside_tests = import_lines(raw / DATA_FILE)
    for m in project.modules:
        try:
            text = (work / m.path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        at_import = outside_tests.get(str(work / m.path), set())
        bodies = function_bodies(text)
        modules[m.path] = {"skeleton": digest(skeleton(text)), "bodies": body_digests(text),
                           "at_import": [i for i, (a, b) in enumerate(bodies)
                                         if any(a <= n <= b for n in at_import)]}
    return {"base": base, "files": dict(files), "modules": modules}


def _body_edit_only(text: str, facts: Mapping[str, Any]) -> bool:
    """Did the module change in function bodies only (the same skeleton, the same number of bodies), none of
    them a body that ran at import in the earlier run?"""
    old = facts.get("bodies")
    if not isinstance(old, list) or digest(skeleton(text)) != facts.get("skeleton"):
        return False
    new = body_digests(text)
    if len(new) != len(old):
        return False
    edited = {i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b}
    return not edited & set(facts.get("at_import") or ())


@dataclass(frozen=True)
class Increment:
    """A run that measures only ``tests`` again (none: the suite is only collected, for the edited modules'
    import lines) on top of the bundle ``key``, whose files differ from now in the modules ``changed``."""

    key: str
    facts: Mapping[str, Any]
    changed: tuple[str, ...]
    tests: tuple[str, ...]
    total: int


def plan_increment(folder: Path, base: str, files: Mapping[str, str], project: Project,
                   work: Path) -> Increment | None:
    """The cheapest sound increment over a kept bundle of the same ``base`` (fewest tests to run again), or None
    (a full run): only when every changed file is a project module whose code outside function bodies is the
    same and none of whose edited bodies ran outside a test, and under half the tests have to run again."""
    best: Increment | None = None
    found = (folder / DIR).iterdir() if (folder / DIR).is_dir() else iter(())
    for bundle in sorted((p for p in found if (p / BUNDLE).is_file()),
                         key=lambda p: p.stat().st_mtime, reverse=True):
        try:
            facts = json.loads((bundle / BUNDLE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(facts, dict) or facts.get("format") != FORMAT or facts.get("base") != base:
            continue
        try:
            inc = _increment(bundle, facts, files, project, work)
        except (AttributeError, KeyError, TypeError, ValueError):  # a damaged bundle.json: not a base
            continue
        if inc is not None and (best is None or len(inc.tests) < len(best.tests)):
            best = inc
    return best


def _increment(bundle: Path, facts: Mapping[str, Any], files: Mapping[str, str], project: Project,
               work: Path) -> Increment | None:
    old_files, modules = facts.get("files") or {}, facts.get("modules") or {}
    changed = sorted(p for p in set(old_files) | set(files) if old_files.get(p) != files.get(p))
    if not changed or any(p not in old_files or p not in files or p not in modules for p in changed):
        return None
    for path in changed:
        try:
            text = (work / path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        if not _body_edit_only(text, modules[path]):
            return None
    try:
        record = json.loads((bundle / "record.json").read_text(encoding="utf-8"))
        contexts = json.loads((bundle / CONTEXTS_FILE).read_text(encoding="utf-8")).get("files") or {}
    except (OSError, ValueError, AttributeError):
        return None
    old_work = str(facts.get("work") or "")
    ran = _relative_keys(contexts, old_work)
    tests = rerun_set(ran, changed, record.get("tests") or [])
    total = len(record.get("tests") or [])
    if 2 * len(tests) > total:
        return None
    return Increment(key=bundle.name, facts=facts, changed=tuple(changed), tests=tests, total=total)


def _relative_keys(contexts: Mapping[str, Any], work: str) -> dict[str, list[str]]:
    prefix = work.rstrip("/") + "/"
    return {(k[len(prefix):] if k.startswith(prefix) else k): list(v) for k, v in contexts.items()}


def rerun_set(ran: Mapping[str, Iterable[str]], changed: Iterable[str],
              tests: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    """The tests that executed a line of a changed file (``ran``: file -> tests), and every test sharing a
    fixture of wider scope with one of them (``tests``: the run record's entries, with their ``shared``)."""
    touched = {t for path in changed for t in ran.get(path, ())}
    entries = list(tests)
    shared = {f for e in entries if e.get("nodeid") in touched for f in e.get("shared") or ()}
    out = touched | {str(e["nodeid"]) for e in entries if shared & set(e.get("shared") or ())}
    return tuple(sorted(out))


def merge_data(data_file: Path, partial: Path, changed: Iterable[str], rerun: Iterable[str]) -> None:
    """In coverage.py's data file: drop every row of the ``changed`` files (absolute paths) and of the ``rerun``
    tests' contexts, and take the partial run's rows for them (coverage.py's SQLite schema 7)."""
    with sqlite3.connect(data_file) as db:
        db.execute("ATTACH DATABASE ? AS p", (str(partial),))
        db.execute("CREATE TEMP TABLE changed (path TEXT PRIMARY KEY)")
        db.execute("CREATE TEMP TABLE rerun (context TEXT PRIMARY KEY)")
        db.executemany("INSERT OR IGNORE INTO changed VALUES (?)", [(p,) for p in changed])
        db.executemany("INSERT OR IGNORE INTO rerun VALUES (?)", [(t,) for t in rerun])
        db.execute("INSERT OR IGNORE INTO file (path) SELECT path FROM p.file")
        db.execute("INSERT OR IGNORE INTO context (context) SELECT context FROM p.context")
        db.execute("INSERT OR IGNORE INTO tracer (file_id, tracer) SELECT f.id, t.tracer FROM p.tracer t "
                   "JOIN p.file pf ON pf.id = t.file_id JOIN file f ON f.path = pf.path")
        for table, columns in (("arc", "fromno, tono"), ("line_bits", "numbits")):
            db.execute(f"DELETE FROM {table} WHERE file_id IN (SELECT f.id FROM file f JOIN changed USING (path)) "
                       "OR context_id IN (SELECT c.id FROM context c JOIN rerun USING (context))")
            picked = ", ".join(f"x.{c.strip()}" for c in columns.split(","))
            db.execute(f"INSERT OR IGNORE INTO {table} (file_id, context_id, {columns}) "
                       f"SELECT f.id, c.id, {picked} FROM p.{table} x "
                       "JOIN p.file pf ON pf.id = x.file_id JOIN file f ON f.path = pf.path "
                       "JOIN p.context pc ON pc.id = x.context_id JOIN context c ON c.context = pc.context "
                       "WHERE pf.path IN (SELECT path FROM changed) OR pc.context IN (SELECT context FROM rerun)")
        db.commit()
        db.execute("DETACH DATABASE p")


def merge_record(old: Mapping[str, Any], partial: Mapping[str, Any], rerun: Iterable[str]) -> dict[str, Any] | None:
    """The earlier run's record with the re-run tests' entries replaced by the partial run's (in the earlier
    order); None when the partial run did not run one of them."""
    new = {t["nodeid"]: t for t in partial.get("tests") or []}
    wanted = set(rerun)
    if not wanted <= set(new):
        return None
    tests = [new[t["nodeid"]] if t["nodeid"] in wanted else t for t in old.get("tests") or []]
    failed = any(t.get("outcome") in ("failed", "error") for t in tests)
    return {**old, "tests": tests, "exitstatus": 1 if failed else 0}
