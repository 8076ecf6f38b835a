"""Mutation collector: mutmut 3.8.1 in a sandbox copy of the target; per-mutant verdicts from its meta files.

``run`` syncs the target into ``<cache>/mutation`` (never the user's tree), writes mutmut's config there from
the harness config, and runs mutmut through :mod:`harness.collectors.mutation_driver` (mutmut's own ``run``
with a faster test runner, per-mutant limits and atomic result files), reporting done/total and ETA as
verdicts arrive. The sandbox and mutmut's ``mutants/`` stay between runs, so a second run re-tests only the
functions whose code changed (mutmut's function hashes) plus survivors and no-test mutants whose covering
tests changed, and a killed run resumes where it stopped. Artifacts land in ``reports/raw/mutation/``;
``parse`` is pure.

A test that cannot judge mutants leaves the phase, never the run (``harness.collectors.mutation_quarantine``):
given by the earlier phases (``run(quarantine=...)``), listed by config (``mutation.quarantine``), or found by
the driver failing on mutmut's instrumented copy with no mutant active. The result lists them with their cause
(``MutationResult.quarantined``); a module whose mutants no remaining test can judge, or whose results do not
match what mutmut generated, is not measured (``MutationResult.unmeasured``), never n/a and never a score.

Mutation score (Stryker's definition) = detected / valid, detected = killed + timeout,
valid = detected + survived + no coverage; score on covered code = detected / (detected + survived).
Suspicious, skipped, interrupted and not-checked mutants are reported separately, outside both.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.collectors import mutation_quarantine as mq
from harness.collectors import mutmut_adapter as adapter
from harness.collectors.pytest_run import BASE_ARGS
from harness.config import Config
from harness.discover import SKIP_DIRS, ModuleInfo, Project, is_test_file
from harness.errors import ArtifactError, ConfigError, NoDataError, ToolError
from harness.model import (
    Metric,
    ModuleMutation,
    Mutant,
    MutantStatus,
    MutationCounts,
    QuarantineCause,
    QuarantinedTest,
    Unmeasured,
)
from harness.sampling import Scope, sample, wilson
from harness.serialize import from_data, to_data
from harness.workspace import Workspace, atomic_write_text, read_json, sync_copy, write_json

NAME = "mutation"
RESULTS_FILE = "mutation.json"
RESULTS_KIND = "mutation-results"
JOURNAL = "harness-journal.jsonl"
HARNESS_HOME = Path(__file__).resolve().parents[2]  # where the running harness is imported from

# pytest options of every mutmut phase, after mutmut's own (-x, --rootdir, no:randomly): the harness's base
# options minus its own plugin and output flags, and no xdist inside mutmut's processes.
MUTMUT_PYTEST_ARGS: tuple[str, ...] = (
    *(
        a
        for pair in zip(BASE_ARGS[::2], BASE_ARGS[1::2], strict=False)
        if pair[0] in ("-p", "-o") and pair[1] != "harness_pytest"
        for a in pair
    ),
    "-p",
    "no:xdist",
)
# Everything else at the top of the sandbox is copied into mutmut's work copy (conftest.py, pytest.ini,
# tox.ini, data folders...), except what mutmut copies itself or must not see.
NOT_ALSO_COPIED = frozenset({"mutants", "setup.cfg", "pyproject.toml"})
# Hidden files are copied too (``.pytest.ini``, ``.env``: without its own ``.pytest.ini`` the work copy's pytest
# finds the sandbox's one folder up, whose ``pythonpath`` then puts the unmutated code first), but not hidden
# folders (VCS, caches), the harness's own files or coverage data.
HIDDEN_NOT_COPIED = (".harness", ".coverage")

ProgressFn = Callable[[int, int, float | None], None]  # done, total, ETA seconds


@dataclass(frozen=True)
class Shard:
    """``K/N``: the K-th (1-based) of N deterministic slices of the mutants."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
        if not match or not 1 <= int(match[1]) <= int(match[2]):
            raise ConfigError(f"shard must be K/N with 1 <= K <= N (e.g. 1/4), got {text!r}")
        return cls(int(match[1]), int(match[2]))

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


@dataclass(frozen=True)
class MutationArtifacts:
    raw: Path  # reports/raw/mutation
    sandbox: Path
    modules: tuple[ModuleInfo, ...]  # the modules mutmut was asked to mutate
    shard: Shard | None = None
    scope: Scope | None = None  # sampling / diff mode (harness.sampling); None: every mutant

    @property
    def meta_dir(self) -> Path:
        return self.raw / "meta"

    @property
    def status(self) -> Path:
        return self.raw / "status.json"

    @property
    def journal(self) -> Path:
        """This run's journal (copied from the sandbox's at the end): the plan, then each verdict."""
        return self.raw / "journal.jsonl"

    @property
    def live_journal(self) -> Path:
        """The driver's journal in the sandbox: it outlives a killed run, whose next run replays it."""
        return self.sandbox / "mutants" / JOURNAL

    @property
    def limits(self) -> Path:
        return self.raw / "limits.jsonl"

    @property
    def diffs(self) -> Path:
        return self.raw / "diffs.json"

    @property
    def log(self) -> Path:
        return self.raw / "mutmut.log"

    @property
    def sources(self) -> Path:
        return self.raw / "sources"

    @property
    def quarantine(self) -> Path:
        """The driver's quarantine record (copied from the sandbox): every quarantined test and its cause."""
        return self.raw / "quarantine.json"

    @property
    def generated(self) -> Path:
        """What mutmut generated for each mutated file (the driver's record): the run's mutant sets."""
        return self.raw / "generated.json"

    @property
    def stats(self) -> Path:
        return self.raw / "mutmut-stats.json"

    @property
    def current(self) -> Path:
        """The test or phase the driver is in now (read when a run stops making progress)."""
        return self.raw / "current.json"

    @property
    def fingerprint(self) -> Path:
        return self.raw / "fingerprint.json"


