"""Issue 14 end to end: the coverage run reused by content, whole or in part (coverage.reuse). Every figure of a
run that reused data is compared with a full run of the same files in a separate copy (coverage.reuse = false).
Real harness, coverage.py and pytest on a fixture project."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import SIMPLE_PROJECT, run_harness

pytestmark = pytest.mark.slow

ONLY_COVERAGE = ("--set", "flakiness.enabled=false", "--set", "runtime.enabled=false", "--set",
                 "mutation.enabled=false", "--set", "history.enabled=false", "--quiet")

PROJECT = {
    **{name: SIMPLE_PROJECT[name] for name in ("pyproject.toml", "simple/__init__.py", "simple/calc.py")},
    "simple/text.py": """
        def shout(s):
            if s:
                return s.upper() + "!"
            return ""


        def whisper(s):
            return s.lower()
    """,
    "simple/extra.py": """
        REGISTRY = []


        def register(f):
            REGISTRY.append(f.__name__)
            return f


        @register
        def helper(x):
            return x + 1
    """,
    "tests/conftest.py": """
        import pytest

        import simple.extra  # noqa: F401 - imported, never called
        from simple.calc import add


        @pytest.fixture(scope="session")
        def base():
            return add(40, 2)
    """,
    "tests/test_calc.py": """
        import pytest

        from simple.calc import add, classify


        def test_add():
            assert add(1, 2) == 3


        @pytest.mark.parametrize("n", [-3, -2, -1, 1, 2, 3])
        def test_classify(n):
            assert classify(n) == ("neg" if n < 0 else "pos")


        def test_add_base(base):
            assert add(base, 0) == 42
    """,
    "tests/test_text.py": """
        from simple.text import shout


        def test_shout():
            assert shout("a") == "A!"


        def test_shout_base(base):
            assert shout("x" * (base - 41)) == "X!"
    """,
}


def run(root: Path, *extra: str) -> dict[str, Any]:
    result = run_harness("run", root, *ONLY_COVERAGE, *extra, cwd=root)
    assert result.returncode in (0, 1), result.output
    return json.loads((root / "reports" / "scorecard.json").read_text(encoding="utf-8"))


def reused(root: Path) -> dict[str, Any] | None:
    path = root / "reports" / "raw" / "coverage" / "reused.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


# The tests that use the session fixture ``base``: which of them executes ``add`` while setting it up depends on
# which ran first in its process (xdist's distribution), in any two full runs alike.
FIXTURE_USERS = {"tests/test_calc.py::test_add_base", "tests/test_text.py::test_shout_base"}


def figures(card: dict[str, Any]) -> dict[str, Any]:
    """Every module's coverage figures: counts, percentages, missing lines and arcs, and the covering tests but
    for those whose attribution depends on the order (:data:`FIXTURE_USERS`)."""
    out = {}
    for m in card["modules"]:
        cov = dict(m.get("coverage") or {})
        cov["tests"] = sorted(set(cov.get("tests") or ()) - FIXTURE_USERS)
        out[m["module"]] = cov
    return out


def reference(root: Path, tmp_path: Path, name: str) -> dict[str, Any]:
    """The same files measured by a full run in a separate copy, reusing nothing."""
    copy = tmp_path / name
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".harness-cache", "reports"))
    return run(copy, "--set", "coverage.reuse=false")


def edit(root: Path, path: str, old: str, new: str) -> None:
    file = root / path
    text = file.read_text(encoding="utf-8")
    assert old in text
    file.write_text(text.replace(old, new), encoding="utf-8")


def test_unchanged_edited_bodies_and_module_level_edits(target_project: Callable[..., Path], tmp_path: Path) -> None:
    root = target_project(PROJECT)
    first = run(root)
    assert reused(root) is None
    # nothing changed: all of it reused, said in the notes
    again = run(root)
    assert reused(root) is not None and "changed" not in (reused(root) or {})
    assert figures(again) == figures(first)
    assert [n["kind"] for n in again["notes"]] == ["coverage.reused"]
    # a body edited that shifts every later line: only the tests that ran text.py, and the one sharing their
    # session fixture, run again; the figures are a full run's
    edit(root, "simple/text.py", "    if s:\n", "    s = str(s)\n    if s:\n")
    card = run(root)
    facts = reused(root)
    assert facts is not None and facts["changed"] == ["simple/text.py"]
    assert (facts["rerun"], facts["tests"]) == (3, 10)  # test_shout, test_shout_base and test_add_base (base)
    record = json.loads((root / "reports" / "raw" / "coverage" / "partial" / "record.json").read_text())
    assert sorted(t["nodeid"] for t in record["tests"]) == ["tests/test_calc.py::test_add_base",
                                                            "tests/test_text.py::test_shout",
                                                            "tests/test_text.py::test_shout_base"]
    assert figures(card) == figures(reference(root, tmp_path, "ref1"))
    assert [n["kind"] for n in card["notes"]] == ["coverage.increment"]
    assert "only 3 of 10 tests ran again under coverage.py: the ones that executed simple/text.py" in (
        card["notes"][0]["text"])
    # a module whose functions no test runs: nothing runs again but the collection (its import lines moved)
    edit(root, "simple/extra.py", "    return x + 1\n", "    x = int(x)\n    return x + 1\n")
    card = run(root)
    facts = reused(root)
    assert facts is not None and (facts["rerun"], facts["changed"]) == (0, ["simple/extra.py"])
    assert figures(card) == figures(reference(root, tmp_path, "ref2"))
    assert figures(card)["simple.extra"]["missing_lines"] == [11, 12]
    # a body that ran at import (the decorator's): the whole suite again
    edit(root, "simple/extra.py", "    REGISTRY.append(f.__name__)\n", "    REGISTRY.append(f.__qualname__)\n")
    card = run(root)
    assert reused(root) is None
    assert figures(card) == figures(reference(root, tmp_path, "ref2b"))
    # code outside function bodies: the whole suite again
    edit(root, "simple/text.py", "def whisper(s):\n", "QUIET = True\n\n\ndef whisper(s):\n")
    card = run(root)
    assert reused(root) is None
    assert figures(card) == figures(reference(root, tmp_path, "ref3"))
    # more than half the tests ran the edited module: the whole suite again
    edit(root, "simple/calc.py", "    return a + b\n", "    total = a + b\n    return total\n")
    card = run(root)
    assert reused(root) is None
    assert figures(card) == figures(reference(root, tmp_path, "ref4"))
    # and back to a kept state: all reused from the bundle made before the last edit
    edit(root, "simple/calc.py", "    total = a + b\n    return total\n", "    return a + b\n")
    run(root)
    assert reused(root) is not None and "changed" not in (reused(root) or {})


def test_a_test_file_edit_or_another_setting_measures_everything(target_project: Callable[..., Path]) -> None:
    root = target_project(PROJECT)
    run(root)
    edit(root, "tests/test_text.py", "def test_shout():", "def test_shout_again():\n    assert shout('') == ''\n\n\n"
                                                         "def test_shout():")
    run(root)
    assert reused(root) is None
    run(root, "--set", "coverage.subprocess=false")
    assert reused(root) is None
    run(root, "--set", "coverage.reuse=false")
    assert reused(root) is None
