"""Mutation collector: mutmut 3.8.1 in a sandbox copy of the target; per-mutant verdicts from its meta files.

``run`` syncs the target into ``<cache>/mutation`` (never the user's tree), writes mutmut's config there from
the harness config, and runs mutmut through :mod:`harness.collectors.mutation_driver` (mutmut's own ``run``
with a faster test runner, per-mutant limits and atomic result files), reporting done/total and ETA as
verdicts arrive. The sandbox and mutmut's ``mutants/`` stay between runs, so a second run re-tests only the
functions whose code changed (mutmut's function hashes) plus survivors and no-test mutants whose covering
tests changed, and a killed run resumes where it stopped. Artifacts land in ``reports/raw/mutation/``;
``parse`` is pure.

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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harness.collectors import mutmut_adapter as adapter
from harness.collectors.pytest_run import BASE_ARGS, tail
from harness.config import Config
from harness.discover import SKIP_DIRS, ModuleInfo, Project, is_test_file
from harness.errors import ArtifactError, ConfigError, NoDataError, ToolError
from harness.model import ModuleMutation, Mutant, MutantStatus, MutationCounts, QuarantinedTest, Unmeasured
from harness.sampling import Scope, sample, wilson
from harness.serialize import from_data, to_data
from harness.workspace import Workspace, atomic_write_text, read_json, sync_copy, write_json

NAME = "mutation"
RESULTS_FILE = "mutation.json"
RESULTS_KIND = "mutation-results"
JOURNAL = "harness-journal.jsonl"

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
    quarantined: tuple[QuarantinedTest, ...] = ()
    unmeasured: tuple[Unmeasured, ...] = ()


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
        and not p.name.startswith(".")
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


def run(
    project: Project,
    cfg: Config,
    ws: Workspace,
    *,
    shard: Shard | None = None,
    progress: ProgressFn | None = None,
    scope: Scope | None = None,
    quarantine: Sequence[QuarantinedTest] = (),  # tests known unable to judge mutants (wired in the driver next)
) -> MutationArtifacts:
    """Run mutmut in the sandbox; leaves its meta files, diffs, journal and status under raw/mutation."""
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
        "max_children": cfg.mutation.max_children or (os.cpu_count() or 1),
        "runner": cfg.mutation.runner,
        "memory_limit_mb": cfg.mutation.memory_limit_mb,
        "shard": [shard.index, shard.count] if shard else None,
        "changed_tests": changed,
        "scope": scope.to_spec() if scope else None,
        # The target's import names: the driver drops any it has imported itself (when the target is the
        # harness), so the tests import the mutated copies and not the driver's own.
        "target_packages": sorted({m.name.split(".")[0] for m in project.modules}),
    }
    spec_file = art.raw / "spec.json"
    spec_file.write_text(json.dumps(spec, indent=1), encoding="utf-8")
    returncode = _spawn(spec_file, sandbox, art, cfg, progress)
    status = _read_plain_json(art.status)
    if returncode != 0 or not status.get("finished"):
        raise _failure(status, returncode, art, project, modules)
    _collect(art)
    (sandbox / "mutants").mkdir(exist_ok=True)
    atomic_write_text(hashes_file, json.dumps(current))
    return art


def _driver_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("HARNESS__") and k not in ("PYTEST_ADDOPTS", "PYTHONPATH", "MUTANT_UNDER_TEST")
    }
    env["PYTHONHASHSEED"] = env.get("PYTHONHASHSEED", "0")
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # pytest caches its rewritten test modules in the sandbox
    return env


def _spawn(
    spec_file: Path, sandbox: Path, art: MutationArtifacts, cfg: Config, progress: ProgressFn | None
) -> int:
    code = "from harness.collectors.mutation_driver import main; raise SystemExit(main())"
    cmd = [sys.executable, "-c", code, str(spec_file)]
    started = time.monotonic()
    with art.log.open("w", encoding="utf-8") as log:
        log.write("$ (cd " + str(sandbox) + " && " + " ".join(cmd) + ")\n")
        log.flush()
        proc = subprocess.Popen(
            cmd,
            cwd=sandbox,
            env=_driver_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            last = (-1, -1)
            while True:
                try:
                    rc = proc.wait(timeout=1.0)
                    break
                except subprocess.TimeoutExpired:
                    pass
                if progress is not None:
                    done, total, todo = journal_progress(art.live_journal)
                    if total and (done, total) != last:
                        last = (done, total)
                        elapsed = time.monotonic() - started
                        ran = done - (total - todo)
                        eta = elapsed / ran * (total - done) if ran > 0 else None
                        progress(done, total, eta)
        except BaseException:  # Ctrl-C or a harness failure: stop mutmut, keep its saved verdicts
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            raise
    return rc


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
        ("mutmut-stats.json", art.raw / "mutmut-stats.json"),
        (JOURNAL, art.journal),
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
    project: Project,
    modules: Sequence[ModuleInfo],
) -> BaseException:
    if status.get("interrupted") or returncode in (130, -signal.SIGINT):
        return KeyboardInterrupt()
    phase = str(status.get("phase", "generate"))
    log_text = _read_text(art.log)
    if "could not find any test case for any mutant" in log_text:
        return NoDataError(
            f"no test executes any mutated function of {', '.join(m.name for m in modules)}; log {art.log}"
        )
    failing = [str(t) for t in status.get("failed_tests", [])]
    shown = f" (failing: {', '.join(failing[:3])})" if failing else ""
    if phase in ("stats", "clean") and failing:
        culprits = diagnose(art, project, modules, failing)
        if culprits:
            names = ", ".join(culprits)
            return ToolError(
                f"mutating {names} breaks the tests before any mutant is active (mutmut's injected "
                f"names trip tests that inspect module contents){shown}; exclude "
                f"{'it' if len(culprits) == 1 else 'them'} with config key 'mutation.exclude' "
                f"(e.g. --set 'mutation.exclude=[\"{culprits[0]}\"]'); log {art.log}"
            )
    reason = FAILED_PHASE.get(phase, f"mutmut stopped in its {phase} phase")
    return ToolError(f"{reason}{shown}; refusing to score mutants; log {art.log}:\n{tail(art.log, 8)}")


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def diagnose(
    art: MutationArtifacts, project: Project, modules: Sequence[ModuleInfo], failing: Sequence[str]
) -> list[str]:
    """Which mutated modules make tests fail with no mutant active (mutmut's injected names upset tests that
    inspect module contents). One run of the whole suite on mutmut's tree lists every failing test (mutmut's
    own runs stop at the first); then each module is tried alone, every other module its original source."""
    mutants = art.sandbox / "mutants"
    if not modules or not mutants.is_dir():
        return []
    probe = art.sandbox.parent / "mutation-probe"
    if probe.exists():
        shutil.rmtree(probe)
    shutil.copytree(
        mutants, probe, ignore=shutil.ignore_patterns("*.meta", "*.spans", "*.json", "__pycache__")
    )
    env = _driver_env()
    env["PYTHONPATH"] = os.pathsep.join(str(probe / r) if r else str(probe) for r in project.import_roots)
    env["MUTANT_UNDER_TEST"] = ""

    def failures(tests: Sequence[str], first_only: bool) -> list[str]:
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            *MUTMUT_PYTEST_ARGS,
            "-q",
            "-rfE",
            "--rootdir=.",
            "--tb=no",
            *(["-x"] if first_only else []),
            *tests,
        ]
        proc = subprocess.run(
            cmd, cwd=probe, env=env, capture_output=True, text=True, check=False, timeout=900
        )
        ids = [
            ln.split(" ", 1)[1].split(" - ")[0]
            for ln in proc.stdout.splitlines()
            if ln.startswith(("FAILED ", "ERROR "))
        ]
        return ids or (["<session>"] if proc.returncode not in (0, 5) else [])

    def use(module: ModuleInfo, mutated: bool) -> None:
        shutil.copyfile((mutants if mutated else art.sandbox) / module.path, probe / module.path)

    try:
        listed = [t for t in failures(project.tests, False) if not t.startswith("<")]
        tests = sorted(set(listed or [t for t in failing if t and not t.startswith("<")]))[:20]
        if not tests:
            return []
        for m in modules:
            use(m, False)
        if failures(tests, True):  # they fail with no module mutated: not mutmut's doing
            return []
        culprits = []
        for m in modules:
            use(m, True)
            if failures(tests, True):
                culprits.append(m.name)
            use(m, False)
        return culprits
    finally:
        shutil.rmtree(probe, ignore_errors=True)


# --------------------------------------------------------------------------------------------------- parse


def parse(art: MutationArtifacts, project: Project) -> MutationResult:
    """Per-module mutation results from mutmut's meta files, the diffs and the sources. Pure (reads files)."""
    diffs_doc = _read_plain_json(art.diffs)
    memory_limited = set()
    for line in _read_text(art.limits).splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if event.get("limit") == "memory":
            memory_limited.add(str(event.get("mutant")))
    status = _read_plain_json(art.status)
    by_module: dict[str, ModuleMutation] = {}
    all_names: list[str] = []
    population, selected = _scoped(art)
    for m in art.modules:
        meta_path = art.meta_dir / (m.path + ".meta")
        source = _read_text(art.sources / m.path)
        reach = _reach(source, m.path)
        meta = adapter.load_meta(meta_path) if meta_path.is_file() else None
        keys = list(meta.exit_code_by_key) if meta else []
        all_names += keys
        in_population = sum(1 for k in keys if k in population) if population is not None else 0
        if selected is not None:
            keys = [k for k in keys if k in selected]
        if art.shard is not None:
            keys = [k for k in keys if in_shard(k, art.shard)]
        mutants = []
        for key in sorted(keys, key=_mutant_order):
            assert meta is not None
            code = meta.exit_code_by_key[key]
            entry = diffs_doc.get(key)
            diff = str(entry[1]) if isinstance(entry, list) and len(entry) == 2 else ""
            function = adapter.function_name(key)
            mutants.append(
                Mutant(
                    name=key,
                    module=m.name,
                    function=function,
                    line=adapter.mutated_line(diff, source, function) if diff else None,
                    status=adapter.status_of(code),
                    diff=diff,
                    duration=meta.durations_by_key.get(key),
                    note="killed by the memory limit" if key in memory_limited else "",
                )
            )
        counts = MutationCounts.from_statuses(x.status for x in mutants)
        reason = None
        if not meta or not meta.exit_code_by_key:
            reason = "mutmut found nothing to mutate: " + (
                "no function it can mutate (module-level code, "
                "class bodies and decorated functions are out of its reach)"
                if reach.mutable_statements == 0
                else "its functions hold no mutable expression"
            )
        by_module[m.name] = ModuleMutation(
            counts=counts,
            mutants=tuple(mutants),
            statements=reach.statements,
            mutable_statements=reach.mutable_statements,
            unmutable_functions=reach.unmutable_functions,
            not_mutated_reason=reason,
            population=in_population if art.scope is not None and art.scope.sample else 0,
        )
    for left_out in (m for m in project.modules if m not in art.modules):
        by_module[left_out.name] = ModuleMutation(
            counts=MutationCounts(),
            not_mutated_reason="not mutated: left out by config keys 'mutation.modules'/'mutation.exclude'",
        )
    executed = sum(1 for mm in by_module.values() for x in mm.mutants if x.status in adapter.EXECUTED)
    scope = sum(mm.counts.total for mm in by_module.values())
    if scope and not executed and not any(mm.counts.no_coverage for mm in by_module.values()):
        raise NoDataError(f"zero mutants were executed ({scope} generated); log {art.log}")
    if not all_names:
        raise NoDataError(
            f"mutmut generated zero mutants in {', '.join(m.name for m in art.modules)}: nothing "
            f"it can mutate (module-level code, class bodies, decorated functions); log {art.log}"
        )
    notes = []
    if art.shard is not None:
        notes.append(
            f"mutation: shard {art.shard} holds {scope} of {len(all_names)} mutants; combine the "
            f"shards with `harness merge`"
        )
    notes += _scope_notes(art, by_module, population)
    if memory_limited:
        notes.append(
            f"mutation: {len(memory_limited)} mutant(s) killed by the memory limit (mutation.memory_limit_mb)"
        )
    unchecked = sum(mm.counts.not_checked + mm.counts.interrupted for mm in by_module.values())
    if unchecked:
        notes.append(
            f"mutation: {unchecked} mutant(s) in scope were not checked (interrupted or left over) and are not in "
            f"any score; run again to check them"
        )
    started = status.get("mutants_started") or status.get("started")
    ended = status.get("ended")
    seconds = float(ended) - float(started) if started and ended else 0.0
    return MutationResult(
        by_module=by_module,
        shard=art.shard,
        mutants_digest=_digest(all_names),
        mutants_total=len(all_names),
        run_seconds=seconds,
        executed_this_run=_journal_results(art.journal),
        notes=tuple(notes),
    )


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
        meta_path = art.meta_dir / (m.path + ".meta")
        if meta_path.is_file():
            names += adapter.load_meta(meta_path).exit_code_by_key
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


