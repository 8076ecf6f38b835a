"""Coverage collector: the target's pytest under coverage.py, branch mode, one dynamic context per test.

``run`` spawns pytest (under pytest-xdist) in the work copy with the ``harness_pytest`` plugin starting
coverage.py in every process, then ``coverage combine`` and ``coverage json`` - coverage.py's own
report, so every figure the harness shows is the tool's. The target's own coverage config (``exclude_lines``,
``# pragma: no cover``) applies because coverage.py reads it from the work copy. ``parse`` is pure.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

from harness.collectors import coverage_reuse
from harness.collectors.pytest_run import pytest_env, run_pytest, tail, xdist_args
from harness.collectors.records import RunRecord, check_clean, live_path, load_record, read_live
from harness.config import Config
from harness.discover import Project
from harness.errors import ArtifactError, HarnessError, NoDataError, ToolError
from harness.model import CoverageNumbers, ModuleCoverage
from harness.workspace import atomic_write_text, hash_files, read_json, write_json

NAME = "coverage"


CONTEXTS_KIND = "coverage-contexts"  # raw/coverage/contexts.json: the tests that ran each line, by file


@dataclass(frozen=True)
class CoverageArtifacts:
    raw: Path  # reports/raw/coverage
    work: Path

    @property
    def json_report(self) -> Path:
        return self.raw / "coverage.json"

    @property
    def contexts(self) -> Path:
        """Which tests executed each file: ``{path: [test node id, ...]}`` read from coverage.py's data."""
        return self.raw / "contexts.json"

    @property
    def record(self) -> Path:
        return self.raw / "record.json"

    @property
    def log(self) -> Path:
        return self.raw / "pytest.log"

    @property
    def data_file(self) -> Path:
        return self.raw / ".coverage"

    @property
    def reused(self) -> Path:
        """Written when the artifacts were not measured by this run but restored from an identical earlier run
        (:mod:`harness.collectors.coverage_reuse`): its key and time."""
        return self.raw / "reused.json"


@dataclass(frozen=True)
class CoverageResult:
    by_module: dict[str, ModuleCoverage]
    record: RunRecord  # the clean, instrumented run
    reused: dict[str, Any] | None = None  # restored from an identical earlier run: {"key", "created"}

    @property
    def tests_by_module(self) -> dict[str, tuple[str, ...]]:
        return {m: c.tests for m, c in self.by_module.items()}


def _source_spec(project: Project, work: Path) -> list[str]:
    out = []
    for entry in project.source:
        path = work / entry
        if path.is_dir():
            out.append(str(path))
        else:  # a single-file module: coverage.py takes its import name
            out.append(PurePosixPath(entry).stem)
    return out


def _report_live(record: Path, progress: Callable[[int, int, str], None]) -> None:
    live = read_live(record)
    if live is not None:
        progress(*live)


def run(project: Project, cfg: Config, work: Path, raw: Path,
        progress: Callable[[int, int, str], None] | None = None, reuse: Path | None = None) -> CoverageArtifacts:
    """Run the instrumented suite and coverage.py's reports; leaves artifacts under ``raw``. ``progress(done,
    total, test)`` is called every few seconds while the suite runs, with the tests finished so far. With a
    ``reuse`` folder (the verdict cache's), an identical earlier run's artifacts are restored instead of running
    (:mod:`~harness.collectors.coverage_reuse`), and a finished run's are kept there."""
    art = CoverageArtifacts(raw=raw / NAME, work=work)
    art.raw.mkdir(parents=True, exist_ok=True)
    for old in art.raw.glob(".coverage*"):
        old.unlink()
    for old in (art.json_report, art.contexts, art.record, live_path(art.record), art.reused):
        old.unlink(missing_ok=True)
    workers = cfg.effective_workers() if cfg.coverage.parallel else 1
    if reuse is None:
        _measure(project, cfg, work, art, workers, progress)
        return art
    base, files = coverage_reuse.base_key(project, cfg, workers), hash_files(work)
    key = coverage_reuse.full_key(base, files)
    facts = coverage_reuse.restore(reuse, key, art.raw, work)
    if facts is not None:
        write_json(art.reused, "coverage-reused", {"key": key, "created": facts.get("created")})
        return art
    inc = coverage_reuse.plan_increment(reuse, base, files, project, work)
    if inc is None or not _measure_increment(project, cfg, art, reuse, inc, workers, progress):
        _measure(project, cfg, work, art, workers, progress)
    if _keepable(art):
        coverage_reuse.keep(reuse, key, art.raw, work, coverage_reuse.bundle_facts(project, base, files, art.raw,
                                                                                   work))
    return art


