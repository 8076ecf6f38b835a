"""The coverage run kept by content (harness/collectors/coverage_reuse.py): the key changes iff an input changes, a
bundle round-trips, coverage.py's absolute paths follow the work copy to its new place, old bundles go."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from coverage import CoverageData

from harness.collectors import coverage_reuse as cr
from harness.config import Config
from harness.discover import ModuleInfo, Project
from harness.workspace import hash_files


def project() -> Project:
    return Project(root=Path("."), name="pkg", import_roots=("",), source=("pkg",), tests=("tests",), modules=())


def reuse_key(project: Project, cfg: Config, work: Path, workers: int) -> str:
    """The key coverage.run computes before it runs (base and files)."""
    return cr.full_key(cr.base_key(project, cfg, workers), hash_files(work))


def work_copy(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "mod.py").write_text("def f():\n    return 1\n")
    (root / "tests").mkdir()
    (root / "tests" / "test_mod.py").write_text("from pkg.mod import f\n\ndef test_f():\n    assert f() == 1\n")
    return root


def artifacts(raw: Path, work: Path) -> None:
    """A coverage run's artifacts as coverage.run leaves them: a real coverage.py data file with a context."""
    raw.mkdir(parents=True, exist_ok=True)
    data = CoverageData(basename=str(raw / ".coverage"))
    data.set_context("tests/test_mod.py::test_f")
    data.add_lines({str(work / "pkg" / "mod.py"): [1, 2]})
    data.write()
    (raw / "coverage.json").write_text(json.dumps({"files": {"pkg/mod.py": {"summary": {}}}}))
    (raw / "contexts.json").write_text(json.dumps({"format": 1, "kind": "coverage-contexts", "files": {
        str(work / "pkg" / "mod.py"): ["tests/test_mod.py::test_f"]}}))
    (raw / "record.json").write_text(json.dumps({"format": 1, "kind": "run-record", "exitstatus": 0}))
    (raw / "pytest.log").write_text("1 passed\n")


def test_the_key_follows_every_input_and_nothing_else(tmp_path: Path) -> None:
    work = work_copy(tmp_path / "a")
    cfg = Config()
    key = reuse_key(project(), cfg, work, 2)
    assert key == reuse_key(project(), cfg, work, 2)
    # the same files elsewhere: the same key (a fresh checkout in CI)
    assert reuse_key(project(), cfg, work_copy(tmp_path / "b"), 2) == key
    # hidden and tool folders are not the project's content
    (work / ".pytest_cache").mkdir()
    (work / ".pytest_cache" / "v").write_text("x")
    (work / "pkg" / "__pycache__").mkdir()
    (work / "pkg" / "__pycache__" / "mod.pyc").write_bytes(b"\0")
    assert reuse_key(project(), cfg, work, 2) == key
    changed = {
        "workers": reuse_key(project(), cfg, work, 1),
        "pytest_args": reuse_key(project(), dataclasses.replace(cfg, pytest_args=("-x",)), work, 2),
        "coverage args": reuse_key(project(), dataclasses.replace(
            cfg, coverage=dataclasses.replace(cfg.coverage, pytest_args=("-m", "slow"))), work, 2),
        "subprocess": reuse_key(project(), dataclasses.replace(
            cfg, coverage=dataclasses.replace(cfg.coverage, subprocess=not cfg.coverage.subprocess)), work, 2),
        "tests": reuse_key(dataclasses.replace(project(), tests=("tests", "more")), cfg, work, 2),
    }
    (work / "tests" / "data.txt").write_text("a test's data file")
    changed["data file"] = reuse_key(project(), cfg, work, 2)
    (work / "pkg" / "mod.py").write_text("def f():\n    return 2\n")
    changed["code"] = reuse_key(project(), cfg, work, 2)
    assert len({key, *changed.values()}) == len(changed) + 1, changed


