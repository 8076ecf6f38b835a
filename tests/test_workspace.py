"""The work copy and atomic, versioned writes: the harness never touches the user's tree."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import tree_checksum, write_tree

from harness.errors import ArtifactError, UsageError
from harness.workspace import FORMAT, Holder, _reason, atomic_write_text, read_json, sync_copy, write_json


def test_sync_copies_mirrors_and_skips_caches(tmp_path: Path) -> None:
    src = write_tree(tmp_path / "src", {"pkg/a.py": "a = 1\n", "pkg/b.py": "b = 2\n", "tests/test_a.py": "",
                                        ".git/HEAD": "ref", ".venv/lib.py": "", "pkg/__pycache__/a.pyc": "",
                                        "reports/old.json": "{}", ".harness-cache/x": ""})
    dest = tmp_path / "work"
    before = tree_checksum(src, skip=())
    excluded = {(src / "reports").resolve(), (src / ".harness-cache").resolve()}
    copied = sync_copy(src, dest, excluded)
    assert copied == 3
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()) == [
        "pkg/a.py", "pkg/b.py", "tests/test_a.py"]
    assert sync_copy(src, dest, excluded) == 0  # nothing changed: nothing copied
    (src / "pkg" / "b.py").unlink()
    (src / "pkg" / "a.py").write_text("a = 10\n")
    os.utime(src / "pkg" / "a.py", ns=(1, 1))
    assert sync_copy(src, dest, excluded) == 1
    assert (dest / "pkg" / "a.py").read_text() == "a = 10\n"
    assert not (dest / "pkg" / "b.py").exists()  # vanished from the source: removed from the copy
    assert tree_checksum(src, skip=()) != before  # (we changed it ourselves above)


def test_atomic_write_leaves_no_temp_and_replaces(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "file.txt"
    atomic_write_text(path, "one")
    atomic_write_text(path, "two")
    assert path.read_text() == "two"
    assert [p.name for p in path.parent.iterdir()] == ["file.txt"]


def test_atomic_write_failure_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "file.txt"
    atomic_write_text(path, "good")

    class Boom:
        def __str__(self) -> str:
            raise RuntimeError("boom")

    with pytest.raises(TypeError):
        atomic_write_text(path, Boom())  # type: ignore[arg-type]
    assert path.read_text() == "good"
    assert [p.name for p in tmp_path.iterdir()] == ["file.txt"]


def test_json_files_carry_format_and_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    write_json(path, "scorecard", {"a": 1})
    doc = json.loads(path.read_text())
    assert doc["format"] == FORMAT and doc["kind"] == "scorecard" and "harness_version" in doc
    assert read_json(path, "scorecard")["a"] == 1
    with pytest.raises(ArtifactError, match="is not a history file of format"):
        read_json(path, "history")
    path.write_text(json.dumps({**doc, "format": 99}))
    with pytest.raises(ArtifactError, match=r"found format 99"):
        read_json(path, "scorecard")
    path.write_text("{not json")
    with pytest.raises(ArtifactError, match="is not a readable harness file"):
        read_json(path, "scorecard")
    with pytest.raises(ArtifactError, match="does not exist"):
        read_json(tmp_path / "missing.json", "scorecard")


def test_sync_copy_skips_build_litter_and_symlinks_and_creates_nested_folders(tmp_path: Path) -> None:
    normal = {f"pkg/m{i}.py": f"m = {i}\n" for i in range(10)}
    src = write_tree(tmp_path / "src", {**normal, "pkg/x.pyc": "", "pkg/y.pyo": "", "pkg/.coverage.host.1": "",
                                        "thing.egg-info/PKG-INFO": "", "pkg/sub/deep/z.py": "z = 1\n"})
    (src / "pkg" / "link.py").symlink_to(src / "pkg" / "m0.py")
    (src / "pkg" / "dangling.py").symlink_to(src / "pkg" / "gone.py")
    dest = tmp_path / "cache" / "nested" / "work"
    assert sync_copy(src, dest, set()) == 11
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()) == sorted(
        [*normal, "pkg/sub/deep/z.py"])


def test_sync_copy_recopies_a_same_size_file_with_a_new_time(tmp_path: Path) -> None:
    src = write_tree(tmp_path / "src", {"a.py": "a = 1\n"})
    dest = tmp_path / "work"
    sync_copy(src, dest, set())
    (src / "a.py").write_text("a = 2\n")
    os.utime(src / "a.py", ns=(10**18, 10**18))
    assert sync_copy(src, dest, set()) == 1 and (dest / "a.py").read_text() == "a = 2\n"


def test_sync_copy_refuses_a_copy_inside_the_project(tmp_path: Path) -> None:
    src = write_tree(tmp_path / "src", {"a.py": ""})
    with pytest.raises(UsageError, match=r"^refusing to copy .* into .*work: the work copy must be in the cache "
                                         r"folder, apart from the project's own files$"):
        sync_copy(src, src / "work", set())


def test_an_os_error_names_the_other_file_it_concerns(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    assert _reason(OSError(13, "Permission denied", str(path)), path) == "Permission denied"
    assert _reason(OSError(13, "Permission denied", "/elsewhere"), path) == "/elsewhere: Permission denied"
    assert _reason(OSError("no strerror"), path) == "no strerror"
    path.mkdir()
    with pytest.raises(ArtifactError, match=r"x\.json is not a readable harness file: Is a directory$"):
        read_json(path, "scorecard")


def test_a_lock_holder_says_who_it_is() -> None:
    assert Holder(pid=12, host="ci-3", started="2026-11-30T10:00:00", command="harness run .").describe() == (
        "pid 12 on ci-3, started 2026-11-30T10:00:00, `harness run .`")
    assert Holder().describe() == "pid ? on ?, started ?"


def test_a_foreign_file_says_what_it_found(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    cases = [({"format": 1, "kind": "history"}, "format 1, kind 'history'"),
             ({"format": 99, "kind": "scorecard"}, "format 99"),
             ({"format": "9" * 30, "kind": "k" * 50}, f"format {'9' * 20}, kind '{'k' * 40}'"),
             ({}, "format None, kind 'None'"),
             ([1], "a JSON list")]
    for doc, found in cases:
        path.write_text(json.dumps(doc))
        with pytest.raises(ArtifactError) as info:
            read_json(path, "scorecard")
        assert str(info.value).endswith(f"(found {found})"), (doc, str(info.value))


def test_prepare_refuses_a_cache_folder_of_someone_else_naming_three_of_its_files(tmp_path: Path) -> None:
    from harness.errors import ConfigError
    from harness.workspace import CACHE_TAG, CACHE_TAG_TEXT, Workspace

    for names, shown in ((["a", "b", "c", "d"], "a, b, c, ..."), (["a", "b", "c"], "a, b, c")):
        cache = tmp_path / f"cache{len(names)}"
        write_tree(cache, dict.fromkeys(names, "x"))
        with pytest.raises(ConfigError) as info:
            Workspace(tmp_path, tmp_path / "reports", cache).prepare()
        assert str(info.value) == (f"config key 'cache_dir': {cache} is not a harness cache folder (it holds "
                                   f"{shown}, which the harness did not write); name a folder of its own")
    ws = Workspace(tmp_path, tmp_path / "deep" / "er" / "reports", tmp_path / "new" / "cache")
    ws.prepare()
    assert ws.reports.is_dir() and (ws.cache / CACHE_TAG).read_text() == CACHE_TAG_TEXT
    assert list(ws.reports.iterdir()) == []  # the write probe is gone
    (ws.cache / CACHE_TAG).write_text("Signature: 8a477f597d28d172789f06886806bc55\n# kept\n")
    ws.prepare()
    assert (ws.cache / CACHE_TAG).read_text().endswith("# kept\n")
