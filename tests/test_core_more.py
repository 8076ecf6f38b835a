"""Core branches the main tests leave: summing, the runs formula, scopes, intervals and arcs in words."""

from __future__ import annotations

import pytest

from harness import model, sampling
from harness.complexity import SourceInfo
from harness.model import CoverageNumbers, MutationCounts


def test_summable_refuses_other_types_and_starts_from_zero() -> None:
    a = CoverageNumbers(statements=2, executed=1)
    assert a.__add__(MutationCounts()) is NotImplemented  # type: ignore[arg-type]
    assert a.__radd__(1) is NotImplemented
    assert 0 + a == a and sum([a, a]) == CoverageNumbers(statements=4, executed=2)
    with pytest.raises(TypeError):
        a + MutationCounts()  # type: ignore[operator]


@pytest.mark.parametrize("p", [0.0, -0.1, 1.5])
def test_runs_needed_refuses_probabilities_outside_0_1(p: float) -> None:
    with pytest.raises(ValueError, match=r"probability must be in \(0, 1\]"):
        model.runs_needed(p)


def test_runs_needed_boundaries() -> None:
    assert model.runs_needed(1.0) == 1
    assert model.runs_needed(0.25) == 11  # 1 - 0.75**11 = 0.958; 10 runs give 0.944
    assert model.runs_needed(0.5, confidence=0.75) == 2


def test_scope_from_an_empty_spec_is_the_whole_run() -> None:
    assert sampling.Scope.from_spec(None) == sampling.Scope()
    assert sampling.Scope.from_spec({}) == sampling.Scope()
    scope = sampling.Scope.from_spec({"sample": 0, "seed": None, "since": None, "functions": None})
    assert scope.functions is None
    names = ["m.x_f__mutmut_1", "m.x_g__mutmut_1"]
    assert scope.population(names, lambda n: ("m", n)) == set(names)


def test_scope_spec_round_trip_keeps_diff_mode_functions() -> None:
    scope = sampling.Scope(sample=5, seed=3, since="main", functions={"m": ("f",)})
    back = sampling.Scope.from_spec(scope.to_spec())
    assert back == scope
    where = {"a": ("m", "f"), "b": ("m", "g"), "c": ("n", "f")}
    assert back.population(where, where.__getitem__) == {"a"}


def test_interval_is_none_without_valid_mutants() -> None:
    assert sampling.interval(0, 0, 0, 10) is None
    iv = sampling.interval(8, 10, 10, 100)
    assert iv is not None and (iv.sampled, iv.population) == (10, 100)
    assert iv.low < 80 < iv.high <= 100


SOURCE = '''\
def f(xs):
    try:
        for x in xs:
            pass
    finally:
        done = True
    while xs:
        xs = xs[1:]
    g = lambda y: y
    return [x for x in xs]


def h():
    yield 1
'''


def test_functions_and_clauses_by_line() -> None:
    info = SourceInfo.parse(SOURCE)
    assert info.function("f") is not None and info.function("nope") is None
    assert info.clause_at(6) == "the 'finally' block"
    assert info.clause_at(3) is None


def test_arcs_in_words() -> None:
    info = SourceInfo.parse(SOURCE)
    assert info.describe_arc((7, 8)) == "the body of 'while xs' (loop entered)"
    assert info.describe_arc((7, 9)) == "the exit of 'while xs' (condition false)"
    assert info.describe_arc((9, -9)) == "the lambda on line 9 being called"
    assert info.describe_arc((10, -10)) == "the generator or comprehension on line 10 running to its end"
    assert info.describe_arc((14, -13)) == "the generator or comprehension on line 14 running to its end"
    assert info.describe_arc((6, -1)) == "line 6 ('done = True') leaving f"
    assert info.describe_arc((2, 7)) == "the jump from line 2 ('try:') to line 7"
    assert info.describe_arc((99, 100)) == "the jump from line 99 ('') to line 100"
