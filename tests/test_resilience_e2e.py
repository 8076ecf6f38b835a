"""Never all-or-nothing, end to end: imperfect suites get a scorecard with what could be measured.

Each fixture plants one failure class that used to end the run with exit 3 and no scorecard: tests that collide
when run in parallel, parametrize ids that differ between xdist workers, a module coverage.py cannot read, and
a mutation phase that cannot run at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import SIMPLE_PROJECT, run_harness, tree_checksum

pytestmark = pytest.mark.slow

SHARED_STORE = {
    "pyproject.toml": '[project]\nname = "pkg"\nversion = "0"\n',
    "pkg/__init__.py": "",
    "pkg/store.py": """
        import os
        import time
        from pathlib import Path


        def put_and_get(value):
            path = Path(os.environ["SHARED_DIR"]) / "db.txt"
            path.write_text(value)
            time.sleep(0.3)
            return path.read_text()
    """,
    "tests/test_store.py": """
        from pkg.store import put_and_get


        def test_a():
            assert put_and_get("a") == "a"


        def test_b():
            assert put_and_get("b") == "b"
    """,
}


def _card(root: Path) -> dict[str, Any]:
    return json.loads((root / "reports" / "scorecard.json").read_text())


def _cells(card: dict[str, Any], module: str) -> dict[str, dict[str, Any]]:
    m = next(m for m in card["modules"] if m["module"] == module)
    return {v["metric"]: v for v in m["verdicts"]}


def test_tests_sharing_a_file_are_parallel_unsafe_not_flaky(target_project: Callable[..., Path],
                                                            tmp_path: Path) -> None:
    root = target_project(SHARED_STORE)
    shared = tmp_path / "shared"
    shared.mkdir()
    result = run_harness("run", root, "--workers", "2", "--set", "targets.suite_runtime=3600",  # load-proof
                         env={"SHARED_DIR": str(shared)})
    assert result.returncode == 0, result.output  # not flaky, not a reason to stop
    card = _card(root)
    unsafe = {f["nodeid"]: f for f in card["totals"]["parallel_unsafe"]}
    assert unsafe, result.output
    for nodeid, f in unsafe.items():
        partner = ({"tests/test_store.py::test_a", "tests/test_store.py::test_b"} - {nodeid}).pop()
        assert f["kind"] == "parallel-unsafe" and f["polluter"] == partner
        assert "-n 2" in f["reproduce"] and partner in f["reproduce"]
    assert card["totals"]["flaky_tests"] == 0
    assert "fail only when run in parallel" in result.stdout


def test_run_varying_ids_fall_back_to_serial(target_project: Callable[..., Path]) -> None:
    root = target_project(tests__test_ids="""
        import random
        import uuid

        import pytest

        from simple.calc import add


        @pytest.mark.parametrize("token", [uuid.uuid4().hex])
        def test_token(token):
            assert add(len(token), 0) == 32
    """)
    (root / "tests" / "test_ids").rename(root / "tests" / "test_ids.py")
    result = run_harness("run", root, "--workers", "2", "--set", "flakiness.runs=2",
                         "--set", "targets.suite_runtime=3600")
    assert result.returncode == 0, result.output
    assert "every phase ran serially (workers = 1)" in result.stdout
    card = _card(root)
    assert card["totals"]["runtime"]["workers"] == 1
    assert _cells(card, "simple.calc")["line_coverage"]["status"] == "pass"


def test_non_utf8_module_is_bad_input_or_measured(target_project: Callable[..., Path]) -> None:
    """A module Python cannot decode is refused at once naming the file (exit 2), never a silent n/a; with a
    coding declaration it is valid Python and measured like any other (here: untested, 0 %)."""
    root = target_project()
    (root / "simple" / "latin.py").write_bytes("NAME = 'caf\xe9'\n".encode("latin-1"))
    before = tree_checksum(root)
    result = run_harness("run", root, "--set", "runtime.runs=1", "--set", "flakiness.enabled=false")
    assert result.returncode == 2, result.output
    assert result.stderr.count("\n") == 1 and "simple/latin.py" in result.stderr
    assert "Traceback" not in result.output and tree_checksum(root) == before
    (root / "simple" / "latin.py").write_bytes("# -*- coding: latin-1 -*-\nNAME = 'caf\xe9'\n".encode("latin-1"))
    result = run_harness("run", root, "--set", "runtime.runs=1", "--set", "flakiness.enabled=false")
    assert result.returncode == 1, result.output
    cells = _cells(_card(root), "simple.latin")
    assert (cells["line_coverage"]["status"], cells["line_coverage"]["value"]) == ("fail", 0.0)


def test_mutation_phase_that_cannot_run_leaves_cells_not_measured(target_project: Callable[..., Path]) -> None:
    """Every test breaks inside mutmut's processes: the other metrics are still written, mutation cells are
    'not measured' with the cause, and the run exits 3 after writing every report."""
    root = target_project({**SIMPLE_PROJECT, "tests/conftest.py": """
        import os

        if "MUTANT_UNDER_TEST" in os.environ:
            raise RuntimeError("this suite cannot run under mutmut")
    """})
    result = run_harness("run", root, "--set", "mutation.enabled=true", "--set", "runtime.runs=1",
                         "--set", "flakiness.enabled=false")
    assert result.returncode == 3, result.output
    assert "Traceback" not in result.output
    card = _card(root)
    cells = _cells(card, "simple.calc")
    assert cells["mutation_score"]["status"] == "not measured"
    assert cells["mutation_score"]["reason"]
    assert cells["branch_coverage"]["status"] == "pass" and cells["branch_coverage"]["value"] == 75.0
    for name in ("scorecard.md", "junit.xml", "html/index.html"):
        assert (root / "reports" / name).is_file(), name
    assert "not-measured" in (root / "reports" / "junit.xml").read_text()
    assert "NOT MEASURED simple.calc: mutation score" in result.stdout
