"""History facts a user reads: how a run is labelled, what the config fingerprint ignores, what git says about
the tree (git itself faked: no process runs), and the flaky evidence file's dates and messages."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from harness import history
from harness.config import Config
from harness.errors import ArtifactError
from harness.history import HistoryEntry, TestEvidence


def test_entry_label_names_the_time_and_the_short_commit_with_its_dirty_mark() -> None:
    entry = HistoryEntry(time="2026-11-21T18:00:00+00:00", project="demo")
    assert entry.label() == "2026-11-21T18:00:00+00:00"
    commit = "0123456789abcdef" * 2
    assert replace(entry, commit=commit).label() == "2026-11-21T18:00:00+00:00, commit 01234567"
    assert replace(entry, commit=commit, dirty=True).label() == "2026-11-21T18:00:00+00:00, commit 01234567+dirty"


def test_config_fingerprint_ignores_paths_timeouts_history_and_ratchet_settings() -> None:
    cfg = Config()
    fp = history.config_fingerprint(cfg)
    for key in ("timeout", "reports_dir", "cache_dir"):
        value = 1 if key == "timeout" else "elsewhere"
        assert history.config_fingerprint(replace(cfg, **{key: value})) == fp, key
    assert history.config_fingerprint(replace(cfg, history=replace(cfg.history, keep=3))) == fp
    assert history.config_fingerprint(replace(cfg, ratchet=replace(cfg.ratchet, enabled=False))) == fp


class FakeGit:
    def __init__(self, commit: str | None, status: str | None) -> None:
        self.answers = {("rev-parse", "HEAD"): commit, ("status", "--porcelain", "--untracked-files=no"): status}
        self.asked: list[tuple[Path, tuple[str, ...]]] = []

    def __call__(self, root: Path, *args: str) -> str | None:
        self.asked.append((root, args))
        return self.answers[args]


@pytest.mark.parametrize(("commit", "status", "dirty"), [("abc123", " M harness/x.py", True), ("abc123", "", False),
                                                         (None, " M x.py", False)])
def test_run_facts_record_the_commit_and_a_dirty_tree_of_tracked_files(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, commit: str | None, status: str, dirty: bool) -> None:
    git = FakeGit(commit, status)
    monkeypatch.setattr(history.git, "output_or_none", git)
    facts = history.run_facts(tmp_path, Config())
    assert (facts.commit, facts.dirty, facts.config_fingerprint) == (commit, dirty,
                                                                     history.config_fingerprint(Config()))
    assert all(root == tmp_path for root, _ in git.asked)
    assert len(git.asked) == (2 if commit else 1)  # no commit: not a repository, nothing more to ask


def test_evidence_describe_names_the_last_failure_only_when_there_was_one() -> None:
    assert TestEvidence(runs=12, failures=2, sessions=3, last_failure="2026-11-29").describe("t::a") == \
        "t::a: 2 failure(s) in 12 runs over 3 session(s), last on 2026-11-29"
    assert TestEvidence(runs=12, failures=0, sessions=3, last_failure="2026-11-29").describe("t::a") == \
        "t::a: 0 failure(s) in 12 runs over 3 session(s)"


def test_evidence_keeps_the_first_session_date_and_the_last_failure_date(tmp_path: Path) -> None:
    history.update_evidence(tmp_path, {"t::a": (10, 1), "t::b": (10, 0)}, "day1")
    history.update_evidence(tmp_path, {"t::a": (10, 0), "t::b": (10, 0)}, "day2")
    evidence = history.update_evidence(tmp_path, {"t::a": (5, 0), "t::c": (5, 2)}, "day3")
    assert evidence == history.read_evidence(tmp_path)
    assert evidence == {
        "t::a": TestEvidence(runs=25, failures=1, sessions=3, first_seen="day1", last_failure="day1"),
        "t::b": TestEvidence(runs=20, failures=0, sessions=2, first_seen="day1", last_failure=None),
        "t::c": TestEvidence(runs=5, failures=2, sessions=1, first_seen="day3", last_failure="day3"),
    }


def test_a_malformed_evidence_entry_is_named_with_the_way_out(tmp_path: Path) -> None:
    doc = {"format": 1, "kind": "flaky-evidence", "tests": {"t::a": {"runs": 3, "failures": 0}}}
    (tmp_path / history.EVIDENCE_FILE).write_text(json.dumps(doc))
    with pytest.raises(ArtifactError) as err:
        history.read_evidence(tmp_path)
    assert str(err.value) == (f"{tmp_path / history.EVIDENCE_FILE}: the entry of 't::a' is malformed; delete the "
                              "file to start the evidence afresh")
