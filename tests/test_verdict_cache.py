"""The content-keyed verdict cache (harness/verdict_cache.py): the key changes iff an input changes, and the
folder round-trips."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import os
import platform
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.verdict_cache import (
    FILE,
    KEEP_STATS,
    STATS_DIR,
    DriverCache,
    KeyInputs,
    VerdictCache,
    code_digest,
    digest,
    executed_code,
    function_bodies,
    keep_stats,
    mutant_key,
    restore_stats,
    stats_key,
    tool_versions,
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


def test_the_canonical_form_is_stable_sorted_and_compact() -> None:
    """The key must be the same on every machine and release that reads the same inputs (a cache restored in CI):
    its canonical JSON is pinned here."""
    inputs = KeyInputs(function_source="def f(): pass", mutant_source="def f(): return 1",
                       tests={"t.py::b": "d2", "t.py::a": "d1"}, code={"m.py": "c1"}, tools={"python": "3.11"},
                       settings={"selection": "line", "fixes": ("b", "a"), "kinds": {"y", "x"}})
    assert inputs.canonical() == (
        '{"code":[["m.py","c1"]],"format":1,"function":"def f(): pass","mutant":"def f(): return 1",'
        '"settings":{"fixes":["b","a"],"kinds":["x","y"],"selection":"line"},'
        '"tests":[["t.py::a","d1"],["t.py::b","d2"]],"tools":[["python","3.11"]]}'
    )
    assert mutant_key(inputs) == digest(inputs.canonical())
    with pytest.raises(TypeError, match=r"^object is not a setting value$"):
        dataclasses.replace(inputs, settings={"x": object()}).canonical()


def test_digest_of_text_and_bytes() -> None:
    assert digest("é") == hashlib.sha256("é".encode()).hexdigest() == digest("é".encode())
    assert digest(b"\xff") == hashlib.sha256(b"\xff").hexdigest()


def test_tool_versions_name_python_and_digest_the_installed_distributions(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib import metadata

    dists = [SimpleNamespace(metadata={"Name": "MutMut"}, version="3.8.1"),
             SimpleNamespace(metadata={"Name": None}, version="1.0"),
             SimpleNamespace(metadata={"Name": "mutmut"}, version="3.8.1")]
    monkeypatch.setattr(metadata, "distributions", lambda: dists)
    import harness.verdict_cache as vc

    vc._tool_versions.cache_clear()  # computed once per process: this test's distributions are read afresh
    try:
        versions = tool_versions()
        assert versions == {"python": platform.python_version(),
                            "distributions": digest("==1.0\nmutmut==3.8.1")}
        dists.append(SimpleNamespace(metadata={"Name": "pytest"}, version="8.0"))
        assert tool_versions() == versions  # once per process
    finally:
        vc._tool_versions.cache_clear()


def test_put_keeps_rounded_decided_verdicts_and_counts_what_is_new(tmp_path: Path) -> None:
    cache = VerdictCache.load(tmp_path / "a" / "b")
    cache.put("k", 0, 0.123456)
    cache.put("k", 0, 0.123456)  # the same verdict again: nothing new... but it is stored rounded
    assert cache.verdicts == {"k": (0, 0.1235)}
    cache.put("same", 1, 0.5)
    cache.put("same", 1, 0.5)
    assert cache.added == 3
    for code in (2, -2, -15, 35, -11, -9, None):
        cache.put(f"c{code}", code, 1.0)  # type: ignore[arg-type]
    assert set(cache.verdicts) == {"k", "same"}
    cache.save()  # folders created, parents included
    assert cache.added == 0
    assert json.loads((tmp_path / "a" / "b" / FILE).read_text(encoding="utf-8")) == {
        "format": 1, "verdicts": {"k": [0, 0.1235], "same": [1, 0.5]}}
    (tmp_path / "a" / "b" / FILE).unlink()
    cache.save()  # nothing new since: not written
    assert not (tmp_path / "a" / "b" / FILE).exists()
    cache.put("later", 36, 2.0)
    cache.save()  # the folder exists already
    assert set(VerdictCache.load(tmp_path / "a" / "b").verdicts) == {"k", "same", "later"}


def test_load_skips_damaged_entries_and_other_formats(tmp_path: Path) -> None:
    (tmp_path / FILE).write_text(json.dumps({"format": 1, "verdicts": {
        "ok": [1, 0.5], "short": [1], "text": ["1", 0.5], "flat": 1, "long": [1, 2, 3]}}), encoding="utf-8")
    assert VerdictCache.load(tmp_path).verdicts == {"ok": (1, 0.5)}
    (tmp_path / FILE).write_text(json.dumps({"format": 2, "verdicts": {"ok": [1, 0.5]}}))
    assert VerdictCache.load(tmp_path).verdicts == {}
    (tmp_path / FILE).write_text(json.dumps({"format": 1, "verdicts": [["ok", 1]]}))
    assert VerdictCache.load(tmp_path).verdicts == {}
    (tmp_path / FILE).write_text("[]")
    assert VerdictCache.load(tmp_path).verdicts == {}


def test_hits_count_every_found_verdict() -> None:
    cache = VerdictCache(None, {"a": (1, 0.1)})
    assert [cache.get("a"), cache.get("a"), cache.get("b")] == [(1, 0.1), (1, 0.1), None]
    assert cache.hits == 2


def driver_cache(tmp_path: Path, source: str, spec: dict[str, Any], line_tests: dict[int, set[str]]) -> Any:
    from test_selection import generated_file

    from harness import selection
    from harness.verdict_cache import DriverCache

    if not (tmp_path / "mutants").exists():
        generated_file(tmp_path)
    (tmp_path / "pkg" / "mod.py").write_text(source)
    contexts = {"pkg/mod.py": {k: sorted(v) for k, v in line_tests.items()}}
    doc = selection.contexts_document(contexts, {"pkg/mod.py": selection.sha256_text(source)})
    files = selection.MutmutFiles(tmp_path, {"pkg.mod": "pkg/mod.py"}, doc)
    return DriverCache(spec, files, tmp_path)


def test_driver_cache_lookup_and_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from test_selection import LINE_TESTS, SOURCE

    import harness.verdict_cache as vc

    monkeypatch.setattr(vc, "tool_versions", lambda: {"python": "3.11"})
    clock = itertools.chain([100.0, 101.0], itertools.repeat(200.0))
    monkeypatch.setattr(time, "monotonic", lambda: next(clock))
    spec = {"verdict_cache": str(tmp_path / "verdicts"), "verdict_settings": {"a": 1}}
    cache = driver_cache(tmp_path, SOURCE, spec, LINE_TESTS)
    assert cache.enabled and cache.read and cache.settings == {"a": 1}
    one, two = "pkg.mod.x_classify__mutmut_1", "pkg.mod.x_classify__mutmut_2"
    assert cache.lookup(one, ["t_slow"]) is None and cache.lookup(two, ["t_slow"]) is None
    assert set(cache.keys) == {one, two}
    cache.store(one, 1, 0.5)  # first store: saved at once
    cache.store(two, 0, 0.25)  # one second later: kept in memory
    cache.store("pkg.mod.x_classify__mutmut_9", 1, 1.0)  # never looked up: no key, nothing stored
    assert cache.keys == {}
    saved = VerdictCache.load(tmp_path / "verdicts").verdicts
    assert sorted(saved.values()) == [(1, 0.5)]
    cache.lookup("pkg.mod.x_classify__mutmut_3", ["t_slow"])
    cache.store("pkg.mod.x_classify__mutmut_3", 1, 0.1)  # 5 s or more since the last save: saved
    assert sorted(VerdictCache.load(tmp_path / "verdicts").verdicts.values()) == [(0, 0.25), (1, 0.1), (1, 0.5)]
    again = driver_cache(tmp_path, SOURCE, spec, LINE_TESTS)
    assert again.lookup(one, ["t_slow"]) == (1, 0.5) and again.cache.hits == 1
    blind = driver_cache(tmp_path, SOURCE, {**spec, "verdict_cache_read": False}, LINE_TESTS)
    assert blind.lookup(one, ["t_slow"]) is None and blind.keys[one] == again.keys[one]
    off = driver_cache(tmp_path, SOURCE, {}, LINE_TESTS)
    assert not off.enabled and off.lookup(one, ["t_slow"]) is None and off.keys == {} and off.settings == {}
    assert off.lookup("pkg.mod.x_nothing__mutmut_1", ["t_slow"]) is None


def test_driver_cache_has_no_key_without_sources_or_coverage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from test_selection import LINE_TESTS, SOURCE

    import harness.verdict_cache as vc

    monkeypatch.setattr(vc, "tool_versions", lambda: {"python": "3.11"})
    spec = {"verdict_cache": str(tmp_path / "verdicts")}
    cache = driver_cache(tmp_path, SOURCE, spec, LINE_TESTS)
    assert cache.key("pkg.mod.x_missing__mutmut_1", ["t_slow"]) is None  # not in mutmut's files
    assert cache.lookup("pkg.mod.x_missing__mutmut_1", ["t_slow"]) is None and cache.keys == {}
    assert driver_cache(tmp_path, SOURCE, spec, {}).key("pkg.mod.x_classify__mutmut_1", ["t_slow"]) is None


def test_driver_cache_key_follows_the_last_line_of_a_body_and_the_tests_other_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_selection import SOURCE

    import harness.verdict_cache as vc

    monkeypatch.setattr(vc, "tool_versions", lambda: {"python": "3.11"})
    spec = {"verdict_cache": str(tmp_path / "verdicts")}
    only_m = {6: {"t_a"}, 19: {"t_a"}}  # t_a ran C.m's one-line body (line 19)
    mutant = "pkg.mod.x_classify__mutmut_1"
    key = driver_cache(tmp_path, SOURCE, spec, only_m).key(mutant, ["t_a"])
    edited = SOURCE.replace("return a + b", "return a * b")
    assert driver_cache(tmp_path, edited, spec, only_m).key(mutant, ["t_a"]) != key
    # the mutant's own module counts even when no test's coverage names it; a missing file is keyed as missing
    cache = driver_cache(tmp_path, SOURCE, spec, only_m)
    (tmp_path / "pkg" / "mod.py").unlink()
    assert cache._code_digest("pkg/mod.py", ["t_a"]) == digest("\0missing")
    assert cache._text("pkg/mod.py") is None


def test_driver_cache_key_covers_the_mutated_module_the_tests_other_files_and_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_selection import LINE_TESTS, SOURCE, generated_file

    import harness.verdict_cache as vc
    from harness import selection

    monkeypatch.setattr(vc, "tool_versions", lambda: {"python": "3.11"})
    generated_file(tmp_path)
    other = "def helper():\n    return 1\n"

    def key(source: str, helper: str, tests: list[str], settings: dict[str, Any] | None = None) -> str | None:
        (tmp_path / "pkg" / "mod.py").write_text(source)
        (tmp_path / "pkg" / "other.py").write_text(helper)
        contexts = {"pkg/mod.py": {k: sorted(v) for k, v in LINE_TESTS.items()}, "pkg/other.py": {2: ["t_b"]}}
        doc = selection.contexts_document(contexts, {"pkg/mod.py": selection.sha256_text(source),
                                                     "pkg/other.py": selection.sha256_text(helper)})
        files = selection.MutmutFiles(tmp_path, {"pkg.mod": "pkg/mod.py"}, doc)
        spec = {"verdict_cache": str(tmp_path / "verdicts"), "verdict_settings": settings or {"a": 1}}
        return DriverCache(spec, files, tmp_path).key("pkg.mod.x_classify__mutmut_1", tests)

    base = key(SOURCE, other, ["t_b"])
    # t_b never ran pkg/mod.py, yet the mutated module's own code is part of the key
    assert key(SOURCE.replace("import functools", "import itertools"), other, ["t_b"]) != base
    # t_b ran pkg/other.py's helper: its body is part of the key; t_slow's key does not depend on it
    assert key(SOURCE, other.replace("return 1", "return 2"), ["t_b"]) != base
    slow = key(SOURCE, other, ["t_slow"])
    assert key(SOURCE, other.replace("return 1", "return 2"), ["t_slow"]) == slow
    assert key(SOURCE, other, ["t_b"], {"a": 2}) != base


# ------------------------------------------------------------------------------------- mutmut's stats in the cache
BUNDLE = ("mutmut-stats.json", "harness-quarantine.json")


def _sandbox(root: Path, stats: str = '{"tests_by_mangled_function_name": {}}', quarantine: str | None = "{}") -> Path:
    mutants = root / "mutants"
    mutants.mkdir(parents=True)
    (mutants / BUNDLE[0]).write_text(stats, encoding="utf-8")
    if quarantine is not None:
        (mutants / BUNDLE[1]).write_text(quarantine, encoding="utf-8")
    return mutants


def test_stats_round_trip_into_a_cold_sandbox_only(tmp_path: Path) -> None:
    folder = tmp_path / "verdicts"
    warm = _sandbox(tmp_path / "warm", stats='{"a": 1}', quarantine='{"tests": []}')
    assert keep_stats(folder, warm, "k1", BUNDLE)
    cold = tmp_path / "cold" / "mutants"
    assert restore_stats(folder, cold, "k1", BUNDLE)
    assert [(cold / n).read_text() for n in BUNDLE] == ['{"a": 1}', '{"tests": []}']
    # a sandbox with stats of its own keeps them; another key restores nothing
    assert not restore_stats(folder, warm, "k1", BUNDLE)
    assert not restore_stats(folder, tmp_path / "other" / "mutants", "k2", BUNDLE)
    assert not (tmp_path / "other").exists()
    assert not restore_stats(None, tmp_path / "none" / "mutants", "k1", BUNDLE)


def test_a_bundle_without_its_quarantine_record_restores_the_stats_alone(tmp_path: Path) -> None:
    folder = tmp_path / "verdicts"
    assert keep_stats(folder, _sandbox(tmp_path / "warm", quarantine=None), "k", BUNDLE)
    cold = tmp_path / "cold" / "mutants"
    assert restore_stats(folder, cold, "k", BUNDLE)
    assert (cold / BUNDLE[0]).is_file() and not (cold / BUNDLE[1]).exists()


@pytest.mark.parametrize("content", ["", "not json", "[]", '{"format": 99, "files": {}}',
                                     '{"format": 1, "files": {"harness-quarantine.json": "{}"}}'])
def test_an_unreadable_bundle_restores_nothing(tmp_path: Path, content: str) -> None:
    folder = tmp_path / "verdicts"
    (folder / STATS_DIR).mkdir(parents=True)
    (folder / STATS_DIR / "k.json").write_text(content, encoding="utf-8")
    cold = tmp_path / "cold" / "mutants"
    assert not restore_stats(folder, cold, "k", BUNDLE)
    assert not cold.exists()  # mutmut then runs its full stats


def test_no_stats_to_keep_keeps_nothing_and_old_bundles_are_pruned(tmp_path: Path) -> None:
    folder = tmp_path / "verdicts"
    assert not keep_stats(folder, tmp_path / "empty", "k", BUNDLE)
    warm = _sandbox(tmp_path / "warm")
    for i in range(KEEP_STATS + 2):
        assert keep_stats(folder, warm, f"k{i}", BUNDLE)
        stamp = time.time() - 100 + i
        os.utime(folder / STATS_DIR / f"k{i}.json", (stamp, stamp))
    kept = sorted(p.stem for p in (folder / STATS_DIR).glob("*.json"))
    assert kept == [f"k{i}" for i in range(2, KEEP_STATS + 2)]  # the newest


@given(st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=4), st.text(min_size=1, max_size=5))
def test_the_stats_key_changes_iff_an_input_changes(files: dict[str, str], name: str) -> None:
    parts = {"files": files, "tools": {"python": "3.11"}}
    assert stats_key(parts) == stats_key(json.loads(json.dumps(parts)))
    changed = {**files, name: files.get(name, "") + "x"}
    assert stats_key({**parts, "files": changed}) != stats_key(parts)


def test_what_mutmut_generated_travels_with_the_stats_without_verdicts(tmp_path: Path) -> None:
    """The bundle keeps each generated file, its meta file (verdicts and durations dropped: the verdict cache
    holds them under checked keys) and its line index, with the generation record; a cold sandbox gets them all
    back, in their folders, and nothing outside ``mutants/``."""
    from harness.collectors import mutmut_adapter as adapter
    from harness.collectors.mutation.spawn import STATS_BUNDLE, _keep_bundle, generated_files

    warm = _sandbox(tmp_path / "warm")
    (warm / "pkg").mkdir()
    (warm / "pkg" / "a.py").write_text("# mutated\n", encoding="utf-8")
    meta = {"exit_code_by_key": {"pkg.a.x_f__mutmut_1": 1, "pkg.a.x_f__mutmut_2": 0},
            "durations_by_key": {"pkg.a.x_f__mutmut_1": 0.2}, "hash_by_function_name": {"x_f": "h"}}
    (warm / "pkg" / "a.py.meta").write_text(json.dumps(meta), encoding="utf-8")
    (warm / "pkg" / "a.py.spans").write_text('{"version": 1, "spans": {}}', encoding="utf-8")
    (warm / adapter.GENERATED_FILE).write_text(json.dumps({"generator": "g", "files": {"pkg/a.py": {}}}),
                                               encoding="utf-8")
    assert generated_files(warm) == [adapter.GENERATED_FILE, "pkg/a.py", "pkg/a.py.meta", "pkg/a.py.spans"]
    assert generated_files(tmp_path / "nowhere") == []
    folder = tmp_path / "verdicts"
    _keep_bundle(folder, warm, "k")
    cold = tmp_path / "cold" / "mutants"
    assert restore_stats(folder, cold, "k", STATS_BUNDLE)
    assert (cold / "pkg" / "a.py").read_text() == "# mutated\n"
    assert (cold / "pkg" / "a.py.spans").read_text() == '{"version": 1, "spans": {}}'
    restored = json.loads((cold / "pkg" / "a.py.meta").read_text())
    assert restored["exit_code_by_key"] == {"pkg.a.x_f__mutmut_1": None, "pkg.a.x_f__mutmut_2": None}
    assert restored["durations_by_key"] == {} and restored["hash_by_function_name"] == {"x_f": "h"}
    assert (cold / adapter.GENERATED_FILE).is_file()
    # a bundle naming a file outside the sandbox's mutants/ writes nothing there
    doc = json.loads((folder / STATS_DIR / "k.json").read_text())
    doc["files"]["../escaped.txt"] = "x"
    (folder / STATS_DIR / "k.json").write_text(json.dumps(doc))
    other = tmp_path / "other" / "mutants"
    assert restore_stats(folder, other, "k", STATS_BUNDLE)
    assert not (tmp_path / "other" / "escaped.txt").exists()
