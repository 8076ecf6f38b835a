"""harness.collectors.mutation.protocol: the files the harness and its mutation driver talk through."""

from __future__ import annotations

from pathlib import Path

from harness.collectors import mutation
from harness.collectors.mutation import protocol
from harness.notes import NoteKind


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


def test_the_shard_note_is_typed_and_worded_in_one_place() -> None:
    note = mutation.shard_note(mutation.Shard(2, 4), 7, 30)
    assert note.kind is NoteKind.MUTATION_SHARD
    assert note.data == {"shard": "2/4", "in_scope": 7, "generated": 30, "split": ""}
    assert note.text == "mutation: shard 2/4 holds 7 of 30 mutants; combine the shards with `harness merge`"


def test_the_shard_plan_decides_and_new_mutants_fall_back_to_the_hash() -> None:
    names = [f"pkg.mod.x_f__mutmut_{i}" for i in range(60)]
    plan = {n: 1 for n in names[:30]}  # the plan puts half on shard 1; the other half is new code
    owners = [[k for k in (1, 2, 3) if protocol.in_shard(n, k, 3, plan)] for n in names]
    assert all(len(o) == 1 for o in owners)  # still every mutant in exactly one shard
    assert all(o == [1] for o in owners[:30])  # the plan wins over the hash
    assert [o[0] for o in owners[30:]] == [next(k for k in (1, 2, 3) if protocol.in_shard(n, k, 3))
                                          for n in names[30:]]  # a mutant it does not name: the hash rule
    shard = mutation.Shard(2, 3, plan={names[0]: 2})
    assert mutation.in_shard(names[0], shard)
    assert not mutation.in_shard(names[0], mutation.Shard(1, 3, plan={names[0]: 2}))
    assert shard == mutation.Shard(2, 3)  # a shard is K/N; the plan it follows is not part of its identity


def test_the_shard_note_says_how_the_mutants_were_split() -> None:
    shard = mutation.Shard(1, 2, split="split by name hash: no shard plan at x.json yet")
    note = mutation.shard_note(shard, 5, 9)
    assert note.text == ("mutation: shard 1/2 holds 5 of 9 mutants (split by name hash: no shard plan at x.json "
                         "yet); combine the shards with `harness merge`")
    assert note.kind is NoteKind.MUTATION_SHARD


def test_the_shard_rule_is_pinned_across_releases() -> None:
    """Shards of one run may be measured by different machines and harness versions: the slicing is fixed."""
    names = [f"pkg.mod.x_f__mutmut_{i}" for i in range(12)]
    assert [next(k for k in (1, 2, 3, 4) if protocol.in_shard(n, k, 4)) for n in names] == [
        2, 4, 4, 2, 3, 4, 3, 3, 1, 2, 1, 2]


def test_driver_text_is_read_with_bad_bytes_replaced(tmp_path: Path) -> None:
    path = tmp_path / "mutmut.log"
    path.write_bytes(b"ok \xff done")
    assert protocol.read_text(path) == "ok \ufffd done"
