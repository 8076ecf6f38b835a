"""Diff mode (``--since REF``): changed lines from git, changed functions, changed-lines coverage."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import write_tree

from harness.complexity import SourceInfo
from harness.config import Config
from harness.diffscope import changed_functions, changed_lines, module_changes, parse_diff, restrict_coverage
from harness.discover import discover
from harness.errors import UsageError
from harness.model import CoverageNumbers, ModuleChanges

DIFF = """\
diff --git a/pkg/a.py b/pkg/a.py
index 1..2 100644
--- a/pkg/a.py
+++ b/pkg/a.py
@@ -3 +3 @@ def f(x):
-    return x
+    return x + 1
@@ -10,0 +11,2 @@ def g():
+    y = 2
+    z = 3
@@ -20,2 +21,0 @@ def h():
-    gone = 1
-    gone = 2
--- a/pkg/old.py
+++ /dev/null
@@ -1,2 +0,0 @@
-x = 1
-y = 2
--- /dev/null
+++ b/pkg/new.py
@@ -0,0 +1,2 @@
+def n():
+    return 1
"""


def test_parse_diff() -> None:
    assert parse_diff(DIFF) == {"pkg/a.py": {3, 11, 12, 21}, "pkg/new.py": {1, 2}}


SOURCE = """\
def f(x):
    def inner(y):
        return y
    return inner(x)


class C:
    def m(self):
        return 1

    def n(self):
        return 2
