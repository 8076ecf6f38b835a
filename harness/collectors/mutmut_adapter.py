"""mutmut 3.8.1's formats, read loosely: the one table of its exit codes, its meta files, its mutant names.

Pure: functions here read text or parsed JSON and return harness types. Everything mutmut-specific the rest of
the harness needs (which statuses exist, how a mutant name splits into module and function, what mutmut can
mutate at all) is decided here, against captured artifacts of the pinned version (tests/artifacts/mutmut/).
"""

from __future__ import annotations

import ast
import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import ArtifactError
from harness.model import MutantStatus

MUTMUT_VERSION = "3.8.1"

# mutmut's per-mutant exit code (``exit_code_by_key`` in ``mutants/<path>.meta``) -> (mutmut's own status
# name, as ``mutmut results`` prints it, and the harness's status). THE table:
# mutmut.stats.status_by_exit_code in 3.8.1, checked against the installed mutmut by
# tests/test_mutation_adapter.py. Codes not listed are "suspicious" in mutmut and here.
STATUS_BY_EXIT_CODE: dict[int | None, tuple[str, MutantStatus]] = {
    1: ("killed", MutantStatus.KILLED),  # pytest: tests failed
    3: ("killed", MutantStatus.KILLED),  # pytest internal error: mutmut counts it a kill
    0: ("survived", MutantStatus.SURVIVED),
    5: ("no tests", MutantStatus.NO_COVERAGE),  # pytest collected no test
    33: ("no tests", MutantStatus.NO_COVERAGE),  # no test executes the mutated function (or line: selection)
    2: ("check was interrupted by user", MutantStatus.INTERRUPTED),
    None: ("not checked", MutantStatus.NOT_CHECKED),
    34: ("skipped", MutantStatus.SKIPPED),
    35: ("suspicious", MutantStatus.SUSPICIOUS),
    36: ("timeout", MutantStatus.TIMEOUT),
    # Caught by mutmut's type-check pre-filter (the harness configures none): an invalid mutant, not scored.
    37: ("caught by type check", MutantStatus.SKIPPED),
    -24: ("timeout", MutantStatus.TIMEOUT),  # SIGXCPU: the CPU or wall-clock limit
    24: ("timeout", MutantStatus.TIMEOUT),
    152: ("timeout", MutantStatus.TIMEOUT),
    255: ("timeout", MutantStatus.TIMEOUT),
    # SIGSEGV: the mutant crashed the interpreter; neither a clean kill nor a survivor.
    -11: ("segfault", MutantStatus.SUSPICIOUS),
    # SIGKILL: the hard CPU limit (one second after SIGXCPU was ignored) or the kernel's OOM killer.
    -9: ("segfault", MutantStatus.TIMEOUT),
}
UNKNOWN_STATUS = ("suspicious", MutantStatus.SUSPICIOUS)

# Exit codes that mean the check was cut short by the user (Ctrl-C, SIGTERM), not decided by the tests: the
# next run re-checks them instead of keeping them as verdicts.
RECHECK_EXIT_CODES: frozenset[int] = frozenset({2, -2, -15})

# Codes the driver itself gives a forked mutant's process: the check was interrupted (Ctrl-C in the mutant),
# the harness's runner failed on it (suspicious, never a kill).
INTERRUPTED_EXIT_CODE = 2
RUNNER_FAILED_EXIT_CODE = 35
# pytest's exit codes of a run where no test failed: all passed (0), no test collected (5).
PYTEST_PASSED: frozenset[int] = frozenset({0, 5})

# Statuses whose tests ran: a run where none of its mutants has one of these executed nothing.
EXECUTED = frozenset(
    {MutantStatus.KILLED, MutantStatus.TIMEOUT, MutantStatus.SURVIVED, MutantStatus.SUSPICIOUS}
)

