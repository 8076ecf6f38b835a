"""Running the mutation driver: ``run`` prepares the sandbox, writes the driver's spec, starts the driver (a
separate process inside which mutmut runs), polls its journal for progress and stalls, restarts it when a test
crashed mutmut's process, and copies the results out of the sandbox into ``reports/raw/mutation/``."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from harness import selection_driver as selection  # issue 14 hook
from harness.collectors import mutmut_adapter as adapter
from harness.collectors.mutation import protocol
from harness.collectors.mutation import quarantine as mq
from harness.collectors.mutation.artifacts import NAME, MutationArtifacts
from harness.collectors.mutation.diagnose import MAX_CRASHES, crash_culprit, failure
from harness.collectors.mutation.protocol import (
    DIFFS_FILE,
    JOURNAL,
    STATS_FILE,
    TEST_HASHES_FILE,
    DriverSpec,
    DriverStatus,
    Shard,
    read_current,
    read_journal,
    read_plain_json,
    read_status,
)
from harness.collectors.mutation.sandbox import (
    MUTMUT_PYTEST_ARGS,
    auto_quarantine,
    config_fingerprint,
    fixes,
    hash_test_files,
    prepare_sandbox,
    selected_modules,
    source_fingerprint,
)
from harness.collectors.pytest_run import OUTER_PYTEST_VARS
from harness.config import Config
from harness.discover import Project
from harness.errors import ToolError
from harness.model import QuarantinedTest
from harness.sampling import Scope
from harness.verdict_cache import keep_stats, restore_stats, stats_key, tool_versions
from harness.workspace import Workspace, hash_files, write_json

HARNESS_HOME = Path(__file__).resolve().parents[3]  # where the running harness is imported from
ProgressFn = Callable[[int, int, float | None], None]  # done, total, ETA seconds
DRIVER_COMMAND = "from harness.collectors.mutation.driver import main; raise SystemExit(main())"
BUDGET_STOP_WAIT = 120.0  # seconds the driver gets, once the time budget stopped it, to save verdicts and diffs


class BudgetReached(Exception):
    """The mutation phase's time budget (``mutation.time_budget``) ran out."""


def run(
    project: Project,
    cfg: Config,
    ws: Workspace,
    *,
    shard: Shard | None = None,
    progress: ProgressFn | None = None,
    scope: Scope | None = None,
    quarantine: Sequence[QuarantinedTest] = (),
) -> MutationArtifacts:
    """Run mutmut in the sandbox; leaves its meta files, diffs, journal, status and quarantine under raw/mutation.

    ``quarantine``: tests the earlier phases know cannot judge mutants (flaky, broken, parallel-unsafe); they are
    left out from the start. Raises only when nothing could be measured at all (or with automatic quarantine
    off, when tests fail on mutmut's instrumented copy); everything else is in what ``parse`` returns.

    When the phase's wall time reaches ``mutation.time_budget``, mutmut is stopped as by Ctrl-C (its verdicts so
    far saved, the next run resumes) and ``art.budget`` records it: ``parse`` scores what was judged.
    """
    deadline = time.monotonic() + cfg.mutation.time_budget if cfg.mutation.time_budget else None
    modules = selected_modules(project, cfg)
    sandbox = prepare_sandbox(project, cfg, ws, modules)
    scope = scope if scope is not None and scope.active else None
    art = MutationArtifacts(raw=ws.raw / NAME, sandbox=sandbox, modules=modules, shard=shard, scope=scope)
    if art.raw.exists():
        shutil.rmtree(art.raw)
    art.raw.mkdir(parents=True)
    hashes_file = sandbox / "mutants" / TEST_HASHES_FILE
    current = hash_test_files(sandbox)
    previous = read_plain_json(hashes_file).get("tests") or {}
    changed = (
        sorted(p for p in set(current) | set(previous) if current.get(p) != previous.get(p))
        if previous and cfg.mutation.recheck_changed_tests
        else []
    )
    spec = driver_spec(project, cfg, art, changed, quarantine)
    cache_folder = ws.cache / "verdicts" if cfg.mutation.verdict_cache else None
    # issue 14 hook: line-level test selection (the coverage run's per-test line contexts), per-test budget,
    # verdict cache
    spec.update(selection.driver_spec(cfg, ws.raw / "coverage" / ".coverage", ws.work,  # type: ignore[typeddict-item]
                                      [m.path for m in project.modules], art.raw,
                                      str(cache_folder) if cache_folder else None, fixes()))
    stats_key = _restore_stats(cache_folder, art, cfg, project)
    spec["tests_listed"] = art.stats_restored.is_file()  # the bundle's key covers every file: same test ids
    write_json(
        art.fingerprint,
        "mutation-fingerprint",
        {
            "source": source_fingerprint(sandbox, modules, current),
            "config": config_fingerprint(cfg, project),
        },
    )
    returncode, status = _run_driver(spec, art, cfg, progress, project, deadline)
    _check_outcome(returncode, status, art, cfg)
    if returncode == 0 and status.get("finished") and stats_key:
        _keep_bundle(cache_folder, sandbox / "mutants", stats_key)
    _collect(art)
    (sandbox / "mutants").mkdir(exist_ok=True)
    write_json(hashes_file, "mutation-test-hashes", {"tests": current})
    return art