@dataclass(frozen=True)
class ModuleGeneration:
    """What mutmut generated for one module (before scope and shard), and how many of them are in scope."""

    mutants: int
    digest: str
    in_scope: int


@dataclass(frozen=True)
class MutationResult:
    by_module: dict[str, ModuleMutation]
    shard: Shard | None
    mutants_digest: (
        str  # the whole run's mutant names (every shard's), to check merged shards belong together
    )
    mutants_total: int
    run_seconds: float = 0.0
    executed_this_run: int = 0
    notes: tuple[str, ...] = ()
    # Tests left out of the mutation phase (given, manual and found), each with its cause.
    quarantined: tuple[QuarantinedTest, ...] = ()
    # Modules whose mutation score could not be measured (no usable test left, results lost), with the cause.
    unmeasured: tuple[Unmeasured, ...] = ()
    # sha256 prefixes of the measured code (mutated modules and test files) and of the verdict-relevant config:
    # `harness merge` refuses shards that differ in either.
    source_fingerprint: str = ""
    config_fingerprint: str = ""
    generation: dict[str, ModuleGeneration] = field(default_factory=dict)
    # mutmut's function key (pkg.mod.x_f) -> the quarantined tests that executed it.
    quarantine_cover: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Modules whose results broke the run's invariant (not the mutants generation produced); their cells in
    # ``unmeasured`` come from the run, never recomputed by a merge.
    lost: tuple[str, ...] = ()


# --------------------------------------------------------------------------------------------------- sandbox


def sandbox_dir(ws: Workspace) -> Path:
    return ws.cache / NAME


def selected_modules(project: Project, cfg: Config) -> tuple[ModuleInfo, ...]:
    """The measured modules mutmut mutates: ``mutation.modules`` globs (all when empty) minus ``exclude``."""
    s = cfg.mutation
    out = tuple(
        m
        for m in project.modules
        if (not s.modules or any(fnmatch.fnmatchcase(m.name, p) for p in s.modules))
        and not any(fnmatch.fnmatchcase(m.name, p) for p in s.exclude)
    )
    if not out:
        raise ConfigError("config keys 'mutation.modules'/'mutation.exclude' leave no module to mutate")
    return out


def _toml_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def mutmut_config(project: Project, cfg: Config, modules: Sequence[ModuleInfo], sandbox: Path) -> str:
    """mutmut's ``[tool.mutmut]`` table for the sandbox, from the harness config."""
    s = cfg.mutation
    sources = sorted({e for e in project.source})
    tops = {Path(e).parts[0] for e in sources}
    also = sorted(
        p.name
        for p in sandbox.iterdir()
        if p.name not in NOT_ALSO_COPIED
        and p.name not in tops
        and p.name not in SKIP_DIRS
        and not (p.name.startswith(".") and (p.is_dir() or p.name.startswith(HIDDEN_NOT_COPIED)))
        and not p.name.endswith(".egg-info")
    )
    only = [m.path for m in modules]
    lines = [
        "[tool.mutmut]",
        f"source_paths = {_toml_list(sources)}",
        f"only_mutate = {_toml_list(only)}",
        f"do_not_mutate = {_toml_list(sorted({m.path for m in project.modules} - set(only)))}",
        f"also_copy = {_toml_list(also)}",
        f"pytest_add_cli_args = {_toml_list([*MUTMUT_PYTEST_ARGS, *cfg.pytest_args])}",
        f"pytest_add_cli_args_test_selection = {_toml_list(project.tests)}",
        f"timeout_multiplier = {s.timeout_multiplier!r}",
        f"timeout_constant = {s.timeout_constant!r}",
        'process_isolation = "fork"',
        "use_git_change_detection = false",
        "use_setproctitle = false",
        'on_dependency_change = "ignore"',
    ]
    return "\n".join(lines) + "\n"


_MUTMUT_TABLE = re.compile(r"^\[tool\.mutmut(\.[^\]]*)?\]\s*$")


def _with_config(pyproject_text: str, table: str) -> str:
    """The target's pyproject.toml with any ``[tool.mutmut]`` table replaced by the harness's."""
    out: list[str] = []
    skipping = False
    for line in pyproject_text.splitlines():
        if line.lstrip().startswith("["):
            skipping = bool(_MUTMUT_TABLE.match(line.strip()))
        if not skipping:
            out.append(line)
    return "\n".join(out).rstrip() + "\n\n" + table


