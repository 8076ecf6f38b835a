"""Line-level test selection for mutants: each mutant's tests are those that executed its mutated line(s).

mutmut 3 selects a mutant's tests per *function* (every test that called the function, from its stats run).
The coverage run already knows, per test, the lines it executed (coverage.py's dynamic context = the test's
node id, switched by ``harness_pytest``). A mutant changes one or a few lines of one function; only the tests
that executed those lines can see the change, so only they are run, fastest first, and a mutant on lines no
test executed is "no coverage" without running anything.

Where that is not sound the mutant keeps mutmut's function-level selection (:class:`Selection.mode` says
why):

* ``no-data``: no coverage data for the file, or the file is not the one coverage.py measured (its hash);
* ``unaligned``: mutmut's copy of the unmutated function is not line for line the source's (so the
  mutated lines cannot be placed in the source);
* ``header``: the mutation touches the ``def`` line, its signature (defaults run at import time, not when
  a test calls the function) or a decorator;
* ``unsound``: a test mutmut saw calling the function executed none of its lines in the coverage run (node ids
  that differ, code run where coverage.py does not measure): the coverage data cannot be trusted there.

A mutated line is widened to its whole statement (a multi-line statement's lines; a compound statement's header
lines), since coverage.py records a statement under one of its lines.

Everything here is pure except :func:`read_line_contexts` (coverage.py's data file) and
:class:`MutmutFiles` (mutmut's generated files, read by the driver in the sandbox).
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import json
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.collectors import mutmut_adapter as adapter

CONTEXTS_FORMAT = 1
MODES = ("line", "no-data", "unaligned", "header", "unsound")  # "line": line-level; the rest fall back
_MUTANT = re.compile(r"^(?P<mangled>.+?)__mutmut_(?P<n>\d+|orig)$")
CLASS_SEPARATOR = "ǁ"
_DEF_OR_DECORATOR = re.compile(r"^\s*(@|def\s|async\s+def\s)")


@dataclass(frozen=True)
class Selection:
    """The tests a mutant runs, fastest first; ``mode`` is "line" or why it fell back to the function's tests."""

    tests: tuple[str, ...]
    mode: str
    lines: tuple[int, ...] = ()  # the source lines whose tests were taken (line mode)

    @property
    def line_level(self) -> bool:
        return self.mode == "line"


# --------------------------------------------------------------------------------------------------- source


@dataclass(frozen=True)
class FunctionLines:
    """Where a function is in its source: first line (its first decorator, else ``def``), last line of its
    signature (``header_end``: every line up to the body's first statement) and last line."""

    first: int
    header_end: int
    end: int


_function_node = adapter.function_node  # the last definition (``@overload`` stubs come first)


def function_lines(tree: ast.Module, qualname: str) -> FunctionLines | None:
    """Lines of ``func`` or ``Class.method`` at the top of ``tree``; None when there is no such function."""
    node = _function_node(tree, qualname)
    if node is None:
        return None
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    body_first = node.body[0].lineno
    header_end = body_first - 1 if body_first > node.lineno else node.lineno
    return FunctionLines(first=first, header_end=header_end, end=node.end_lineno or node.lineno)


def statement_spans(tree: ast.Module) -> dict[int, tuple[int, int]]:
    """Each line -> the lines of the innermost statement it belongs to: a simple statement's lines, or a compound
    statement's header (decorators to the line before its body). Lines of no statement are absent."""
    out: dict[int, tuple[int, int]] = {}

    def own(node: ast.stmt) -> tuple[int, int]:
        body = getattr(node, "body", None)
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])
        if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
            start = body[0].lineno
            return first, max(node.lineno, start - 1) if start > node.lineno else node.lineno
        return first, node.end_lineno or node.lineno

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                lo, hi = own(child)
                for line in range(lo, hi + 1):
                    out[line] = (lo, hi)  # children are visited after their parent: the innermost wins
            visit(child)

    visit(tree)
    return out


def changed_offsets(original: Sequence[str], mutant: Sequence[str]) -> set[int]:
    """0-based offsets of the lines of ``original`` the mutant replaced or deleted; an insertion marks the
    lines on both sides of it."""
    out: set[int] = set()
    matcher = difflib.SequenceMatcher(None, list(original), list(mutant), autojunk=False)
    for tag, i1, i2, _j1, _j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            out.update(range(i1, i2))
        elif tag == "insert":
            out.update(i for i in (i1 - 1, i1) if 0 <= i < len(original))
    return out


def renamed(generated: Sequence[str], generated_name: str, name: str) -> list[str]:
    """A generated function's lines as the source would have them: its ``def`` named ``name`` again, without the
    blank and comment lines mutmut's line index counts around it."""
    lines = list(generated)
    while lines and not _DEF_OR_DECORATOR.match(lines[0]):  # libcst's leading lines: blanks, comments above
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    pattern = re.compile(r"\bdef\s+" + re.escape(generated_name) + r"\s*\(")
    for i, line in enumerate(lines):
        if pattern.search(line):
            lines[i] = pattern.sub(f"def {name}(", line, count=1)
            break
    return lines


