"""Mutant sampling (pure): the seeded sample, the Wilson interval and its coverage, the lower-bound gate."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
import reportdata

from harness.config import Config, GateSettings
from harness.gate import gate
from harness.model import Metric, ModuleMutation, MutationCounts, Status
from harness.sampling import Z95, Scope, sample, sample_size, wilson
from harness.serialize import scorecard_from_dict, scorecard_to_dict


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [(0, 10, 0.0, 27.7533), (50, 100, 40.3832, 59.6168)],  # textbook values
)
def test_wilson_reference_values(successes: int, n: int, low: float, high: float) -> None:
    got = wilson(successes, n)
    assert got is not None
    assert got[0] == pytest.approx(low, abs=1e-3) and got[1] == pytest.approx(high, abs=1e-3)


@pytest.mark.parametrize(("successes", "n"), [(81, 263), (1, 10), (140, 200), (199, 200), (3, 7)])
def test_wilson_bounds_solve_the_score_equation(successes: int, n: int) -> None:
    """Each bound p0 is a root of (p - p0)^2 = z^2 p0 (1 - p0) / n: the definition of the Wilson interval."""
    p = successes / n
    for bound in wilson(successes, n):  # type: ignore[union-attr]
        p0 = bound / 100
        assert (p - p0) ** 2 == pytest.approx(Z95 ** 2 * p0 * (1 - p0) / n, abs=1e-12)
    low, high = wilson(successes, n)  # type: ignore[misc]
    assert low < 100 * p < high


def test_wilson_without_data_is_na() -> None:
    assert wilson(0, 0) is None


@pytest.mark.parametrize(
    ("spec", "population", "size"),
    [(0, 50, 50), (200, 50, 50), (20, 50, 20), (0.1, 50, 5), (0.11, 50, 6), (0.5, 0, 0), (1, 50, 1)],
)
def test_sample_size(spec: float, population: int, size: int) -> None:
    assert sample_size(spec, population) == size


NAMES = [f"pkg.mod{i % 7}.x_f{i % 31}__mutmut_{i}" for i in range(1000)]


def test_sample_is_seeded_exact_and_order_free() -> None:
    a = sample(NAMES, 200, seed=3)
    assert len(a) == 200 and a <= set(NAMES)
    assert sample(reversed(NAMES), 200, seed=3) == a  # the input order does not matter
    assert sample(NAMES, 200, seed=4) != a  # another seed, another sample
    assert sample(NAMES, 0, seed=3) == set(NAMES)


def test_sample_is_uniform() -> None:
    """Each mutant is drawn with probability N/P: over 300 seeds, per-mutant counts match a binomial."""
    hits = dict.fromkeys(NAMES[:100], 0)
    for seed in range(300):
        for name in sample(NAMES[:100], 20, seed):
            hits[name] += 1
    mean = sum(hits.values()) / len(hits)
    assert mean == pytest.approx(60)  # 300 * 20/100, exact by construction
    assert max(hits.values()) < 60 + 5 * (300 * 0.2 * 0.8) ** 0.5


def test_intervals_cover_the_full_score() -> None:
    """The acceptance rule on a synthetic population: of 20 seeded samples of 200 mutants, >= 18 intervals
    contain the full score (the end-to-end version runs mutmut: tests/test_profiles_sampling_e2e.py)."""
    rng = random.Random(1)
    killed = {name for name in NAMES if rng.random() < 0.72}
    full = 100 * len(killed) / len(NAMES)
    inside = 0
    for seed in range(20):
        chosen = sample(NAMES, 200, seed)
        low, high = wilson(len(chosen & killed), len(chosen))  # type: ignore[misc]
        inside += low <= full <= high
    assert inside >= 18


def test_scope_filters_changed_functions_then_samples() -> None:
    def where(name: str) -> tuple[str, str]:
        module, _, rest = name.rpartition(".")
        return module, rest.split("__mutmut_")[0][2:]

    scope = Scope(functions={"pkg.mod1": ("f1", "f8")})
    population = scope.population(NAMES, where)
    assert population and all(where(n)[0] == "pkg.mod1" and where(n)[1] in ("f1", "f8") for n in population)
    assert scope.select(NAMES, where) == population
    sampled = replace(scope, sample=3, seed=1).select(NAMES, where)
    assert len(sampled) == 3 and sampled <= population
    assert Scope.from_spec(replace(scope, sample=3, seed=1, since="main").to_spec()) == replace(
        scope, sample=3, seed=1, since="main", functions={"pkg.mod1": ("f1", "f8")})
    assert not Scope().active and Scope(sample=5).active and scope.active


def _sampled_card(detected: int, valid: int, population: int):  # type: ignore[no-untyped-def]
    sc = reportdata.scorecard()
    modules = tuple(replace(c, mutation=ModuleMutation(counts=MutationCounts(killed=detected,
                                                                             survived=valid - detected),
                                                       population=population))
                    if c.module == "demo.calc" else c for c in sc.modules)
    return replace(sc, modules=modules)


@pytest.mark.parametrize(
    ("detected", "valid", "lower_bound", "expected"),
    [
        (145, 200, False, Status.PASS),  # 72.5 % >= 70 %
        (145, 200, True, Status.FAIL),  # interval 65.9-78.2 %: the lower bound misses 70 %
        (155, 200, True, Status.PASS),  # 77.5 %: lower bound 71.2 % >= 70 %
        (130, 200, False, Status.FAIL),  # 65 %
    ],
)
def test_lower_bound_gate(detected: int, valid: int, lower_bound: bool, expected: Status) -> None:
    sc = _sampled_card(detected, valid, population=1000)
    cfg = Config(gate=GateSettings(sample_lower_bound=lower_bound))
    card = next(c for c in gate(sc, cfg).modules if c.module == "demo.calc")
    verdict = next(v for v in card.verdicts if v.metric is Metric.MUTATION_SCORE)
    assert verdict.status is expected
    assert verdict.value == pytest.approx(100 * detected / valid)  # the figure stays the sampled score
    assert ("lower bound" in verdict.reason) is lower_bound


def test_interval_only_for_sampled_runs_and_round_trips() -> None:
    assert ModuleMutation(counts=MutationCounts(killed=3, survived=1)).score_interval is None
    sc = _sampled_card(150, 200, population=1000)
    card = next(c for c in sc.modules if c.module == "demo.calc")
    assert card.mutation is not None and card.mutation.score_interval is not None
    data = scorecard_to_dict(sc)
    assert scorecard_from_dict(data) == sc
    mod = next(m for m in data["modules"] if m["module"] == "demo.calc")
    assert mod["mutation"]["population"] == 1000 and len(mod["mutation"]["score_interval"]) == 2
