"""Diff mode (``--since REF``): which lines and functions of each module changed since a git ref, and the
coverage figures restricted to them.

``changed_lines`` runs ``git diff`` (read-only; the one place here that runs a tool); everything else is pure.
Changed lines are the new side of ``git diff -U0 REF`` against the working tree (so uncommitted edits count),
plus every line of files git does not track yet. A hunk that only deletes lines marks the line before the
deletion, so the function it happened in counts as changed.

Changed-lines coverage: statements = changed lines that coverage.py counts as statements; executed = those it
saw run; branches = the arcs leaving changed lines (executed + missing, coverage.py's branch data).
A function changed when a changed line lies between its ``def`` line and its last line (enclosing functions
too: mutmut mutates nested functions as part of the outer one).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from harness import git
from harness.complexity import SourceInfo
from harness.discover import Project
from harness.errors import UsageError
from harness.model import CoverageNumbers, ModuleChanges
from harness.notes import Note, NoteKind, note

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


def parse_diff(text: str) -> dict[str, set[int]]:
    """``git diff -U0`` output -> new-side line numbers changed, per path (relative, POSIX)."""
    out: dict[str, set[int]] = {}
    path: str | None = None
    for line in text.splitlines():
        if line.startswith("+++ "):
            target = line[4:].strip()
            path = None if target == "/dev/null" else target[2:] if target.startswith("b/") else target
            if path is not None:
                out.setdefault(path, set())
            continue
        match = _HUNK.match(line)
        if match and path is not None:
            start, count = int(match[1]), int(match[2]) if match[2] is not None else 1
            if count == 0:
                out[path].add(max(start, 1))  # a pure deletion after line `start`
            else:
                out[path].update(range(start, start + count))
    return out


def _git(root: Path, *args: str) -> str:
    """harness.git's output; a failure is the user's (``--since`` needs git and a ref git knows)."""
    try:
        return git.output(root, *args)
    except git.GitError as exc:
        if not exc.ran:
            raise UsageError(f"--since needs git: {exc.detail}") from None
        raise UsageError(f"--since: git {exc.subcommand} failed in {root}: {exc.detail}") from None


def changed_lines(root: Path, ref: str) -> dict[str, set[int]]:
    """Lines changed since ``ref`` in the working tree of the git repository holding ``root``, by path
    relative to ``root``. Raises UsageError when ``root`` is not in git or git does not know ``ref``.
    """
    _git(root, "rev-parse", "--git-dir")  # not a repository: git's own message
    try:
        _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except UsageError:
        raise UsageError(f"--since: git does not know {ref!r} in {root} (fetch it, or name another base "
                         f"with --since REF)") from None
    out = parse_diff(_git(root, "diff", "-U0", "--no-color", "--no-ext-diff", "--relative", ref, "--", "."))
    for rel in _git(root, "ls-files", "--others", "--exclude-standard", "--", ".").splitlines():
        path = root / rel
        if rel.endswith(".py") and path.is_file():
            count = len(path.read_text(encoding="utf-8", errors="replace").splitlines())
            out[rel] = set(range(1, count + 1))
    return out


def changed_functions(info: SourceInfo, lines: Iterable[int]) -> tuple[str, ...]:
    """Qualified names of the functions holding a changed line (enclosing ones included), in source order."""
    wanted = set(lines)
    return tuple(f.qualname for f in info.functions if any(f.start <= n <= f.end for n in wanted))


def module_changes(project: Project, changed: Mapping[str, set[int]], since: str,
                   sources: Mapping[str, str]) -> dict[str, ModuleChanges]:
    """Per changed module: its changed lines and functions (``with_coverage`` adds the figures)."""
    out: dict[str, ModuleChanges] = {}
    for m in project.modules:
        lines = changed.get(m.path)
        if not lines:
            continue
        functions: tuple[str, ...] = ()
        text = sources.get(m.name)
        if text is not None:
            try:
                functions = changed_functions(SourceInfo.parse(text, m.path), lines)
            except SyntaxError:
                functions = ()
        out[m.name] = ModuleChanges(since=since, lines=tuple(sorted(lines)), functions=functions)
    return out


Restricted = tuple[CoverageNumbers, tuple[int, ...], tuple[tuple[int, int], ...]]


def restrict_coverage(file_report: Mapping[str, Any], lines: Iterable[int]) -> Restricted:
    """A file of coverage.py's JSON report -> (numbers, missing lines, missing arcs) of changed lines."""
    wanted = set(lines)
    executed = wanted & set(file_report.get("executed_lines", ()))
    missing = wanted & set(file_report.get("missing_lines", ()))
    excluded = wanted & set(file_report.get("excluded_lines", ()))
    hit = [tuple(a) for a in file_report.get("executed_branches", ()) if a[0] in wanted]
    missed = [(int(a[0]), int(a[1])) for a in file_report.get("missing_branches", ()) if a[0] in wanted]
    partial = {a[0] for a in missed} & {a[0] for a in hit}
    numbers = CoverageNumbers(statements=len(executed | missing), executed=len(executed),
                              excluded=len(excluded), branches=len(hit) + len(missed),
                              covered_branches=len(hit), partial_branches=len(partial))
    return numbers, tuple(sorted(missing)), tuple(sorted(missed))


def with_coverage(changes: Mapping[str, ModuleChanges], doc: dict[str, Any], project: Project,
                  work: Path) -> dict[str, ModuleChanges]:
    """Add the changed-lines coverage figures from coverage.py's JSON report ``doc`` to each module."""
    from dataclasses import replace

    from harness.collectors.coverage import files_by_path

    by_path = files_by_path(doc, work)
    out = dict(changes)
    for m in project.modules:
        entry = by_path.get(m.path)
        if m.name in out and entry is not None:
            numbers, missing, arcs = restrict_coverage(entry, out[m.name].lines)
            out[m.name] = replace(out[m.name], coverage=numbers, missing_lines=missing, missing_arcs=arcs)
    return out


def summary(changes: Mapping[str, ModuleChanges] | None) -> list[Note]:
    """The run's note on diff mode: what changed and the changed lines' coverage (empty when off)."""
    if changes is None:
        return []
    if not changes:
        return [note(NoteKind.DIFF_NONE)]
    cov = sum((c.coverage for c in changes.values() if c.coverage), start=CoverageNumbers())
    return [note(NoteKind.DIFF_SUMMARY, since=next(iter(changes.values())).since,
                 lines=sum(len(c.lines) for c in changes.values()), modules=len(changes),
                 functions=sum(len(c.functions) for c in changes.values()), executed=cov.executed,
                 statements=cov.statements, covered_branches=cov.covered_branches, branches=cov.branches)]