def test_a_bundle_round_trips_to_a_work_copy_elsewhere(tmp_path: Path) -> None:
    old_work, new_work = tmp_path / "old" / "work", tmp_path / "elsewhere" / "cache" / "work"
    artifacts(tmp_path / "raw1", old_work)
    folder = tmp_path / "verdicts"
    assert cr.keep(folder, "k1", tmp_path / "raw1", old_work)
    assert cr.restore(folder, "other", tmp_path / "raw2", new_work) is None
    assert not (tmp_path / "raw2").exists()  # a miss copies nothing
    facts = cr.restore(folder, "k1", tmp_path / "raw2", new_work)
    assert facts is not None and facts["work"] == str(old_work) and facts["created"]
    data = CoverageData(basename=str(tmp_path / "raw2" / ".coverage"))
    data.read()
    moved = str(new_work / "pkg" / "mod.py")
    assert sorted(data.measured_files()) == [moved]
    assert sorted(data.lines(moved) or []) == [1, 2]
    assert data.contexts_by_lineno(moved)[1] == ["tests/test_mod.py::test_f"]
    contexts = json.loads((tmp_path / "raw2" / "contexts.json").read_text())
    assert contexts["kind"] == "coverage-contexts" and list(contexts["files"]) == [moved]
    for name in ("coverage.json", "record.json", "pytest.log"):
        assert (tmp_path / "raw2" / name).read_bytes() == (tmp_path / "raw1" / name).read_bytes()
    # restored into the same place: nothing rewritten
    assert cr.restore(folder, "k1", tmp_path / "raw3", old_work) is not None
    assert (tmp_path / "raw3" / ".coverage").read_bytes() == (tmp_path / "raw1" / ".coverage").read_bytes()


def test_incomplete_or_foreign_bundles_restore_nothing(tmp_path: Path) -> None:
    work = tmp_path / "work"
    folder = tmp_path / "verdicts"
    artifacts(tmp_path / "raw", work)
    (tmp_path / "raw" / "pytest.log").unlink()
    assert not cr.keep(folder, "k", tmp_path / "raw", work)  # a run without its log is not kept
    artifacts(tmp_path / "raw", work)
    assert cr.keep(folder, "k", tmp_path / "raw", work)
    (folder / cr.DIR / "k" / "record.json").unlink()
    assert cr.restore(folder, "k", tmp_path / "out", work) is None
    assert cr.keep(folder, "k", tmp_path / "raw", work)  # kept again over the broken one
    bundle = folder / cr.DIR / "k" / cr.BUNDLE
    bundle.write_text(json.dumps({"format": cr.FORMAT + 1}))
    assert cr.restore(folder, "k", tmp_path / "out", work) is None
    # damaged files in a complete bundle: nothing restored, nothing left behind, the run measures again
    for name, damage in ((".coverage", b"not sqlite"), ("record.json", b"{cut"), ("contexts.json", b"[]")):
        assert cr.keep(folder, "d", tmp_path / "raw", work)
        (folder / cr.DIR / "d" / name).write_bytes(damage)
        out = tmp_path / f"out-{name}"
        assert cr.restore(folder, "d", out, tmp_path / "elsewhere") is None
        assert not any(out.iterdir()), name
    # and a damaged bundle.json is never taken as the base of an increment
    (folder / cr.DIR / "d" / cr.BUNDLE).write_text(json.dumps({"format": cr.FORMAT, "base": "b", "files": [1]}))
    assert cr.plan_increment(folder, "b", {"pkg/mod.py": "x"}, project(), work) is None


@pytest.mark.parametrize("extra", [0, 3])
def test_the_newest_bundles_stay(tmp_path: Path, extra: int) -> None:
    work = tmp_path / "work"
    folder = tmp_path / "verdicts"
    artifacts(tmp_path / "raw", work)
    names = [f"k{i}" for i in range(cr.KEEP + extra)]
    for i, name in enumerate(names):
        assert cr.keep(folder, name, tmp_path / "raw", work)
        os.utime(folder / cr.DIR / name, (1000 + i, 1000 + i))
    cr.keep(folder, names[-1], tmp_path / "raw", work)
    kept = sorted(p.name for p in (folder / cr.DIR).iterdir())
    assert kept == sorted(names[-cr.KEEP:])


# ------------------------------------------------------------------------------------------------- increments

MODULE = "import os\n\n\ndef f(x):\n    return x\n\n\nclass C:\n    def m(self):\n        return 1\n\n\nX = f(2)\n"


def test_a_skeleton_is_the_code_outside_function_bodies() -> None:
    base = cr.skeleton(MODULE)
    assert "return x" not in base and "return 1" not in base and "X = f(2)" in base and "def m(self):" in base
    assert cr.skeleton(MODULE.replace("    return x\n", "    y = x\n    return y\n")) == base  # lines moved
    assert cr.skeleton(MODULE.replace("        return 1\n", "        return 2\n")) == base
    assert cr.skeleton(MODULE.replace("X = f(2)", "X = f(3)")) != base
    assert cr.skeleton(MODULE.replace("def f(x):", "def f(x=1):")) != base  # a signature runs at import


