"""The per-test budget in a mutant's process (harness/test_budget.py): a test whose call runs over its own budget
ends the process as a timeout at once; the tests run are counted. Real pytest in a subprocess (the budget ends
its process, as it ends a forked mutant)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

CONFTEST = textwrap.dedent("""
    import json, os
    from harness import test_budget

    def pytest_configure(config):
        spec = json.loads(os.environ["BUDGET_SPEC"])
        durations = {"test_it.py::test_fast": 0.0, "test_it.py::test_hangs": 0.0}
        config._budget = test_budget.start(config, "m.x_f__mutmut_1", durations, spec)

    def pytest_unconfigure(config):
        config._budget.done(0)
""")
TESTS = textwrap.dedent("""
    import os, time

    def test_fast():
        pass

    def test_hangs():
        time.sleep(float(os.environ["HANG"]))
""")


def run(tmp_path: Path, budget: str, hang: float) -> tuple[int, float, list[dict[str, object]]]:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_it.py").write_text(TESTS)
    log = tmp_path / "executions.jsonl"
    spec = {"timeout_budget": budget, "timeout_constant": 0.3, "timeout_multiplier": 1.0, "executions": str(log)}
    started = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_it.py"],
                              cwd=tmp_path, env={"BUDGET_SPEC": json.dumps(spec), "PATH": "/usr/bin:/bin",
                                                 "HANG": str(hang),
                                                 "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
                              capture_output=True, timeout=60, check=False)
        code = proc.returncode
    except subprocess.TimeoutExpired:
        code = -1
    lines = [json.loads(ln) for ln in log.read_text().splitlines()] if log.exists() else []
    return code, time.monotonic() - started, lines


def test_a_hanging_test_ends_the_mutant_at_its_own_budget(tmp_path: Path) -> None:
    code, seconds, lines = run(tmp_path, "test", 30)
    assert code == 36  # mutmut's "timeout"
    assert seconds < 25  # the test's budget (0 + 0.3) x 1, not its 30 s
    (line,) = lines
    assert {k: line[k] for k in ("mutant", "ran", "timeout")} == {
        "mutant": "m.x_f__mutmut_1", "ran": 2, "timeout": "test_it.py::test_hangs"}
    assert 0.3 <= float(line["budget"]) <= 0.3 * max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1)) * 2


def test_set_budget_leaves_the_alarm_alone(tmp_path: Path) -> None:
    code, seconds, lines = run(tmp_path, "set", 1.0)
    assert code == 0 and seconds >= 1.0  # over its own budget, not stopped (mutmut's budget for the set is)
    assert lines == [{"mutant": "m.x_f__mutmut_1", "ran": 2, "code": 0, "seconds": pytest.approx(1.0, abs=3)}]
