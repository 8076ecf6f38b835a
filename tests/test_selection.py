"""Line-level test selection (harness/selection.py): placing a mutant's changed lines in the source, the
tests that executed them, and every fallback to mutmut's function-level selection."""

from __future__ import annotations

import ast
import json
import textwrap
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from harness import selection as sel
from harness.call_budget import budget
from harness.selection_driver import mutmut_limits

SOURCE = textwrap.dedent('''\
    import functools


    def classify(n,
                 k=3):
        """doc"""
        if n < 0 and \\
                k:
            return "neg"
        elif n == 0:
            return "zero"
        return ("pos"
                + "x")


    class C:
        @staticmethod
        def m(a, b=2):
            return a + b


    def one(x): return x
    ''')


def test_changed_offsets_replace_delete_insert() -> None:
    orig = ["a", "b", "c", "d"]
    assert sel.changed_offsets(orig, ["a", "B", "c", "d"]) == {1}
    assert sel.changed_offsets(orig, ["a", "bc", "d"]) == {1, 2}  # two lines joined into one
    assert sel.changed_offsets(orig, ["a", "c", "d"]) == {1}
    assert sel.changed_offsets(orig, ["a", "b", "x", "c", "d"]) == {1, 2}
    assert sel.changed_offsets(orig, orig) == set()


def test_function_lines_and_statement_spans() -> None:
    tree = ast.parse(SOURCE)
    assert sel.function_lines(tree, "classify") == sel.FunctionLines(first=4, header_end=5, end=13)
    assert sel.function_lines(tree, "C.m") == sel.FunctionLines(first=17, header_end=18, end=19)
    assert sel.function_lines(tree, "one") == sel.FunctionLines(first=22, header_end=22, end=22)
    assert sel.function_lines(tree, "missing") is None
    overloaded = ast.parse("class K:\n    @overload\n    def f(self, x: int) -> int: ...\n"
                           "    def f(self, x):\n        return x\n")
    assert sel.function_lines(overloaded, "K.f") == sel.FunctionLines(first=4, header_end=4, end=5)
    spans = sel.statement_spans(tree)
    assert spans[7] == spans[8] == (7, 8)  # a multi-line `if` header
    assert spans[12] == spans[13] == (12, 13)  # a multi-line return
    assert spans[10] == (10, 10)  # elif header
    assert spans[9] == (9, 9)


DURATIONS = {"t_fast": 0.01, "t_mid": 0.1, "t_slow": 1.0, "t_other": 0.05}
CLASSIFY = sel.FunctionLines(first=4, header_end=5, end=13)
LINE_TESTS = {
    6: {"t_fast", "t_mid", "t_slow"},
    7: {"t_fast", "t_mid", "t_slow"},
    9: {"t_mid"},
    10: {"t_fast", "t_slow"},
    11: {"t_slow"},
    13: {"t_fast"},  # coverage.py recorded the return under its continuation line
}


def choose(changed: set[int] | None, function_tests: tuple[str, ...] = ("t_slow", "t_mid", "t_fast"),
           line_tests: dict[int, set[str]] | None = LINE_TESTS,
           function: sel.FunctionLines | None = CLASSIFY) -> sel.Selection:
    return sel.select(changed=changed, function=function, spans=sel.statement_spans(ast.parse(SOURCE)),
                      line_tests=line_tests, function_tests=function_tests, durations=DURATIONS)


def test_select_line_level_fastest_first() -> None:
    assert choose({11}) == sel.Selection(("t_slow",), "line", (11,))
    assert choose({10}).tests == ("t_fast", "t_slow")
    assert choose({9}).tests == ("t_mid",)
    # a changed continuation line widens to its statement, whose tests coverage.py recorded on either line
    assert choose({12}) == sel.Selection(("t_fast",), "line", (12, 13))
    assert choose({8}).lines == (7, 8)


def test_select_no_test_executed_the_line() -> None:
    line_tests = {k: v for k, v in LINE_TESTS.items() if k != 11}
    assert choose({11}, line_tests=line_tests) == sel.Selection((), "line", (11,))


def test_select_falls_back_to_function_level() -> None:
    everything = ("t_fast", "t_mid", "t_slow")
    assert choose({11}, line_tests=None) == sel.Selection(everything, "no-data")
    assert choose({11}, function=None) == sel.Selection(everything, "no-data")
    assert choose(None) == sel.Selection(everything, "unaligned")
    assert choose({5}) == sel.Selection(everything, "header")  # a default argument: evaluated at import time
    assert choose(set()).mode == "header"
    # a test mutmut saw calling the function executed none of its lines: the data cannot be trusted there
    assert choose({11}, function_tests=(*everything, "t_other")).mode == "unsound"


