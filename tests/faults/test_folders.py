"""The harness's folders (``cache_dir``, ``reports_dir``, ``merge --output``) must be folders of their own: a
value that would make the harness write, sync or delete in the user's tree is refused before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.workspace import sync_copy

from .conftest import Fault, snapshot

USER_FOLDERS = {"work/keep.txt": "the user's own work folder\n", "mutation/notes.txt": "and another\n"}


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"HARNESS_CACHE_DIR": ""}, ["'cache_dir'", "must name a folder"]),
        ({"HARNESS_CACHE_DIR": "."}, ["'cache_dir'", "project root"]),
        ({"HARNESS_CACHE_DIR": "./"}, ["'cache_dir'", "project root"]),
        ({"HARNESS_CACHE_DIR": ".."}, ["'cache_dir'", "contains it"]),
        ({"HARNESS_CACHE_DIR": "simple"}, ["'cache_dir'", "source path simple"]),
        ({"HARNESS_CACHE_DIR": "tests/.cache"}, ["'cache_dir'", "test path tests"]),
        ({"HARNESS_REPORTS_DIR": ""}, ["'reports_dir'", "must name a folder"]),
        ({"HARNESS_REPORTS_DIR": "."}, ["'reports_dir'", "project root"]),
        ({"HARNESS_REPORTS_DIR": "tests"}, ["'reports_dir'", "test path tests"]),
        ({"HARNESS_REPORTS_DIR": "simple/reports"}, ["'reports_dir'", "source path simple"]),
        ({"HARNESS_REPORTS_DIR": ".harness-cache"}, ["'cache_dir'", "'reports_dir'", "separate folders"]),
        ({"HARNESS_REPORTS_DIR": ".harness-cache/reports"}, ["'cache_dir'", "'reports_dir'"]),
        ({"HARNESS_CACHE_DIR": "reports/cache"}, ["'cache_dir'", "'reports_dir'"]),
        ({"HARNESS_CACHE_DIR": "work"}, ["'cache_dir'", "not a harness cache folder", "keep.txt"]),
        ({"HARNESS_REPORTS_DIR": "pyproject.toml/reports"}, ["'reports_dir'", "pyproject.toml"]),
    ],
    ids=lambda v: repr(v) if isinstance(v, dict) else "",
)
def test_dedicated_folders(fault: Fault, env: dict[str, str], names: list[str]) -> None:
    fault.write(USER_FOLDERS)
    fault.fails("run", fault.root, env=env, code=2, names=names, skip=())


def test_cache_dir_that_contains_the_project_absolute(fault: Fault) -> None:
    fault.fails("run", fault.root, env={"HARNESS_CACHE_DIR": str(fault.root.parent)}, code=2,
                names=["'cache_dir'", "contains it"], skip=())


def test_cache_dir_from_config_file_is_checked_for_every_command(fault: Fault) -> None:
    fault.write({"config/quality.toml": 'cache_dir = ""\n'})
    for command in ("run", "plan", "trend"):
        fault.fails(command, fault.root, code=2, names=["'cache_dir'"], skip=())


def test_merge_output_must_not_be_the_current_folder(fault: Fault, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(fault.root)
    fault.fails("merge", "shard1", "--output", ".", code=2, skip=(),
                names=["--output must be a folder of its own", "project root"])


@pytest.mark.parametrize("dest", ["work", ".", ".."])
def test_the_work_copy_is_never_made_inside_the_tree_it_copies(tmp_path: Path, dest: str) -> None:
    src = tmp_path / "project"
    (src / "work").mkdir(parents=True)
    (src / "work" / "keep.txt").write_text("mine")
    (src / "a.py").write_text("x = 1\n")
    before = snapshot(tmp_path, ())
    with pytest.raises(UsageError, match="refusing to copy"):
        sync_copy(src, src / dest, {src / "reports"})
    assert snapshot(tmp_path, ()) == before