def prepare_sandbox(project: Project, cfg: Config, ws: Workspace, modules: Sequence[ModuleInfo]) -> Path:
    """Sync the target into the sandbox (keeping mutmut's ``mutants/``) and write mutmut's config there."""
    sandbox = sandbox_dir(ws)
    if not cfg.mutation.incremental and (sandbox / "mutants").exists():
        shutil.rmtree(sandbox / "mutants")
    sync_copy(project.root, sandbox, ws.excluded())
    pyproject = sandbox / "pyproject.toml"
    original = pyproject.read_text(encoding="utf-8") if pyproject.is_file() else ""
    atomic_write_text(pyproject, _with_config(original, mutmut_config(project, cfg, modules, sandbox)))
    return sandbox


def hash_test_files(sandbox: Path) -> dict[str, str]:
    """sha256 of every test file and conftest.py in the sandbox (outside ``mutants/``), by relative path."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(sandbox):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        for name in filenames:
            if not name.endswith(".py"):
                continue
            rel = (Path(dirpath) / name).relative_to(sandbox).as_posix()
            if is_test_file(rel):
                out[rel] = hashlib.sha256((Path(dirpath) / name).read_bytes()).hexdigest()
    return out


# --------------------------------------------------------------------------------------------------- run


def auto_quarantine(cfg: Config) -> bool:
    """Quarantine tests that fail on mutmut's instrumented copy? Off with ``gate.strict`` (and so the release
    profile): a strict run fails, naming them, instead of measuring without them."""
    return cfg.mutation.auto_quarantine and not cfg.gate.strict


def config_fingerprint(cfg: Config, project: Project) -> str:
    """sha256 prefix of every setting that can change a verdict or the set of mutants (not the shard, the
    number of workers or the cache policy)."""
    s = cfg.mutation
    relevant = {
        "modules": s.modules,
        "exclude": s.exclude,
        "runner": s.runner,
        "timeout_multiplier": s.timeout_multiplier,
        "timeout_constant": s.timeout_constant,
        "memory_limit_mb": s.memory_limit_mb,
        "quarantine": s.quarantine,
        "auto_quarantine": auto_quarantine(cfg),
        "pytest_args": cfg.pytest_args,
        "tests": project.tests,
        "source": project.source,
        "sample": [cfg.sample.mutants, cfg.sample.seed],
        "since": cfg.since,
        "fixes": _fixes(),
    }
    return hashlib.sha256(json.dumps(relevant, sort_keys=True, default=list).encode()).hexdigest()[:16]


def source_fingerprint(sandbox: Path, modules: Sequence[ModuleInfo], test_hashes: Mapping[str, str]) -> str:
    """sha256 prefix of the mutated modules' sources and of every test file (the code a verdict depends on)."""
    h = hashlib.sha256()
    for m in sorted(modules, key=lambda m: m.path):
        try:
            h.update(f"{m.path}\0".encode() + (sandbox / m.path).read_bytes() + b"\0")
        except OSError:
            h.update(f"{m.path}\0missing\0".encode())
    for path, digest in sorted(test_hashes.items()):
        h.update(f"{path}\0{digest}\0".encode())
    return h.hexdigest()[:16]


