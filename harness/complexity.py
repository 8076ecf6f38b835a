"""What a module's source says about itself (pure): its functions, their cyclomatic complexity, and what a
coverage.py arc means in words.

Cyclomatic complexity (McCabe, counted as radon and mccabe count it) = 1 + the decision points of a function:
``if``/``elif``, conditional expressions, ``for``/``while`` loops, ``except`` clauses, ``case`` clauses, each
``for`` and ``if`` of a comprehension, and each extra operand of ``and``/``or``. Nested functions and classes
count on their own. A module's ``decisions`` is the number of decision points anywhere in it.

Arcs are coverage.py's ``(from, to)`` line pairs; ``to < 0`` means "exit from the code object starting on line
``-to``". :func:`describe_arc` names the branch a missing arc stands for, e.g.
``the else of 'if server_user'``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

MODULE_SCOPE = "<module>"
_SHOWN = 60  # longest condition text quoted in a description


@dataclass(frozen=True)
class FunctionInfo:
    """A function or method: qualified name (``Class.method``), first and last line, cyclomatic complexity."""

    qualname: str
    start: int  # the ``def`` line (decorators excluded), as mutmut and coverage.py name functions
    end: int
    complexity: int
    body_start: int = 0  # first line of the body's first statement (after the docstring, if any)


def _decisions(node: ast.AST) -> int:
    """Decision points of one node itself (not of its children)."""
    if isinstance(node, (ast.If, ast.IfExp, ast.For, ast.AsyncFor, ast.While, ast.ExceptHandler,
                         ast.match_case)):
        return 1
    if isinstance(node, ast.comprehension):
        return 1 + len(node.ifs)
    if isinstance(node, ast.BoolOp):
        return len(node.values) - 1
    return 0


def _is_docstring(node: ast.stmt) -> bool:
    value = node.value if isinstance(node, ast.Expr) else None
    return isinstance(value, ast.Constant) and isinstance(value.value, str)


def _own_decisions(root: ast.AST) -> int:
    """Decision points inside ``root`` that do not belong to a nested function or class."""
    total = 0
    stack = list(ast.iter_child_nodes(root))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        total += _decisions(node)
        stack.extend(ast.iter_child_nodes(node))
    return total


@dataclass(frozen=True)
class SourceInfo:
    """The parsed module: its functions (outermost first), total decision points, and the source text."""

    source: str
    tree: ast.Module
    functions: tuple[FunctionInfo, ...]
    decisions: int

    @classmethod
    def parse(cls, source: str, filename: str = "<source>") -> SourceInfo:
        """Parse ``source``; raises SyntaxError (callers decide what an unparsable file means)."""
        tree = ast.parse(source, filename=filename)
        functions: list[FunctionInfo] = []

        def visit(node: ast.AST, prefix: str) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    name = prefix + child.name
                    body = child.body
                    if len(body) > 1 and _is_docstring(body[0]):
                        body = body[1:]
                    functions.append(FunctionInfo(name, child.lineno, child.end_lineno or child.lineno,
                                                  1 + _own_decisions(child), body[0].lineno))
                    visit(child, name + ".<locals>.")
                elif isinstance(child, ast.ClassDef):
                    visit(child, prefix + child.name + ".")
                else:
                    visit(child, prefix)

        visit(tree, "")
        decisions = sum(_decisions(n) for n in ast.walk(tree))
        return cls(source=source, tree=tree, functions=tuple(functions), decisions=decisions)

    @property
    def complexity(self) -> int:
        """Summed cyclomatic complexity of the functions plus the module-level decision points."""
        return sum(f.complexity for f in self.functions) + _own_decisions(self.tree)

    def function_at(self, line: int) -> str:
        """Qualified name of the innermost function holding ``line`` (``<module>`` outside every function)."""
        best: FunctionInfo | None = None
        for f in self.functions:
            if f.start <= line <= f.end and (best is None or f.start >= best.start):
                best = f
        return best.qualname if best else MODULE_SCOPE

    def function(self, qualname: str) -> FunctionInfo | None:
        return next((f for f in self.functions if f.qualname == qualname), None)

    def statement_at(self, line: int) -> int:
        """First line of the innermost simple statement holding ``line`` (``line`` itself outside any)."""
        best: tuple[int, int] | None = None  # (span, first line)
        for node in ast.walk(self.tree):
            if isinstance(node, ast.stmt) and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                                    ast.ClassDef)):
                end = node.end_lineno or node.lineno
                if node.lineno <= line <= end and (best is None or end - node.lineno < best[0]):
                    best = (end - node.lineno, node.lineno)
        return best[1] if best else line

    def clause_at(self, line: int) -> str | None:
        """The innermost ``except`` handler or ``finally`` holding ``line``, in words.

        No branch arc leads into these blocks, so their missing lines are described by where they are.
        """
        found: str | None = None
        best = 0
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ExceptHandler) and node.lineno <= line <= (node.end_lineno or 0) \
                    and node.lineno > best:
                kind = self._segment(node.type) if node.type is not None else ""
                found = f"the 'except {kind}' handler" if kind else "the bare 'except' handler"
                best = node.lineno
            elif isinstance(node, ast.Try) and node.finalbody:
                first, last = node.finalbody[0].lineno, node.finalbody[-1].end_lineno or 0
                if first <= line <= last and first > best:
                    found, best = "the 'finally' block", first
        return found

    # ------------------------------------------------------------------------------------------- arcs

    def _segment(self, node: ast.AST) -> str:
        text = ast.get_source_segment(self.source, node) or ""
        text = " ".join(text.split())
        return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"

    def _line_text(self, line: int) -> str:
        lines = self.source.splitlines()
        return lines[line - 1].strip() if 0 < line <= len(lines) else ""

    def _branch_node(self, line: int) -> ast.AST | None:
        """The branching statement (or case clause) that starts on ``line``."""
        for node in ast.walk(self.tree):
            if isinstance(node, (ast.If, ast.While, ast.For, ast.AsyncFor)) and node.lineno == line:
                return node
            if isinstance(node, ast.match_case) and node.pattern.lineno == line:
                return node
        return None

    def _branch_labels(self, line: int, node: ast.AST) -> tuple[str, str, str] | None:
        """(quoted statement, why its body runs, a format for the other way) for a branching statement."""
        if isinstance(node, ast.If):
            keyword = "elif" if self._line_text(line).startswith("elif") else "if"
            other = "the else of {label}" if node.orelse else \
                "the else of {label} (condition false; there is no else clause)"
            return f"'{keyword} {self._segment(node.test)}'", "condition true", other
        if isinstance(node, ast.While):
            cond = f"'while {self._segment(node.test)}'"
            return cond, "loop entered", "the exit of {label} (condition false)"
        if isinstance(node, (ast.For, ast.AsyncFor)):
            keyword = "async for" if isinstance(node, ast.AsyncFor) else "for"
            loop = f"'{keyword} {self._segment(node.target)} in {self._segment(node.iter)}'"
            return loop, "an item to iterate", "the exit of {label} (iterable exhausted or empty)"
        if isinstance(node, ast.match_case):
            return f"'case {self._segment(node.pattern)}'", "pattern matches", "{label} not matching"
        return None

    def describe_arc(self, arc: tuple[int, int]) -> str:
        """What taking the arc means: ``the else of 'if server_user'``, ``the body of 'for x in xs'``..."""
        start, end = arc
        node = self._branch_node(start)
        labels = self._branch_labels(start, node) if node is not None else None
        if node is not None and labels is not None:
            label, taken, not_taken = labels
            body = getattr(node, "body", None)
            if body and end == body[0].lineno:
                return f"the body of {label} ({taken})"
            return not_taken.format(label=label)
        text = self._line_text(start)
        if end < 0:
            if "lambda" in text:
                return f"the lambda on line {start} being called"
            if any(k in text for k in (" for ", "yield")):
                return f"the generator or comprehension on line {start} running to its end"
            return f"line {start} ('{text[:_SHOWN]}') leaving {self.function_at(start)}"
        return f"the jump from line {start} ('{text[:_SHOWN]}') to line {end}"
