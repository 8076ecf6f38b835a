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


def test_git_error_names_the_subcommand_and_the_folder() -> None:
    err = git.GitError(("log", "-1"), Path("/r"), "fatal: bad revision", ran=True)
    assert str(err) == "git log failed in /r: fatal: bad revision" and err.subcommand == "log"
    bare = git.GitError((), Path("/r"), "no git", ran=False)
    assert str(bare) == "git  failed in /r: no git" and bare.subcommand == "" and not bare.ran


def test_git_runs_under_a_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    limits: list[object] = []
    argvs: list[list[str]] = []

    def run(argv: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
        limits.append(kw.get("timeout", "none"))
        argvs.append(argv)
        return subprocess.CompletedProcess(argv, 0, " abc \n", "")

    monkeypatch.setattr(git.subprocess, "run", run)
    assert git.output(Path("/r"), "status") == " abc \n" and git.output_or_none(Path("/r"), "status") == "abc"
    git.output(Path("/r"), "status", timeout=5)
    assert limits == [60, 20, 5]
    assert argvs == [["git", "-C", "/r", "status"]] * 3


def test_git_that_cannot_start_is_named_as_not_run(monkeypatch: pytest.MonkeyPatch) -> None:
    def run(argv: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
        raise FileNotFoundError(2, "No such file or directory", "git")

    monkeypatch.setattr(git.subprocess, "run", run)
    with pytest.raises(git.GitError) as info:
        git.output(Path("/r"), "status", "--short")
    err = info.value
    assert (err.ran, err.subcommand) == (False, "status")
    assert str(err) == "git status failed in /r: [Errno 2] No such file or directory: 'git'"