# mutmut's stats and the driver's quarantine record that goes with them: what a cold sandbox rebuilds with a
# full instrumented run of the suite, kept in the verdict cache folder (verdict_cache.keep_stats)
STATS_BUNDLE = (STATS_FILE, mq.QUARANTINE_FILE)


def _keep_bundle(folder: Path | None, mutants: Path, key: str) -> None:
    """Keep mutmut's stats and what it generated in the verdict cache (verdict_cache.keep_stats), verdicts left out."""
    keep_stats(folder, mutants, key, (*STATS_BUNDLE, *generated_files(mutants)), without_verdicts)


def generated_files(mutants: Path) -> list[str]:
    """What mutmut's generation left in ``mutants`` (relative names): the driver's generation record, and for
    each mutated file in it the file, its meta file and its line index."""
    record = read_plain_json(mutants / adapter.GENERATED_FILE)
    files = record.get("files")
    if not isinstance(files, dict):
        return []
    return [adapter.GENERATED_FILE,
            *(f"{path}{suffix}" for path in sorted(files) for suffix in ("", ".meta", ".spans"))]


def without_verdicts(name: str, text: str) -> str:
    """A file of the stats bundle as kept: a meta file loses its verdicts and durations (the verdict cache holds
    them under keys that check what they depend on); every other file is kept as it is."""
    if not name.endswith(".meta"):
        return text
    try:
        doc = json.loads(text)
    except ValueError:
        return text
    if isinstance(doc, dict) and isinstance(doc.get("exit_code_by_key"), dict):
        doc["exit_code_by_key"] = dict.fromkeys(doc["exit_code_by_key"])
        doc["durations_by_key"] = {}
    return json.dumps(doc)


def _restore_stats(folder: Path | None, art: MutationArtifacts, cfg: Config, project: Project) -> str:
    """Put mutmut's stats back from the verdict cache into a cold sandbox (``raw/mutation/stats-restored.json``
    says so); returns the bundle's key, under which the run keeps them when it ends ("" with no cache folder:
    nothing is hashed, kept or restored)."""
    if folder is None:
        return ""
    key = _stats_key(art.sandbox, cfg, project)
    if cfg.mutation.incremental and restore_stats(folder, art.sandbox / "mutants", key, STATS_BUNDLE):
        write_json(art.stats_restored, "mutation-stats-restored", {"key": key})
    return key


def _stats_key(sandbox: Path, cfg: Config, project: Project) -> str:
    """What mutmut's stats depend on: every file of the project copy (the tests, the code they call, their data
    and the pytest and mutmut settings), the tools, and the settings that change how tests run or are judged."""
    return stats_key({
        "files": hash_files(sandbox),
        "tools": tool_versions(),
        "config": config_fingerprint(cfg, project),  # runner, fixes, pytest options, quarantine...
        "test_timeout": cfg.timeout,
        "mutmut_pytest_args": MUTMUT_PYTEST_ARGS,
    })


def _check_outcome(returncode: int, status: DriverStatus, art: MutationArtifacts, cfg: Config) -> None:
    """Raise unless the driver finished, or the time budget stopped it once mutants were being judged."""
    if art.budget.is_file():
        if not status.get("mutants_started"):
            phase = str(status.get("phase") or "generate")
            raise ToolError(f"time budget of {cfg.mutation.time_budget:g} s (config key 'mutation.time_budget') "
                            f"reached in mutmut's {phase} phase, before any mutant was judged; the next run "
                            f"resumes; log {art.log}")
    elif (returncode != 0 or not status.get("finished")) and not status.get("all_quarantined"):
        raise failure(status, returncode, art, art.modules)


