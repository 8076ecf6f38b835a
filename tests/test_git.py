"""harness.git: the one git helper, and the two ways callers read its failures."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from harness import git


def test_output_outside_a_repository_raises_with_gits_own_line(tmp_path: Path) -> None:
    with pytest.raises(git.GitError) as info:
        git.output(tmp_path, "rev-parse", "--git-dir")
    assert info.value.ran and info.value.subcommand == "rev-parse"
    assert "\n" not in info.value.detail and info.value.detail


def test_output_or_none_outside_a_repository(tmp_path: Path) -> None:
    assert git.output_or_none(tmp_path, "rev-parse", "HEAD") is None


def test_git_missing_is_not_ran(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(*args: object, **kwargs: object) -> None:
        raise FileNotFoundError("no git")

    monkeypatch.setattr(subprocess, "run", missing)
    with pytest.raises(git.GitError) as info:
        git.output(tmp_path, "status")
    assert not info.value.ran and info.value.detail == "no git"
    assert git.output_or_none(tmp_path, "status") is None


def test_output_in_a_repository(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    assert git.output(tmp_path, "rev-parse", "--git-dir").strip() == ".git"
