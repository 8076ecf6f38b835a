"""Real runs (slow): the user's tree stays byte-identical, whatever folders it holds, run after run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import run_harness, write_tree

from .conftest import snapshot

QUICK = ["--set", "flakiness.enabled=false", "--set", "runtime.runs=1", "--workers", "1", "--quiet"]


@pytest.mark.slow
def test_user_folders_named_like_the_harness_ones_are_never_touched(target_project: Callable[..., Path]) -> None:
    root = write_tree(target_project(), {"work/keep.txt": "mine\n", "mutation/notes.txt": "mine too\n",
                                         "work/work/deeper.txt": "deeper\n"})
    before = snapshot(root, (".harness-cache", "reports"))
    for args in ([], ["--set", "mutation.enabled=true", "--set", "mutation.max_children=1"]):
        for _ in range(2):
            result = run_harness("run", root, *QUICK, *args)
            assert result.returncode in (0, 1), result.output
            assert "Traceback" not in result.output
            assert snapshot(root, (".harness-cache", "reports")) == before
    refused = run_harness("run", root, *QUICK, env={"HARNESS_CACHE_DIR": ""})
    assert refused.returncode == 2 and "'cache_dir'" in refused.stderr
    assert snapshot(root, (".harness-cache", "reports")) == before