def driver_spec(
    project: Project,
    cfg: Config,
    art: MutationArtifacts,
    changed_tests: list[str],
    quarantine: Sequence[QuarantinedTest],
) -> DriverSpec:
    """What the driver is asked to do (``spec.json``, :class:`protocol.DriverSpec`)."""
    scope, shard = art.scope, art.shard
    return {
        "status": str(art.status),
        "journal": str(art.live_journal),
        "limits": str(art.limits),
        "current": str(art.current),
        "max_children": cfg.mutation.max_children or (os.cpu_count() or 1),
        "runner": cfg.mutation.runner,
        "memory_limit_mb": cfg.mutation.memory_limit_mb,
        "shard": [shard.index, shard.count] if shard else None,
        "shard_plan": dict(shard.plan) if shard and shard.plan else None,
        "changed_tests": changed_tests,
        "scope": scope.to_spec() if scope else None,
        # The target's import names: the driver drops any it has imported itself (when the target is the
        # harness), so the tests import the mutated copies and not the driver's own.
        "target_packages": sorted({m.name.split(".")[0] for m in project.modules}),
        # Quarantine: given by the earlier phases, by config, and whether the driver may add to it.
        "quarantine": [mq.to_entry(q) for q in quarantine],
        "manual_quarantine": list(cfg.mutation.quarantine),
        "auto_quarantine": auto_quarantine(cfg),
        "test_timeout": cfg.timeout,
        "fixes": fixes(),
        # For the driver's classification runs (a test alone, or on the original code) and its messages.
        "root": str(project.root),
        "tests": list(project.tests),
        "import_roots": list(project.import_roots),
        "modules": {m.path: adapter.module_of_path(m.path) for m in art.modules},
        "pytest_args": [*MUTMUT_PYTEST_ARGS, *cfg.pytest_args],
    }


def _run_driver(
    spec: DriverSpec, art: MutationArtifacts, cfg: Config, progress: ProgressFn | None, project: Project,
    deadline: float | None = None,
) -> tuple[int, DriverStatus]:
    """Start the driver; when a test crashed mutmut's process with no mutant active, quarantine it and start
    again (at most MAX_CRASHES times), until ``deadline`` (monotonic; the time budget). Returns the last start's
    exit code and status."""
    spec_file = art.raw / "spec.json"
    crashed: list[QuarantinedTest] = []
    while True:
        spec["crashed"] = [mq.to_entry(q) for q in crashed]  # found by this run: kept like the driver's finds
        write_json(spec_file, protocol.SPEC_KIND, dict(spec))
        for stale in (art.status, art.current):
            stale.unlink(missing_ok=True)
        returncode = _spawn(spec_file, art, cfg, progress, project, deadline)
        status = read_status(art.status)
        culprit = None if art.budget.is_file() else crash_culprit(returncode, status, art)
        if culprit is None or not auto_quarantine(cfg) or len(crashed) == MAX_CRASHES:
            return returncode, status
        crashed.append(culprit)  # the test crashed mutmut's process: quarantine it and run again
        art.log.rename(art.raw / f"mutmut-crash-{len(crashed)}.log")