CLASS_SEPARATOR = "ǁ"  # mutmut's mangling: x_func, xǁClassǁmethod
_MUTANT = re.compile(r"^(?P<mangled>.+?)__mutmut_(?P<n>\d+)$")


def status_of(exit_code: int | None) -> MutantStatus:
    return STATUS_BY_EXIT_CODE.get(exit_code, UNKNOWN_STATUS)[1]


def mutmut_status_name(exit_code: int | None) -> str:
    return STATUS_BY_EXIT_CODE.get(exit_code, UNKNOWN_STATUS)[0]


@dataclass(frozen=True)
class MetaFile:
    """One ``mutants/<path>.meta``: each mutant's exit code and duration, each mutated function's hash."""

    exit_code_by_key: dict[str, int | None]
    durations_by_key: dict[str, float]
    hash_by_function_name: dict[str, str]


def read_meta(doc: Any, where: str = "meta file") -> MetaFile:
    """Parse a meta file's JSON loosely: unknown keys are ignored, only ``exit_code_by_key`` is required."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("exit_code_by_key"), Mapping):
        raise ArtifactError(f"{where} is not a mutmut {MUTMUT_VERSION} meta file (no exit_code_by_key)")
    codes = {str(k): (None if v is None else int(v)) for k, v in doc["exit_code_by_key"].items()}
    durations = {
        str(k): float(v)
        for k, v in (doc.get("durations_by_key") or {}).items()
        if isinstance(v, (int, float))
    }
    hashes = {str(k): str(v) for k, v in (doc.get("hash_by_function_name") or {}).items()}
    return MetaFile(exit_code_by_key=codes, durations_by_key=durations, hash_by_function_name=hashes)


def load_meta(path: Path) -> MetaFile:
    try:
        return read_meta(json.loads(path.read_text(encoding="utf-8")), str(path))
    except FileNotFoundError:
        raise ArtifactError(f"mutmut wrote no meta file {path}") from None
    except (OSError, json.JSONDecodeError, ValueError, TypeError) as exc:
        raise ArtifactError(f"mutmut meta file {path} is unreadable: {exc}") from None


def mangled_function(mutant: str) -> str:
    """``pkg.mod.xǁCǁm__mutmut_3`` -> ``xǁCǁm`` (the key of ``hash_by_function_name``)."""
    match = _MUTANT.match(mutant.rpartition(".")[2])
    if not match:
        raise ArtifactError(f"{mutant!r} is not a mutmut mutant name")
    return match["mangled"]


def function_name(mutant: str) -> str:
    """The function a mutant lives in, as a developer writes it: ``groupby`` or ``Class.method``."""
    mangled = mangled_function(mutant)
    if mangled.startswith("x" + CLASS_SEPARATOR):
        cls, _, meth = mangled[2:].partition(CLASS_SEPARATOR)
        return f"{cls}.{meth}"
    return mangled[2:] if mangled.startswith("x_") else mangled


def location(mutant: str) -> tuple[str, str]:
    """(module, function) of a mutant: ``pkg.mod.xǁCǁm__mutmut_3`` -> ``("pkg.mod", "C.m")``. mutmut names a
    package's ``__init__`` module by the package, as discovery does."""
    return mutant.rpartition(".")[0], function_name(mutant)


def stats_key(mutant: str) -> str:
    """The key mutmut's stats use for the function of a mutant: ``pkg.mod.x_func``."""
    module, _, _ = mutant.rpartition(".")
    return f"{module}.{mangled_function(mutant)}"


# --------------------------------------------------------------------------------------------------- cache files

# mutmut's loader (SourceFileMutationData.load) requires these keys and refuses any other; a meta file it cannot
# load, or that the harness cannot read, is rebuilt (the driver deletes it and mutmut generates it again).
META_REQUIRED = frozenset({"exit_code_by_key", "durations_by_key", "estimated_durations_by_key"})
META_OPTIONAL = frozenset({"hash_by_function_name", "type_check_error_by_key"})
STATS_REQUIRED = frozenset({"tests_by_mangled_function_name", "duration_by_test", "stats_time"})
STATS_OPTIONAL = frozenset(
    {"function_hashes", "function_dependencies", "config_fingerprint", "watched_file_hashes", "git_commit"}
)