@given(st.integers(min_value=6, max_value=13), st.sets(st.sampled_from(sorted(DURATIONS)), max_size=4))
def test_line_selection_is_a_subset_of_function_selection(line: int, function_tests: set[str]) -> None:
    """Law: a selection never runs a test mutmut would not have run, and always in duration order."""
    known = {t for t in function_tests if t != "t_other"}
    chosen = choose({line}, function_tests=tuple(known))
    assert set(chosen.tests) <= known
    assert list(chosen.tests) == sorted(chosen.tests, key=lambda t: (DURATIONS[t], t))
    if chosen.mode == "line":
        executed = set().union(*(LINE_TESTS.get(n, set()) for n in chosen.lines))
        assert set(chosen.tests) == known & executed


def test_renamed_and_aligned() -> None:
    generated = ["", "", "    @staticmethod", "    def xǁCǁm__mutmut_orig(a, b=2):", "        return a + b", ""]
    copy = sel.renamed(generated, "xǁCǁm__mutmut_orig", "m")
    assert copy == ["    @staticmethod", "    def m(a, b=2):", "        return a + b"]
    assert sel.aligned(copy, SOURCE.splitlines()[16:19])
    assert not sel.aligned(copy, SOURCE.splitlines()[16:18])


def generated_file(root: Path) -> None:
    """mutmut 3.8.1's layout of a mutated file and its line index (as its generator writes them)."""
    functions = [
        ("x_classify__mutmut_orig", SOURCE.splitlines()[3:13]),
        ("x_classify__mutmut_1", [ln.replace('"zero"', '"XXzeroXX"') for ln in SOURCE.splitlines()[3:13]]),
        ("x_classify__mutmut_2", [*SOURCE.splitlines()[3:6], "    if n < 0 or k:", *SOURCE.splitlines()[8:13]]),
        ("x_classify__mutmut_3", [SOURCE.splitlines()[3], "             k=4):", *SOURCE.splitlines()[5:13]]),
    ]
    lines = ["import functools", "from mutmut.mutation.trampoline import wrap_in_trampoline as _mutmut_mutated"]
    spans = {}
    for name, body in functions:
        start = len(lines) + 1
        lines += ["", "", body[0].replace("def classify(", f"def {name}("), *body[1:]]
        spans[name] = [start, len(lines)]
    (root / "mutants" / "pkg").mkdir(parents=True)
    (root / "pkg").mkdir()
    (root / "pkg" / "mod.py").write_text(SOURCE)
    (root / "mutants" / "pkg" / "mod.py").write_text("\n".join(lines) + "\n")
    (root / "mutants" / "pkg" / "mod.py.spans").write_text(json.dumps({"version": 1, "spans": spans}))


def test_mutmut_files_place_each_mutant(tmp_path: Path) -> None:
    generated_file(tmp_path)
    contexts = {"pkg/mod.py": {k: sorted(v) for k, v in LINE_TESTS.items()}}
    doc = sel.contexts_document(contexts, {"pkg/mod.py": sel.sha256_text(SOURCE)})
    files = sel.MutmutFiles(tmp_path, {"pkg.mod": "pkg/mod.py"}, json.loads(json.dumps(doc)))
    tests = ("t_fast", "t_mid", "t_slow")
    assert files.select("pkg.mod.x_classify__mutmut_1", tests, DURATIONS) == sel.Selection(("t_slow",), "line", (11,))
    two = files.select("pkg.mod.x_classify__mutmut_2", tests, DURATIONS)
    assert two.mode == "line" and two.lines == (7, 8) and two.tests == tests
    assert files.select("pkg.mod.x_classify__mutmut_3", tests, DURATIONS).mode == "header"
    assert files.select("other.x_f__mutmut_1", tests, DURATIONS).mode == "no-data"


def test_mutmut_files_refuse_another_source(tmp_path: Path) -> None:
    generated_file(tmp_path)
    doc = sel.contexts_document({"pkg/mod.py": {11: ["t_slow"]}}, {"pkg/mod.py": sel.sha256_text(SOURCE + "#")})
    files = sel.MutmutFiles(tmp_path, {"pkg.mod": "pkg/mod.py"}, doc)
    assert files.select("pkg.mod.x_classify__mutmut_1", ("t_slow",), DURATIONS).mode == "no-data"
    assert sel.MutmutFiles(tmp_path, {"pkg.mod": "pkg/mod.py"}, {"format": 99}).select(
        "pkg.mod.x_classify__mutmut_1", ("t_slow",), DURATIONS).mode == "no-data"


def test_split_mutant() -> None:
    assert sel.split_mutant("a.b.xǁCǁm__mutmut_3") == ("a.b", "xǁCǁm__mutmut_3", "C.m")
    assert sel.split_mutant("a.x_f__mutmut_12") == ("a", "x_f__mutmut_12", "f")


