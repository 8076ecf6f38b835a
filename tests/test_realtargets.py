"""The real-target helpers themselves (fast): coverage config patching, the timing allowance, target selection."""

from __future__ import annotations

import tomllib
from configparser import ConfigParser
from pathlib import Path

import pytest
import realtargets


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("pyproject.toml", "[project]\nname = 'x'\n", ["subprocess"]),
    ("pyproject.toml", "[tool.coverage.run]\nbranch = true\n", ["subprocess"]),
    ("pyproject.toml", "[tool.coverage]\nrun.core = 'sysmon'\n", ["subprocess"]),  # humanize's dotted keys
    ("pyproject.toml", "[tool.coverage.run]\npatch = ['subprocess']\n", ["subprocess"]),  # attrs: as it is
])
def test_patch_subprocess_in_pyproject(tmp_path: Path, name: str, text: str, expected: list[str]) -> None:
    (tmp_path / name).write_text(text)
    assert realtargets.patch_subprocess(tmp_path) == tmp_path / name
    run = tomllib.loads((tmp_path / name).read_text())["tool"]["coverage"]["run"]
    assert run["patch"] == expected


@pytest.mark.parametrize(("name", "text", "section"), [
    ("tox.ini", "[tox]\nenvlist = py\n\n[coverage:run]\nsource = dateutil\n", "coverage:run"),  # dateutil
    ("setup.cfg", "[coverage:report]\nshow_missing = true\n", "coverage:run"),
    (".coveragerc", "[run]\nbranch = true\n", "run"),
])
def test_patch_subprocess_in_the_ini_file_coverage_reads(tmp_path: Path, name: str, text: str,
                                                         section: str) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / name).write_text(text)
    assert realtargets.patch_subprocess(tmp_path) == tmp_path / name
    ini = ConfigParser()
    ini.read(tmp_path / name)
    assert ini[section]["patch"] == "subprocess"
    assert "patch" not in (tmp_path / "pyproject.toml").read_text()


def _module(missing: list[int], arcs: list[str], executed: int) -> dict[str, object]:
    nums = {"statements": 10, "executed": executed, "branches": 4, "covered_branches": 3}
    return {"module": "a2wsgi.asgi", "path": "a2wsgi/asgi.py",
            "coverage": {"numbers": nums, "missing_lines": missing, "missing_arcs_text": arcs}}


REFERENCE = {"a2wsgi/asgi.py": {"summary": {"num_statements": 10, "covered_lines": 9, "num_branches": 4,
                                            "covered_branches": 3},
                                "missing_lines": [21], "missing_branches": [[20, 21]]}}


def test_a_difference_confined_to_timing_dependent_lines_is_allowed() -> None:
    same = {"modules": [_module([21], ["20->21"], 9)]}
    assert realtargets.compare("a2wsgi", same, REFERENCE) == (1, [], [])
    timing = {"modules": [_module([21, 183, 184], ["20->21", "182->183"], 7)]}
    matched, diffs, notes = realtargets.compare("a2wsgi", timing, REFERENCE)
    assert (matched, diffs) == (1, [])
    assert notes == ["a2wsgi.asgi: differs only on its timing-dependent lines [183, 184] ['182->183']"]
    other = {"modules": [_module([21, 183, 185], ["20->21"], 7)]}
    matched, diffs, _ = realtargets.compare("a2wsgi", other, REFERENCE)
    assert matched == 0 and len(diffs) == 1
    assert realtargets.compare("jmespath", {"modules": [{**_module([21, 183], ["20->21"], 8),
                                                         "path": "a2wsgi/asgi.py"}]}, REFERENCE)[0] == 0


def test_selection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QH_ALL_TARGETS", raising=False)
    assert realtargets.selected() == ["toolz", "itsdangerous", "semver", "python-slugify", "humanize", "jmespath"]
    monkeypatch.setenv("QH_ALL_TARGETS", "1")
    assert realtargets.selected() == list(realtargets.TARGETS) and len(realtargets.TARGETS) == 13
    assert realtargets.selected(["arrow"]) == ["arrow"]
    with pytest.raises(KeyError, match="unknown target"):
        realtargets.selected(["nope"])


def test_harness_config_quotes_pytest_args_as_toml_literals() -> None:
    assert realtargets.harness_config("toolz") == []
    assert realtargets.harness_config("semver") == ["--set", "pytest_args=['-o', 'addopts=--import-mode=importlib']"]
    truth = realtargets.harness_config("python-dateutil", truth=True)
    assert truth[0] == "--set" and truth[1].count("--deselect") == 3
    assert realtargets.harness_config("python-dateutil") == []


@pytest.mark.parametrize("name", sorted(realtargets.TARGETS))
def test_the_harness_reads_each_targets_set_arguments_back(name: str) -> None:
    from harness.config import parse_set

    t = realtargets.TARGETS[name]
    settings = parse_set(realtargets.set_values(realtargets.harness_config(name, truth=True)))
    assert tuple(settings.get("pytest_args", ())) == (*t.pytest_args, *t.truth_args)