def test_the_rerun_set_is_the_tests_that_ran_the_file_and_their_fixture_partners() -> None:
    ran = {"pkg/a.py": ["t::a1", "t::a2"], "pkg/b.py": ["t::b"]}
    tests = [{"nodeid": "t::a1", "shared": ["db@tests"]}, {"nodeid": "t::a2"}, {"nodeid": "t::b"},
             {"nodeid": "t::c", "shared": ["db@tests", "app@tests"]}, {"nodeid": "t::d", "shared": ["app@tests"]}]
    assert cr.rerun_set(ran, ["pkg/a.py"], tests) == ("t::a1", "t::a2", "t::c")  # t::c shares db, t::d only app
    assert cr.rerun_set(ran, ["pkg/b.py"], tests) == ("t::b",)
    assert cr.rerun_set(ran, ["pkg/none.py"], tests) == ()


def test_a_merged_record_takes_the_partial_runs_entries_in_the_earlier_order() -> None:
    old = {"kind": "run-record", "exitstatus": 0, "collected": 3,
           "tests": [{"nodeid": "a", "outcome": "passed"}, {"nodeid": "b", "outcome": "passed"},
                     {"nodeid": "c", "outcome": "passed"}]}
    partial = {"tests": [{"nodeid": "b", "outcome": "failed", "message": "boom"}]}
    merged = cr.merge_record(old, partial, ["b"])
    assert merged is not None and [t["nodeid"] for t in merged["tests"]] == ["a", "b", "c"]
    assert merged["tests"][1]["message"] == "boom" and merged["exitstatus"] == 1 and merged["collected"] == 3
    assert cr.merge_record(old, partial, ["b", "c"]) is None  # c did not run: a full run follows
    assert cr.merge_record(old, {"tests": []}, [])["exitstatus"] == 0  # type: ignore[index]


def data_file(path: Path, rows: dict[str, dict[str, list[tuple[int, int]]]]) -> None:
    """A coverage.py data file in branch mode: context -> file -> arcs."""
    data = CoverageData(basename=str(path))
    for context, files in rows.items():
        data.set_context(context)
        data.add_arcs({f: dict.fromkeys(arcs) for f, arcs in files.items()})
    data.write()


def arcs_by_context(path: Path) -> dict[tuple[str, str], list[tuple[int, int]]]:
    data = CoverageData(basename=str(path))
    data.read()
    out = {}
    for f in data.measured_files():
        for context in data.measured_contexts():
            data.set_query_contexts([f"^{context}$"] if context else None)
            arcs = sorted(data.arcs(f) or [])
            if arcs and context:
                out[(context, f)] = arcs
    return out


def test_merging_replaces_the_rerun_tests_and_the_changed_files(tmp_path: Path) -> None:
    old, new = tmp_path / "old.coverage", tmp_path / "new.coverage"
    data_file(old, {"": {"/w/a.py": [(-1, 1)], "/w/b.py": [(-1, 1)]},
                    "t::a": {"/w/a.py": [(1, 2), (2, -1)], "/w/b.py": [(5, 6)]},
                    "t::b": {"/w/b.py": [(1, 2)]}})
    # a.py edited (a line inserted), t::a runs again and now reaches b.py's line 7 too
    data_file(new, {"": {"/w/a.py": [(-1, 1)]},
                    "t::a": {"/w/a.py": [(1, 2), (2, 3), (3, -1)], "/w/b.py": [(5, 6), (6, 7)]}})
    cr.merge_data(old, new, ["/w/a.py"], ["t::a"])
    assert arcs_by_context(old) == {
        ("t::a", "/w/a.py"): [(1, 2), (2, 3), (3, -1)],
        ("t::a", "/w/b.py"): [(5, 6), (6, 7)],
        ("t::b", "/w/b.py"): [(1, 2)],
    }
    data = CoverageData(basename=str(old))
    data.read()
    data.set_query_contexts(None)
    assert sorted(data.arcs("/w/b.py") or []) == [(-1, 1), (1, 2), (5, 6), (6, 7)]  # b.py's import kept
    assert sorted(data.arcs("/w/a.py") or []) == [(-1, 1), (1, 2), (2, 3), (3, -1)]