def _fixes() -> list[str]:
    """The driver's fixes (all by default; ``HARNESS__MUTATION_FIXES=recursion,pickling`` for measuring them)."""
    text = os.environ.get("HARNESS__MUTATION_FIXES")
    if text is None:
        return list(adapter.INSTRUMENTATION_FIXES)
    return sorted(f.strip() for f in text.split(",") if f.strip())


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
    """
    modules = selected_modules(project, cfg)
    sandbox = prepare_sandbox(project, cfg, ws, modules)
    scope = scope if scope is not None and scope.active else None
    art = MutationArtifacts(raw=ws.raw / NAME, sandbox=sandbox, modules=modules, shard=shard, scope=scope)
    if art.raw.exists():
        shutil.rmtree(art.raw)
    art.raw.mkdir(parents=True)
    hashes_file = sandbox / "mutants" / "harness-test-hashes.json"
    current = hash_test_files(sandbox)
    previous = _read_plain_json(hashes_file)
    changed = (
        sorted(p for p in set(current) | set(previous) if current.get(p) != previous.get(p))
        if previous and cfg.mutation.recheck_changed_tests
        else []
    )
    spec = {
        "status": str(art.status),
        "journal": str(art.live_journal),
        "limits": str(art.limits),
        "current": str(art.current),
        "max_children": cfg.mutation.max_children or (os.cpu_count() or 1),
        "runner": cfg.mutation.runner,
        "memory_limit_mb": cfg.mutation.memory_limit_mb,
        "shard": [shard.index, shard.count] if shard else None,
        "changed_tests": changed,
        "scope": scope.to_spec() if scope else None,
        # The target's import names: the driver drops any it has imported itself (when the target is the
        # harness), so the tests import the mutated copies and not the driver's own.
        "target_packages": sorted({m.name.split(".")[0] for m in project.modules}),
        # Quarantine: given by the earlier phases, by config, and whether the driver may add to it.
        "quarantine": [mq.to_entry(q) for q in quarantine],
        "manual_quarantine": list(cfg.mutation.quarantine),
        "auto_quarantine": auto_quarantine(cfg),
        "test_timeout": cfg.timeout,
        "fixes": _fixes(),
        # For the driver's classification runs (a test alone, or on the original code) and its messages.
        "root": str(project.root),
        "tests": list(project.tests),
        "import_roots": list(project.import_roots),
        "modules": {m.path: adapter.module_of_path(m.path) for m in modules},
        "pytest_args": [*MUTMUT_PYTEST_ARGS, *cfg.pytest_args],
    }
    spec_file = art.raw / "spec.json"
    write_json(
        art.fingerprint,
        "mutation-fingerprint",
        {
            "source": source_fingerprint(sandbox, modules, current),
            "config": config_fingerprint(cfg, project),
        },
    )
    crashed: list[QuarantinedTest] = []
    for attempt in range(MAX_CRASHES + 1):
        spec["crashed"] = [mq.to_entry(q) for q in crashed]  # found by this run: kept like the driver's finds
        spec_file.write_text(json.dumps(spec, indent=1), encoding="utf-8")
        for stale in (art.status, art.current):
            stale.unlink(missing_ok=True)
        returncode = _spawn(spec_file, sandbox, art, cfg, progress, project)
        status = _read_plain_json(art.status)
        culprit = crash_culprit(returncode, status, art)
        if culprit is None or not auto_quarantine(cfg) or attempt == MAX_CRASHES:
            break
        crashed.append(culprit)  # the test crashed mutmut's process: quarantine it and run again
        art.log.rename(art.raw / f"mutmut-crash-{attempt + 1}.log")
    if (returncode != 0 or not status.get("finished")) and not status.get("all_quarantined"):
        raise _failure(status, returncode, art, modules)
    _collect(art)
    (sandbox / "mutants").mkdir(exist_ok=True)
    atomic_write_text(hashes_file, json.dumps(current))
    return art


MAX_CRASHES = 3  # tests that crash mutmut's process (a fatal signal) quarantined, one per new start of the driver


def crash_culprit(returncode: int, status: Mapping[str, Any], art: MutationArtifacts) -> QuarantinedTest | None:
    """The test that crashed mutmut's process with no mutant active (a segfault in the stats or clean run, or in
    the clean run's second pass), as a quarantine entry; None when the driver did not die that way."""
    test = str(status.get("crashed_test") or "")
    code = int(status.get("crash") or returncode)
    if not test:
        where = _read_plain_json(art.current)
        if returncode >= 0 or str(where.get("phase")) in ("mutants", "collect", ""):
            return None
        test = str(where.get("test") or "")
    if not test:
        return None
    how = f"signal {signal.Signals(-code).name}" if code < 0 and -code in signal.valid_signals() else f"exit {code}"
    return QuarantinedTest(
        nodeid=test,
        cause=QuarantineCause.INSTRUMENTED,
        detail=f"crashed mutmut's test process ({how}) on the instrumented copy with no mutant active",
        reproduce=mq.reproduce_instrumented(str(art.sandbox / "mutants"), test, after=()),
    )


def _driver_env(project: Project) -> dict[str, str]:
    """The driver's environment: the harness importable from where it runs now (never the target's copy, unless
    the target is the harness), the target's own PYTHONPATH and pytest options gone."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("HARNESS__") and k not in ("PYTEST_ADDOPTS", "PYTHONPATH", "MUTANT_UNDER_TEST")
    }
    if project.root.resolve() != HARNESS_HOME:
        env["PYTHONPATH"] = str(HARNESS_HOME)
    env["PYTHONHASHSEED"] = env.get("PYTHONHASHSEED", "0")
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # pytest caches its rewritten test modules in the sandbox
    return env


def _spawn(
    spec_file: Path,
    sandbox: Path,
    art: MutationArtifacts,
    cfg: Config,
    progress: ProgressFn | None,
    project: Project,
) -> int:
    """Run the driver. With no sign of progress (a test starting, a mutant starting or ending, a phase) for
    ``timeout`` + 60 s, stop it and raise, naming the test or the mutants it was stuck in."""
    code = "from harness.collectors.mutation_driver import main; raise SystemExit(main())"
    cmd = [sys.executable, "-c", code, str(spec_file)]
    started = time.monotonic()
    stall_limit = cfg.timeout + 60
    with art.log.open("w", encoding="utf-8") as log:
        log.write("$ (cd " + str(sandbox) + " && " + " ".join(cmd) + ")\n")
        log.flush()
        proc = subprocess.Popen(
            cmd,
            cwd=sandbox,
            env=_driver_env(project),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            last = (-1, -1)
            seen: tuple[float, ...] = ()
            changed_at = time.monotonic()
            while True:
                try:
                    rc = proc.wait(timeout=1.0)
                    break
                except subprocess.TimeoutExpired:
                    pass
                now = time.monotonic()
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
        except BaseException:  # Ctrl-C, a stall or a harness failure: stop mutmut, keep its saved verdicts
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            raise
    return rc


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime_ns / 1e9
    except OSError:
        return 0.0


def stall_message(art: MutationArtifacts, seconds: float) -> str:
    """One line: where a run that stopped making progress was stuck - the test running with no mutant active, or
    the mutants in flight (started, no verdict)."""
    where = _read_plain_json(art.current)
    phase = str(where.get("phase") or _read_plain_json(art.status).get("phase") or "generate")
    head = f"mutation: no progress for {seconds:.0f} s (config key 'timeout') in mutmut's {phase} phase"
    test = str(where.get("test") or "")
    if test and phase != "mutants":
        return (
            f"{head}, in test {test}; it hangs with mutmut's instrumentation: quarantine it with config key "
            f"'mutation.quarantine' (--set 'mutation.quarantine=[\"{test}\"]'); log {art.log}"
        )
    started: dict[str, None] = {}
    for line in _read_text(art.live_journal).splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if event.get("event") == "start":
            started[str(event.get("mutant"))] = None
        elif event.get("event") == "result":
            started.pop(str(event.get("mutant")), None)
    if started:
        names = list(started)
        shown = ", ".join(names[:5]) + (f" (+{len(names) - 5} more)" if len(names) > 5 else "")
        return f"{head}; mutants still running: {shown}; log {art.log}"
    return f"{head}; log {art.log}"


def journal_progress(journal: Path) -> tuple[int, int, int]:
    """(done, total, to do at start) from the driver's journal: the in-scope mutants and verdicts so far."""
    total = todo = results = 0
    try:
        text = journal.read_text(encoding="utf-8")
    except OSError:
        return 0, 0, 0
    for line in text.splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line being written
        if event.get("event") == "plan":
            total, todo, results = int(event["total"]), int(event["todo"]), 0
        elif event.get("event") == "result":
            results += 1
    return min(total, total - todo + results), total, todo


