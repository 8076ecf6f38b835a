"""Find a target project's source packages, test paths and modules.

This is the ONE place where file paths and dotted module names are translated into each other.
Layouts understood without config: ``src/<pkg>``, flat ``<pkg>/`` at the root, single-file modules at the root,
tests in ``tests/``/``test/`` or inside the package (``<pkg>/tests``).
"""

from __future__ import annotations

import ast
import fnmatch
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from harness.config import Config
from harness.errors import ConfigError, UsageError

NOT_SOURCE_DIRS = frozenset({
    "tests", "test", "testing", "docs", "doc", "examples", "example", "benchmarks", "benchmark", "scripts",
    "build", "dist", "site-packages", "node_modules", "reports", "config", "tools", "demo", "demo_project",
})
NOT_SOURCE_FILES = frozenset({"setup.py", "conftest.py", "noxfile.py", "fabfile.py", "tasks.py", "manage.py",
                              "dodo.py", "docs_conf.py"})
SKIP_DIRS = frozenset({".git", ".hg", ".svn", ".tox", ".nox", ".venv", "venv", "env", "__pycache__", "mutants",
                       ".mypy_cache", ".pytest_cache", ".ruff_cache", ".hypothesis", "node_modules",
                       ".eggs", "build", "dist"})
TEST_FILE = re.compile(r"^(test_.*|.*_test|conftest)\.py$")


@dataclass(frozen=True)
class ModuleInfo:
    """A measured module: dotted name, path relative to the target root (POSIX), and its import root."""

    name: str
    path: str
    import_root: str  # "" for the project root, "src" for a src layout


@dataclass(frozen=True)
class Project:
    root: Path
    name: str
    import_roots: tuple[str, ...]  # directories to put on sys.path ("" = root)
    source: tuple[str, ...]  # package dirs / module files, relative to root
    tests: tuple[str, ...]  # pytest arguments selecting the tests, relative to root
    modules: tuple[ModuleInfo, ...]

    def module_for_path(self, path: str) -> str | None:
        """Dotted module name for a file path (absolute or relative to root or to any work copy)."""
        rel = _relative(path, self.root)
        return self._by_path.get(rel) if rel is not None else None

    @property
    def _by_path(self) -> dict[str, str]:
        return {m.path: m.name for m in self.modules}

    def module(self, name: str) -> ModuleInfo:
        for m in self.modules:
            if m.name == name:
                return m
        raise KeyError(name)


def _relative(path: str, root: Path) -> str | None:
    p = Path(path)
    if not p.is_absolute():
        return PurePosixPath(p.as_posix()).as_posix()
    try:
        return p.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None


def is_test_file(rel: str) -> bool:
    parts = PurePosixPath(rel).parts
    return bool(TEST_FILE.match(parts[-1])) or any(p in ("tests", "test", "testing") for p in parts[:-1])