def test_a_body_edit_counts_unless_the_body_ran_at_import() -> None:
    facts = {"skeleton": cr.digest(cr.skeleton(MODULE)), "bodies": cr.body_digests(MODULE), "at_import": [0]}
    assert len(facts["bodies"]) == 2  # f, C.m
    assert cr._body_edit_only(MODULE.replace("        return 1\n", "        x = 1\n        return x\n"), facts)
    assert not cr._body_edit_only(MODULE.replace("    return x\n", "    return -x\n"), facts)  # f ran at import
    assert not cr._body_edit_only(MODULE.replace("X = f(2)", "X = f(3)"), facts)  # outside the bodies
    assert cr._body_edit_only(MODULE, facts)  # nothing edited
    assert not cr._body_edit_only(MODULE, {"skeleton": facts["skeleton"]})  # an older bundle: no body digests


def test_a_line_mode_data_file_merges_too(tmp_path: Path) -> None:
    """Without branch measurement coverage.py keeps lines (line_bits), not arcs: the same replacement."""
    old, new = tmp_path / "old.coverage", tmp_path / "new.coverage"
    for path, rows in ((old, {"t::a": {"/w/a.py": [1, 2]}, "t::b": {"/w/a.py": [1], "/w/b.py": [3]}}),
                       (new, {"t::a": {"/w/a.py": [1, 2, 3]}})):
        data = CoverageData(basename=str(path))
        for context, files in rows.items():
            data.set_context(context)
            data.add_lines(files)
        data.add_file_tracers({})
        data.write()
    cr.merge_data(old, new, ["/w/a.py"], ["t::a"])
    data = CoverageData(basename=str(old))
    data.read()
    got = {}
    for context in ("t::a", "t::b"):
        data.set_query_contexts([f"^{context}$"])
        got[context] = {f: sorted(data.lines(f) or []) for f in sorted(data.measured_files()) if data.lines(f)}
    # a.py's rows all come from the partial run (t::b's row of the edited file is dropped with it)
    assert got == {"t::a": {"/w/a.py": [1, 2, 3]}, "t::b": {"/w/b.py": [3]}}


# Planning an increment over kept bundles (plan_increment), with real coverage.py data files and bundles.
MOD = ("import functools\n\n\ndef deco(fn):\n    return functools.wraps(fn)(fn)\n\n\n"
       "@deco\ndef f(x):\n    return x + 1\n\n\ndef g(x):\n    return x * 2\n")
TESTS = ["tests/test_m.py::test_f", "tests/test_m.py::test_g", "tests/test_m.py::test_g2", "tests/test_o.py::test_o"]


def planned_project(work: Path) -> Project:
    return Project(root=work, name="pkg", import_roots=("",), source=("pkg",), tests=("tests",),
                   modules=(ModuleInfo("pkg.m", "pkg/m.py", ""), ModuleInfo("pkg.o", "pkg/o.py", "")))


def kept_run(folder: Path, work: Path, base: str = "base", write: bool = True) -> str:
    """A finished coverage run of ``work`` kept in ``folder``: deco ran at import (context ""), test_f ran f,
    test_g and test_g2 ran g, test_o ran only pkg/o.py (``write``: the files as MOD and o() first)."""
    if write:
        (work / "pkg").mkdir(parents=True, exist_ok=True)
        (work / "pkg" / "m.py").write_text(MOD)
        (work / "pkg" / "o.py").write_text("def o():\n    return 0\n")
        (work / "tests").mkdir(exist_ok=True)
        (work / "tests" / "test_m.py").write_text("# tests\n")
    raw = work.parent / f"raw-{work.name}"
    raw.mkdir(exist_ok=True)
    m, o = str(work / "pkg" / "m.py"), str(work / "pkg" / "o.py")
    data = CoverageData(basename=str(raw / cr.DATA_FILE))
    for context, files in {"": {m: [1, 4, 5, 8, 9, 13]}, TESTS[0]: {m: [10]}, TESTS[1]: {m: [14]},
                           TESTS[2]: {m: [14]}, TESTS[3]: {o: [2]}}.items():
        data.set_context(context)
        data.add_lines(files)
    data.write()
    (raw / "coverage.json").write_text("{}")
    (raw / "contexts.json").write_text(json.dumps({"format": 1, "kind": "coverage-contexts", "files": {
        m: TESTS[:3], o: TESTS[3:]}}))
    (raw / "record.json").write_text(json.dumps({"format": 1, "kind": "run-record", "exitstatus": 0,
                                                 "tests": [{"nodeid": t} for t in TESTS]}))
    (raw / "pytest.log").write_text("4 passed\n")
    files = hash_files(work)
    key = cr.full_key(base, files)
    assert cr.keep(folder, key, raw, work, cr.bundle_facts(planned_project(work), base, files, raw, work))
    return key


