"""The harness's expected failures: the exit code each kind of error gives the CLI, and usage messages kept on
one line whatever the user typed."""

from __future__ import annotations

import pytest

from harness import errors


@pytest.mark.parametrize(("error", "code"), [
    (errors.HarnessError, 3), (errors.UsageError, 2), (errors.ConfigError, 2), (errors.ToolError, 3),
    (errors.NoDataError, 3), (errors.ArtifactError, 3), (errors.BusyError, 5)])
def test_exit_codes(error: type[errors.HarnessError], code: int) -> None:
    assert error("x").exit_code == code
    assert (errors.EXIT_OK, errors.EXIT_TARGET_MISSED, errors.EXIT_BUG) == (0, 1, 4)


def test_usage_messages_show_control_characters_escaped_on_one_line() -> None:
    message = str(errors.ConfigError("unknown key 'a\nb' in\tconfig \x1b[31mred é"))
    assert message == "unknown key 'a\\nb' in\\tconfig \\x1b[31mred é"
    assert str(errors.ToolError("line one\nline two")) == "line one\nline two"  # tool output is kept as it is
