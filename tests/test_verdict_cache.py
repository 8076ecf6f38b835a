"""The content-keyed verdict cache (harness/verdict_cache.py): the key changes iff an input changes, and the
folder round-trips."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from harness.verdict_cache import (
    FILE,
    KeyInputs,
    VerdictCache,
    code_digest,
    executed_code,
    function_bodies,
    mutant_key,
)

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


MODULE = """import os


def used(x):
    return x + 1


class K:
    def method(self, y=2):
        return y * 2

    def other(self):
        return 0
"""


def test_executed_code_leaves_out_bodies_no_test_ran() -> None:
    bodies = function_bodies(MODULE)
    assert bodies == [(5, 5), (10, 10), (13, 13)]
    lines = MODULE.splitlines()
    ran_used = executed_code(lines, bodies, [0])
    edited = MODULE.replace("return y * 2", "return y * 3").splitlines()
    assert executed_code(edited, bodies, [0]) == ran_used  # an edit in a body the tests never ran
    assert executed_code(edited, bodies, [0, 1]) != executed_code(lines, bodies, [0, 1])
    signature = MODULE.replace("y=2", "y=5").splitlines()
    assert executed_code(signature, bodies, [0]) != ran_used  # signatures run at import: always kept
    assert "return x + 1" in ran_used and "return 0" not in ran_used


def test_driver_cache_keys_follow_the_code_the_tests_ran(tmp_path: Path) -> None:
    from test_selection import LINE_TESTS, SOURCE, generated_file

    from harness import selection
    from harness.verdict_cache import DriverCache

    generated_file(tmp_path)
    (tmp_path / "t_mod.py").write_text("def test(): pass\n")

    def cache(source: str) -> DriverCache:
        (tmp_path / "pkg" / "mod.py").write_text(source)
        contexts = {"pkg/mod.py": {k: sorted(f"t_mod.py::{t}" for t in v) for k, v in LINE_TESTS.items()}}
        doc = selection.contexts_document(contexts, {"pkg/mod.py": selection.sha256_text(source)})
        files = selection.MutmutFiles(tmp_path, {"pkg.mod": "pkg/mod.py"}, doc)
        return DriverCache({"verdict_cache": str(tmp_path / "verdicts"), "verdict_settings": {"a": 1}}, files,
                           tmp_path)

    tests = ["t_mod.py::t_slow"]
    key = cache(SOURCE).key("pkg.mod.x_classify__mutmut_1", tests)
    assert key is not None and key == cache(SOURCE).key("pkg.mod.x_classify__mutmut_1", tests)
    # C.m's body: no test ran it (the coverage data holds classify's lines only)
    assert cache(SOURCE.replace("return a + b", "return a - b")).key("pkg.mod.x_classify__mutmut_1", tests) == key
    assert cache(SOURCE).key("pkg.mod.x_classify__mutmut_2", tests) != key
    # classify's body: t_slow ran it
    assert cache(SOURCE.replace('"zero"', '"nil"')).key("pkg.mod.x_classify__mutmut_1", tests) != key
    (tmp_path / "t_mod.py").write_text("def test(): assert 1\n")
    assert cache(SOURCE).key("pkg.mod.x_classify__mutmut_1", tests) != key
    (tmp_path / "conftest.py").write_text("")
    assert cache(SOURCE).key("pkg.mod.x_classify__mutmut_1", ["t_mod.py::t_slow"]) != key