def plan(folder: Path, work: Path, base: str = "base") -> cr.Increment | None:
    return cr.plan_increment(folder, base, hash_files(work), planned_project(work), work)


def test_the_facts_of_a_kept_run_name_the_bodies_that_ran_at_import(tmp_path: Path) -> None:
    work = tmp_path / "w"
    key = kept_run(tmp_path / "cache", work)
    facts = json.loads((tmp_path / "cache" / cr.DIR / key / cr.BUNDLE).read_text())
    assert facts["base"] == "base" and facts["files"] == hash_files(work) and facts["work"] == str(work)
    m = facts["modules"]["pkg/m.py"]
    assert m["skeleton"] == cr.digest(cr.skeleton(MOD)) and m["bodies"] == cr.body_digests(MOD)
    assert m["at_import"] == [0]  # deco's body (line 5) ran at import; f's and g's did not
    assert facts["modules"]["pkg/o.py"]["at_import"] == []
    assert cr.import_lines(tmp_path / "raw-w" / cr.DATA_FILE) == {str(work / "pkg" / "m.py"): {1, 4, 5, 8, 9, 13},
                                                                   str(work / "pkg" / "o.py"): set()}


def test_a_body_edit_reruns_the_tests_that_ran_its_module(tmp_path: Path) -> None:
    folder, work = tmp_path / "cache", tmp_path / "w"
    key = kept_run(folder, work)
    assert plan(folder, work) is None  # nothing changed: the bundle itself is restored, not an increment
    (work / "pkg" / "o.py").write_text("def o():\n    return 1\n")
    inc = plan(folder, work)
    assert inc is not None and inc.key == key and inc.changed == ("pkg/o.py",)
    assert inc.tests == (TESTS[3],) and inc.total == 4 and inc.facts["base"] == "base"
    assert plan(folder, work, base="other") is None  # another base (tools, settings): never a base


@pytest.mark.parametrize(("edit", "why"), [
    (lambda w: (w / "pkg" / "m.py").write_text(MOD.replace("return x + 1", "return x + 2")), "3 of 4 tests"),
    (lambda w: (w / "pkg" / "m.py").write_text(MOD.replace("(fn)(fn)", "(fn)(fn)  # same")), "ran at import"),
    (lambda w: (w / "pkg" / "m.py").write_text(MOD.replace("def g(x):", "def g(x=0):")), "skeleton"),
    (lambda w: (w / "pkg" / "m.py").write_text(MOD + "\n\ndef h():\n    return 3\n"), "a new function"),
    (lambda w: (w / "tests" / "test_m.py").write_text("# tests, edited\n"), "a test file"),
    (lambda w: (w / "pkg" / "new.py").write_text("X = 1\n"), "a new file"),
    (lambda w: (w / "pkg" / "o.py").unlink(), "a removed file"),
    (lambda w: (w / "pkg" / "o.py").write_bytes(b"def o():\n    return '\xff'\n"), "unreadable text"),
])
def test_no_increment_when_it_would_not_be_sound_or_cheap(tmp_path: Path, edit: Any, why: str) -> None:
    folder, work = tmp_path / "cache", tmp_path / "w"
    kept_run(folder, work)
    edit(work)
    assert plan(folder, work) is None, why


def test_exactly_half_the_tests_is_still_an_increment(tmp_path: Path) -> None:
    folder, work = tmp_path / "cache", tmp_path / "w"
    kept_run(folder, work)
    (work / "pkg" / "m.py").write_text(MOD.replace("return x * 2", "return 2 * x"))  # g: test_g, test_g2 ...
    inc = plan(folder, work)  # ... but every test that ran pkg/m.py runs again: 3 of 4, over half
    assert inc is None
    contexts = tmp_path / "cache" / cr.DIR
    bundle = next(p for p in contexts.iterdir() if p.is_dir())
    doc = json.loads((bundle / cr.CONTEXTS_FILE).read_text())
    doc["files"][str(work / "pkg" / "m.py")] = TESTS[1:3]  # had only g's tests run the module: 2 of 4
    (bundle / cr.CONTEXTS_FILE).write_text(json.dumps(doc))
    inc = plan(folder, work)
    assert inc is not None and inc.tests == tuple(TESTS[1:3]) and inc.changed == ("pkg/m.py",)


