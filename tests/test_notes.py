"""Notes as typed values: every kind worded in one table, stored with its text, older files' strings read back."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from reportdata import scorecard

from harness.notes import WORDING, Note, NoteKind, note, read_note, text_note
from harness.serialize import ShapeError, scorecard_from_dict, scorecard_to_dict

SAMPLE = note(NoteKind.MUTATION_SAMPLE, mutants=20, population=200, seed=3, score=75.0, interval=[53.1, 88.8])


def test_every_kind_has_its_wording() -> None:
    assert set(WORDING) == set(NoteKind)


def test_a_note_is_worded_from_its_facts() -> None:
    assert SAMPLE.text == ("mutation: a random sample of 20 of 200 mutants (seed 3): score 75.0 %; 95 % interval "
                           "53.1-88.8 % (Wilson)")
    unscored = note(NoteKind.MUTATION_SAMPLE, mutants=0, population=200, seed=3, score=None, interval=None)
    assert unscored.text == "mutation: a random sample of 0 of 200 mutants (seed 3): score n/a"
    serial = note(NoteKind.XDIST_SERIAL, workers=4)
    assert serial.text.endswith("instead of on 4 workers; suite runtime is a serial time")


def test_the_scorecard_stores_kind_module_facts_and_text_and_reads_them_back() -> None:
    card = replace(scorecard("/srv/demo"), notes=(SAMPLE, text_note("free words")))
    doc = json.loads(json.dumps(scorecard_to_dict(card)))
    assert doc["notes"][0] == {"kind": "mutation.sample", "module": None, "data": dict(SAMPLE.data),
                               "text": SAMPLE.text}
    assert doc["notes"][1]["text"] == "free words"
    back = scorecard_from_dict(doc)
    assert back.notes == card.notes and back.notes[0].kind is NoteKind.MUTATION_SAMPLE


def test_an_older_scorecards_plain_strings_are_text_notes() -> None:
    doc = json.loads(json.dumps(scorecard_to_dict(scorecard("/srv/demo"))))
    doc["notes"] = ["mutation: shard 1/2 holds 3 of 8 mutants; combine the shards with `harness merge`"]
    [old] = scorecard_from_dict(doc).notes
    assert old == Note(NoteKind.TEXT, None, {"text": doc["notes"][0]})
    assert old.kind is not NoteKind.MUTATION_SHARD  # never recognised by its words
    assert old.text == doc["notes"][0]


def test_an_unknown_kind_or_facts_this_version_cannot_word_keep_their_text() -> None:
    assert read_note({"kind": "from.the.future", "module": "m", "data": {}, "text": "later"}) == text_note("later")
    assert read_note({"kind": "mutation.memory", "data": {"other": 1}, "text": "t"}) == text_note("t")
    assert read_note({"kind": "mutation.memory", "data": {"mutants": 2}}).text.startswith("mutation: 2 mutant(s)")
    with pytest.raises(ValueError, match="no text"):
        read_note({"kind": "from.the.future", "data": {}})
    doc = json.loads(json.dumps(scorecard_to_dict(scorecard("/srv/demo"))))
    doc["notes"] = [3]
    with pytest.raises(ShapeError, match=r"notes\[0\]"):
        scorecard_from_dict(doc)


def test_a_note_not_an_object_or_a_string_is_refused_naming_its_type() -> None:
    with pytest.raises(ValueError, match=r"^a note is an object or a string, not list$"):
        read_note(["mutation.memory"])
    with pytest.raises(ValueError, match=r"^a note of kind 'from\.the\.future' with no text$"):
        read_note({"kind": "from.the.future", "data": {}})


def test_a_stored_note_keeps_its_module() -> None:
    doc = {"kind": "mutation.memory", "module": "pkg.mod", "data": {"mutants": 2}, "text": "ignored"}
    assert read_note(doc) == Note(NoteKind.MUTATION_MEMORY, "pkg.mod", {"mutants": 2})
    assert read_note({**doc, "module": 3}) == text_note("ignored")  # a module that is not a name: words only


def test_the_flakiness_notes_on_unstable_ids_and_parallel_only_failures_are_worded() -> None:
    unstable = note(NoteKind.FLAKY_UNSTABLE, groups={"t.py::a": ["t.py::a[17:03]", "t.py::a[17:04]"],
                                                     "t.py::b": ["t.py::b[x9]", "t.py::b[y2]", "t.py::b[z1]"]})
    assert unstable.text == (
        "flakiness: unstable test ids (parametrize ids that change between runs, e.g. timestamps or random tokens; "
        "not counted as tests run, flaky, new or missing): `t.py::a` (2 different ids, e.g. `[17:03]`); "
        "`t.py::b` (3 different ids, e.g. `[x9]`)")
    parallel = note(NoteKind.FLAKY_PARALLEL, tests=[["t.py::a", "t.py::z"], ["t.py::b", None]])
    assert parallel.text == ("flakiness: 2 test(s) fail only when run in parallel (not counted as flaky): "
                             "`t.py::a` collides with `t.py::z`; `t.py::b`")


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ({"record": "stats", "problem": "unreadable: bad"},
         "mutmut's stats file was unreadable: bad; rebuilt (a full stats run)"),
        ({"record": "quarantine", "problem": "unreadable: bad"},
         "the quarantine record was unreadable: bad; rebuilt (a full stats run)"),
        ({"record": "generation", "problem": "unreadable: bad"},
         "the generation record was unreadable: bad; every mutated file is generated again"),
        ({"record": "meta", "path": "mutants/pkg/mod.py.meta", "problem": "unreadable: bad"},
         "mutmut's meta file of mutants/pkg/mod.py.meta was unreadable: bad; rebuilt and its mutants tested again"),
    ],
)
def test_what_the_driver_rebuilt_is_worded_per_record(data: dict[str, str], text: str) -> None:
    assert note(NoteKind.DRIVER_REBUILT, **data).text == "mutation: " + text


def test_what_the_driver_restored_or_wrote_back_is_worded() -> None:
    restored = note(NoteKind.DRIVER_RESTORED, paths=["mutants/a.py.meta", "mutants/b.py.meta"])
    assert restored.text == ("mutation: the meta file of mutants/a.py.meta, mutants/b.py.meta lost its mutants during "
                             "the run (a test deleting files in the work copy?); restored from the generation record "
                             "and tested")
    written = note(NoteKind.DRIVER_WRITE_BACK, path="mutants/a.py.meta", error="")
    assert written.text == "mutation: mutants/a.py.meta was deleted during the run (by a test?); written back"
    failed = note(NoteKind.DRIVER_WRITE_BACK, path="mutants/a.py.meta", error="disk full")
    assert failed.text == "mutation: could not write back mutants/a.py.meta: disk full"
