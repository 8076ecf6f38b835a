"""Which mutants a run tests (pure): a seeded random sample and/or only the functions changed since a git ref,
and the 95 % confidence interval of a sampled mutation score.

Both the mutation driver (which runs mutants) and the collector's ``parse`` (which reads verdicts) call
:func:`select` on the same full list of mutant names, so they agree on the scope without passing lists around.

Sampling: the mutants are ordered by a keyed hash of (seed, name) - a random permutation fixed by the seed -
and the first N are taken: a uniform random sample without replacement of exactly N (or
``ceil(f * total)`` for a fraction ``0 < f < 1``). The same seed and code give the same sample; the sample is
drawn before sharding, so shards of a sampled run split one sample.

Interval: the Wilson score interval, ``(p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)``, z = 1.96, for
p = detected / valid of the sampled mutants, n = valid. It stays inside [0, 1] and behaves at p = 0 or 1,
unlike the normal approximation. Sampling without replacement from a finite population makes it slightly
conservative.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Z95 = 1.959963984540054  # the 97.5th percentile of the standard normal


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of ``successes / n``, in percent; None when n is 0."""
    if n <= 0:
        return None
    p = successes / n
    z2 = z * z
    centre = p + z2 / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    denominator = 1 + z2 / n
    low, high = (centre - spread) / denominator, (centre + spread) / denominator
    return 100 * max(0.0, low), 100 * min(1.0, high)


def sample_size(spec: float, population: int) -> int:
    """Mutants to test: all for 0, ``ceil(spec * population)`` for a fraction, else min(spec, population)."""
    if spec <= 0 or population <= 0:
        return population
    if spec < 1:
        return min(population, math.ceil(spec * population))
    return min(population, int(spec))


def _rank(seed: int, name: str) -> bytes:
    return hashlib.blake2b(name.encode("utf-8"), digest_size=16, key=str(seed).encode("ascii")).digest()


def sample(names: Iterable[str], spec: float, seed: int) -> set[str]:
    """A seeded uniform random sample of ``names`` (see the module docstring); all when ``spec`` is 0."""
    pool = sorted(set(names))
    n = sample_size(spec, len(pool))
    if n >= len(pool):
        return set(pool)
    return set(sorted(pool, key=lambda name: _rank(seed, name))[:n])


@dataclass(frozen=True)
class Scope:
    """The mutants a run tests: only these modules' changed functions (diff mode), then a sample.

    ``functions`` maps module names to the functions (``f`` or ``Class.method``) changed since ``since``;
    None means every function. ``sample`` is 0 (all), a count, or a fraction.
    """

    sample: float = 0.0
    seed: int = 0
    since: str | None = None
    functions: Mapping[str, Collection[str]] | None = field(default=None)

    @property
    def active(self) -> bool:
        return bool(self.sample) or self.functions is not None

    def to_spec(self) -> dict[str, Any]:
        """Plain JSON for the driver's spec file."""
        return {"sample": self.sample, "seed": self.seed, "since": self.since,
                "functions": None if self.functions is None
                else {m: sorted(fs) for m, fs in self.functions.items()}}

    @classmethod
    def from_spec(cls, data: Mapping[str, Any] | None) -> Scope:
        if not data:
            return cls()
        functions = data.get("functions")
        by_module = None if functions is None else {str(m): tuple(fs) for m, fs in functions.items()}
        return cls(sample=float(data.get("sample") or 0), seed=int(data.get("seed") or 0),
                   since=data.get("since"), functions=by_module)

    def population(self, names: Iterable[str], where: Callable[[str], tuple[str, str]]) -> set[str]:
        """The mutants diff mode keeps: those whose (module, function), from ``where(name)``, changed."""
        if self.functions is None:
            return set(names)
        out = set()
        for name in names:
            module, function = where(name)
            if function in self.functions.get(module, ()):
                out.add(name)
        return out

    def select(self, names: Iterable[str], where: Callable[[str], tuple[str, str]]) -> set[str]:
        """The mutants to test out of every mutant ``names`` of the run (before sharding)."""
        return sample(self.population(names, where), self.sample, self.seed)


@dataclass(frozen=True)
class Interval:
    """A sampled score: the 95 % Wilson interval, in percent, and how many mutants it rests on."""

    low: float
    high: float
    sampled: int
    population: int


def interval(detected: int, valid: int, sampled: int, population: int) -> Interval | None:
    bounds = wilson(detected, valid)
    if bounds is None:
        return None
    return Interval(bounds[0], bounds[1], sampled, population)