def test_the_cheapest_sound_bundle_is_the_base_and_damaged_ones_are_skipped(tmp_path: Path) -> None:
    folder, work = tmp_path / "cache", tmp_path / "w"
    first = kept_run(folder, work)
    (work / "pkg" / "o.py").write_text("def o():\n    return 1\n")
    (work / "pkg" / "m.py").write_text(MOD.replace("return x * 2", "return 2 * x"))
    # the current files kept as a second bundle, made in another work copy (paths relative to it)
    other = tmp_path / "elsewhere" / "w"
    shutil.copytree(work, other)
    second = kept_run(folder, other, write=False)
    (other / "pkg" / "o.py").write_text("def o():\n    return 2\n")
    inc = plan(folder, other)
    assert inc is not None and inc.key == second and inc.tests == (TESTS[3],)
    assert first != second
    facts = (folder / cr.DIR / second / cr.BUNDLE).read_text()
    for damage in ("{cut", "[]", json.dumps({"format": 99, "base": "base"}),
                   json.dumps({"format": cr.FORMAT, "base": "base", "files": 1})):
        (folder / cr.DIR / second / cr.BUNDLE).write_text(damage)
        assert plan(folder, other) is None, damage  # the first bundle differs in two modules: all 4 tests
    (folder / cr.DIR / second / cr.BUNDLE).write_text(facts)
    assert plan(folder, other) == inc
    (folder / cr.DIR / second / "record.json").unlink()
    assert plan(folder, other) is None
    assert cr.plan_increment(tmp_path / "nothing", "base", {}, planned_project(other), other) is None



def test_what_the_keys_are_made_of(monkeypatch: pytest.MonkeyPatch) -> None:
    """The key's parts, read through an identity digest: a bundle is reused only when all of them match."""
    monkeypatch.setattr(cr, "digest", lambda x: x.decode() if isinstance(x, bytes) else x)
    monkeypatch.setattr(cr, "tool_versions", lambda: {"pytest": "9", "coverage": "7"})
    cfg = dataclasses.replace(Config(), pytest_args=("-x",), timeout=60)
    parts = json.loads(cr.base_key(project(), cfg, 3))
    plugin = (Path(cr.__file__).resolve().parents[2] / "harness_pytest.py").read_text(encoding="utf-8")
    assert parts == {"format": cr.FORMAT, "tools": [["coverage", "7"], ["pytest", "9"]], "plugin": plugin,
                     "settings": {"source": ["pkg"], "tests": ["tests"], "pytest_args": ["-x"],
                                  "coverage_pytest_args": list(cfg.coverage.pytest_args),
                                  "subprocess": cfg.coverage.subprocess, "workers": 3, "timeout": 60}}
    assert cr.full_key("B", {"b.py": "2", "a.py": "1"}) == '["B",[["a.py","1"],["b.py","2"]]]'


def test_skeletons_and_bodies_exactly() -> None:
    assert cr.skeleton(MODULE) == "import os\n\n\ndef f(x):\n\n\nclass C:\n    def m(self):\n\n\nX = f(2)"
    assert cr.body_digests(MODULE) == [cr.digest("    return x"), cr.digest("        return 1")]
    two = "def f():\n    a = 1\n    return a\n"
    assert cr.body_digests(two) == [cr.digest("    a = 1\n    return a")]


def test_an_error_in_a_rerun_test_fails_the_merged_run_and_foreign_paths_stay(tmp_path: Path) -> None:
    old = {"exitstatus": 0, "tests": [{"nodeid": "a", "outcome": "passed"}]}
    assert cr.merge_record(old, {"tests": [{"nodeid": "a", "outcome": "error"}]}, ["a"])["exitstatus"] == 1  # type: ignore[index]
    artifacts(tmp_path / "raw", tmp_path / "w")
    doc = json.loads((tmp_path / "raw" / "contexts.json").read_text())
    doc["files"]["/elsewhere/x.py"] = ["t"]  # measured outside the work copy (coverage.subprocess): kept as is
    (tmp_path / "raw" / "contexts.json").write_text(json.dumps(doc))
    cr.relocate(tmp_path / "raw", str(tmp_path / "w"), "/new")
    assert json.loads((tmp_path / "raw" / "contexts.json").read_text())["files"] == {
        "/new/pkg/mod.py": ["tests/test_mod.py::test_f"], "/elsewhere/x.py": ["t"]}
