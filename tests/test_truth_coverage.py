"""Truth: the harness's coverage figures equal an independent ``coverage run --branch -m pytest``.

Each fixture imports the package while pytest starts up - before any pytest plugin could start coverage - in
one of the ways real projects do: an ini ``filterwarnings`` naming a project class, a ``-p`` plugin, a
``pytest_plugins`` list in a root conftest, and a test that runs the package in a subprocess. The harness runs
under pytest-xdist (2 workers) on the project; the reference is a plain serial coverage.py run in a separate
copy. Every module must match: statements, executed lines, branches, covered branches, missing lines and arcs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import run_harness, tree_checksum
from truth import compare_coverage, reference_coverage

pytestmark = pytest.mark.slow

PACKAGE = {
    "pkg/__init__.py": """
        VERSION = "1.0"
        DEFAULTS = {"limit": 3}
    """,
    "pkg/warns.py": """
        class PkgWarning(UserWarning):
            pass


        class OtherWarning(PkgWarning):
            level = 2


        LIMIT = 3
    """,
    "pkg/plugin.py": """
        import pytest


        @pytest.fixture
        def limit():
            from pkg.warns import LIMIT
            return LIMIT


        def unused_hook(x):
            if x:
                return 1
            return 0
    """,
    "pkg/calc.py": """
        import sys


        def double(x):
            if x > 10:
                return x
            return 2 * x


        def main(argv):
            value = int(argv[1])
            if value < 0:
                print("negative")
                return 1
            print(double(value))
            return 0


        if __name__ == "__main__":
            sys.exit(main(sys.argv))
    """,
    "tests/test_calc.py": """
        from pkg.calc import double


        def test_double():
            assert double(3) == 6
    """,
}

FIXTURES: dict[str, dict[str, str]] = {
    "ini-filterwarnings": {
        "pyproject.toml": """
            [project]
            name = "pkg"
            version = "0"

            [tool.pytest.ini_options]
            filterwarnings = ["error", "ignore::pkg.warns.PkgWarning"]
        """,
    },
    "p-plugin": {
        "pyproject.toml": """
            [project]
            name = "pkg"
            version = "0"

            [tool.harness]
            pytest_args = ["-p", "pkg.plugin"]
        """,
        "tests/test_limit.py": """
            def test_limit(limit):
                assert limit == 3
        """,
    },
    "pytest_plugins": {
        "pyproject.toml": """
            [project]
            name = "pkg"
            version = "0"
        """,
        "conftest.py": """
            pytest_plugins = ["pkg.plugin"]
        """,
        "tests/test_limit.py": """
            def test_limit(limit):
                assert limit == 3
        """,
    },
    "subprocess": {
        "pyproject.toml": """
            [project]
            name = "pkg"
            version = "0"
        """,
        "tests/test_cli.py": """
            import subprocess
            import sys


            def test_cli_doubles():
                out = subprocess.run([sys.executable, "-m", "pkg.calc", "4"], capture_output=True, text=True,
                                     check=True)
                assert out.stdout.strip() == "8"
        """,
    },
}


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_startup_imports_are_measured_like_coverage_run(name: str, target_project: Callable[..., Path],
                                                        tmp_path: Path) -> None:
    root = target_project({**PACKAGE, **FIXTURES[name]})
    before = tree_checksum(root)
    result = run_harness("run", root, "--workers", "2", "--set", "runtime.runs=1",
                         "--set", "flakiness.enabled=false")
    assert result.returncode in (0, 1), result.output
    assert tree_checksum(root) == before
    scorecard = json.loads((root / "reports" / "scorecard.json").read_text())
    args = ["-p", "pkg.plugin"] if name == "p-plugin" else []
    reference = reference_coverage(root, tmp_path / "reference", ["pkg"], [*args, "tests"],
                                   subprocesses=True)
    matched, diffs = compare_coverage(scorecard, reference)
    assert diffs == []
    assert matched == 4  # pkg, pkg.calc, pkg.plugin, pkg.warns
    if name != "subprocess":  # imported while pytest started: every module-level statement ran
        warns = next(m for m in scorecard["modules"] if m["module"] == "pkg.warns")
        assert warns["coverage"]["numbers"]["executed"] == warns["coverage"]["numbers"]["statements"] == 5
    calc = next(m for m in scorecard["modules"] if m["module"] == "pkg.calc")
    if name == "subprocess":  # main() and the __main__ block ran only in the test's subprocess
        assert 11 not in calc["coverage"]["missing_lines"] and 19 not in calc["coverage"]["missing_lines"]


def test_subprocess_measurement_can_be_turned_off(target_project: Callable[..., Path], tmp_path: Path) -> None:
    root = target_project({**PACKAGE, **FIXTURES["subprocess"]})
    result = run_harness("run", root, "--workers", "2", "--set", "runtime.runs=1",
                         "--set", "flakiness.enabled=false", "--set", "coverage.subprocess=false")
    assert result.returncode in (0, 1), result.output
    scorecard = json.loads((root / "reports" / "scorecard.json").read_text())
    reference = reference_coverage(root, tmp_path / "reference", ["pkg"], ["tests"], subprocesses=False)
    matched, diffs = compare_coverage(scorecard, reference)
    assert (matched, diffs) == (4, [])
    calc = next(m for m in scorecard["modules"] if m["module"] == "pkg.calc")
    assert 11 in calc["coverage"]["missing_lines"]  # main() unmeasured: it ran only in the subprocess