def _read_plain_json(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return doc if isinstance(doc, dict) else {}


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
        ("harness-diffs.json", art.diffs),
        ("mutmut-stats.json", art.stats),
        (JOURNAL, art.journal),
        (mq.QUARANTINE_FILE, art.quarantine),
        (adapter.GENERATED_FILE, art.generated),
    ):
        if (mutants / name).is_file():
            shutil.copyfile(mutants / name, dest)
    (art.raw / "modules.json").write_text(json.dumps([m.path for m in art.modules]), encoding="utf-8")


# --------------------------------------------------------------------------------------------------- failures

FAILED_PHASE = {
    "generate": "mutmut could not generate the mutants",
    "stats": "the tests fail on mutmut's instrumented copy (stats run)",
    "associations": "mutmut found no test for any mutated function under the module names it expects",
    "clean": "the clean run failed: the tests fail on mutmut's instrumented copy with no mutant active",
    "forced_fail": "mutmut's forced-fail check failed: making every mutated function raise failed no test",
}


def _failure(  # KeyboardInterrupt when mutmut was interrupted, else the HarnessError naming the cause
    status: Mapping[str, Any],
    returncode: int,
    art: MutationArtifacts,
    modules: Sequence[ModuleInfo],
) -> BaseException:
    if status.get("interrupted") or returncode in (130, -signal.SIGINT):
        return KeyboardInterrupt()
    phase = str(status.get("phase", "generate")).removesuffix("-classify")
    log_text = _read_text(art.log)
    unjudging = [e for e in status.get("unjudging") or () if isinstance(e, Mapping)]
    if unjudging:
        shown = "; ".join(f"{e.get('nodeid')} ({e.get('cause')}: {e.get('detail')})" for e in unjudging[:3])
        more = f" and {len(unjudging) - 3} more" if len(unjudging) > 3 else ""
        return ToolError(
            f"{len(unjudging)} test(s) fail on mutmut's instrumented copy with no mutant active: {shown}{more}; "
            f"automatic quarantine is off (config key 'mutation.auto_quarantine' or 'gate.strict'): quarantine "
            f"them with config key 'mutation.quarantine' or turn it on; log {art.log}"
        )
    crash = crash_culprit(returncode, status, art)
    if crash is not None:
        return ToolError(
            f"{crash.nodeid} {crash.detail.replace('on the instrumented copy', 'in its ' + phase + ' phase')}; "
            f"automatic quarantine is off or gave up after {MAX_CRASHES} crashes: quarantine it with config key "
            f"'mutation.quarantine'; log {art.log}"
        )
    if "could not find any test case for any mutant" in log_text:
        return NoDataError(
            f"no test executes any mutated function of {', '.join(m.name for m in modules)}; log {art.log}"
        )
    failing = [str(t) for t in status.get("failed_tests", [])]
    shown = f" (failing: {', '.join(failing[:3])})" if failing else ""
    reason = FAILED_PHASE.get(phase, f"mutmut stopped in its {phase} phase")
    last = _last_line(log_text)
    return ToolError(
        f"{reason}{shown}; refusing to score mutants"
        + (f" (mutmut's last words: {last})" if last else "")
        + f"; log {art.log}"
    )


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("$ ")]
    line = lines[-1] if lines else ""
    return line if len(line) <= 200 else line[:197] + "..."


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


