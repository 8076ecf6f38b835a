"""The mutmut adapter against captured mutmut 3.8.1 artifacts (tests/artifacts/mutmut/): one status table,
loose meta reading, mutant names, mutmut's reach, and the line of a mutant from its diff."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from harness.collectors import mutmut_adapter as adapter
from harness.errors import ArtifactError
from harness.model import MutantStatus

ARTIFACTS = Path(__file__).parent / "artifacts" / "mutmut"


def mutmut_results(path: Path) -> dict[str, str]:
    """``mutmut results --all True`` output -> {mutant: mutmut status name}."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, _, status = line.strip().partition(": ")
        out[name] = status
    return out


def test_status_table_matches_the_installed_mutmut() -> None:
    from mutmut.stats import status_by_exit_code

    # A snapshot: indexing mutmut's defaultdict would insert keys, and this test also runs inside mutmut's own
    # process (the harness mutating itself), where mutmut may already have inserted some.
    known = dict(status_by_exit_code)
    unknown = status_by_exit_code.default_factory()  # type: ignore[misc]
    for code, (name, _status) in adapter.STATUS_BY_EXIT_CODE.items():
        assert known.get(code, unknown) == name, code
    for code, name in known.items():
        assert adapter.mutmut_status_name(code) == name, f"mutmut knows exit code {code}; map it"
    assert adapter.mutmut_status_name(12345) == "suspicious" == unknown


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (1, MutantStatus.KILLED),
        (3, MutantStatus.KILLED),
        (0, MutantStatus.SURVIVED),
        (33, MutantStatus.NO_COVERAGE),
        (5, MutantStatus.NO_COVERAGE),
        (None, MutantStatus.NOT_CHECKED),
        (-24, MutantStatus.TIMEOUT),
        (36, MutantStatus.TIMEOUT),
        (-9, MutantStatus.TIMEOUT),
        (2, MutantStatus.INTERRUPTED),
        (34, MutantStatus.SKIPPED),
        (35, MutantStatus.SUSPICIOUS),
        (-11, MutantStatus.SUSPICIOUS),
        (77, MutantStatus.SUSPICIOUS),
    ],
)
def test_status_of(code: int | None, status: MutantStatus) -> None:
    assert adapter.status_of(code) is status


@pytest.mark.parametrize(
    "meta", ["simple/calc.py.meta", "toolz/dicttoolz.py.meta", "toolz/itertoolz-excerpt.py.meta"]
)
def test_meta_statuses_equal_mutmut_results(meta: str) -> None:
    """Both writers (mutmut's indent=4 and the harness driver's compact one) read the same as mutmut reads."""
    parsed = adapter.load_meta(ARTIFACTS / meta)
    results_file = ARTIFACTS / meta.replace(".py.meta", ".results.txt")
    if not results_file.exists():
        results_file = ARTIFACTS / Path(meta).parent / "results.txt"
    printed = mutmut_results(results_file)
    assert set(parsed.exit_code_by_key) == set(printed)
    assert {k: adapter.mutmut_status_name(v) for k, v in parsed.exit_code_by_key.items()} == printed


def test_captured_counts() -> None:
    meta = adapter.load_meta(ARTIFACTS / "toolz" / "itertoolz-excerpt.py.meta")
    counts = Counter(adapter.status_of(c) for c in meta.exit_code_by_key.values())
    assert counts == {MutantStatus.KILLED: 60, MutantStatus.TIMEOUT: 5, MutantStatus.SURVIVED: 5}
    assert set(meta.hash_by_function_name) == {"x_partition_all", "x_sliding_window", "x_interleave"}
    assert all(d >= 0 for d in meta.durations_by_key.values())


def test_meta_is_read_loosely() -> None:
    doc = {"exit_code_by_key": {"m.x_f__mutmut_1": 1, "m.x_f__mutmut_2": None}, "new_key_in_3_9": [1, 2]}
    meta = adapter.read_meta(doc)
    assert meta.exit_code_by_key == {"m.x_f__mutmut_1": 1, "m.x_f__mutmut_2": None}
    assert meta.durations_by_key == {} and meta.hash_by_function_name == {}


@pytest.mark.parametrize("doc", [None, [], {"durations_by_key": {}}, {"exit_code_by_key": [1]}])
def test_meta_without_exit_codes_is_refused(doc: object) -> None:
    with pytest.raises(ArtifactError, match=r"not a mutmut 3\.8\.1 meta file"):
        adapter.read_meta(doc)


