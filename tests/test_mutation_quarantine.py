"""Quarantine in the mutation phase, its pure parts: matching tests, reading a cause from a traceback, the cells a
module's mutants leave not measured, the notes; and the driver's fixes on code mutmut generates."""

from __future__ import annotations

import pickle
import re
import sys
import types

import pytest

from harness.collectors import mutmut_adapter as adapter
from harness.collectors.mutation import quarantine as mq
from harness.model import (
    Metric,
    ModuleMutation,
    Mutant,
    MutantStatus,
    MutationCounts,
    QuarantineCause,
    QuarantinedTest,
)


@pytest.mark.parametrize(
    ("nodeid", "pattern", "expected"),
    [
        ("tests/t.py::test_a", "tests/t.py::test_a", True),
        ("tests/t.py::test_a[1-2]", "tests/t.py::test_a", True),
        ("tests/t.py::TestX::test_a", "tests/t.py::TestX", True),
        ("tests/t.py::test_a", "tests/t.py", True),
        ("tests/t.py::test_ab", "tests/t.py::test_a", False),
        ("tests/t.py::test_pickle_x", "tests/*::test_pickle*", True),
        ("tests/t.py::test_a", "tests/u.py", False),
        ("tests/t.py::test_a[x]", "tests/t.py::test_a[x]", True),  # brackets are an id here, not a glob class
    ],
)
def test_matches(nodeid: str, pattern: str, expected: bool) -> None:
    assert mq.matches(nodeid, pattern) is expected


TRAMPOLINE_FRAMES = """
tests/test_x.py:8: in test_x
    assert f(3) == 4
mutants/mutmut/mutation/trampoline.py:152: in _trampoline_wrapper
    return trampoline(*args, **kwargs)
mutants/pkg/mod.py:20: in x_f__mutmut_orig
    return g(x)
"""


@pytest.mark.parametrize(
    ("text", "cause", "evidence"),
    [
        (TRAMPOLINE_FRAMES + "E   RecursionError: maximum recursion depth exceeded",
         QuarantineCause.RECURSION, "RecursionError: maximum recursion depth exceeded"),
        (TRAMPOLINE_FRAMES + "E   _pickle.PicklingError: Can't pickle <class 'mutmut.mutation.trampoline.Size'>: "
         "attribute lookup Size on mutmut.mutation.trampoline failed",
         QuarantineCause.PICKLING, "_pickle.PicklingError: Can't pickle <class 'mutmut.mutation.trampoline.Size'>"),
        (TRAMPOLINE_FRAMES + "E   AttributeError: module 'operator' has no attribute '_mutmut_mutated'",
         QuarantineCause.INTROSPECTION, "AttributeError: module 'operator' has no attribute '_mutmut_mutated'"),
        (TRAMPOLINE_FRAMES + "E   AssertionError: assert ['x_f__mutmut_1'] == []",
         QuarantineCause.INTROSPECTION, "AssertionError: assert ['x_f__mutmut_1'] == []"),
        ("tests/t.py:3: in test_all\n    assert set(__all__) == set(dir(mod))\nE   AssertionError",
         QuarantineCause.INTROSPECTION, "assert set(__all__) == set(dir(mod))"),
        # mutmut's names in the frames only (every traceback through its copies has them): not introspection
        (TRAMPOLINE_FRAMES + "E   ValueError: bad input", QuarantineCause.INSTRUMENTED, "ValueError: bad input"),
        ("FAILED tests/t.py::test_waits_under_mutmut - TimeoutError", QuarantineCause.INSTRUMENTED,
         "FAILED tests/t.py::test_waits_under_mutmut - TimeoutError"),
    ],
)
def test_cause_from_traceback(text: str, cause: QuarantineCause, evidence: str) -> None:
    found, line = mq.cause_from_traceback(text)
    assert found is cause
    assert line.startswith(evidence) and len(line) <= 200


def test_reproduction_commands_quote_what_they_run() -> None:
    cmd = mq.reproduce_instrumented("/tmp/my sandbox/mutants", "tests/t.py::test_a[x y]", after=["tests"])
    assert cmd == ("(cd '/tmp/my sandbox/mutants' && MUTANT_UNDER_TEST= python -m pytest -p no:randomly -p no:xdist "
                   "-o addopts= --keep-duplicates tests 'tests/t.py::test_a[x y]')")
    assert mq.reproduce_original("/r", "t.py::a") == "(cd /r && python -m pytest -p no:randomly -o addopts= t.py::a)"


