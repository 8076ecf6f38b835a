"""harness.collectors.mutation.protocol: the files the harness and its mutation driver talk through."""

from __future__ import annotations

from pathlib import Path

from harness.collectors import mutation
from harness.collectors.mutation import protocol


def test_journal_lines_read_back_in_order_skipping_a_line_cut_short(tmp_path: Path) -> None:
    path = tmp_path / protocol.JOURNAL
    events: list[protocol.JournalEvent] = [
        {"event": "plan", "total": 3, "todo": 2},
        {"event": "start", "mutant": "m.x_f__mutmut_1", "at": 1.0},
        {"event": "result", "mutant": "m.x_f__mutmut_1", "exit_code": 1, "duration": 0.5},
    ]
    path.write_text("".join(protocol.journal_line(e) for e in events) + '{"event": "res', encoding="utf-8")
    assert protocol.read_journal(path) == events
    assert protocol.read_journal(tmp_path / "missing") is None
    assert mutation.journal_progress(path) == (2, 3, 2)


def test_limits_log_by_mutant(tmp_path: Path) -> None:
    path = tmp_path / "limits.jsonl"
    lines: list[protocol.LimitsEvent] = [
        {"mutant": "a", "limit": "memory"},
        {"mutant": "b", "error": "boom"},
        {"mutant": "b", "error": "later"},
        {"mutant": "c", "warning": "memory limit of 5 MiB not applied: not allowed"},
    ]
    path.write_text("".join(protocol.limits_line(e) for e in lines) + "[1]\nnot json\n", encoding="utf-8")
    limits = protocol.read_limits(path)
    assert limits.memory == frozenset({"a"}) and limits.errors == {"b": "boom"}
    assert limits.warnings == {"memory limit of 5 MiB not applied: not allowed": "c"}
    assert protocol.read_limits(tmp_path / "missing") == protocol.Limits()


def test_status_and_current_read_loosely(tmp_path: Path) -> None:
    (tmp_path / "status.json").write_text('{"phase": "clean", "finished": true}', encoding="utf-8")
    (tmp_path / "current.json").write_text("[]", encoding="utf-8")
    assert protocol.read_status(tmp_path / "status.json") == {"phase": "clean", "finished": True}
    assert protocol.read_current(tmp_path / "current.json") == {}
    assert protocol.read_text(tmp_path / "missing") == ""


def test_one_shard_rule_for_driver_and_collector() -> None:
    names = [f"pkg.mod.x_f__mutmut_{i}" for i in range(200)]
    shards = [mutation.Shard(k, 3) for k in (1, 2, 3)]
    owners = [[s for s in shards if mutation.in_shard(n, s)] for n in names]
    assert all(len(o) == 1 for o in owners)  # every mutant in exactly one shard
    assert all(protocol.in_shard(n, o[0].index, 3) for n, o in zip(names, owners, strict=True))
    assert {o[0].index for o in owners} == {1, 2, 3}


def test_the_shard_note_is_worded_and_recognised_in_one_place() -> None:
    note = mutation.shard_note(mutation.Shard(2, 4), 7, 30)
    assert note == "mutation: shard 2/4 holds 7 of 30 mutants; combine the shards with `harness merge`"
    assert mutation.is_shard_note(note) and not mutation.is_shard_note("mutation: 3 mutant(s) not checked")


def test_the_shard_rule_is_pinned_across_releases() -> None:
    """Shards of one run may be measured by different machines and harness versions: the slicing is fixed."""
    names = [f"pkg.mod.x_f__mutmut_{i}" for i in range(12)]
    assert [next(k for k in (1, 2, 3, 4) if protocol.in_shard(n, k, 4)) for n in names] == [
        2, 4, 4, 2, 3, 4, 3, 3, 1, 2, 1, 2]


def test_driver_text_is_read_with_bad_bytes_replaced(tmp_path: Path) -> None:
    path = tmp_path / "mutmut.log"
    path.write_bytes(b"ok \xff done")
    assert protocol.read_text(path) == "ok \ufffd done"