def aligned(generated: Sequence[str], source: Sequence[str]) -> bool:
    """Is mutmut's copy of the unmutated function (:func:`renamed`) line for line the source's?"""
    return len(generated) == len(source) and all(
        gen.rstrip() == src.rstrip() for gen, src in zip(generated, source, strict=True)
    )


def select(
    *,
    changed: Iterable[int] | None,
    function: FunctionLines | None,
    spans: Mapping[int, tuple[int, int]],
    line_tests: Mapping[int, Collection[str]] | None,
    function_tests: Collection[str],
    durations: Mapping[str, float],
) -> Selection:
    """A mutant's tests. ``changed``: its mutated source lines (None: they could not be placed); ``function``:
    its function's lines; ``line_tests``: the tests that executed each line of the file (None: no data);
    ``function_tests``: mutmut's selection (every test that called the function)."""

    def fastest(tests: Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted(tests, key=lambda t: (durations.get(t, 0.0), t)))

    if line_tests is None or function is None:
        return Selection(fastest(function_tests), "no-data")
    if changed is None:
        return Selection(fastest(function_tests), "unaligned")
    lines = set(changed)
    if not lines or min(lines) <= function.header_end:
        return Selection(fastest(function_tests), "header")
    seen: set[str] = set()
    for line in range(function.first, function.end + 1):
        seen.update(line_tests.get(line, ()))
    if not set(function_tests) <= seen:
        return Selection(fastest(function_tests), "unsound")
    widened: set[int] = set()
    for line in lines:
        lo, hi = spans.get(line, (line, line))
        widened.update(range(lo, hi + 1))
    executed: set[str] = set()
    for line in widened:
        executed.update(line_tests.get(line, ()))
    return Selection(fastest(t for t in function_tests if t in executed), "line", tuple(sorted(widened)))


# --------------------------------------------------------------------------------------------------- coverage data


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_line_contexts(data_file: Path, work: Path, paths: Iterable[str]) -> dict[str, dict[int, list[str]]]:
    """The tests (coverage.py dynamic contexts) that executed each line of ``paths`` (relative to ``work``),
    from coverage.py's combined data file; files coverage.py did not measure are absent."""
    from coverage import CoverageData

    wanted = set(paths)
    data = CoverageData(basename=str(data_file))
    data.read()
    data.set_query_contexts(None)
    out: dict[str, dict[int, list[str]]] = {}
    for measured in data.measured_files():
        p = Path(measured)
        rel = p.relative_to(work).as_posix() if p.is_absolute() and p.is_relative_to(work) else p.as_posix()
        if rel not in wanted:
            continue
        by_line = data.contexts_by_lineno(measured)
        out[rel] = {int(line): sorted(c for c in ctxs if c) for line, ctxs in by_line.items()}
    return out


def contexts_document(contexts: Mapping[str, Mapping[int, Sequence[str]]], hashes: Mapping[str, str]) -> dict[str, Any]:
    """The file the collector hands the driver: tests once (indexed), then per file its hash and line -> tests."""
    tests = sorted({t for by_line in contexts.values() for ts in by_line.values() for t in ts})
    index = {t: i for i, t in enumerate(tests)}
    files = {
        path: {
            "sha256": hashes[path],
            "lines": {str(line): [index[t] for t in ts] for line, ts in by_line.items() if ts},
        }
        for path, by_line in contexts.items()
        if path in hashes
    }
    return {"format": CONTEXTS_FORMAT, "tests": tests, "files": files}


def load_contexts_document(doc: Any) -> dict[str, tuple[str, dict[int, frozenset[str]]]]:
    """{path: (sha256, {line: tests})} from :func:`contexts_document`'s output; {} for anything else."""
    if not isinstance(doc, Mapping) or doc.get("format") != CONTEXTS_FORMAT:
        return {}
    tests = list(doc.get("tests") or ())
    out: dict[str, tuple[str, dict[int, frozenset[str]]]] = {}
    for path, entry in (doc.get("files") or {}).items():
        lines = {int(k): frozenset(tests[i] for i in v) for k, v in (entry.get("lines") or {}).items()}
        out[str(path)] = (str(entry.get("sha256", "")), lines)
    return out


# --------------------------------------------------------------------------------------------------- mutmut's files


def split_mutant(name: str) -> tuple[str, str, str]:
    """``pkg.mod.xǁCǁm__mutmut_3`` -> (module ``pkg.mod``, generated name ``xǁCǁm__mutmut_3``, ``C.m``)."""
    module, _, generated = name.rpartition(".")
    match = _MUTANT.match(generated)
    if not match:
        raise ValueError(f"{name!r} is not a mutmut mutant name")
    mangled = match["mangled"]
    if mangled.startswith("x" + CLASS_SEPARATOR):
        cls, _, meth = mangled[2:].partition(CLASS_SEPARATOR)
        qualname = f"{cls}.{meth}"
    else:
        qualname = mangled[2:] if mangled.startswith("x_") else mangled
    return module, generated, qualname