def _keepable(art: CoverageArtifacts) -> bool:
    """A run worth replaying: the suite ran to its end (pytest exit 0 or 1: tests failed, none interrupted it)."""
    try:
        return load_record(art.record, art.log).exitstatus in (0, 1)
    except HarnessError:
        return False


def _measure(project: Project, cfg: Config, work: Path, art: CoverageArtifacts, workers: int,
             progress: Callable[[int, int, str], None] | None) -> None:
    """The instrumented run itself, then ``coverage json`` and the contexts per file."""
    env = _instrumented(project, cfg, work, art, workers, progress)
    _report(art, work, env)


# An increment with more tests than this runs them under pytest-xdist; fewer run serially (no worker start-up).
SERIAL_INCREMENT = 100


def _measure_increment(project: Project, cfg: Config, art: CoverageArtifacts, folder: Path,
                       inc: coverage_reuse.Increment, workers: int,
                       progress: Callable[[int, int, str], None] | None) -> bool:
    """The earlier run's artifacts with only ``inc.tests`` measured again (the suite only collected when there
    are none, for the edited modules' import lines), merged into its data file and record; the reuse is
    written to ``art.reused``. False (a full run follows) when the partial run did not run every test asked."""
    work = art.work
    if coverage_reuse.restore(folder, inc.key, art.raw, work) is None:
        return False
    part = CoverageArtifacts(raw=art.raw / "partial", work=work)
    shutil.rmtree(part.raw, ignore_errors=True)
    part.raw.mkdir(parents=True)
    subset = replace(project, tests=inc.tests) if inc.tests else project
    try:
        env = _instrumented(subset, cfg, work, part, workers if len(inc.tests) > SERIAL_INCREMENT else 1,
                            progress, () if inc.tests else ("--collect-only",))
        old, new = (json.loads(r.read_text(encoding="utf-8")) for r in (art.record, part.record))
        merged = coverage_reuse.merge_record(old, new, inc.tests)
        if merged is None:
            return False
        coverage_reuse.merge_data(art.data_file, part.data_file, [str(work / p) for p in inc.changed], inc.tests)
    except (HarnessError, OSError, ValueError, sqlite3.Error):  # e.g. a node id no longer found: a full run
        return False
    atomic_write_text(art.record, json.dumps(merged))
    shutil.copyfile(part.log, art.log)
    _report(art, work, env)
    write_json(art.reused, "coverage-reused", {"key": inc.key, "created": inc.facts.get("created"),
                                               "changed": list(inc.changed), "rerun": len(inc.tests),
                                               "tests": inc.total})
    return True


def _instrumented(project: Project, cfg: Config, work: Path, art: CoverageArtifacts, workers: int,
                  progress: Callable[[int, int, str], None] | None, extra: tuple[str, ...] = ()) -> dict[str, str]:
    """pytest under coverage.py (one data file per process, combined into ``art.data_file``); its environment."""
    spec = art.raw / "spec.json"
    write_json(spec, "coverage-spec", {"data_file": str(art.data_file), "source": _source_spec(project, work)})
    env = pytest_env(project, work)
    for name in COVERAGE_START_VARS:  # an outer measuring run's (the harness measuring itself) stays out
        env.pop(name, None)
    result = run_pytest(project, cfg, work, [*xdist_args(workers), f"--harness-record={art.record}", *extra],
                        art.log, env_extra={"HARNESS__COVERAGE": str(spec),
                                            "COVERAGE_PROCESS_CONFIG": _process_config(spec, work, env, art),
                                            "HARNESS__COVERAGE_SUBPROCESS": "1" if cfg.coverage.subprocess
                                            else "0"}, after=cfg.coverage.pytest_args,
                        on_wait=None if progress is None else lambda: _report_live(art.record, progress))
    if result.returncode in (3, 4):
        raise ToolError(f"pytest failed to start ({result.returncode}: internal or usage error); "
                        f"log {art.log}:\n{tail(art.log)}")
    # Not --keep: coverage.py's report commands would combine the kept per-process files again.
    _coverage_cli(["combine", f"--data-file={art.data_file}", str(art.raw)], work, env, art)
    return env


