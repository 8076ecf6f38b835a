"""pytest_run: the one place that builds target pytest commands, run or printed for reproduction."""

from __future__ import annotations

import shlex

from harness.collectors.pytest_run import order_args, reproduce_command, xdist_args


def test_a_parallel_reproduction_runs_under_xdist() -> None:
    """The parallel-unsafe pair's command asks for workers and does not also switch xdist off."""
    cmd = reproduce_command(["t.py::a", "t.py::b"], parallel=2)
    words = shlex.split(cmd)
    assert words[:3] == ["python", "-m", "pytest"] and words[words.index("-n") + 1] == "2"
    assert "no:xdist" not in words and "--harness-order=declared" not in words
    assert words[-2:] == ["t.py::a", "t.py::b"]
    assert "no:xdist" in shlex.split(reproduce_command(["t.py::a"]))


def test_order_and_xdist_options() -> None:
    assert order_args("shuffle", 7) == ["--harness-order=shuffle", "--harness-seed=7"]
    assert xdist_args(1) == ["-p", "no:xdist"]
    assert xdist_args(3) == ["-n", "3"]