def test_entries_round_trip() -> None:
    test = QuarantinedTest("t.py::a", QuarantineCause.STATE_LEAK, "passes alone", "cmd")
    entry = mq.to_entry(test, ["m.x_f", "m.x_f", "m.x_g"])
    assert entry["functions"] == ["m.x_f", "m.x_g"]
    assert mq.from_entry(entry) == test
    assert mq.from_entry({"nodeid": "t.py::b", "cause": "new-kind"}).cause is QuarantineCause.INSTRUMENTED
    assert mq.covering_by_function([entry, {"nodeid": "t.py::c", "functions": ["m.x_f"]}]) == {
        "m.x_f": ["t.py::a", "t.py::c"],
        "m.x_g": ["t.py::a"],
    }


def module(*statuses: MutantStatus, function: str = "f", note: str = "") -> ModuleMutation:
    mutants = tuple(
        Mutant(f"pkg.mod.x_{function}__mutmut_{i}", "pkg.mod", function, i, s, note=note)
        for i, s in enumerate(statuses, 1)
    )
    return ModuleMutation(counts=MutationCounts.from_statuses(statuses), mutants=mutants)


COVER = {"pkg.mod.x_f": ("tests/t.py::test_f",)}
CAUSES = {"tests/t.py::test_f": "pickling"}


def test_a_module_with_verdicts_is_measured() -> None:
    mm = module(MutantStatus.KILLED, MutantStatus.NO_COVERAGE, MutantStatus.SUSPICIOUS)
    assert mq.module_unmeasured("pkg.mod", mm, COVER, CAUSES) is None


def test_a_module_left_with_no_usable_test_is_not_measured() -> None:
    cell = mq.module_unmeasured("pkg.mod", module(MutantStatus.NO_COVERAGE, MutantStatus.NO_COVERAGE), COVER, CAUSES)
    assert cell is not None and cell.metric is Metric.MUTATION_SCORE and cell.tests == ("tests/t.py::test_f",)
    assert cell.cause.startswith("every test that covers it was quarantined (tests/t.py::test_f (pickling))")


def test_a_module_no_test_ever_covered_scores_zero() -> None:
    assert mq.module_unmeasured("pkg.mod", module(MutantStatus.NO_COVERAGE, function="g"), COVER, CAUSES) is None


@pytest.mark.parametrize(
    "statuses",
    [
        (MutantStatus.SUSPICIOUS,) * 35,
        (MutantStatus.SUSPICIOUS, MutantStatus.NO_COVERAGE),
        (MutantStatus.NOT_CHECKED, MutantStatus.INTERRUPTED),
    ],
)
def test_executed_but_unjudged_is_not_measured(statuses: tuple[MutantStatus, ...]) -> None:
    errors = {"pkg.mod.x_g__mutmut_1": "ValueError('memory limit')", "other.x_f__mutmut_1": "x"}
    cell = mq.module_unmeasured("pkg.mod", module(*statuses, function="g"), {}, {}, errors)
    assert cell is not None and "got a verdict" in cell.cause and "not a pass" in cell.cause
    assert "the harness's runner failed: ValueError('memory limit')" in cell.cause


def test_quarantine_notes() -> None:
    tests = [QuarantinedTest("t.py::a", QuarantineCause.MANUAL, "config key 'mutation.quarantine': t.py::a"),
             QuarantinedTest("t.py::b", QuarantineCause.FLAKY)]
    note = mq.quarantine_note(["t.py::a", "t.py::b", "t.py::c", "t.py::d"], {"t.py::a": "manual"})
    assert note == ("no test left: its covering tests were quarantined: t.py::a (manual), t.py::b (?), t.py::c (?) "
                    "and 1 more")
    mm = module(MutantStatus.NO_COVERAGE, note=note)
    notes = mq.quarantine_notes(tests, {"patterns": ["t.py::a", "nothing*"]}, {"pkg.mod": mm})
    assert [n.text for n in notes] == [
        "mutation: 2 test(s) quarantined (1 flaky, 1 manual), left out of the mutation phase only; 1 mutant(s) left "
        "with no test count as no coverage",
        "mutation: config key 'mutation.quarantine' pattern 'nothing*' matches no test",
    ]


