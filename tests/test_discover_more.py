"""Discovery corners: module lookup, paths outside the root, odd pyproject files, skipped and unreadable folders,
tests found in the package or the root, the target path checks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import write_tree

from harness.config import Config
from harness.discover import check_root, discover
from harness.errors import ConfigError, UsageError

FLAT = {"pkg/__init__.py": "", "pkg/a.py": "x = 1\n", "tests/test_a.py": "def test_a():\n    pass\n"}


def test_module_lookup_and_paths(tmp_path: Path) -> None:
    project = discover(write_tree(tmp_path, FLAT), Config())
    assert project.module("pkg.a").path == "pkg/a.py"
    with pytest.raises(KeyError, match=r"'pkg\.nope'"):
        project.module("pkg.nope")
    assert project.module_for_path(str(tmp_path / "pkg" / "a.py")) == "pkg.a"
    assert project.module_for_path("pkg/a.py") == "pkg.a"
    assert project.module_for_path(str(tmp_path.parent / "elsewhere.py")) is None


@pytest.mark.parametrize("pyproject", ["not toml [", '[project]\nname = 3\n', "project = 1\n"])
def test_project_name_falls_back_to_the_folder(tmp_path: Path, pyproject: str) -> None:
    root = write_tree(tmp_path / "myproj", {**FLAT, "pyproject.toml": pyproject})
    assert discover(root, Config()).name == "myproj"


def test_project_name_from_pyproject(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {**FLAT, "pyproject.toml": '[project]\nname = "nice"\n'})
    assert discover(root, Config()).name == "nice"


def test_skipped_and_unreadable_folders(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {**FLAT, "pkg/__pycache__/junk.py": "", "pkg/.hidden/h.py": "",
                                 "pkg/x.egg-info/e.py": "", "pkg/locked/__init__.py": "",
                                 "pkg/locked/l.py": ""})
    locked = root / "pkg" / "locked"
    locked.chmod(0)
    try:
        names = {m.name for m in discover(root, Config()).modules}
    finally:
        locked.chmod(0o755)
    assert {"pkg", "pkg.a"} <= names
    assert not any("junk" in n or n.rsplit(".", 1)[-1] == "h" or n.endswith(".e") for n in names)
    if os.geteuid() != 0:  # root reads a folder of mode 0 anyway
        assert "pkg.locked.l" not in names


def test_tests_inside_the_package_or_in_the_root(tmp_path: Path) -> None:
    inside = write_tree(tmp_path / "a", {"pkg/__init__.py": "", "pkg/m.py": "", "pkg/tests/test_m.py": ""})
    project = discover(inside, Config())
    assert project.tests == ("pkg",)
    assert "pkg.tests.test_m" not in {m.name for m in project.modules}
    at_root = write_tree(tmp_path / "b", {"mod.py": "x = 1\n", "test_mod.py": "def test_x():\n    pass\n"})
    project = discover(at_root, Config())
    assert project.tests == ("test_mod.py",) and [m.name for m in project.modules] == ["mod"]


def test_src_layout_with_a_single_file_module(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"src/solo.py": "x = 1\n", "src/notes.txt": "", "tests/test_s.py": ""})
    project = discover(root, Config())
    assert project.import_roots == ("src",) and [m.name for m in project.modules] == ["solo"]


def test_empty_src_falls_back_to_the_root(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"src/readme.txt": "", **FLAT})
    assert discover(root, Config()).import_roots == ("",)


def test_no_source_and_no_tests_are_named(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no source package found"):
        discover(write_tree(tmp_path / "a", {"setup.py": "", "tests/test_x.py": ""}), Config())
    with pytest.raises(UsageError, match="no tests found"):
        discover(write_tree(tmp_path / "b", {"pkg/__init__.py": "", "pkg/m.py": ""}), Config())
    with pytest.raises(ConfigError, match="config key 'tests': nope does not exist"):
        discover(write_tree(tmp_path / "c", FLAT), Config(tests=("nope",)))


def test_check_root(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        check_root(tmp_path / "missing")
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="is not a directory"):
        check_root(tmp_path / "file")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UsageError, match="is not a Python project"):
        check_root(empty)


def test_configured_source_that_is_missing_or_holds_no_module(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {**FLAT, "only_tests/test_q.py": ""})
    with pytest.raises(ConfigError, match="config key 'source': nope does not exist"):
        discover(root, Config(source=("nope",)))
    with pytest.raises(UsageError, match="no Python modules found under only_tests"):
        discover(root, Config(source=("only_tests",)))


@pytest.mark.parametrize(("inits", "import_root"), [
    (["a/b/__init__.py"], "a"),  # a/ is not a package: the import root
    (["__init__.py", "a/__init__.py", "a/b/__init__.py"], ""),  # the project root is a package itself
    (["a/__init__.py", "a/b/__init__.py"], ""),  # packages up to the project root
    ([], "a/b"),
])
def test_a_configured_package_is_imported_from_its_first_non_package_parent(
        tmp_path: Path, inits: list[str], import_root: str) -> None:
    files = {"a/b/pkg/__init__.py": "", "a/b/pkg/m.py": "", "tests/test_m.py": "", **dict.fromkeys(inits, "")}
    project = discover(write_tree(tmp_path, files), Config(source=("a/b/pkg",)))
    assert project.import_roots == (import_root,)


@pytest.mark.parametrize(("rel", "is_test"), [
    ("pkg/sub/tests/helpers.py", True), ("pkg/test/x.py", True), ("testing/x.py", True), ("pkg/test_a.py", True),
    ("pkg/testing.py", False), ("pkg/sub/mod.py", False),
])
def test_test_files_by_name_or_folder(rel: str, is_test: bool) -> None:
    from harness.discover import is_test_file

    assert is_test_file(rel) is is_test


def test_tests_named_by_node_id_and_a_test_folder_inside_the_package(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"pkg/__init__.py": "", "pkg/test/test_m.py": "", "checks/test_m.py": ""})
    assert discover(root, Config(tests=("checks/test_m.py::test_x",))).tests == ("checks/test_m.py::test_x",)
    (root / "checks" / "test_m.py").unlink()
    (root / "checks").rmdir()
    assert discover(root, Config(source=("pkg/",))).tests == ("pkg",)