def _report(art: CoverageArtifacts, work: Path, env: dict[str, str]) -> None:
    """coverage.py's JSON report and the tests per file, from the combined data file."""
    _coverage_cli(["json", f"--data-file={art.data_file}", "-o", str(art.json_report),
                   "--fail-under=0", "--ignore-errors"], work, env, art)
    write_json(art.contexts, CONTEXTS_KIND, {"files": contexts_by_file(art.data_file)})


def contexts_by_file(data_file: Path) -> dict[str, list[str]]:
    """The tests (dynamic contexts) that executed each measured file, from coverage.py's SQLite data file.

    Per file, not per line: ``coverage json --show-contexts`` lists every line's contexts, which grows with
    lines x tests (gigabytes on suites of thousands of tests); the distinct (file, context) pairs stay small.
    Reads the data file's ``file``, ``context``, ``arc`` and ``line_bits`` tables (coverage.py's schema 7).
    """
    import sqlite3

    out: dict[str, set[str]] = {}
    if not data_file.is_file():  # no combined data: the json step has already said so
        return {}
    try:
        with sqlite3.connect(f"file:{data_file}?mode=ro", uri=True) as db:
            for table in ("arc", "line_bits"):
                rows = db.execute(f"SELECT DISTINCT f.path, c.context FROM {table} t "
                                  "JOIN file f ON t.file_id = f.id JOIN context c ON t.context_id = c.id")
                for path, context in rows:
                    if context:
                        out.setdefault(path, set()).add(context)
    except sqlite3.Error as exc:
        raise ArtifactError(f"coverage data {data_file} is unreadable: {exc}") from None
    return {path: sorted(tests) for path, tests in sorted(out.items())}


# The variables that make coverage.py start in a new Python process (its .pth hook).
COVERAGE_START_VARS = ("COVERAGE_PROCESS_START", "COVERAGE_PROCESS_CONFIG")


def _process_config(spec: Path, work: Path, env: dict[str, str], art: CoverageArtifacts) -> str:
    """coverage.py's serialized config for every measured process, read in the work copy (the target's own
    coverage config applies, as for ``coverage run``)."""
    proc = subprocess.run([sys.executable, "-c", "import sys, harness_pytest as h; "
                           "print(h.coverage_process_config(sys.argv[1]))", str(spec)],
                          cwd=work, env=env, capture_output=True, text=True, check=False)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        message = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
        raise ToolError(f"coverage.py could not read the target's coverage config in {work}: {message}; "
                        f"log {art.log}")
    return lines[-1]


def _coverage_cli(args: list[str], work: Path, env: dict[str, str], art: CoverageArtifacts) -> None:
    proc = subprocess.run([sys.executable, "-m", "coverage", *args], cwd=work, env=env, capture_output=True,
                          text=True, check=False)
    if proc.returncode != 0:
        message = (proc.stdout + proc.stderr).strip().splitlines()
        if "No data to combine" in proc.stdout + proc.stderr or "No data to report" in proc.stdout + proc.stderr:
            raise NoDataError(f"coverage.py saw no data: the tests imported none of the source in {art.work}; "
                              f"check 'source'; log {art.log}")
        if proc.returncode < 0:
            raise ToolError(f"coverage {args[0]} was killed by signal {-proc.returncode} (out of memory?); "
                            f"data {art.data_file}")
        raise ToolError(f"coverage {args[0]} failed: {message[-1] if message else proc.returncode}")