def test_unreadable_meta_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "m.py.meta"
    bad.write_text('{"exit_code_by_key": {', encoding="utf-8")
    with pytest.raises(ArtifactError, match=r"m\.py\.meta is unreadable"):
        adapter.load_meta(bad)
    with pytest.raises(ArtifactError, match="wrote no meta file"):
        adapter.load_meta(tmp_path / "missing.meta")


@pytest.mark.parametrize(
    ("mutant", "function", "key"),
    [
        ("toolz.itertoolz.x_groupby__mutmut_3", "groupby", "toolz.itertoolz.x_groupby"),
        ("pkg.mod.xǁSignerǁsign__mutmut_12", "Signer.sign", "pkg.mod.xǁSignerǁsign"),
        ("pkg.x__private__mutmut_1", "_private", "pkg.x__private"),
        ("a.b.x_f__mutmut_2__mutmut_7", "f__mutmut_2", "a.b.x_f__mutmut_2"),
    ],
)
def test_mutant_names(mutant: str, function: str, key: str) -> None:
    assert adapter.function_name(mutant) == function
    assert adapter.stats_key(mutant) == key


def test_not_a_mutant_name() -> None:
    with pytest.raises(ArtifactError):
        adapter.function_name("pkg.mod.x_func")


@pytest.mark.parametrize(
    ("source", "statements", "mutable", "skipped"),
    [
        ("X = 1\nY = [i for i in range(3)]\n", 2, 0, ()),
        ("def f(x):\n    '''doc'''\n    return x + 1\n", 2, 2, ()),
        ("import functools\n@functools.cache\ndef f(x):\n    return x\n", 3, 0, ("f",)),
        (
            "class C:\n    A = 1\n    @staticmethod\n    def s():\n        return 1\n"
            "    @property\n    def p(self):\n"
            "        return 2\n",
            6,
            2,
            ("C.p",),
        ),
        ("class C:\n    class D:\n        def m(self):\n            return 1\n", 4, 0, ("C.D.m",)),
        (
            "import enum\nclass E(enum.Enum):\n    def __init__(self, v):\n        self.v = v\n"
            "    def f(self):\n"
            "        return 1\n",
            6,
            2,
            ("E.__init__",),
        ),
        ("class C:\n    def __new__(cls):\n        return 1\n", 3, 0, ("C.__new__",)),
        ("async def a():\n    return 1\n", 2, 2, ()),
    ],
)
def test_reach(source: str, statements: int, mutable: int, skipped: tuple[str, ...]) -> None:
    r = adapter.reach(source)
    assert (r.statements, r.mutable_statements, r.unmutable_functions) == (statements, mutable, skipped)


def test_mutated_line_from_captured_diffs() -> None:
    """simple/calc.py: classify is lines 1-6, add 9-10, unused 13-14 (see the source beside the diffs)."""
    source = (ARTIFACTS / "simple" / "calc.py.txt").read_text(encoding="utf-8")
    diffs = json.loads((ARTIFACTS / "simple" / "diffs.json").read_text(encoding="utf-8"))
    lines = {k: adapter.mutated_line(v[1], source, adapter.function_name(k)) for k, v in diffs.items()}
    assert lines["simple.calc.x_add__mutmut_1"] == 10
    assert lines["simple.calc.x_classify__mutmut_1"] == 2
    assert lines["simple.calc.x_classify__mutmut_3"] == 3
    assert lines["simple.calc.x_classify__mutmut_6"] == 4
    assert lines["simple.calc.x_classify__mutmut_8"] == 5
    assert lines["simple.calc.x_classify__mutmut_10"] == 6
    assert lines["simple.calc.x_unused__mutmut_2"] == 14
    for k, v in diffs.items():  # the line named is the line the diff removes
        removed = next(ln[1:] for ln in v[1].splitlines() if ln.startswith("-") and not ln.startswith("---"))
        assert source.splitlines()[lines[k] - 1].strip() == removed.strip(), k


def test_mutated_line_of_a_method_below_comments() -> None:
    source = (
        "class C:\n    # a comment\n    # another\n    def m(self, x):\n        y = x\n        return y + 1\n"
    )
    diff = (
        "--- m.py\n+++ m.py\n@@ -1,5 +1,5 @@\n # a comment\n # another\n def m(self, x):\n     y = x\n"
        "-    return y + 1\n+    return y - 1"
    )
    assert adapter.mutated_line(diff, source, "C.m") == 6
    assert adapter.mutated_line(diff, source, "C.nope") is None
    assert adapter.mutated_line("", source, "C.m") is None