def test_mutmut_limits_and_budget() -> None:
    assert mutmut_limits(["t_fast", "t_slow"], DURATIONS, 0.5, 3.0) == (10, 1.01)
    assert budget(0.5, 0.5, 3.0) == 3.0
    assert budget(-1.0, 0.5, 2.0) == 1.0
    assert budget(0.5, 0.5, 3.0, load=2.0) == 6.0  # a machine twice as busy as its cores: twice the time
    assert budget(0.5, 0.5, 3.0, load=0.3) == 3.0


def test_fastest_first_counts_an_unknown_test_as_instant_and_breaks_ties_by_name() -> None:
    chosen = sel.select(changed=None, function=None, spans={}, line_tests=None,
                        function_tests=("t_slow", "t_new", "t_fast", "t_b", "t_a"),
                        durations={**DURATIONS, "t_a": 0.01, "t_b": 0.01})
    assert chosen == sel.Selection(("t_new", "t_a", "t_b", "t_fast", "t_slow"), "no-data")


def test_the_function_spans_first_to_last_line_for_soundness() -> None:
    last_only = {13: {"t_x"}, 6: {"t_y"}}
    assert choose({13}, ("t_x",), last_only) == sel.Selection(("t_x",), "line", (12, 13))
    before = {1: {"t_y"}, 11: {"t_slow"}}  # t_y ran the import above the function, never the function
    assert choose({11}, ("t_y", "t_slow"), before) == sel.Selection(("t_y", "t_slow"), "unsound")
    # a line that is no statement's is taken alone
    assert sel.select(changed={11}, function=CLASSIFY, spans={}, line_tests=LINE_TESTS, function_tests=("t_slow",),
                      durations=DURATIONS) == sel.Selection(("t_slow",), "line", (11,))


def test_changed_offsets_of_an_insertion_at_either_end() -> None:
    assert sel.changed_offsets(["a", "b"], ["x", "a", "b"]) == {0}
    assert sel.changed_offsets(["a", "b"], ["a", "b", "x"]) == {1}


def test_statement_spans_of_decorated_definitions() -> None:
    spans = sel.statement_spans(ast.parse("@dec\ndef f():\n    pass\n\n\nx = 1\n"))
    assert spans[1] == spans[2] == (1, 2) and spans[3] == (3, 3) and spans[6] == (6, 6)
    assert 4 not in spans and 7 not in spans
    assert 14 not in sel.statement_spans(ast.parse(SOURCE))  # the blank line after classify's last statement


def test_mutmut_files_give_each_mutants_sources_and_the_tests_by_file(tmp_path: Path) -> None:
    generated_file(tmp_path)
    doc = sel.contexts_document({"pkg/mod.py": {k: sorted(v) for k, v in LINE_TESTS.items()}, "pkg/empty.py": {}},
                                {"pkg/mod.py": sel.sha256_text(SOURCE), "pkg/empty.py": "0"})
    files = sel.MutmutFiles(tmp_path, {"pkg.mod": "pkg/mod.py"}, doc)
    original = "\n".join(SOURCE.splitlines()[3:13])
    assert files.sources("pkg.mod.x_classify__mutmut_1") == (original, original.replace('"zero"', '"XXzeroXX"'))
    assert files.sources("pkg.mod.x_classify__mutmut_9") is None  # not in mutmut's line index
    assert files.sources("other.x_f__mutmut_1") is None
    assert files.sources("pkg.mod.classify") is None
    assert files.tests_by_file() == {"pkg/mod.py": {"t_fast", "t_mid", "t_slow"}, "pkg/empty.py": set()}
    assert files.select("pkg.mod.classify", ("t_slow", "t_fast"), DURATIONS) == sel.Selection(
        ("t_fast", "t_slow"), "no-data")
    assert files.select("other.x_f__mutmut_1", ("t_slow", "t_fast"), DURATIONS) == sel.Selection(
        ("t_fast", "t_slow"), "no-data")
    assert files.select("pkg.mod.x_classify__mutmut_9", ("t_slow", "t_fast"), DURATIONS) == sel.Selection(
        ("t_fast", "t_slow"), "unaligned")


def test_load_contexts_document_reads_only_its_own_format() -> None:
    doc = sel.contexts_document({"a.py": {1: ["t"]}}, {"a.py": "abc"})
    assert sel.load_contexts_document(doc) == {"a.py": ("abc", {1: frozenset({"t"})})}
    assert sel.load_contexts_document({"files": {}}) == {}
    assert sel.load_contexts_document([doc]) == {}
    assert sel.load_contexts_document({"format": 1, "tests": [], "files": {"a.py": {}}}) == {"a.py": ("", {})}
