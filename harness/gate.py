"""The gate (pure): scorecards + targets -> verdicts per module and for the project.

Minimum targets (coverage, mutation score) pass when value >= target; maximum targets (suite runtime, flaky
rate) pass when value < target (a target of 0 is met only by exactly 0). A metric with nothing to measure is
n/a, a metric whose collector did not run is skipped; neither ever passes or fails a gate.
Comparisons are exact: the target is read as the decimal the user wrote, the value as the tool's fraction.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from typing import TYPE_CHECKING

from harness.config import Config, Targets
from harness.metrics import MODULE_METRICS, PROJECT_GATED, SHARD_PART, Reading
from harness.model import METRICS, Metric, ModuleScorecard, Scorecard, Status, Unmeasured, Verdict

if TYPE_CHECKING:
    from harness.history import HistoryEntry


def meets(kind: str, value: Fraction, target: float) -> bool:
    t = Fraction(repr(float(target)))
    if kind == "min":
        return value >= t
    return value < t or (t == 0 and value == 0)


def verdict(metric: Metric, targets: Targets, numerator: int | float | None, denominator: int = 1,
            *, measured: bool, na_reason: str = "") -> Verdict:
    """One verdict. ``numerator/denominator`` is the value (times 100 for percentages); None means n/a."""
    kind = METRICS[metric].kind
    target = targets.value(metric)
    if not measured:
        return Verdict(metric, Status.SKIPPED, None, target, kind, "not measured in this run")
    if numerator is None or denominator == 0:
        return Verdict(metric, Status.NA, None, target, kind, na_reason)
    value = Fraction(numerator) / Fraction(denominator)
    ok = meets(kind, value, target)
    return Verdict(metric, Status.PASS if ok else Status.FAIL, float(value), target, kind)


def strict(verdicts: tuple[Verdict, ...]) -> tuple[Verdict, ...]:
    """The strict gate (``gate.strict``, the release profile): a metric this run did not measure fails (a shard's
    partial mutation score is measured, and gated by the merge)."""
    return tuple(replace(v, status=Status.FAIL, reason="strict gate: not measured in this run")
                 if v.status is Status.SKIPPED and v.reason != SHARD_PART else v for v in verdicts)


def lower_bound(card: ModuleScorecard) -> tuple[Verdict, ...]:
    """``gate.sample_lower_bound``: a sampled mutation score passes only when the lower bound of its 95 %
    interval meets the target (the verdict's value stays the sampled score)."""
    interval = card.mutation.score_interval if card.mutation is not None else None
    if interval is None:
        return card.verdicts
    out = []
    for v in card.verdicts:
        if v.metric is Metric.MUTATION_SCORE and v.status in (Status.PASS, Status.FAIL):
            ok = meets("min", Fraction(interval[0]), v.target)
            v = replace(v, status=Status.PASS if ok else Status.FAIL,
                        reason=f"95 % interval {interval[0]:.1f}-{interval[1]:.1f} %, lower bound gated")
        out.append(v)
    return tuple(out)


def reading_verdict(metric: Metric, targets: Targets, reading: Reading | None, *, measured: bool,
                    missing: str = "") -> Verdict:
    """The verdict on a metric's reading (None: the collector left no result, n/a with ``missing``)."""
    if reading is None:
        return verdict(metric, targets, None, measured=measured, na_reason=missing)
    numerator = None if reading.numerator is None else METRICS[metric].scale * reading.numerator
    return verdict(metric, targets, numerator, reading.denominator, measured=measured,
                   na_reason=reading.na_reason)


def module_verdicts(card: ModuleScorecard, targets: Targets, metrics: tuple[Metric, ...]) -> tuple[Verdict, ...]:
    """One verdict per per-module metric, read through ``METRICS``. A figure of a metric this run does not gate
    is measured unless the spec calls it partial (a shard's mutation score: `harness merge` gates the whole)."""
    out = []
    for metric in MODULE_METRICS:
        spec = METRICS[metric]
        reading = spec.module(card)
        partial = reading is not None and metric not in metrics and bool(spec.partial)
        measured = metric in metrics or (reading is not None and not partial)
        v = reading_verdict(metric, targets, reading, measured=measured, missing=spec.missing)
        out.append(replace(v, reason=spec.partial) if partial else v)
    return tuple(out)


def not_measured(verdicts: tuple[Verdict, ...], causes: dict[Metric, Unmeasured]) -> tuple[Verdict, ...]:
    """Cells a collector could not measure become NOT_MEASURED with their cause, whatever figure they had."""
    return tuple(replace(v, status=Status.NOT_MEASURED, value=None, reason=causes[v.metric].cause)
                 if v.metric in causes and v.status is not Status.SKIPPED else v for v in verdicts)


def gate(scorecard: Scorecard, cfg: Config, baseline: HistoryEntry | None = None) -> Scorecard:
    """Attach verdicts to every module and to the project totals; with a baseline, the ratchet's findings."""
    metrics = scorecard.metrics
    modules = tuple(replace(c, verdicts=module_verdicts(c, cfg.targets_for(c.module), metrics))
                    for c in scorecard.modules)
    t = scorecard.totals
    project = [reading_verdict(m, cfg.targets, METRICS[m].project(t), measured=m in metrics) for m in PROJECT_GATED]
    if cfg.gate.sample_lower_bound:
        modules = tuple(replace(c, verdicts=lower_bound(c)) for c in modules)
    if cfg.gate.strict:
        modules = tuple(replace(c, verdicts=strict(c.verdicts)) for c in modules)
        project = list(strict(tuple(project)))
    if scorecard.unmeasured:
        causes: dict[str, dict[Metric, Unmeasured]] = {}
        for u in scorecard.unmeasured:
            causes.setdefault(u.module, {}).setdefault(u.metric, u)
        modules = tuple(replace(c, verdicts=not_measured(c.verdicts, causes.get(c.module, {}))) for c in modules)
        project = list(not_measured(tuple(project), causes.get("project", {})))
    card = replace(scorecard, modules=modules, totals=replace(t, verdicts=tuple(project)))
    if baseline is not None:
        from harness.ratchet import regressions

        card = replace(card, regressions=regressions(card, baseline, tolerance=cfg.ratchet.tolerance,
                                                     runtime_tolerance=cfg.ratchet.runtime_tolerance))
    return card