def test_driver_evicts_and_restores_the_targets_own_modules() -> None:
    """When the target is the harness, the driver's own import of it must not shadow mutmut's mutated copy."""
    import sys
    import types

    from harness.collectors.mutation import driver_state as mutation_driver

    sys.modules["fake_target"] = types.ModuleType("fake_target")
    sys.modules["fake_target.sub"] = types.ModuleType("fake_target.sub")
    sys.modules["fake_target_other"] = types.ModuleType("fake_target_other")
    try:
        gone = mutation_driver.evict_target_modules(["fake_target"])
        assert sorted(gone) == ["fake_target", "fake_target.sub"]
        assert "fake_target" not in sys.modules and "fake_target_other" in sys.modules
        mutation_driver.restore_target_modules()
        assert "fake_target.sub" in sys.modules
    finally:
        for name in ("fake_target", "fake_target.sub", "fake_target_other"):
            sys.modules.pop(name, None)
        mutation_driver._EVICTED.clear()


def test_diff_sides_reads_removed_and_added_lines_without_the_file_headers() -> None:
    from harness.collectors.mutmut_adapter import diff_sides

    diff = "--- a/x.py\n+++ b/x.py\n@@ -1,2 +1,2 @@\n def f():\n-    return a + b\n+    return a - b\n"
    assert diff_sides(diff) == (["    return a + b"], ["    return a - b"])
    assert diff_sides("") == ([], [])


def test_mutated_line_of_an_overloaded_method_counts_from_its_last_definition() -> None:
    """``@overload`` stubs come first; the mutated function is the last definition (itsdangerous's
    ``Serializer.__init__``). Counting from the first stub put this mutant on the line above."""
    source = (
        "from typing import overload\n\nclass C:\n    @overload\n    def m(self, x: int) -> int: ...\n"
        "    @overload\n    def m(self, x: str) -> str: ...\n    def m(self, x):\n        x = x + 1\n"
        "        x = x + 1\n        return x\n"
    )
    diff = (
        "--- m.py\n+++ m.py\n@@ -1,4 +1,4 @@\n def m(self, x):\n     x = x + 1\n-    x = x + 1\n+    x = x - 1\n"
        "     return x"
    )
    assert adapter.mutated_line(diff, source, "C.m") == 10


def test_meta_and_stats_problems_say_what_mutmut_would_refuse() -> None:
    meta = {"exit_code_by_key": {"m.x_f__mutmut_1": 1, "m.x_f__mutmut_2": None}, "durations_by_key": {},
            "estimated_durations_by_key": {}}
    assert adapter.meta_problem(meta) is None
    assert adapter.meta_problem({**meta, "hash_by_function_name": {}, "type_check_error_by_key": {}}) is None
    assert adapter.meta_problem({"exit_code_by_key": {}}) == (
        "keys ['durations_by_key', 'estimated_durations_by_key'] missing")
    assert adapter.meta_problem({**meta, "extra": 1, "more": 2}) == "unexpected keys ['extra', 'more']"
    assert adapter.meta_problem({**meta, "durations_by_key": []}) == "a table is not a JSON object"
    assert adapter.meta_problem({**meta, "exit_code_by_key": {"m.x_f__mutmut_1": "1"}}) == (
        "exit_code_by_key is not a table of exit codes")
    assert adapter.meta_problem([]) == "not a JSON object"
    stats = {"tests_by_mangled_function_name": {}, "duration_by_test": {}, "stats_time": 1.5}
    assert adapter.stats_problem(stats) is None
    assert adapter.stats_problem({**stats, "git_commit": "abc", "function_hashes": {}}) is None
    assert adapter.stats_problem({"stats_time": 1}) == (
        "keys ['duration_by_test', 'tests_by_mangled_function_name'] missing")
    assert adapter.stats_problem({**stats, "surprise": 0}) == "unexpected keys ['surprise']"
    assert adapter.stats_problem({**stats, "duration_by_test": [1]}) == "a table is not a JSON object"
    assert adapter.stats_problem({**stats, "tests_by_mangled_function_name": "x"}) == "a table is not a JSON object"
    assert adapter.stats_problem("{}") == "not a JSON object"


def test_meta_durations_and_hashes_are_read_as_given() -> None:
    meta = adapter.read_meta({"exit_code_by_key": {"m.x_f__mutmut_1": "3"},
                              "durations_by_key": {"m.x_f__mutmut_1": 2, "bad": "slow"},
                              "hash_by_function_name": {"x_f": 123}})
    assert meta == adapter.MetaFile({"m.x_f__mutmut_1": 3}, {"m.x_f__mutmut_1": 2.0}, {"x_f": "123"})
    with pytest.raises(ArtifactError, match=r"^meta file is not a mutmut 3\.8\.1 meta file"):
        adapter.read_meta({})