def _mutant_order(key: str) -> tuple[str, int]:
    base, _, n = key.rpartition("__mutmut_")
    return base, int(n) if n.isdigit() else 0


def _journal_results(journal: Path) -> int:
    return sum(1 for line in _read_text(journal).splitlines() if '"event": "result"' in line)


def _digest(names: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(names)).encode()).hexdigest()[:16]


def in_shard(mutant: str, shard: Shard) -> bool:
    """The driver's slicing rule (mutation_driver.in_shard): by the mutant name's hash, stable across runs."""
    digest = hashlib.sha256(mutant.encode()).digest()
    return int.from_bytes(digest[:8], "big") % shard.count == shard.index - 1


# --------------------------------------------------------------------------------------------------- results


def write_results(result: MutationResult, reports: Path) -> Path:
    """``reports/mutation.json``: every mutant's verdict per module, whole or one shard's part."""
    path = reports / RESULTS_FILE
    write_json(
        path,
        RESULTS_KIND,
        {
            "shard": [result.shard.index, result.shard.count] if result.shard else None,
            "mutants_digest": result.mutants_digest,
            "mutants_total": result.mutants_total,
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
    )


def merge(parts: Sequence[MutationResult]) -> dict[str, ModuleMutation]:
    """Combine shard results into the whole run's: every mutant once, counts recomputed from the union.

    Raises :class:`ArtifactError` when the parts come from different code (their mutant sets differ), when a
    shard is missing or given twice, or when a mutant has two verdicts.
    """
    if not parts:
        raise ArtifactError("nothing to merge")
    digests = {p.mutants_digest for p in parts}
    if len(digests) > 1:
        raise ArtifactError("the shards were run on different code (their mutant sets differ)")
    counts = {p.shard.count if p.shard else 1 for p in parts}
    indexes = sorted(p.shard.index if p.shard else 1 for p in parts)
    if len(counts) > 1 or indexes != list(range(1, counts.pop() + 1)):
        raise ArtifactError(f"shards do not form a whole run: got {', '.join(str(p.shard) for p in parts)}")
    by_module: dict[str, ModuleMutation] = {}
    for part in parts:
        for name, mm in part.by_module.items():
            seen = by_module.get(name)
            if seen is None:
                by_module[name] = mm
                continue
            names = {x.name for x in seen.mutants}
            dup = next((x.name for x in mm.mutants if x.name in names), None)
            if dup:
                raise ArtifactError(f"mutant {dup} has a verdict in two shards")
            mutants = tuple(sorted((*seen.mutants, *mm.mutants), key=lambda x: _mutant_order(x.name)))
            by_module[name] = replace(
                seen, mutants=mutants, counts=MutationCounts.from_statuses(x.status for x in mutants)
            )
    total = sum(mm.counts.total for mm in by_module.values())
    expected = parts[0].mutants_total
    if expected and total != expected:
        raise ArtifactError(f"the merged shards hold {total} of the run's {expected} mutants")
    return by_module


__all__ = [
    "MutantStatus",
    "MutationArtifacts",
    "MutationResult",
    "Shard",
    "merge",
    "parse",
    "read_results",
    "run",
    "write_results",
]
