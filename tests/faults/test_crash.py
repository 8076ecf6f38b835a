"""An unexpected exception is a harness bug: one line saying so, with the log file holding the traceback,
exit 4 (never 1, which reads as "target missed")."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import pytest

from harness import cli
from harness.errors import EXIT_BUG

from .conftest import Fault


def _boom(*args: Any, **kwargs: Any) -> None:
    raise RuntimeError("unexpected\nstate of things")


def test_a_bug_is_one_line_with_a_log_of_its_traceback(fault: Fault, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "discover", _boom)
    line = fault.fails("run", fault.root, code=EXIT_BUG, skip=(),
                       names=["internal error, a harness bug", "RuntimeError: unexpected state of things"])
    log = Path(re.search(r"the traceback is in (\S+);", line)[1])  # type: ignore[index]
    text = log.read_text()
    assert "Traceback (most recent call last)" in text and "RuntimeError: unexpected" in text
    assert f"harness run {fault.root}" in text
    log.unlink()


def test_a_bug_when_no_log_can_be_written(fault: Fault, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "discover", _boom)

    def no_temp(*args: Any, **kwargs: Any) -> tuple[int, str]:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", no_temp)
    fault.fails("run", fault.root, code=EXIT_BUG, skip=(),
                names=["a harness bug", "RuntimeError", "could not be written"])