def test_unparseable_meta_names_its_path(tmp_path: Path) -> None:
    path = tmp_path / "mod.py.meta"
    path.write_text(json.dumps({"durations_by_key": {}}), encoding="utf-8")
    with pytest.raises(ArtifactError, match=f"^{path} is not a mutmut 3.8.1 meta file"):
        adapter.load_meta(path)


def test_location_and_bad_names() -> None:
    assert adapter.location("pkg.sub.mod.xǁKǁm__mutmut_7") == ("pkg.sub.mod", "K.m")
    assert adapter.location("pkg.x_f__mutmut_1") == ("pkg", "f")
    with pytest.raises(ArtifactError, match=r"^'pkg\.f' is not a mutmut mutant name$"):
        adapter.location("pkg.f")


@pytest.mark.parametrize(
    ("source", "mutable", "skipped"),
    [
        ("class C:\n    @classmethod\n    def c(cls):\n        return 1\n", 2, ()),
        ("class E(Enum):\n    def __init__(self):\n        self.v = 1\n", 0, ("E.__init__",)),
        ("class E(IntFlag):\n    def _generate_next_value_(n):\n        return n\n", 0, ("E._generate_next_value_",)),
        ("class P(Base):\n    def __init__(self):\n        self.v = 1\n", 2, ()),  # not an enum
        ("class P(mod.Base, 3):\n    def __init__(self):\n        self.v = 1\n", 2, ()),
        ("def __init__():\n    return 1\n", 2, ()),  # a module-level function is no enum method
        ("@staticmethod\n@other\ndef f():\n    return 1\n", 0, ("f",)),
        ("@a.staticmethod\ndef f():\n    return 1\n", 0, ("f",)),
        ("async def __new__():\n    return 1\n", 0, ("__new__",)),
        ("class C:\n    class D:\n        x = 1\n        def m(self):\n            return 1\n"
         "    class F:\n        def n(self):\n            return 2\n", 0, ("C.D.m", "C.F.n")),
    ],
)
def test_reach_of_decorators_enums_and_nested_classes(source: str, mutable: int, skipped: tuple[str, ...]) -> None:
    r = adapter.reach(source)
    assert (r.mutable_statements, r.unmutable_functions) == (mutable, skipped)


def test_module_of_path_and_function_spans() -> None:
    assert adapter.module_of_path("src/pkg/mod.py") == "pkg.mod"
    assert adapter.module_of_path("pkg/__init__.py") == "pkg"
    assert adapter.module_of_path("pkg/data") == "pkg.data"
    source = "def f(x):\n    y = x\n    return y\n\n\nclass K:\n    def m(self):\n        pass\n    X = 1\n"
    assert adapter.function_spans("pkg.mod", source) == [(1, 3, "pkg.mod.x_f"), (7, 8, "pkg.mod.xǁKǁm")]
    assert adapter.function_spans("pkg.mod", "def (:\n") == []


DUPLICATES = "@dec\ndef f(x):\n    a = 1\n    return x\n    b = 2\n    return x\n"


def test_mutated_line_picks_the_repeated_line_nearest_the_hunk() -> None:
    second = "--- m.py\n+++ m.py\n@@ -5,2 +5,2 @@\n     b = 2\n-    return x\n+    return None"
    assert adapter.mutated_line(second, DUPLICATES, "f") == 6
    first = "--- m.py\n+++ m.py\n@@ -3,2 +3,2 @@\n     a = 1\n-    return x\n+    return None\n     b = 2"
    assert adapter.mutated_line(first, DUPLICATES, "f") == 4


def test_mutated_line_of_an_added_line_is_where_it_goes() -> None:
    source = "x = 1\n# note\ndef f(x):\n    y = x\n    return y\n"
    diff = "--- m.py\n+++ m.py\n@@ -1,4 +1,5 @@\n # note\n def f(x):\n     y = x\n+    print(y)\n     return y"
    assert adapter.mutated_line(diff, source, "f") == 5
    later = "--- m.py\n+++ m.py\n@@ -3,2 +3,3 @@\n     y = x\n+    print(y)\n     return y"
    assert adapter.mutated_line(later, "def f(x):\n    y = x\n    return y\n", "f") == 4