def parse(art: CoverageArtifacts, project: Project) -> CoverageResult:
    """Per-module coverage from coverage.py's JSON report and the run record. Pure (reads files only)."""
    record = load_record(art.record, art.log)
    check_clean(record, art.log)
    by_module = parse_report(read_report(art), project, art.work, read_contexts(art))
    if not any(c.numbers.executed for c in by_module.values()):
        raise NoDataError(f"coverage.py saw no executed line in {', '.join(project.source)}: the tests may "
                          f"import an installed copy instead of the source; log {art.log}")
    reused = read_json(art.reused, "coverage-reused") if art.reused.is_file() else None
    return CoverageResult(by_module=by_module, record=record, reused=reused)


def read_report(art: CoverageArtifacts) -> dict[str, Any]:
    """coverage.py's JSON report (``coverage json``), the one reader of that file."""
    try:
        doc = json.loads(art.json_report.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NoDataError(f"coverage.py wrote no report ({art.json_report}); log {art.log}") from None
    except MemoryError:
        raise ToolError(f"coverage report {art.json_report} is too large to load in memory") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"coverage report {art.json_report} is unreadable: {exc}") from None
    if not isinstance(doc, dict):
        raise ArtifactError(f"coverage report {art.json_report} is not a JSON object")
    return doc


def read_contexts(art: CoverageArtifacts) -> dict[str, list[str]]:
    try:
        doc = json.loads(art.contexts.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"{art.contexts} is unreadable: {exc}") from None
    if not isinstance(doc, dict):
        raise ArtifactError(f"{art.contexts} is not a JSON object")
    files = doc.get("files") if doc.get("kind") == CONTEXTS_KIND else doc
    if not isinstance(files, dict):
        raise ArtifactError(f"{art.contexts} is not a JSON object")
    return files


def _relative(filename: str, work: Path) -> str:
    p = Path(filename)
    return p.relative_to(work).as_posix() if p.is_absolute() and p.is_relative_to(work) else p.as_posix()


def files_by_path(doc: dict[str, Any], work: Path) -> dict[str, dict[str, Any]]:
    """coverage.py JSON report's file entries keyed by path relative to the work copy (POSIX)."""
    by_path: dict[str, dict[str, Any]] = {}
    for filename, data in doc.get("files", {}).items():
        by_path[_relative(filename, work)] = data
    return by_path


def parse_report(doc: dict[str, Any], project: Project, work: Path,
                 contexts: dict[str, list[str]] | None = None) -> dict[str, ModuleCoverage]:
    """coverage.py JSON report (format 3) + the tests per file (:func:`contexts_by_file`; a report made with
    ``--show-contexts`` carries them itself) -> ModuleCoverage per project module."""
    by_path = files_by_path(doc, work)
    tests_by_path = {_relative(k, work): v for k, v in (contexts or {}).items()}
    out: dict[str, ModuleCoverage] = {}
    for m in project.modules:
        data = by_path.get(m.path)
        if data is None:
            continue  # never imported and not found by coverage.py's source search: reported as unmeasured
        s = data.get("summary", {})
        numbers = CoverageNumbers(
            statements=int(s.get("num_statements", 0)),
            executed=int(s.get("covered_lines", 0)),
            excluded=int(s.get("excluded_lines", 0)),
            branches=int(s.get("num_branches", 0)),
            covered_branches=int(s.get("covered_branches", 0)),
            partial_branches=int(s.get("num_partial_branches", 0)),
        )
        tests = sorted({c for ctxs in data.get("contexts", {}).values() for c in ctxs if c}
                       | set(tests_by_path.get(m.path, ())))
        out[m.name] = ModuleCoverage(
            numbers=numbers,
            missing_lines=tuple(data.get("missing_lines", [])),
            excluded_lines=tuple(data.get("excluded_lines", [])),
            missing_arcs=tuple((int(a), int(b)) for a, b in data.get("missing_branches", [])),
            tests=tuple(tests),
        )
    return out
