"""The mutation collector's readers of the driver's files: limits, the crash culprit, the stall message; the
adapter's shape checks on mutmut's files."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from harness.collectors import mutation
from harness.collectors import mutmut_adapter as adapter
from harness.model import QuarantineCause


def _art(tmp_path: Path) -> mutation.MutationArtifacts:
    art = mutation.MutationArtifacts(raw=tmp_path / "raw", sandbox=tmp_path / "sandbox", modules=())
    art.raw.mkdir(parents=True)
    (art.sandbox / "mutants").mkdir(parents=True)
    return art


def test_limits_reads_memory_errors_and_warnings_skipping_junk(tmp_path: Path) -> None:
    path = tmp_path / "limits.jsonl"
    path.write_text("\n".join([
        "not json", "[1, 2]",
        json.dumps({"mutant": "m1", "limit": "memory"}),
        json.dumps({"mutant": "m2", "limit": "time"}),
        json.dumps({"mutant": "m3", "error": "RuntimeError('x')"}),
        json.dumps({"mutant": "m3", "error": "second"}),
        json.dumps({"mutant": "m4", "warning": "RLIMIT_AS unavailable"}),
    ]), encoding="utf-8")
    limits = mutation.read_limits(path)
    assert limits.memory == frozenset({"m1"})
    assert limits.errors == {"m3": "RuntimeError('x')"}
    assert limits.warnings == {"RLIMIT_AS unavailable": "m4"}
    assert mutation.read_limits(tmp_path / "missing.jsonl") == mutation.Limits()


def test_crash_culprit(tmp_path: Path) -> None:
    art = _art(tmp_path)
    named = mutation.crash_culprit(1, {"crashed_test": "tests/t.py::t", "crash": -signal.SIGSEGV}, art)
    assert named is not None and named.cause is QuarantineCause.INSTRUMENTED
    assert "signal SIGSEGV" in named.detail
    assert mutation.crash_culprit(0, {}, art) is None  # a normal exit
    art.current.write_text(json.dumps({"phase": "mutants", "test": "tests/t.py::t"}), encoding="utf-8")
    assert mutation.crash_culprit(-signal.SIGKILL, {}, art) is None  # a mutant's crash is its own verdict
    art.current.write_text(json.dumps({"phase": "stats", "test": ""}), encoding="utf-8")
    assert mutation.crash_culprit(-signal.SIGKILL, {}, art) is None  # no test running
    art.current.write_text(json.dumps({"phase": "clean", "test": "tests/t.py::t2"}), encoding="utf-8")
    found = mutation.crash_culprit(-signal.SIGABRT, {}, art)
    assert found is not None and found.nodeid == "tests/t.py::t2" and "signal SIGABRT" in found.detail
    odd = mutation.crash_culprit(1, {"crashed_test": "tests/t.py::t", "crash": 7}, art)
    assert odd is not None and "(exit 7)" in odd.detail


def test_stall_message_names_the_test_or_the_mutants_in_flight(tmp_path: Path) -> None:
    art = _art(tmp_path)
    assert mutation.stall_message(art, 61).startswith(
        "mutation: no progress for 61 s (config key 'timeout') in mutmut's generate phase; log ")
    art.current.write_text(json.dumps({"phase": "stats", "test": "tests/t.py::hang"}), encoding="utf-8")
    assert "in test tests/t.py::hang; it hangs with mutmut's instrumentation" in mutation.stall_message(art, 5)
    art.current.write_text(json.dumps({"phase": "mutants"}), encoding="utf-8")
    events = [{"event": "start", "mutant": f"m{i}"} for i in range(7)]
    events += [{"event": "result", "mutant": "m0"}, {"event": "plan"}]
    art.live_journal.write_text("\n".join(json.dumps(e) for e in events) + "\nbroken {\n", encoding="utf-8")
    message = mutation.stall_message(art, 5)
    assert "mutants still running: m1, m2, m3, m4, m5 (+1 more)" in message
    art.live_journal.write_text(json.dumps({"event": "start", "mutant": "m1"}) + "\n"
                                + json.dumps({"event": "result", "mutant": "m1"}) + "\n", encoding="utf-8")
    assert "still running" not in mutation.stall_message(art, 5)


def test_adapter_shape_checks() -> None:
    assert adapter.meta_problem([]) == "not a JSON object"
    tables = {"exit_code_by_key": {}, "durations_by_key": [], "estimated_durations_by_key": {}}
    assert adapter.meta_problem(tables) == "a table is not a JSON object"
    good = {"exit_code_by_key": {"a": 1, "b": None}, "durations_by_key": {}, "estimated_durations_by_key": {}}
    assert adapter.meta_problem(good) is None
    assert adapter.meta_problem({**good, "exit_code_by_key": {"a": "1"}}) == \
        "exit_code_by_key is not a table of exit codes"