# --------------------------------------------------------------------------------------------------- parse


def parse(art: MutationArtifacts, project: Project) -> MutationResult:
    """Per-module mutation results from mutmut's meta files, the diffs, the sources and the driver's records
    (generation, quarantine, limits). Pure (reads files).

    A module is *not measured* (an :class:`~harness.model.Unmeasured` entry, never n/a and never a score) when
    its mutants at the end are not the set generation produced (results missing, unreadable or changed during
    the run), or when none of its mutants got a verdict from a test: every covering test quarantined, or every
    mutant suspicious, interrupted or unchecked.
    """
    diffs_doc = _read_plain_json(art.diffs)
    limits = _limits(art.limits)
    status = _read_plain_json(art.status)
    generated = _generated(art.generated)
    entries = [e for e in _read_plain_json(art.quarantine).get("tests") or () if isinstance(e, Mapping)]
    quarantined = tuple(mq.from_entry(e) for e in entries)
    cover = {k: tuple(v) for k, v in mq.covering_by_function(entries).items()}
    cause_by_test = {q.nodeid: q.cause.value for q in quarantined}
    by_module: dict[str, ModuleMutation] = {}
    generation: dict[str, ModuleGeneration] = {}
    unmeasured: list[Unmeasured] = []
    lost_modules: list[str] = []
    all_names: list[str] = []
    population, selected = _scoped(art)
    for m in art.modules:
        meta_path = art.meta_dir / (m.path + ".meta")
        source = _read_text(art.sources / m.path)
        reach = _reach(source, m.path)
        meta, problem = _load_meta(meta_path)
        gen = generated.get(m.path) if generated is not None else None
        gen_names = list(gen["mutants"]) if gen is not None and isinstance(gen.get("mutants"), list) else None
        keys = list(meta.exit_code_by_key) if meta else []
        lost = lost_results(m, keys, problem, gen_names, gen, generated is not None)
        if lost:
            unmeasured.append(Unmeasured(m.name, Metric.MUTATION_SCORE, lost))
            lost_modules.append(m.name)
        names = gen_names if gen_names is not None else keys
        all_names += names
        in_population = sum(1 for k in keys if k in population) if population is not None else 0
        if selected is not None:
            keys = [k for k in keys if k in selected]
        generation[m.name] = ModuleGeneration(mutants=len(names), digest=names_digest(names), in_scope=len(keys))
        if art.shard is not None:
            keys = [k for k in keys if in_shard(k, art.shard)]
        mutants = []
        for key in sorted(keys, key=mutant_order):
            assert meta is not None
            code = meta.exit_code_by_key[key]
            entry = diffs_doc.get(key)
            diff = str(entry[1]) if isinstance(entry, list) and len(entry) == 2 else ""
            function = adapter.function_name(key)
            status_ = adapter.status_of(code)
            mutants.append(
                Mutant(
                    name=key,
                    module=m.name,
                    function=function,
                    line=adapter.mutated_line(diff, source, function) if diff else None,
                    status=status_,
                    diff=diff,
                    duration=meta.durations_by_key.get(key),
                    note=_mutant_note(key, status_, limits, cover, cause_by_test),
                )
            )
        counts = MutationCounts.from_statuses(x.status for x in mutants)
        reason = None
        if not lost and not keys and gen_names == [] and not (meta and meta.exit_code_by_key):
            reason = "mutmut found nothing to mutate: " + (
                "no function it can mutate (module-level code, "
                "class bodies and decorated functions are out of its reach)"
                if reach.mutable_statements == 0
                else "its functions hold no mutable expression"
            )
        mm = ModuleMutation(
            counts=counts,
            mutants=tuple(mutants),
            statements=reach.statements,
            mutable_statements=reach.mutable_statements,
            unmutable_functions=reach.unmutable_functions,
            not_mutated_reason=reason,
            population=in_population if art.scope is not None and art.scope.sample else 0,
        )
        by_module[m.name] = mm
        if not lost:
            cell = mq.module_unmeasured(m.name, mm, cover, cause_by_test, limits.errors)
            if cell is not None:
                unmeasured.append(cell)
    for left_out in (m for m in project.modules if m not in art.modules):
        by_module[left_out.name] = ModuleMutation(
            counts=MutationCounts(),
            not_mutated_reason="not mutated: left out by config keys 'mutation.modules'/'mutation.exclude'",
        )
    scope = sum(mm.counts.total for mm in by_module.values())
    if not all_names and not unmeasured:
        raise NoDataError(
            f"mutmut generated zero mutants in {', '.join(m.name for m in art.modules)}: nothing "
            f"it can mutate (module-level code, class bodies, decorated functions); log {art.log}"
        )
    notes = [str(n) for n in status.get("notes") or () if isinstance(n, str)]
    if art.shard is not None:
        notes.append(
            f"mutation: shard {art.shard} holds {scope} of {len(all_names)} mutants; combine the "
            f"shards with `harness merge`"
        )
    notes += _scope_notes(art, by_module, population)
    notes += mq.quarantine_notes(quarantined, _read_plain_json(art.quarantine), by_module)
    if limits.memory:
        notes.append(
            f"mutation: {len(limits.memory)} mutant(s) killed by the memory limit (mutation.memory_limit_mb)"
        )
    if limits.errors:
        first = next(iter(limits.errors.values()))
        notes.append(
            f"mutation: the harness's runner failed on {len(limits.errors)} mutant(s), counted suspicious "
            f"(first: {first}); details in {art.limits}"
        )
    if limits.warnings:
        notes.append(f"mutation: {next(iter(limits.warnings))} ({len(limits.warnings)} mutant(s))")
    unchecked = sum(mm.counts.not_checked + mm.counts.interrupted for mm in by_module.values())
    if unchecked:
        notes.append(
            f"mutation: {unchecked} mutant(s) in scope were not checked (interrupted or left over) and are not in "
            f"any score; run again to check them"
        )
    suspicious = sum(mm.counts.suspicious for mm in by_module.values())
    if suspicious:
        notes.append(
            f"mutation: {suspicious} suspicious mutant(s) (their test process crashed or was killed by a signal) "
            f"are in no score"
        )
    started = status.get("mutants_started") or status.get("started")
    ended = status.get("ended")
    seconds = float(ended) - float(started) if started and ended else 0.0
    prints = _read_plain_json(art.fingerprint)
    return MutationResult(
        by_module=by_module,
        shard=art.shard,
        mutants_digest=names_digest(all_names),
        mutants_total=len(all_names),
        run_seconds=seconds,
        executed_this_run=_journal_results(art.journal),
        notes=tuple(notes),
        quarantined=quarantined,
        unmeasured=tuple(unmeasured),
        source_fingerprint=str(prints.get("source", "")),
        config_fingerprint=str(prints.get("config", "")),
        generation=generation,
        quarantine_cover=cover,
        lost=tuple(lost_modules),
    )


