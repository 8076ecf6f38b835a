"""A whole harness run on one real target (toolz; mutation off, two flakiness runs) against its golden reports in
tests/golden/targets/: scorecard.json and the Markdown report byte for byte, scrubbed of times, paths, dates and
commits (see golden_runs.real_target). It pins behaviour on real code across refactors, as the fixture goldens do
on fixture projects."""

from __future__ import annotations

import os
from pathlib import Path

import golden_runs
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.acceptance]


@pytest.mark.parametrize("name", ["toolz"])
def test_real_target_reports_are_byte_identical_to_their_golden_files(name: str, tmp_path: Path) -> None:
    files = golden_runs.real_target(name, tmp_path)
    if os.environ.get("UPDATE_GOLDEN"):
        golden_runs.store(name, files, golden_runs.TARGETS_GOLDEN)
    stored = golden_runs.stored(name, golden_runs.TARGETS_GOLDEN)
    assert sorted(files) == sorted(stored)
    for rel, text in files.items():
        assert text == stored[rel], f"{name}/{rel} differs from its golden file (UPDATE_GOLDEN=1 to accept)"