"""


@pytest.mark.parametrize(
    ("lines", "functions"),
    [
        ({3}, ("f", "f.<locals>.inner")),  # a nested function's line changes the enclosing one too
        ({4}, ("f",)),
        ({9}, ("C.m",)),
        ({6}, ()),  # between functions
        ({9, 12}, ("C.m", "C.n")),
    ],
)
def test_changed_functions(lines: set[int], functions: tuple[str, ...]) -> None:
    assert changed_functions(SourceInfo.parse(SOURCE), lines) == functions


def test_restrict_coverage() -> None:
    report = {"executed_lines": [1, 2, 3, 5], "missing_lines": [4, 6], "excluded_lines": [7],
              "executed_branches": [[2, 3], [5, 6]], "missing_branches": [[2, 4], [5, -1]]}
    numbers, missing, arcs = restrict_coverage(report, {2, 4, 7, 8})
    assert (numbers.statements, numbers.executed, numbers.excluded) == (2, 1, 1)
    assert (numbers.branches, numbers.covered_branches, numbers.partial_branches) == (2, 1, 1)
    assert missing == (4,) and arcs == ((2, 4),)


def test_restrict_coverage_keeps_the_arcs_leaving_changed_lines() -> None:
    # arcs count by their source line: 3->9 and 4->5 leave changed lines, 2->4 only enters one
    report = {"executed_lines": [2, 3, 4], "executed_branches": [[3, 9], [2, 3]],
              "missing_branches": [[2, 4], [4, 5]]}
    numbers, missing, arcs = restrict_coverage(report, {3, 4})
    assert (numbers.statements, numbers.executed, numbers.branches, numbers.covered_branches) == (2, 2, 2, 1)
    assert numbers.partial_branches == 0  # line 3 took its only branch, line 4 missed its only one
    assert missing == () and arcs == ((4, 5),)


def test_restrict_coverage_of_a_file_with_no_data() -> None:
    numbers, missing, arcs = restrict_coverage({}, {1, 2})
    assert numbers == CoverageNumbers() and missing == () and arcs == ()


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def git_project(root: Path, files: dict[str, str]) -> Path:
    write_tree(root, files)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "-c", "user.email=t@example.com", "-c", "user.name=t", "add", ".")
    _git(root, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "-m", "base")
    return root


FILES = {
    "pyproject.toml": '[project]\nname = "d"\nversion = "0"\n',
    "d/__init__.py": "",
    "d/calc.py": "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n",
    "tests/test_calc.py": "from d.calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n",
}


def test_changed_lines_from_git(tmp_path: Path) -> None:
    root = git_project(tmp_path / "p", FILES)
    (root / "d" / "calc.py").write_text(FILES["d/calc.py"].replace("a - b", "b - a"))
    (root / "d" / "extra.py").write_text("def e():\n    return 1\n")  # untracked: every line changed
    changed = changed_lines(root, "HEAD")
    assert changed == {"d/calc.py": {6}, "d/extra.py": {1, 2}}
    project = discover(root, Config())
    sources = {m.name: (root / m.path).read_text() for m in project.modules}
    changes = module_changes(project, changed, "HEAD", sources)
    assert {m: c.functions for m, c in changes.items()} == {"d.calc": ("sub",), "d.extra": ("e",)}


def test_changed_lines_in_a_subdirectory_target(tmp_path: Path) -> None:
    repo = git_project(tmp_path / "repo", {f"sub/{k}": v for k, v in FILES.items()})
    (repo / "sub" / "d" / "calc.py").write_text(FILES["d/calc.py"].replace("a + b", "b + a"))
    assert changed_lines(repo / "sub", "HEAD") == {"d/calc.py": {2}}


@pytest.mark.parametrize("ref", ["no-such-ref", "HEAD~5"])
def test_unknown_ref_is_a_usage_error(tmp_path: Path, ref: str) -> None:
    root = git_project(tmp_path / "p", FILES)
    with pytest.raises(UsageError, match="--since"):
        changed_lines(root, ref)


def test_not_a_git_repository(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", FILES)
    with pytest.raises(UsageError, match="--since"):
        changed_lines(root, "HEAD")


def test_summary_note() -> None:
    from harness.diffscope import summary
    from harness.model import CoverageNumbers, ModuleChanges

    assert summary(None) == [] and [n.text for n in summary({})] == ["diff mode: no measured module changed"]
    ch = ModuleChanges(since="main", lines=(2, 3, 9), functions=("f",),
                       coverage=CoverageNumbers(statements=2, executed=1, branches=2, covered_branches=2))
    assert [n.text for n in summary({"m": ch})] == [
        "diff mode since main: 3 changed lines in 1 module(s), 1 function(s); changed-lines coverage: line 50.0 % "
        "(1/2), branch 100.0 % (2/2)"]
    unmeasured = ModuleChanges(since="v1", lines=(1,), functions=())
    assert [n.text for n in summary({"m": unmeasured, "n": unmeasured})] == [
        "diff mode since v1: 2 changed lines in 2 module(s), 0 function(s); changed-lines coverage: line n/a, "
        "branch n/a"]


def test_parse_diff_reads_plain_paths_deletions_at_the_top_and_ignores_hunks_without_a_file() -> None:
    text = "@@ -1 +1 @@\n+++ pkg/plain.py\n@@ -1,2 +0,0 @@\n+++ b/pkg/b.py\n@@ -4 +5,2 @@\n"
    assert parse_diff(text) == {"pkg/plain.py": {1}, "pkg/b.py": {5, 6}}


def test_a_change_on_the_def_line_changes_the_function() -> None:
    assert changed_functions(SourceInfo.parse("x = 1\ndef f():\n    return 1\n"), {2}) == ("f",)


def test_module_changes_without_a_parsable_source_have_no_functions() -> None:
    from harness.discover import ModuleInfo, Project

    project = Project(root=Path("/p"), name="p", import_roots=("",), source=("pkg",), tests=("tests",),
                      modules=(ModuleInfo("pkg.a", "pkg/a.py", ""), ModuleInfo("pkg.b", "pkg/b.py", ""),
                               ModuleInfo("pkg.c", "pkg/c.py", "")))
    changes = module_changes(project, {"pkg/a.py": {3, 1}, "pkg/b.py": {2}, "pkg/c.py": set()}, "v2",
                             {"pkg/b.py": "x = 1\n", "pkg.a": "def f(:\n"})
    assert changes == {"pkg.a": ModuleChanges(since="v2", lines=(1, 3), functions=()),
                       "pkg.b": ModuleChanges(since="v2", lines=(2,), functions=())}


def test_changed_lines_diff_against_the_ref_and_count_new_python_files_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness import diffscope

    write_tree(tmp_path, {"new.py": "a = 1\nb = 2\n", "notes.txt": "x\n"})
    calls: list[tuple[str, ...]] = []

    def fake_git(root: Path, *args: str) -> str:
        calls.append(args)
        return {"diff": "+++ b/pkg/a.py\n@@ -3 +3 @@\n", "ls-files": "new.py\nnotes.txt\ngone.py\n"}.get(args[0], "")

    monkeypatch.setattr(diffscope.git, "output", fake_git)
    assert changed_lines(tmp_path, "v1") == {"pkg/a.py": {3}, "new.py": {1, 2}}
    assert ("diff", "-U0", "--no-color", "--no-ext-diff", "--relative", "v1", "--", ".") in calls


@pytest.mark.parametrize(("ran", "message"), [
    (False, "^--since needs git: No such file or directory$"),
    (True, "^--since: git rev-parse failed in /r: fatal: not a git repository$"),
])
def test_git_failures_in_diff_mode_are_usage_errors(monkeypatch: pytest.MonkeyPatch, ran: bool, message: str) -> None:
    from harness import diffscope, git

    def fail(root: Path, *args: str) -> str:
        raise git.GitError(args, root, "No such file or directory" if not ran else "fatal: not a git repository",
                           ran=ran)

    monkeypatch.setattr(diffscope.git, "output", fail)
    with pytest.raises(UsageError, match=message):
        changed_lines(Path("/r"), "main")


def test_with_coverage_adds_the_changed_lines_figures_of_measured_modules(tmp_path: Path) -> None:
    from harness.diffscope import with_coverage
    from harness.discover import ModuleInfo, Project

    project = Project(root=tmp_path, name="p", import_roots=("",), source=("pkg",), tests=("tests",),
                      modules=(ModuleInfo("pkg.a", "pkg/a.py", ""), ModuleInfo("pkg.b", "pkg/b.py", ""),
                               ModuleInfo("pkg.c", "pkg/c.py", "")))
    work = tmp_path / "work"
    doc = {"files": {str(work / "pkg/a.py"): {"executed_lines": [1], "missing_lines": [2],
                                              "missing_branches": [[2, 4]]},
                     "pkg/c.py": {"executed_lines": [5]}}}
    before = {"pkg.a": ModuleChanges(since="main", lines=(1, 2), functions=("f",)),
              "pkg.b": ModuleChanges(since="main", lines=(7,), functions=())}
    got = with_coverage(before, doc, project, work)
    assert got["pkg.a"] == ModuleChanges(since="main", lines=(1, 2), functions=("f",),
                                         coverage=CoverageNumbers(statements=2, executed=1, branches=1),
                                         missing_lines=(2,), missing_arcs=((2, 4),))
    assert got["pkg.b"] == before["pkg.b"] and "pkg.c" not in got  # no report entry / not changed
    assert before["pkg.a"].coverage is None  # the input is left as it was