# --------------------------------------------------------------------------------------------------- driver fixes

RECORDS = '''
import sys
from collections import namedtuple

__all__ = ["record", "Point", "norm"]


def record(name, fields):
    return namedtuple(name, fields, module=sys._getframe(1).f_globals["__name__"])


Point = record("Point", "x y")


def norm(p):
    return abs(p.x) + abs(p.y)


class Shape:
    def area(self):
        return 0

    @classmethod
    def unit(cls):
        shape = cls()
        shape.size = 1
        return shape
'''


def load_mutated(name: str, hide: bool, fix_pickling: bool) -> types.ModuleType:
    """RECORDS as mutmut generates it (with the driver's footer when ``hide``), imported as module ``name``."""
    import mutmut.mutation.trampoline as trampoline
    from mutmut.mutation.file_mutation import mutate_file_contents

    from harness.collectors.mutation.driver_cache import caller_module_trampolines

    code = mutate_file_contents(f"{name}.py", RECORDS, None, None).code + (adapter.HIDE_INJECTED_NAMES if hide else "")
    original = trampoline.wrap_in_trampoline
    if fix_pickling:
        trampoline.wrap_in_trampoline = caller_module_trampolines(original)
    try:
        mod = types.ModuleType(name)
        sys.modules[name] = mod
        exec(compile(code, f"{name}.py", "exec"), mod.__dict__)
    finally:
        trampoline.wrap_in_trampoline = original
    return mod


@pytest.fixture(autouse=True)
def mutmut_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """mutmut's generator reads one setting from its global config (loaded from the working directory)."""
    import mutmut.configuration as configuration

    if configuration._config is None:  # inside mutmut's own process (the harness mutating itself) it is set
        monkeypatch.setattr(configuration, "_config", types.SimpleNamespace(do_not_mutate_patterns=[]))