def _keys_problem(doc: Any, required: frozenset[str], optional: frozenset[str], tables: Iterable[str]) -> str | None:
    if not isinstance(doc, Mapping):
        return "not a JSON object"
    missing = required - set(doc)
    extra = set(doc) - required - optional
    if missing or extra:
        return f"keys {sorted(missing)} missing" if missing else f"unexpected keys {sorted(extra)}"
    if not all(isinstance(doc.get(k, {}), Mapping) for k in tables):
        return "a table is not a JSON object"
    return None


def meta_problem(doc: Any) -> str | None:
    """Why mutmut 3.8.1 could not load this parsed meta file, or None when it can."""
    problem = _keys_problem(doc, META_REQUIRED, META_OPTIONAL, (*META_REQUIRED, *META_OPTIONAL))
    if problem is None and any(v is not None and not isinstance(v, int) for v in doc["exit_code_by_key"].values()):
        return "exit_code_by_key is not a table of exit codes"
    return problem


def stats_problem(doc: Any) -> str | None:
    """Why mutmut 3.8.1 could not load this parsed ``mutmut-stats.json``, or None when it can."""
    return _keys_problem(doc, STATS_REQUIRED, STATS_OPTIONAL, ("tests_by_mangled_function_name", "duration_by_test"))


# --------------------------------------------------------------------------------------------------- injected names

# The names mutmut's generated code adds to a mutated module (the trampoline import, one dict of mutants per
# function, the original's copy and each mutant) or to a mutated class (xǁClassǁmethod__mutmut_N). Tests that
# list a module's contents see them; tracebacks that mention them point at mutmut's instrumentation.
INJECTED_MODULE_NAME = re.compile(
    r"^(_mutmut_mutated|MutantDict|mutants_x[_ǁ].*__mutmut|x_.+__mutmut_(orig|\d+)|xǁ.+__mutmut_(orig|\d+))$"
)
INJECTED_IN_TEXT = re.compile(r"\b_mutmut|xǁ|\bx_\w+__mutmut|\bMutantDict\b|\bmutants_x[_ǁ]")

# Appended to every file mutmut generates (the driver's generator, ``HIDE_INJECTED_NAMES``): after the module has
# run, the names above are dropped from the module's namespace, from ``__all__`` and from the module's classes
# (except classmethods, which mutmut's trampoline looks up on the class). Nothing needs them at run time: each
# trampoline holds its dict of mutants, and each dict its functions. So ``dir(module)``, ``vars(module)``,
# ``__all__`` and ``inspect.getmembers(cls)`` see what the unmutated module has. Bump GENERATOR_VERSION with it.
HIDE_INJECTED_NAMES = """

def _harness_hide_mutmut_names(namespace):  # quality-harness: mutmut's names out of sight of introspection
    import re
    injected = re.compile(PATTERN)
    module = namespace.get("__name__")
    for name in [n for n in namespace if injected.match(n)]:
        del namespace[name]
    exported = namespace.get("__all__")
    if isinstance(exported, (list, tuple)) and any(isinstance(n, str) and injected.match(n) for n in exported):
        namespace["__all__"] = type(exported)(n for n in exported if not (isinstance(n, str) and injected.match(n)))
    for value in list(namespace.values()):
        if isinstance(value, type) and getattr(value, "__module__", None) == module:
            for name, attr in list(vars(value).items()):
                if injected.match(name) and not isinstance(attr, classmethod):
                    try:
                        delattr(value, name)
                    except (AttributeError, TypeError):
                        pass


_harness_hide_mutmut_names(globals())
del _harness_hide_mutmut_names
""".replace("PATTERN", repr(INJECTED_MODULE_NAME.pattern))
GENERATOR_VERSION = "harness-2"
# The driver's fixes for what mutmut's instrumentation changes (mutation_driver_cache), all on by default.
INSTRUMENTATION_FIXES = ("hypothesis", "introspection", "pickling", "recursion")
# The driver's record of what generation wrote for each mutated file (hash, mutants, function hashes), next to
# mutmut's stats in the sandbox's mutants/: the run's invariant is checked against it.
GENERATED_FILE = "harness-generated.json"