def _load_meta(path: Path) -> tuple[adapter.MetaFile | None, str | None]:
    """(meta file, None), or (None, why not: "missing" or how it is unreadable)."""
    if not path.is_file():
        return None, "missing"
    try:
        return adapter.load_meta(path), None
    except ArtifactError as exc:
        return None, str(exc)


def _generated(path: Path) -> dict[str, dict[str, Any]] | None:
    """The driver's generation record: mutated file path -> {mutants, sha256, problem}; None when missing."""
    doc = _read_plain_json(path)
    files = doc.get("files")
    if not isinstance(files, dict):
        return None
    return {str(k): v for k, v in files.items() if isinstance(v, dict)}


def lost_results(
    module: ModuleInfo,
    keys: Sequence[str],
    problem: str | None,
    generated: Sequence[str] | None,
    entry: Mapping[str, Any] | None,
    have_record: bool,
) -> str | None:
    """The invariant of a mutation run: a module's mutants at the end are exactly those generation produced.
    None when they are; else why the module cannot be scored (one sentence)."""
    if not have_record:
        return (
            "the mutation driver's record of what mutmut generated is missing, so this module's results cannot "
            "be checked; run again"
        )
    if generated is None:
        why = str(entry.get("problem")) if entry else "no mutated file was recorded"
        return f"mutmut generated no readable set of mutants for {module.path} ({why}); run again"
    if problem == "missing":
        if not generated:
            return None
        return (
            f"mutmut's results for {module.name} are missing (its meta file was deleted during the run?) although "
            f"generation produced {len(generated)} mutants; the next run regenerates them"
        )
    if problem is not None:
        return f"mutmut's results for {module.name} are unreadable ({problem}); the next run rebuilds them"
    if sorted(keys) != sorted(generated):
        return (
            f"mutmut's results for {module.name} hold {len(keys)} mutants but generation produced "
            f"{len(generated)}; the next run regenerates them"
        )
    return None


@dataclass(frozen=True)
class Limits:
    """The driver's limits log: mutants killed by the memory cap, runner errors, warnings (by mutant)."""

    memory: frozenset[str] = frozenset()
    errors: dict[str, str] = field(default_factory=dict)
    warnings: dict[str, str] = field(default_factory=dict)


def _limits(path: Path) -> Limits:
    memory: set[str] = set()
    errors: dict[str, str] = {}
    warnings: dict[str, str] = {}
    for line in _read_text(path).splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(event, dict):
            continue
        mutant = str(event.get("mutant"))
        if event.get("limit") == "memory":
            memory.add(mutant)
        if event.get("error"):
            errors.setdefault(mutant, str(event["error"]))
        if event.get("warning"):
            warnings.setdefault(str(event["warning"]), mutant)
    return Limits(memory=frozenset(memory), errors=errors, warnings=warnings)


def _mutant_note(
    key: str,
    status: MutantStatus,
    limits: Limits,
    cover: Mapping[str, Sequence[str]],
    cause_by_test: Mapping[str, str],
) -> str:
    if key in limits.memory:
        return "killed by the memory limit"
    if key in limits.errors:
        return f"the harness's runner failed: {limits.errors[key]}"
    if status in (MutantStatus.NO_COVERAGE, MutantStatus.NOT_CHECKED):
        tests = cover.get(adapter.stats_key(key))
        if tests:
            return mq.quarantine_note(list(tests), cause_by_test)
    return ""