def test_the_fixes_on_a_generated_module(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MUTANT_UNDER_TEST", "")
    plain = load_mutated("harness_fix_plain", hide=False, fix_pickling=False)
    assert plain.Point.__module__ == "mutmut.mutation.trampoline"  # what makes pickle fail
    assert "_mutmut_mutated" in vars(plain) and any(n.startswith("x_norm__mutmut_") for n in vars(plain))

    fixed = load_mutated("harness_fix_on", hide=True, fix_pickling=True)
    point = fixed.Point(1, -2)
    assert fixed.Point.__module__ == "harness_fix_on" and pickle.loads(pickle.dumps(point)) == point
    assert not [n for n in vars(fixed) if adapter.INJECTED_MODULE_NAME.match(n)]
    assert fixed.__all__ == ["record", "Point", "norm"] and fixed.norm(point) == 3
    hidden = [n for n in vars(fixed.Shape) if "mutmut" in n]
    assert hidden and all(n.startswith("xǁShapeǁunit__mutmut") for n in hidden)  # classmethods stay reachable
    assert fixed.Shape.unit().area() == 0


def test_mutants_still_run_behind_the_hidden_names(monkeypatch: pytest.MonkeyPatch) -> None:
    fixed = load_mutated("harness_fix_mutant", hide=True, fix_pickling=True)
    p = fixed.Point(1, -2)
    monkeypatch.setenv("MUTANT_UNDER_TEST", "harness_fix_mutant.x_norm__mutmut_1")
    assert fixed.norm(p) != 3  # the first mutant of norm is active
    monkeypatch.setenv("MUTANT_UNDER_TEST", "")
    assert fixed.norm(p) == 3


def test_function_spans_name_functions_as_mutmut_does() -> None:
    spans = adapter.function_spans("pkg.records", RECORDS)
    keys = [k for _a, _b, k in spans]
    assert keys == ["pkg.records.x_record", "pkg.records.x_norm", "pkg.records.xǁShapeǁarea",
                    "pkg.records.xǁShapeǁunit"]
    assert all(a <= b for a, b, _k in spans)
    assert adapter.function_spans("m", "def (:") == []
    assert [adapter.module_of_path(p) for p in ("src/pkg/mod.py", "pkg/__init__.py", "mod.py")] == [
        "pkg.mod", "pkg", "mod"]


def test_hypothesis_methods_run_again_as_in_a_fresh_process() -> None:
    """A @given method run again on a new instance (mutmut's clean run after its stats run, every mutant's fork)
    fails Hypothesis's executor check - unless the driver's fix forgets the first instance before each run."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from hypothesis.errors import FailedHealthCheck

    from harness.collectors.mutation.driver_cache import FreshHypothesisExecutors

    class TestPlain:
        @settings(max_examples=2, database=None)
        @given(st.integers())
        def test_int(self, n: int) -> None:
            assert isinstance(n, int)

    TestPlain().test_int()
    with pytest.raises(FailedHealthCheck, match="multiple different executors"):
        TestPlain().test_int()
    fix = FreshHypothesisExecutors()
    for _ in range(2):
        item = types.SimpleNamespace(obj=TestPlain().test_int)
        fix.pytest_runtest_setup(item)
        item.obj()
    fix.pytest_runtest_setup(types.SimpleNamespace(obj=len))  # not a Hypothesis test: left alone
    assert HealthCheck.differing_executors


def test_getframe_without_trampolines() -> None:
    """The driver's ``sys._getframe``: depth counted as if mutmut's trampoline frames were not there."""
    from harness.collectors.mutation.driver_cache import frames_without

    def trampoline(fn, *args):  # stands for mutmut's trampoline
        return fn(*args)

    def probe(depth):
        return getframe(depth).f_code.co_name

    getframe = frames_without({trampoline.__code__}, sys._getframe)
    assert trampoline(probe, 0) == "probe" and trampoline(probe, 1) == "test_getframe_without_trampolines"
    getframe = sys._getframe
    assert trampoline(probe, 1) == "trampoline"
    getframe = frames_without(set(), sys._getframe)
    with pytest.raises(ValueError, match="not deep enough"):
        probe(10_000)


def test_a_glob_selects_only_the_tests_it_matches() -> None:
    assert not mq.matches("tests/t.py::test_a", "tests/u*")
    assert not mq.matches("tests/t.py::test_a", "tests/t.py::test_b")  # no glob: a plain id that differs
    assert mq.matches("tests/t.py::test_a", "tests/t.py::test_?")
    assert mq.matches("tests/t.py::test_a", "tests/t.py::test_[ab]")
    assert mq.first_match("tests/t.py::test_a", ["tests/u.py", "tests/*", "tests/t.py"]) == "tests/*"
    assert mq.first_match("tests/t.py::test_a", ["tests/u.py"]) is None


def test_evidence_prefers_the_exception_line_that_shows_the_cause() -> None:
    text = ("E   RecursionError: maximum recursion depth exceeded\n"
            "  while calling a Python object: maximum recursion depth exceeded\nE   ValueError: later\n")
    assert mq.cause_from_traceback(text) == (QuarantineCause.RECURSION,
                                             "RecursionError: maximum recursion depth exceeded")
    # a matching line that is no exception line comes after every exception line that matches
    plain = "E   ValueError: bad\nnote: maximum recursion depth exceeded here\ndone"
    assert mq.evidence(plain, re.compile("recursion")) == "note: maximum recursion depth exceeded here"
    assert mq.evidence("E   KeyError: x\nsummary line\n") == "KeyError: x"  # no pattern: the last exception
    assert mq.evidence("E   KeyError: x\nsummary line\n", re.compile("zzz")) == "KeyError: x"
    assert mq.evidence("just text\nlast words\n") == "last words"
    assert mq.evidence("\n \n") == ""
    pickled = "E   TypeError: cannot pickle '_thread.lock' object\nE   ValueError: after\n"
    assert mq.cause_from_traceback(pickled) == (QuarantineCause.PICKLING,
                                               "TypeError: cannot pickle '_thread.lock' object")
    injected = "E   AssertionError: assert 'xǁKǁm' in names\nE   ValueError: after\n"
    assert mq.cause_from_traceback(injected) == (QuarantineCause.INTROSPECTION,
                                                "AssertionError: assert 'xǁKǁm' in names")


def test_evidence_is_cut_at_200_characters() -> None:
    exact = "E   ValueError: " + "x" * (200 - len("ValueError: "))
    assert mq.evidence(exact) == exact[4:] and len(mq.evidence(exact)) == 200
    longer = exact + "y"
    assert mq.evidence(longer) == exact[4:][:197] + "..."


def test_without_frames_keeps_what_the_test_saw() -> None:
    text = ("tests/t.py:8: in test_x\n    assert f(3) == 4\n"
            'File "mutants/pkg/mod.py", line 20, in x_f__mutmut_orig\n\treturn g(x)\n'
            "mutants/pkg/mod.py:9: in x_g__mutmut_orig\nE   AssertionError: assert 3 == 4\n"
            "    indented detail\nplain line\n")
    assert mq.without_frames(text) == "E   AssertionError: assert 3 == 4\n    indented detail\nplain line"
    # an ``E`` line right after a frame header is kept (pytest's short form indents it)
    assert mq.without_frames("x.py:3: in f\n    E   boom\n") == "    E   boom"


def test_entries_default_to_empty_text() -> None:
    assert mq.from_entry({}) == QuarantinedTest("", QuarantineCause.INSTRUMENTED, "", "")
    assert mq.covering_by_function([{"functions": ["m.x_f"]}]) == {"m.x_f": [""]}


def test_reproduction_without_the_suite_runs_the_test_alone() -> None:
    assert mq.reproduce_instrumented("/m", "t.py::a") == (
        "(cd /m && MUTANT_UNDER_TEST= python -m pytest -p no:randomly -p no:xdist -o addopts= t.py::a)")
    assert mq.reproduce_instrumented("/m", "t.py::a", after=["tests", "more tests"]).endswith(
        "-o addopts= --keep-duplicates tests 'more tests' t.py::a)")


def test_unmeasured_causes_are_worded_in_full() -> None:
    cover = {"pkg.mod.x_f": tuple(f"t.py::t{i}" for i in range(5))}
    causes = {"t.py::t0": "flaky", "t.py::t1": "broken"}
    cell = mq.module_unmeasured("pkg.mod", module(MutantStatus.NO_COVERAGE), cover, causes)
    assert cell is not None and cell.module == "pkg.mod" and cell.metric is Metric.MUTATION_SCORE
    assert cell.cause == ("every test that covers it was quarantined (t.py::t0 (flaky), t.py::t1 (broken), "
                          "t.py::t2 (?) and 2 more); none of its 1 mutants could be judged")
    three = {"pkg.mod.x_f": ("t.py::t0", "t.py::t1", "t.py::t2")}
    cell = mq.module_unmeasured("pkg.mod", module(MutantStatus.NO_COVERAGE), three, causes)
    assert cell is not None and cell.cause.startswith(
        "every test that covers it was quarantined (t.py::t0 (flaky), t.py::t1 (broken), t.py::t2 (?)); ")
    mixed = module(MutantStatus.SUSPICIOUS, MutantStatus.INTERRUPTED, MutantStatus.INTERRUPTED,
                   MutantStatus.NOT_CHECKED)
    cell = mq.module_unmeasured("pkg.mod", mixed, {}, {}, {"other.x_f__mutmut_1": "x"})
    assert cell is not None and cell.metric is Metric.MUTATION_SCORE and cell.module == "pkg.mod"
    assert cell.cause == ("none of its 4 mutants got a verdict (1 suspicious, 2 interrupted, 1 not checked); "
                          "executed but unjudged is not a pass")
    for status in (MutantStatus.KILLED, MutantStatus.TIMEOUT, MutantStatus.SURVIVED):
        assert mq.module_unmeasured("pkg.mod", module(status, MutantStatus.SUSPICIOUS), {}, {}) is None
    assert mq.module_unmeasured("pkg.mod", module(MutantStatus.SKIPPED), {}, {}) is None


def test_quarantine_note_names_three_tests_then_counts() -> None:
    three = ["a", "b", "c"]
    assert mq.quarantine_note(three, {"a": "flaky"}) == (
        "no test left: its covering tests were quarantined: a (flaky), b (?), c (?)")
    assert mq.quarantine_note([*three, "d"], {}).endswith("c (?) and 1 more")


def test_quarantine_notes_count_each_cause() -> None:
    tests = [QuarantinedTest("t.py::a", QuarantineCause.FLAKY, "d"), QuarantinedTest("t.py::b", QuarantineCause.FLAKY,
                                                                                     "d"),
             QuarantinedTest("t.py::c", QuarantineCause.BROKEN, "d")]
    (note,) = mq.quarantine_notes(tests, {}, {})
    assert note.text == ("mutation: 3 test(s) quarantined (1 broken, 2 flaky), left out of the mutation phase only; "
                    "0 mutant(s) left with no test count as no coverage")