# --------------------------------------------------------------------------------------------------- reach


@dataclass(frozen=True)
class Reach:
    """How much of a module mutmut can mutate at all.

    mutmut 3.8.1 mutates the bodies of top-level functions and of methods of top-level classes, except
    decorated functions (a lone ``@staticmethod``/``@classmethod`` is fine), ``__getattribute__``,
    ``__setattr__``, ``__new__`` and enum ``__init__``/``_generate_next_value_``. Module-level code, class
    bodies and nested classes are out of its reach.
    """

    statements: int
    mutable_statements: int
    unmutable_functions: tuple[str, ...]


NEVER_MUTATE = frozenset({"__getattribute__", "__setattr__", "__new__"})
NEVER_MUTATE_ENUM = frozenset({"__init__", "_generate_next_value_"})
ENUM_BASES = frozenset({"Enum", "IntEnum", "StrEnum", "Flag", "IntFlag"})


def _count(nodes: Iterable[ast.AST]) -> int:
    return sum(1 for n in nodes for x in ast.walk(n) if isinstance(x, ast.stmt) and not _is_docstring(x))


def _is_docstring(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _decorator_ok(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    if not fn.decorator_list:
        return True
    only = fn.decorator_list[0]
    return (
        len(fn.decorator_list) == 1
        and isinstance(only, ast.Name)
        and only.id in ("staticmethod", "classmethod")
    )


def _is_enum(cls: ast.ClassDef) -> bool:
    names = {
        b.attr if isinstance(b, ast.Attribute) else b.id if isinstance(b, ast.Name) else "" for b in cls.bases
    }
    return bool(names & ENUM_BASES)


def reach(source: str) -> Reach:
    """Count a module's statements and those inside functions mutmut mutates; name the functions it skips."""
    tree = ast.parse(source)
    total = _count(tree.body)
    mutable = 0
    skipped: list[str] = []

    def visit_function(fn: ast.FunctionDef | ast.AsyncFunctionDef, owner: str, enum: bool) -> None:
        nonlocal mutable
        name = f"{owner}.{fn.name}" if owner else fn.name
        if (
            isinstance(fn, ast.FunctionDef)
            and _decorator_ok(fn)
            and fn.name not in NEVER_MUTATE
            and not (enum and fn.name in NEVER_MUTATE_ENUM)
        ) or (isinstance(fn, ast.AsyncFunctionDef) and _decorator_ok(fn) and fn.name not in NEVER_MUTATE):
            mutable += _count([fn])
        else:
            skipped.append(name)

    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            visit_function(node, "", False)
        elif isinstance(node, ast.ClassDef):
            for child in node.body:
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    visit_function(child, node.name, _is_enum(node))
                elif isinstance(child, ast.ClassDef):
                    skipped += [
                        f"{node.name}.{child.name}.{f.name}"
                        for f in child.body
                        if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                    ]
    return Reach(statements=total, mutable_statements=mutable, unmutable_functions=tuple(skipped))


def module_of_path(path: str) -> str:
    """mutmut's module name of a source file: ``src/pkg/mod.py`` -> ``pkg.mod``, ``pkg/__init__.py`` -> ``pkg``."""
    name = path[:-3] if path.endswith(".py") else path
    name = name.replace("/", ".").removeprefix("src.")
    return name.removesuffix(".__init__")


def function_spans(module: str, source: str) -> list[tuple[int, int, str]]:
    """(first line, last line, mutmut's function key) of every function mutmut may mutate in ``source``: the
    keys its stats use (``pkg.mod.x_func``, ``pkg.mod.xǁClassǁmethod``), for mapping covered lines to them."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    out = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out.append((node.lineno, node.end_lineno or node.lineno, f"{module}.x_{node.name}"))
        elif isinstance(node, ast.ClassDef):
            for child in node.body:
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    key = f"{module}.x{CLASS_SEPARATOR}{node.name}{CLASS_SEPARATOR}{child.name}"
                    out.append((child.lineno, child.end_lineno or child.lineno, key))
    return out


# --------------------------------------------------------------------------------------------------- diffs

def diff_sides(diff: str) -> tuple[list[str], list[str]]:
    """The removed and the added lines of a mutant's unified diff, without their ``-``/``+`` marks: the one
    reader of mutmut's diffs for reporters and the plan."""
    removed, added = [], []
    for line in diff.splitlines():
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("-"):
            removed.append(line[1:])
        elif line.startswith("+"):
            added.append(line[1:])
    return removed, added


_HUNK = re.compile(r"^@@ -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@")
_DEF = re.compile(r"^\s*(@|def |async def )")


def mutated_line(diff: str, source: str, function: str) -> int | None:
    """The source line of a mutant's first changed line, from mutmut's function-level diff.

    mutmut diffs the function's text (comments above it included) against the mutant's. The hunk header gives
    the changed line's offset in that text; the removed line's own text pins it in the source, nearest to
    the offset from the function's ``def`` (or first decorator) line.
    """
    k: int | None = None
    removed: str | None = None
    counter = 0
    hunk_start = 1
    for ln in diff.splitlines():
        hunk = _HUNK.match(ln)
        if hunk:
            counter = hunk_start = int(hunk[1])
            continue
        if ln.startswith(("---", "+++")):
            continue
        if ln.startswith(("-", "+")):
            k = counter
            removed = ln[1:].strip() if ln.startswith("-") else None
            break
        if ln.startswith(" "):
            counter += 1
    anchor = _function_first_line(source, function)
    if k is None or anchor is None:
        return None
    lead = 0
    if hunk_start == 1:
        first = [ln[1:] for ln in diff.splitlines() if ln[:1] in (" ", "-") and not ln.startswith("---")]
        lead = next((i for i, ln in enumerate(first) if _DEF.match(ln)), 0)
    guess = anchor + (k - 1) - lead
    if removed:
        hits = [i + 1 for i, ln in enumerate(_stripped_lines(source)) if ln == removed and i + 1 >= anchor - lead]
        if hits:
            return min(hits, key=lambda n: abs(n - guess))
    return guess


def function_node(tree: ast.Module, qualname: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The definition of ``qualname`` (``f`` or ``Class.f``) in a module's tree: the last one, since
    ``@overload`` stubs come first."""
    owner, _, name = qualname.rpartition(".")
    body: list[ast.stmt] = tree.body
    if owner:
        cls = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == owner), None)
        if cls is None:
            return None
        body = cls.body
    found = [n for n in body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name]
    return found[-1] if found else None


@functools.lru_cache(maxsize=32)
def _stripped_lines(source: str) -> tuple[str, ...]:
    return tuple(ln.strip() for ln in source.splitlines())


@functools.lru_cache(maxsize=32)
def _tree(source: str) -> ast.Module | None:
    """A module's syntax tree, parsed once per source text: every mutant of a module asks for it."""
    try:
        return ast.parse(source)
    except SyntaxError:
        return None


def _function_first_line(source: str, function: str) -> int | None:
    tree = _tree(source)
    if tree is None:
        return None
    node = function_node(tree, function)
    return None if node is None else min([node.lineno, *(d.lineno for d in node.decorator_list)])