@dataclass
class _File:
    sha: str | None
    tree: ast.Module | None
    source: list[str]
    spans: dict[int, tuple[int, int]]
    generated: list[str]
    generated_spans: dict[str, tuple[int, int]]
    line_tests: dict[int, frozenset[str]] | None
    functions: dict[str, tuple[FunctionLines | None, list[str] | None]] = field(default_factory=dict)


class MutmutFiles:
    """Line-level selection over mutmut's sandbox (the driver's working directory): the original sources at
    ``<path>``, mutmut's generated files at ``mutants/<path>`` with their line index ``mutants/<path>.spans``,
    and the coverage run's line contexts (:func:`contexts_document`). Reads each file once."""

    def __init__(self, root: Path, path_by_module: Mapping[str, str], contexts: Any) -> None:
        self.root = root
        self.path_by_module = dict(path_by_module)
        self.contexts = load_contexts_document(contexts)
        self._files: dict[str, _File] = {}

    def _file(self, path: str) -> _File:
        cached = self._files.get(path)
        if cached is not None:
            return cached
        try:
            text = (self.root / path).read_text(encoding="utf-8")
            tree: ast.Module | None = ast.parse(text)
        except (OSError, SyntaxError, ValueError):
            text, tree = "", None
        try:
            generated = (self.root / "mutants" / path).read_text(encoding="utf-8").splitlines()
            index = json.loads((self.root / "mutants" / (path + ".spans")).read_text(encoding="utf-8"))
            spans = {str(k): (int(v[0]), int(v[1])) for k, v in index["spans"].items()}
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            generated, spans = [], {}
        sha = sha256_text(text) if tree is not None else None
        entry = self.contexts.get(path)
        line_tests = entry[1] if entry is not None and sha is not None and entry[0] == sha else None
        made = _File(sha, tree, text.splitlines(), statement_spans(tree) if tree else {}, generated, spans,
                     line_tests)
        self._files[path] = made
        return made

    def _function(self, f: _File, mangled: str, qualname: str) -> tuple[FunctionLines | None, list[str] | None]:
        """The function's lines in the source and mutmut's copy of it (None when the two are not aligned)."""
        if mangled not in f.functions:
            lines = function_lines(f.tree, qualname) if f.tree is not None else None
            copy: list[str] | None = None
            span = f.generated_spans.get(mangled + "__mutmut_orig")
            if lines is not None and span is not None:
                gen = renamed(f.generated[span[0] - 1 : span[1]], mangled + "__mutmut_orig",
                              qualname.rpartition(".")[2])
                if aligned(gen, f.source[lines.first - 1 : lines.end]):
                    copy = gen
            f.functions[mangled] = (lines, copy)
        return f.functions[mangled]

    def sources(self, mutant: str) -> tuple[str, str] | None:
        """(the unmutated function's text, the mutant's) as mutmut generated them, named as in the source;
        None when mutmut's files do not hold them."""
        try:
            module, generated, qualname = split_mutant(mutant)
        except ValueError:
            return None
        path = self.path_by_module.get(module)
        if path is None:
            return None
        f = self._file(path)
        mangled = generated.rpartition("__mutmut_")[0]
        name = qualname.rpartition(".")[2]
        orig, span = f.generated_spans.get(mangled + "__mutmut_orig"), f.generated_spans.get(generated)
        if orig is None or span is None:
            return None
        return ("\n".join(renamed(f.generated[orig[0] - 1 : orig[1]], mangled + "__mutmut_orig", name)),
                "\n".join(renamed(f.generated[span[0] - 1 : span[1]], generated, name)))

    def tests_by_file(self) -> dict[str, set[str]]:
        """Project file -> the tests that executed any of its lines in the coverage run."""
        return {path: set().union(*lines.values()) if lines else set()
                for path, (_sha, lines) in self.contexts.items()}

    def select(self, mutant: str, function_tests: Collection[str], durations: Mapping[str, float]) -> Selection:
        try:
            module, generated, qualname = split_mutant(mutant)
        except ValueError:
            return select(changed=None, function=None, spans={}, line_tests=None, function_tests=function_tests,
                          durations=durations)
        path = self.path_by_module.get(module)
        f = self._file(path) if path is not None else None
        if f is None or f.line_tests is None:
            return select(changed=None, function=None, spans={}, line_tests=None, function_tests=function_tests,
                          durations=durations)
        mangled = generated.rpartition("__mutmut_")[0]
        lines, copy = self._function(f, mangled, qualname)
        changed: set[int] | None = None
        span = f.generated_spans.get(generated)
        if lines is not None and copy is not None and span is not None:
            mutated = renamed(f.generated[span[0] - 1 : span[1]], generated, qualname.rpartition(".")[2])
            offsets = changed_offsets(copy, mutated)
            changed = {lines.first + o for o in offsets}
        return select(changed=changed, function=lines, spans=f.spans, line_tests=f.line_tests,
                      function_tests=function_tests, durations=durations)