def module_name(rel: str, import_root: str) -> str:
    """``src/pkg/sub/__init__.py`` with import root ``src`` -> ``pkg.sub``."""
    p = PurePosixPath(rel)
    if import_root:
        p = p.relative_to(import_root)
    parts = list(p.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _project_name(root: Path) -> str:
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
            name = project.get("name") if isinstance(project, dict) else None
        except (ValueError, OSError):  # not TOML, not UTF-8: the folder's name will do
            name = None
        if isinstance(name, str):
            return name
    return root.resolve().name


def _is_python_project(root: Path) -> bool:
    if any((root / f).is_file() for f in ("pyproject.toml", "setup.py", "setup.cfg")):
        return True
    return any(_walk_py(root))


def _walk_py(base: Path) -> list[Path]:
    out = []
    stack = [base]
    while stack:
        d = stack.pop()
        try:
            entries = sorted(d.iterdir())
        except OSError:
            continue
        for e in entries:
            if e.is_dir():
                if e.name not in SKIP_DIRS and not e.name.startswith(".") and not e.name.endswith(".egg-info"):
                    stack.append(e)
            elif e.suffix == ".py":
                out.append(e)
    return sorted(out)


def _discover_source(root: Path, cfg: Config) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(import roots, source entries) from config or from the layout."""
    if cfg.source:
        entries = []
        for s in cfg.source:
            p = root / s
            if not p.exists():
                raise ConfigError(f"config key 'source': {s} does not exist in {root}")
            entries.append(PurePosixPath(s).as_posix())  # no trailing "/"
        roots = tuple(sorted({_import_root_of(root, e) for e in entries}))
        return roots, tuple(entries)
    src = root / "src"
    if src.is_dir():
        entries = [f"src/{p.name}" for p in sorted(src.iterdir())
                   if (p.is_dir() and (p / "__init__.py").is_file()) or (p.suffix == ".py" and p.is_file())]
        if entries:
            return ("src",), tuple(entries)
    entries = [p.name for p in sorted(root.iterdir())
               if p.is_dir() and (p / "__init__.py").is_file() and p.name not in NOT_SOURCE_DIRS
               and not p.name.startswith(".")]
    if not entries:
        entries = [p.name for p in sorted(root.glob("*.py"))
                   if p.name not in NOT_SOURCE_FILES and not TEST_FILE.match(p.name)]
    if not entries:
        raise UsageError(f"no source package found in {root}: set 'source' in config/quality.toml "
                         f"(e.g. source = [\"mypkg\"])")
    return ("",), tuple(entries)


def _import_root_of(root: Path, entry: str) -> str:
    """Walk up from a package dir while parents are packages; the first non-package is the import root."""
    p = PurePosixPath(entry)
    parent = p.parent
    while str(parent) != "." and (root / parent / "__init__.py").is_file():  # a relative path's last parent is "."
        parent = parent.parent
    return "" if str(parent) == "." else str(parent)


def _discover_tests(root: Path, cfg: Config, source: tuple[str, ...]) -> tuple[str, ...]:
    if cfg.tests:
        for t in cfg.tests:
            if not (root / t.split("::")[0]).exists():
                raise ConfigError(f"config key 'tests': {t} does not exist in {root}")
        return cfg.tests
    for name in ("tests", "test"):
        if (root / name).is_dir():
            return (name,)
    inside = [s for s in source if (root / s / "tests").is_dir() or (root / s / "test").is_dir()]
    if inside:
        return tuple(inside)
    root_tests = [p.name for p in sorted(root.glob("test_*.py"))]
    if root_tests:
        return tuple(root_tests)
    raise UsageError(f"no tests found in {root}: set 'tests' in config/quality.toml (e.g. tests = [\"tests\"])")


def check_root(root: Path) -> None:
    """Refuse a target path that is missing, not a folder, or not a Python project."""
    if not root.exists():
        raise UsageError(f"project path {root} does not exist")
    if not root.is_dir():
        raise UsageError(f"project path {root} is not a directory")
    if not _is_python_project(root):
        raise UsageError(f"{root} is not a Python project: no pyproject.toml, setup.py, setup.cfg or .py files")


def discover(root: Path, cfg: Config) -> Project:
    """Resolve the target's layout. Raises :class:`UsageError` when it is not a Python project."""
    check_root(root)
    import_roots, source = _discover_source(root, cfg)
    tests = _discover_tests(root, cfg, source)
    modules: list[ModuleInfo] = []
    for entry in source:
        path = root / entry
        files = [path] if path.is_file() else _walk_py(path)
        ir = _import_root_of(root, entry) if cfg.source else import_roots[0]
        for f in files:
            rel = f.relative_to(root).as_posix()
            if is_test_file(rel):
                continue
            name = module_name(rel, ir)
            if any(fnmatch.fnmatchcase(name, pat) for pat in cfg.omit):
                continue
            modules.append(ModuleInfo(name=name, path=rel, import_root=ir))
    if not modules:
        raise UsageError(f"no Python modules found under {', '.join(source)}: set 'source' in config/quality.toml")
    modules.sort(key=lambda m: m.name)
    return Project(root=root.resolve(), name=_project_name(root), import_roots=import_roots, source=source,
                   tests=tests, modules=tuple(modules))


def check_syntax(project: Project) -> None:
    """Refuse a target whose module does not parse, naming the file and line, before any tool runs."""
    for m in project.modules:
        path = project.root / m.path
        try:
            ast.parse(path.read_bytes(), filename=m.path)
        except SyntaxError as exc:
            raise UsageError(f"syntax error in {m.path} line {exc.lineno}: {exc.msg}") from None
