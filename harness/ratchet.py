"""The baseline ratchet (pure): a run's figures against a baseline's -> what regressed beyond the tolerance.

A module regresses when its line coverage, branch coverage or mutation score falls more than ``tolerance``
percentage points below the baseline's, or its flaky rate rises more than ``tolerance`` points above it -
even while it still meets its target. The project regresses when the suite's median wall time grows more than
``runtime_tolerance`` percent over the baseline's. Figures that are n/a or unmeasured on either side, and
modules new in this run, are not compared; nor is a mutation score that covers part of a module's mutants
(sampled, or diff mode's changed functions).
"""

from __future__ import annotations

from harness.history import Figures, HistoryEntry, entry_from_scorecard
from harness.model import METRICS, MODULE_METRICS, Metric, Regression, Scorecard, Status, Unmeasured

# Room for float noise when the same counts give the same figure through different arithmetic.
EPSILON = 1e-9


def _compare(module: str, now: Figures, before: Figures, tolerance: float) -> list[Regression]:
    out = []
    for metric in MODULE_METRICS:
        value, base = now.value(metric), before.value(metric)
        if value is None or base is None:
            continue
        if metric is Metric.MUTATION_SCORE and (now.mutation_partial or before.mutation_partial):
            continue
        worse = base - value if METRICS[metric].higher_is_better else value - base
        if worse > tolerance + EPSILON:
            out.append(Regression(module, metric, base, value, tolerance))
    return out


def regressions(sc: Scorecard, baseline: HistoryEntry, *, tolerance: float,
                runtime_tolerance: float) -> tuple[Regression, ...]:
    """Every (module, metric) of ``sc`` worse than ``baseline`` beyond the tolerances, in module order."""
    now = entry_from_scorecard(sc)
    out: list[Regression] = []
    for module, figures in now.modules.items():
        before = baseline.modules.get(module)
        if before is not None:
            out += _compare(module, figures, before, tolerance)
    rt, base_rt = now.suite_runtime, baseline.suite_runtime
    if (Metric.SUITE_RUNTIME in sc.metrics and rt is not None and base_rt is not None
            and rt > base_rt * (1 + runtime_tolerance / 100) + EPSILON):
        out.append(Regression("project", Metric.SUITE_RUNTIME, base_rt, rt, runtime_tolerance))
    return tuple(out)


def vanished(sc: Scorecard, previous: HistoryEntry) -> tuple[Unmeasured, ...]:
    """Figures the previous run of the same code and config had, that this run calls n/a: never silently.

    Same code means the same git commit with a clean tree on both sides, or no git on both sides; same config
    means the same fingerprint. Then a module's cell cannot lose its figure unless data went missing (a deleted
    cache file, a killed tool): each such cell is returned as NOT_MEASURED with the figure it had.
    """
    meta = sc.meta
    if (previous.config_fingerprint != meta.config_fingerprint or previous.commit != meta.commit
            or previous.dirty or meta.dirty):
        return ()
    out = []
    for card in sc.modules:
        before = previous.modules.get(card.module)
        if before is None:
            continue
        for v in card.verdicts:
            if v.status is not Status.NA or v.metric not in MODULE_METRICS:
                continue
            had = before.value(v.metric)
            if had is None or (v.metric is Metric.MUTATION_SCORE and before.mutation_partial):
                continue
            out.append(Unmeasured(card.module, v.metric,
                                  f"had a figure ({had:.1f} %) in the last run of the same code and config "
                                  f"({previous.label()}), now n/a ({v.reason or 'no data'}): data behind it went "
                                  "missing; run again with a clean cache if it persists"))
    return tuple(out)
