"""The one place that runs git (read-only, ``git -C ROOT ...``) and decides what a failure looks like.

Callers choose what a failure means: diff mode turns it into a usage error (``--since`` needs git), the
history records a run outside git as having no commit (:func:`output_or_none`).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from harness.errors import ToolError


class GitError(ToolError):
    """git could not be run (``ran`` is False: not installed, timed out) or exited non-zero (``ran``).

    ``detail`` is the cause in one line: the OS error, or git's last line on stderr.
    """

    def __init__(self, args: tuple[str, ...], root: Path, detail: str, *, ran: bool) -> None:
        super().__init__(f"git {args[0] if args else ''} failed in {root}: {detail}")
        self.subcommand = args[0] if args else ""
        self.detail = detail
        self.ran = ran


def output(root: Path, *args: str, timeout: float = 60) -> str:
    """git's stdout for ``git -C root *args``; raises GitError when git cannot run or exits non-zero."""
    try:
        proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=timeout,
                              check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        raise GitError(args, root, str(exc), ran=False) from None
    if proc.returncode != 0:
        detail = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
        raise GitError(args, root, detail, ran=True)
    return proc.stdout


def output_or_none(root: Path, *args: str, timeout: float = 20) -> str | None:
    """git's stdout, stripped, or None when git cannot run or fails (e.g. ``root`` is not in a repository)."""
    try:
        return output(root, *args, timeout=timeout).strip()
    except GitError:
        return None
