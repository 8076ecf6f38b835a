"""The work copy and atomic, versioned writes: the harness never touches the user's tree."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import tree_checksum, write_tree

from harness.errors import ArtifactError
from harness.workspace import FORMAT, atomic_write_text, read_json, sync_copy, write_json


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
