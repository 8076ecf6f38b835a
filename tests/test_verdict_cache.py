"""The content-keyed verdict cache (harness/verdict_cache.py): the key changes iff an input changes, and the
folder round-trips."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from harness.verdict_cache import FILE, KeyInputs, VerdictCache, code_digest, mutant_key

texts = st.text(max_size=12)
maps = st.dictionaries(st.text(min_size=1, max_size=6), st.text(max_size=6), max_size=4)
settings = st.dictionaries(st.sampled_from(["timeout_multiplier", "selection", "fixes"]),
                           st.one_of(st.integers(0, 5), st.text(max_size=4), st.lists(st.text(max_size=3),
                                                                                      max_size=3)), max_size=3)
inputs = st.builds(KeyInputs, function_source=texts, mutant_source=texts, tests=maps, code=maps, tools=maps,
                   settings=settings)


def norm(i: KeyInputs) -> Any:
    return (i.function_source, i.mutant_source, dict(i.tests), dict(i.code), dict(i.tools),
            json.dumps(i.settings, sort_keys=True))


@given(inputs, inputs)
def test_key_changes_iff_an_input_changes(a: KeyInputs, b: KeyInputs) -> None:
    assert (mutant_key(a) == mutant_key(b)) == (norm(a) == norm(b))


@given(inputs, st.sampled_from(["function_source", "mutant_source", "tests", "code", "tools", "settings"]))
def test_changing_any_one_input_changes_the_key(a: KeyInputs, name: str) -> None:
    value = getattr(a, name)
    changed = value + "x" if isinstance(value, str) else {**value, "zz-new": "1"}
    assert mutant_key(dataclasses.replace(a, **{name: changed})) != mutant_key(a)


@given(inputs)
def test_key_ignores_map_order(a: KeyInputs) -> None:
    reordered = dataclasses.replace(a, tests=dict(reversed(list(a.tests.items()))),
                                    code=dict(reversed(list(a.code.items()))))
    assert mutant_key(reordered) == mutant_key(a)


def test_code_digest_covers_conftests() -> None:
    assert code_digest("t", ["c"]) != code_digest("t", [])
    assert code_digest("t", ["c1", "c2"]) != code_digest("t", ["c2", "c1"])


def test_folder_round_trip(tmp_path: Path) -> None:
    cache = VerdictCache.load(tmp_path / "verdicts")
    assert cache.get("k") is None
    cache.put("k", 1, 0.25)
    cache.put("interrupted", 2, 0.1)  # not a verdict the tests decided: never kept
    cache.put("crash", -11, 0.1)
    cache.save()
    again = VerdictCache.load(tmp_path / "verdicts")
    assert again.verdicts == {"k": (1, 0.25)}
    assert again.get("k") == (1, 0.25) and again.hits == 1
    (tmp_path / "verdicts" / FILE).write_text("not json")
    assert VerdictCache.load(tmp_path / "verdicts").verdicts == {}
    assert VerdictCache.load(None).get("k") is None
