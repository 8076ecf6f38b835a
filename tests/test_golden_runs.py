"""Whole fixture runs (run, plan, trend, shards and merge, quarantine, timed phases) against their golden reports
in tests/golden/runs/: every report byte for byte, scrubbed of times and paths (see golden_runs.py)."""

from __future__ import annotations

import os
from pathlib import Path

import golden_runs
import pytest

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", list(golden_runs.SCENARIOS))
def test_fixture_run_reports_are_byte_identical_to_their_golden_files(name: str, tmp_path: Path) -> None:
    files = golden_runs.SCENARIOS[name](tmp_path)
    if os.environ.get("UPDATE_GOLDEN"):
        golden_runs.store(name, files)
    stored = golden_runs.stored(name)
    assert sorted(files) == sorted(stored)
    for rel, text in files.items():
        assert text == stored[rel], f"{name}/{rel} differs from its golden file (UPDATE_GOLDEN=1 to accept)"
