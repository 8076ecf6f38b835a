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
