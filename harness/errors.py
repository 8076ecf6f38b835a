"""One exception root for everything the harness expects to go wrong.

Library code raises these; only :mod:`harness.cli` turns them into a one-line message and an exit code.
Anything else that escapes a command is a harness bug: the CLI writes its traceback to a log file and exits
with :data:`EXIT_BUG`.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_TARGET_MISSED = 1
EXIT_USAGE = 2
EXIT_TOOL = 3
EXIT_BUG = 4  # an unexpected exception: a harness bug (the traceback goes to a log file, never the terminal)
EXIT_BUSY = 5  # another harness run holds the project's lock; nothing was measured or written


class HarnessError(Exception):
    """Root of the harness's expected failures. ``exit_code`` is what the CLI exits with."""

    exit_code = EXIT_TOOL


class UsageError(HarnessError):
    """The command line or the target path is wrong (missing path, not a Python project).

    The message stays on one line: a newline or other control character the user typed (in a key, a value or a
    path) is shown escaped.
    """

    exit_code = EXIT_USAGE

    def __init__(self, message: str) -> None:
        super().__init__("".join(c if c.isprintable() else repr(c)[1:-1] for c in message))


class ConfigError(UsageError):
    """A config key is unknown, of the wrong type or out of range. The message names the key."""


class ToolError(HarnessError):
    """A tool (pytest, coverage.py, mutmut) could not measure: it failed, or the clean run failed."""

    exit_code = EXIT_TOOL


class NoDataError(ToolError):
    """A tool ran but produced no data (no tests collected, no coverage data, no mutant executed)."""


class ArtifactError(ToolError):
    """A file the harness reads (a tool's artifact or its own earlier output) is missing or malformed, or a
    file it writes cannot be written."""


class BusyError(HarnessError):
    """Another harness run is using the project (it holds the run lock in the cache or reports folder)."""

    exit_code = EXIT_BUSY
