"""Discovery: layouts, module names, and the errors for what is not a Python project."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_tree

from harness.config import Config
from harness.discover import check_syntax, discover, module_name
from harness.errors import ConfigError, UsageError


@pytest.mark.parametrize(
    ("rel", "root", "name"),
    [("pkg/__init__.py", "", "pkg"), ("pkg/sub/mod.py", "", "pkg.sub.mod"), ("src/pkg/a.py", "src", "pkg.a"),
     ("single.py", "", "single")],
)
def test_module_name(rel: str, root: str, name: str) -> None:
    assert module_name(rel, root) == name


def test_flat_layout(tmp_path: Path) -> None:
    write_tree(tmp_path, {"pkg/__init__.py": "", "pkg/a.py": "", "tests/test_a.py": "", "docs/conf.py": "",
                          "setup.py": ""})
    p = discover(tmp_path, Config())
    assert p.source == ("pkg",) and p.tests == ("tests",) and p.import_roots == ("",)
    assert [m.name for m in p.modules] == ["pkg", "pkg.a"]


def test_src_layout(tmp_path: Path) -> None:
    write_tree(tmp_path, {"pyproject.toml": "[project]\nname = 'thing'\n", "src/thing/__init__.py": "",
                          "src/thing/core.py": "", "test/test_core.py": ""})
    p = discover(tmp_path, Config())
    assert p.name == "thing" and p.import_roots == ("src",) and p.tests == ("test",)
    assert [(m.name, m.path) for m in p.modules] == [("thing", "src/thing/__init__.py"),
                                                      ("thing.core", "src/thing/core.py")]
    assert p.module_for_path(str(tmp_path / "src/thing/core.py")) == "thing.core"


def test_tests_inside_the_package_are_not_modules(tmp_path: Path) -> None:
    write_tree(tmp_path, {"toolz/__init__.py": "", "toolz/itertoolz.py": "", "toolz/tests/test_it.py": "",
                          "toolz/tests/conftest.py": ""})
    p = discover(tmp_path, Config())
    assert p.tests == ("toolz",)
    assert [m.name for m in p.modules] == ["toolz", "toolz.itertoolz"]


def test_single_module_project_and_omit(tmp_path: Path) -> None:
    write_tree(tmp_path, {"lonely.py": "", "_version.py": "", "test_lonely.py": "", "setup.py": ""})
    p = discover(tmp_path, Config(omit=("_version",)))
    assert [m.name for m in p.modules] == ["lonely"] and p.tests == ("test_lonely.py",)


def test_configured_source_and_tests(tmp_path: Path) -> None:
    write_tree(tmp_path, {"lib/pkg/__init__.py": "", "lib/pkg/m.py": "", "checks/test_m.py": ""})
    p = discover(tmp_path, Config(source=("lib/pkg",), tests=("checks",)))
    assert p.import_roots == ("lib",) and [m.name for m in p.modules] == ["pkg", "pkg.m"]
    with pytest.raises(ConfigError, match="config key 'source': nope does not exist"):
        discover(tmp_path, Config(source=("nope",)))


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"README.md": "hi"}, "is not a Python project"),
        ({"pyproject.toml": ""}, "no source package found"),
        ({"pkg/__init__.py": ""}, "no tests found"),
    ],
)
def test_not_measurable(tmp_path: Path, files: dict[str, str], message: str) -> None:
    write_tree(tmp_path, files)
    with pytest.raises(UsageError, match=message):
        discover(tmp_path, Config())


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        discover(tmp_path / "missing", Config())


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    write_tree(tmp_path, {"pkg/__init__.py": "", "pkg/bad.py": "x = 1\ndef f(:\n", "tests/test_x.py": ""})
    with pytest.raises(UsageError, match=r"syntax error in pkg/bad.py line 2"):
        check_syntax(discover(tmp_path, Config()))
