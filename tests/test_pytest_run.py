"""pytest_run: the one place that builds target pytest commands, run or printed for reproduction."""

from __future__ import annotations

import shlex

from harness.collectors.pytest_run import order_args, reproduce_command, xdist_args


def test_a_parallel_reproduction_asks_for_workers_right_after_pytest() -> None:
    cmd = reproduce_command(["t.py::a", "t.py::b"], parallel=2)
    assert cmd.startswith("python -m pytest -n 2 -p harness_pytest ")
    assert shlex.split(cmd)[-2:] == ["t.py::a", "t.py::b"]


def test_order_and_xdist_options() -> None:
    assert order_args("shuffle", 7) == ["--harness-order=shuffle", "--harness-seed=7"]
    assert xdist_args(1) == ["-p", "no:xdist"]
    assert xdist_args(3) == ["-n", "3"]