def _driver_env(project: Project) -> dict[str, str]:
    """The driver's environment: the harness importable from where it runs now (never the target's copy, unless
    the target is the harness), the target's own PYTHONPATH and pytest options gone."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("HARNESS__") and k not in (*OUTER_PYTEST_VARS, "PYTHONPATH", "MUTANT_UNDER_TEST")
    }
    if project.root.resolve() != HARNESS_HOME:
        env["PYTHONPATH"] = str(HARNESS_HOME)
    env["PYTHONHASHSEED"] = env.get("PYTHONHASHSEED", "0")
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # pytest caches its rewritten test modules in the sandbox
    return env


def _spawn(
    spec_file: Path,
    art: MutationArtifacts,
    cfg: Config,
    progress: ProgressFn | None,
    project: Project,
    deadline: float | None = None,
) -> int:
    """Run the driver. With no sign of progress (a test starting, a mutant starting or ending, a phase) for
    ``timeout`` + 60 s, stop it and raise, naming the test or the mutants it was stuck in. At ``deadline`` (the
    time budget) stop it as Ctrl-C does, record that in ``art.budget`` and return its exit code."""
    cmd = [sys.executable, "-c", DRIVER_COMMAND, str(spec_file)]
    with art.log.open("w", encoding="utf-8") as log:
        log.write("$ (cd " + str(art.sandbox) + " && " + " ".join(cmd) + ")\n")
        log.flush()
        proc = subprocess.Popen(
            cmd,
            cwd=art.sandbox,
            env=_driver_env(project),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_ctrl_c_default,
        )
        try:
            return _watch(proc, art, cfg.timeout + 60, progress, deadline)
        except BudgetReached:  # stop mutmut as Ctrl-C does: it saves its verdicts (and diffs), the next run resumes
            phase = read_status(art.status).get("phase")
            code = _stop(proc, BUDGET_STOP_WAIT)
            write_json(art.budget, "mutation-budget", {"budget": cfg.mutation.time_budget, "phase": phase})
            return code
        except BaseException:  # Ctrl-C, a stall or a harness failure: stop mutmut, keep its saved verdicts
            _stop(proc, 10.0)
            raise


def _ctrl_c_default() -> None:
    """In the driver's process before it starts: SIGINT as by default, even when the harness was started with it
    ignored (``cmd &`` in a script, nohup): the harness stops mutmut with SIGINT so it saves its verdicts."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _stop(proc: subprocess.Popen[bytes], wait: float) -> int:
    """SIGINT the driver (mutmut stops its workers and saves what it judged); kill it after ``wait`` seconds."""
    proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def _watch(proc: subprocess.Popen[bytes], art: MutationArtifacts, stall_limit: float,
           progress: ProgressFn | None, deadline: float | None = None) -> int:
    """Poll the driver every second until it ends: report progress from its journal, raise on a stall, raise
    :class:`BudgetReached` at ``deadline``."""
    started = time.monotonic()
    last = (-1, -1)
    seen: tuple[float, ...] = ()
    changed_at = time.monotonic()
    while True:
        try:
            return proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            pass
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            raise BudgetReached
        signs = tuple(_mtime(p) for p in (art.live_journal, art.current, art.status))
        if signs != seen:
            seen, changed_at = signs, now
        elif now - changed_at > stall_limit:
            raise ToolError(stall_message(art, now - changed_at))
        if progress is not None:
            done, total, todo = journal_progress(art.live_journal)
            if total and (done, total) != last:
                last = (done, total)
                elapsed = now - started
                ran = done - (total - todo)
                eta = elapsed / ran * (total - done) if ran > 0 else None
                progress(done, total, eta)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime_ns / 1e9
    except OSError:
        return 0.0


def stall_message(art: MutationArtifacts, seconds: float) -> str:
    """One line: where a run that stopped making progress was stuck - the test running with no mutant active, or
    the mutants in flight (started, no verdict)."""
    where = read_current(art.current)
    phase = str(where.get("phase") or read_status(art.status).get("phase") or "generate")
    head = f"mutation: no progress for {seconds:.0f} s (config key 'timeout') in mutmut's {phase} phase"
    test = str(where.get("test") or "")
    if test and phase != "mutants":
        return (
            f"{head}, in test {test}; it hangs with mutmut's instrumentation: quarantine it with config key "
            f"'mutation.quarantine' (--set 'mutation.quarantine=[\"{test}\"]'); log {art.log}"
        )
    started: dict[str, None] = {}
    for event in read_journal(art.live_journal) or ():
        if event["event"] == "start":
            started[str(event.get("mutant"))] = None
        elif event["event"] == "result":
            started.pop(str(event.get("mutant")), None)
    if started:
        names = list(started)
        shown = ", ".join(names[:5]) + (f" (+{len(names) - 5} more)" if len(names) > 5 else "")
        return f"{head}; mutants still running: {shown}; log {art.log}"
    return f"{head}; log {art.log}"


def journal_progress(journal: Path) -> tuple[int, int, int]:
    """(done, total, to do at start) from the driver's journal: the in-scope mutants and verdicts so far."""
    total = todo = results = 0
    for event in read_journal(journal) or ():
        if event["event"] == "plan":
            total, todo, results = int(event["total"]), int(event["todo"]), 0
        elif event["event"] == "result":
            results += 1
    return min(total, total - todo + results), total, todo


def _collect(art: MutationArtifacts) -> None:
    """Copy mutmut's result files for the mutated modules (and their sources) out of the sandbox."""
    mutants = art.sandbox / "mutants"
    for m in art.modules:
        meta = mutants / (m.path + ".meta")
        if meta.is_file():
            (art.meta_dir / m.path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(meta, art.meta_dir / (m.path + ".meta"))
        (art.sources / m.path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(art.sandbox / m.path, art.sources / m.path)
    for name, dest in (
        (DIFFS_FILE, art.diffs),
        (STATS_FILE, art.stats),
        (JOURNAL, art.journal),
        (mq.QUARANTINE_FILE, art.quarantine),
        (adapter.GENERATED_FILE, art.generated),
    ):
        if (mutants / name).is_file():
            shutil.copyfile(mutants / name, dest)
    write_json(art.raw / "modules.json", "mutation-modules", {"modules": [m.path for m in art.modules]})
