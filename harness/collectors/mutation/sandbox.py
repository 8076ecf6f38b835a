"""The mutation sandbox: a synced copy of the target under ``<cache>/mutation`` with mutmut's ``[tool.mutmut]``
table written from the harness config, and the fingerprints of the code and config a run measures."""

from __future__ import annotations

import filecmp
import fnmatch
import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from harness.collectors import mutmut_adapter as adapter
from harness.collectors.mutation.artifacts import NAME
from harness.collectors.pytest_run import BASE_ARGS
from harness.config import Config
from harness.discover import SKIP_DIRS, ModuleInfo, Project, is_test_file
from harness.errors import ConfigError
from harness.workspace import Workspace, atomic_write_text, hash_files, sync_copy

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


def sandbox_dir(ws: Workspace) -> Path:
    return ws.cache / NAME


def selected_modules(project: Project, cfg: Config) -> tuple[ModuleInfo, ...]:
    """The measured modules mutmut mutates: ``mutation.modules`` globs (all when empty) minus ``exclude``."""
    s = cfg.mutation
    unknown = [p for p in s.modules if not any(fnmatch.fnmatchcase(m.name, p) for m in project.modules)]
    if unknown:  # a typo would otherwise mutate less than asked, silently
        raise ConfigError(f"config key 'mutation.modules': {unknown[0]!r} names no measured module "
                          f"(e.g. {project.modules[0].name!r}; a module's dotted name or a glob)"
                          if project.modules else f"config key 'mutation.modules': {unknown[0]!r} names no module")
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


def _sources(project: Project) -> list[str]:
    return sorted(set(project.source))


def _also_copied(project: Project, sandbox: Path) -> list[str]:
    """The top-level files and folders of the sandbox mutmut copies into its work copy besides the sources."""
    tops = {Path(e).parts[0] for e in project.source}
    return sorted(
        p.name
        for p in sandbox.iterdir()
        if p.name not in NOT_ALSO_COPIED
        and p.name not in tops
        and p.name not in SKIP_DIRS
        and not (p.name.startswith(".") and (p.is_dir() or p.name.startswith(HIDDEN_NOT_COPIED)))
        and not p.name.endswith(".egg-info")
    )


def mutmut_config(project: Project, cfg: Config, modules: Sequence[ModuleInfo], sandbox: Path) -> str:
    """mutmut's ``[tool.mutmut]`` table for the sandbox, from the harness config."""
    s = cfg.mutation
    only = [m.path for m in modules]
    lines = [
        "[tool.mutmut]",
        f"source_paths = {_toml_list(_sources(project))}",
        f"only_mutate = {_toml_list(only)}",
        f"do_not_mutate = {_toml_list(sorted({m.path for m in project.modules} - set(only)))}",
        f"also_copy = {_toml_list(_also_copied(project, sandbox))}",
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


SNAPSHOT_MARK = ".harness-snapshot"  # hidden and ".harness"-prefixed: never copied into mutmut's work copy


def snapshot_sandbox(project: Project, ws: Workspace) -> Path:
    """Sync the target into the sandbox now, at the start of a run, with the work copy the other phases measure:
    a file the user edits while coverage and the timed runs go on is not measured by mutation alone. Marked for
    this process, so :func:`prepare_sandbox` does not sync again."""
    sandbox = sandbox_dir(ws)
    sync_copy(project.root, sandbox, ws.excluded())
    (sandbox / SNAPSHOT_MARK).write_text(str(os.getpid()))
    return sandbox


def prepare_sandbox(project: Project, cfg: Config, ws: Workspace, modules: Sequence[ModuleInfo]) -> Path:
    """Sync the target into the sandbox (unless this run took its snapshot at the start; keeping mutmut's
    ``mutants/``) and write mutmut's config there."""
    sandbox = sandbox_dir(ws)
    if not cfg.mutation.incremental and (sandbox / "mutants").exists():
        shutil.rmtree(sandbox / "mutants")
    mark = sandbox / SNAPSHOT_MARK
    snapshot = mark.is_file() and mark.read_text() == str(os.getpid())
    mark.unlink(missing_ok=True)
    if not snapshot:
        sync_copy(project.root, sandbox, ws.excluded())
    pyproject = sandbox / "pyproject.toml"
    original = pyproject.read_text(encoding="utf-8") if pyproject.is_file() else ""
    atomic_write_text(pyproject, _with_config(original, mutmut_config(project, cfg, modules, sandbox)))
    refresh_work_copy(sandbox, _sources(project), _also_copied(project, sandbox))
    return sandbox


# What mutmut writes next to a mutated ``x.py`` in its work copy: its verdicts (``x.py.meta``) and the line index
# of its generated functions (``x.py.spans``, which line selection and the verdict cache read).
MUTMUT_INDEXES = (".meta", ".spans")


def refresh_work_copy(sandbox: Path, sources: Iterable[str], also: Iterable[str]) -> list[str]:
    """Make mutmut's work copy (``mutants/``) follow the sandbox before mutmut starts; returns what changed.

    mutmut copies a source folder's files into ``mutants/`` only when they are not there yet, and never removes
    one: on an incremental run a changed data file or template under the sources would stay stale, and a deleted
    module or test file would still be imported or collected there. Files of the sources other than Python
    are copied again when their content differs; a file gone from the sandbox is removed (with its ``.meta`` and
    ``.spans``).
    Python sources are mutmut's own (it regenerates them by mtime); caches are left alone."""
    mutants = sandbox / "mutants"
    if not mutants.is_dir():
        return []
    source_tops = set(sources)
    changed: list[str] = []
    for top in sorted({*source_tops, *also}):
        copy = mutants / top
        files = [copy] if copy.is_file() else sorted(
            p for p in copy.rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")
        for target in files:
            rel = target.relative_to(mutants)
            index = next((s for s in MUTMUT_INDEXES if rel.name.endswith(".py" + s)), "")  # mutmut's, of a .py
            original = sandbox / (str(rel)[: -len(index)] if index else rel)
            if not original.is_file():
                target.unlink()
                changed.append(rel.as_posix())
            elif ((rel.suffix not in (".py", *MUTMUT_INDEXES) or top not in source_tops)
                  and not filecmp.cmp(original, target, shallow=False)):
                shutil.copy2(original, target)
                changed.append(rel.as_posix())
    return changed


def hash_test_files(sandbox: Path) -> dict[str, str]:
    """sha256 of every test file and conftest.py in the sandbox (outside ``mutants/``), by relative path."""
    return hash_files(sandbox, lambda rel: rel.endswith(".py") and is_test_file(rel))



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
        "selection": s.selection,  # issue 14 hook
        "timeout_budget": s.timeout_budget,  # issue 14 hook
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
        "fixes": fixes(),
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


def fixes() -> list[str]:
    """The driver's fixes (all by default; ``HARNESS__MUTATION_FIXES=recursion,pickling`` for measuring them)."""
    text = os.environ.get("HARNESS__MUTATION_FIXES")
    if text is None:
        return list(adapter.INSTRUMENTATION_FIXES)
    return sorted(f.strip() for f in text.split(",") if f.strip())