def _reach(source: str, path: str) -> adapter.Reach:
    try:
        return adapter.reach(source)
    except (SyntaxError, ValueError):
        raise ArtifactError(f"cannot parse {path} to measure what mutmut can reach") from None


def _scoped(art: MutationArtifacts) -> tuple[set[str] | None, set[str] | None]:
    """(population, selection) of a sampled or diff-mode run, from every mutant in the meta files - the
    driver's rule (harness.sampling) on the same names; (None, None) when every mutant is in scope."""
    if art.scope is None:
        return None, None
    names: list[str] = []
    for m in art.modules:
        meta, _problem = _load_meta(art.meta_dir / (m.path + ".meta"))
        if meta is not None:
            names += meta.exit_code_by_key
    population = art.scope.population(names, adapter.location)
    return population, sample(population, art.scope.sample, art.scope.seed)


def _scope_notes(
    art: MutationArtifacts, by_module: Mapping[str, ModuleMutation], population: set[str] | None
) -> list[str]:
    scope = art.scope
    if scope is None or population is None:
        return []
    notes = []
    if scope.functions is not None:
        changed = sum(len(fs) for fs in scope.functions.values())
        notes.append(
            f"mutation: diff mode since {scope.since}: only the {len(population)} mutants of the "
            f"{changed} function(s) changed were tested"
        )
    if scope.sample:
        counts = sum((mm.counts for mm in by_module.values()), start=MutationCounts())
        bounds = wilson(counts.detected, counts.valid)
        score = f"{counts.score:.1f} %" if counts.score is not None else "n/a"
        shown = f"; 95 % interval {bounds[0]:.1f}-{bounds[1]:.1f} % (Wilson)" if bounds else ""
        notes.append(
            f"mutation: a random sample of {counts.total} of {len(population)} mutants (seed "
            f"{scope.seed}): score {score}{shown}"
        )
    return notes


def mutant_order(key: str) -> tuple[str, int]:
    base, _, n = key.rpartition("__mutmut_")
    return base, int(n) if n.isdigit() else 0


def _journal_results(journal: Path) -> int:
    return sum(1 for line in _read_text(journal).splitlines() if '"event": "result"' in line)


def names_digest(names: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(names)).encode()).hexdigest()[:16]


def in_shard(mutant: str, shard: Shard) -> bool:
    """The driver's slicing rule (mutation_driver.in_shard): by the mutant name's hash, stable across runs."""
    digest = hashlib.sha256(mutant.encode()).digest()
    return int.from_bytes(digest[:8], "big") % shard.count == shard.index - 1


# --------------------------------------------------------------------------------------------------- results


def write_results(result: MutationResult, reports: Path) -> Path:
    """``reports/mutation.json``: every mutant's verdict per module, whole or one shard's part, with what a merge
    checks (fingerprints, what generation produced per module) and the quarantine and unmeasured cells."""
    path = reports / RESULTS_FILE
    write_json(
        path,
        RESULTS_KIND,
        {
            "shard": [result.shard.index, result.shard.count] if result.shard else None,
            "mutants_digest": result.mutants_digest,
            "mutants_total": result.mutants_total,
            "source_fingerprint": result.source_fingerprint,
            "config_fingerprint": result.config_fingerprint,
            "generation": {name: to_data(g) for name, g in sorted(result.generation.items())},
            "quarantined": to_data(result.quarantined),
            "quarantine_cover": {k: list(v) for k, v in sorted(result.quarantine_cover.items())},
            "unmeasured": to_data(result.unmeasured),
            "lost": list(result.lost),
            "notes": list(result.notes),
            "modules": {name: to_data(mm) for name, mm in sorted(result.by_module.items())},
        },
    )
    return path


def read_results(path: Path) -> MutationResult:
    doc = read_json(path, RESULTS_KIND)
    shard = Shard(*doc["shard"]) if doc.get("shard") else None
    by_module = {name: from_data(ModuleMutation, data) for name, data in doc.get("modules", {}).items()}
    return MutationResult(
        by_module=by_module,
        shard=shard,
        mutants_digest=str(doc.get("mutants_digest", "")),
        mutants_total=int(doc.get("mutants_total", 0)),
        notes=tuple(str(n) for n in doc.get("notes") or ()),
        quarantined=from_data(tuple[QuarantinedTest, ...], doc.get("quarantined") or []),
        unmeasured=from_data(tuple[Unmeasured, ...], doc.get("unmeasured") or []),
        source_fingerprint=str(doc.get("source_fingerprint", "")),
        config_fingerprint=str(doc.get("config_fingerprint", "")),
        generation={k: from_data(ModuleGeneration, v) for k, v in (doc.get("generation") or {}).items()},
        quarantine_cover={str(k): tuple(v) for k, v in (doc.get("quarantine_cover") or {}).items()},
        lost=tuple(str(m) for m in doc.get("lost") or ()),
    )


__all__ = [
    "MutantStatus",
    "MutationArtifacts",
    "MutationResult",
    "Shard",
    "parse",
    "read_results",
    "run",
    "write_results",
]
