"""The run lock: one run per project at a time; the other is refused in one line naming the run that holds it
(exit 5); a lock left by a run that died is taken over with a note."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import LOAD_PROOF_RUNTIME, SIMPLE_PROJECT, run_harness, tree_checksum, write_tree

from harness.config import Config
from harness.errors import EXIT_BUSY, BusyError
from harness.workspace import LOCK_FILE, Workspace, run_lock

from .conftest import Fault, assert_one_line

DEAD = {"pid": 2**22 + 7, "host": "ci-7", "started": "2026-01-02T03:04:05+00:00", "command": "harness run ."}


def test_a_second_run_is_refused_naming_the_first(fault: Fault) -> None:
    Workspace.for_target(fault.root, Config()).prepare()  # as the first run left them
    cache = fault.root / ".harness-cache"
    with run_lock(cache, "harness run somewhere"):
        holder = json.loads((cache / LOCK_FILE).read_text())
        line = fault.fails("run", fault.root, code=EXIT_BUSY, skip=(),
                           names=["another harness run", f"pid {os.getpid()}", holder["started"], str(cache)])
    assert "harness run somewhere" in line
    assert not (cache / LOCK_FILE).exists()  # released


def test_a_merge_into_a_folder_in_use_is_refused(fault: Fault, monkeypatch: pytest.MonkeyPatch) -> None:
    out = fault.root / "merged"
    out.mkdir()
    monkeypatch.chdir(fault.root)
    with run_lock(out, "harness run"):
        fault.fails("merge", "shard1", "--output", "merged", code=EXIT_BUSY, skip=(),
                    names=["another harness run", f"pid {os.getpid()}", "merged"])


def test_a_stale_lock_is_taken_over_with_a_note(tmp_path: Path) -> None:
    (tmp_path / LOCK_FILE).write_text(json.dumps(DEAD))
    with run_lock(tmp_path, "harness run .") as stale:
        assert stale is not None and stale.pid == DEAD["pid"] and stale.started == DEAD["started"]
        assert json.loads((tmp_path / LOCK_FILE).read_text())["pid"] == os.getpid()
        with pytest.raises(BusyError, match=f"pid {os.getpid()}"), run_lock(tmp_path, "again"):
            pass  # pragma: no cover
    assert not (tmp_path / LOCK_FILE).exists()
    with run_lock(tmp_path, "harness run .") as stale:  # released cleanly: nothing stale
        assert stale is None


def test_a_stale_lock_note_in_a_run_that_then_fails(fault: Fault) -> None:
    """The note comes before the run's own outcome (here a history file it cannot read)."""
    fault.write({f".harness-cache/{LOCK_FILE}": json.dumps(DEAD), "reports/history.json": b"\x00\xff binary"})
    code, out, err = fault.run("run", fault.root)
    note, error = err.strip().splitlines()
    assert "took over the run lock" in note and f"pid {DEAD['pid']}" in note and DEAD["started"] in note
    assert_one_line(code, out, error, 3, ["history.json"])
    assert not (fault.root / ".harness-cache" / LOCK_FILE).exists()


@pytest.mark.slow
def test_two_runs_at_once_one_is_refused(tmp_path: Path) -> None:
    """Two real runs of one project started together: one measures, the other is refused with exit 5."""
    import subprocess
    import sys

    root = write_tree(tmp_path / "p", SIMPLE_PROJECT)
    before = tree_checksum(root)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS")}
    env.update(HARNESS_MUTATION__ENABLED="false", HARNESS_FLAKINESS__ENABLED="false", HARNESS_WORKERS="1")
    env.update(LOAD_PROOF_RUNTIME)
    first = subprocess.Popen([sys.executable, "-m", "harness", "run", str(root), "--quiet"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lock = root / ".harness-cache" / LOCK_FILE
    for _ in range(200):
        if lock.exists() and lock.read_text():
            break
        first.poll()
        assert first.returncode is None
        import time

        time.sleep(0.05)
    second = run_harness("run", root, "--quiet")
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, out + err
    assert_one_line(second.returncode, second.stdout, second.stderr, EXIT_BUSY,
                    ["another harness run", f"pid {first.pid}"])
    assert tree_checksum(root) == before


@pytest.mark.slow
def test_a_real_run_takes_over_a_stale_lock(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", SIMPLE_PROJECT)
    # a killed run leaves its lock files in both folders: one note, not two
    write_tree(root, {f".harness-cache/{LOCK_FILE}": json.dumps(DEAD), f"reports/{LOCK_FILE}": json.dumps(DEAD)})
    before = tree_checksum(root)
    result = run_harness("run", root, "--quiet", "--set", "flakiness.enabled=false", "--workers", "1")
    assert result.returncode == 0, result.output
    assert result.stderr.count("took over the run lock") == 1 and "Traceback" not in result.output
    assert tree_checksum(root) == before
    assert not (root / ".harness-cache" / LOCK_FILE).exists() and not (root / "reports" / LOCK_FILE).exists()


def test_a_folder_that_cannot_be_locked(fault: Fault, monkeypatch: pytest.MonkeyPatch) -> None:
    import fcntl

    def no_locks(fd: int, op: int) -> None:
        raise OSError(37, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    fault.fails("run", fault.root, code=2, names=["cannot lock", LOCK_FILE, "No locks available", "'cache_dir'"])
