"""The driver's memory cap: none for 0, the hard limit respected (in a forked child, whose limits are its own),
a cap the system refuses reported instead of raised."""

from __future__ import annotations

import os
import resource

import pytest

from harness.collectors.mutation import driver_state as mutation_driver


def test_no_cap_for_zero_megabytes() -> None:
    assert mutation_driver.limit_memory(0) is None
    assert mutation_driver.limit_memory(-5) is None


def test_a_hard_limit_caps_the_cap() -> None:
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit code
        code = 1
        try:
            hard = 64 * 2**30
            resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
            ok = mutation_driver.limit_memory(2**20) is None  # 1 TiB asked: the hard limit kept
            code = 0 if ok and resource.getrlimit(resource.RLIMIT_AS) == (hard, hard) else 3
        except BaseException:
            code = 4
        finally:
            os._exit(code)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0


def test_a_refused_cap_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*a: object) -> None:
        raise ValueError("not allowed")

    monkeypatch.setattr(mutation_driver.resource, "setrlimit", refuse)
    assert mutation_driver.limit_memory(5) == "memory limit of 5 MiB not applied: not allowed"
