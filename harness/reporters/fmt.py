"""Number formatting shared by the text reporters: one way to print a figure everywhere."""

from __future__ import annotations

from harness.model import METRICS, MODULE_METRICS, Metric, Regression, Status, Verdict

# The per-module metric columns every table shows, in this order (model.METRICS' per-module metrics).
COLUMNS = MODULE_METRICS


def shown_columns(measured: tuple[Metric, ...]) -> list[Metric]:
    """The module columns of the metrics a run measured."""
    return [m for m in COLUMNS if m in measured]


METRIC_LABEL = {m: spec.label for m, spec in METRICS.items()}  # a view of model.METRICS


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} %"


def seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} s"


def value_text(metric: Metric, value: float | None) -> str:
    """A figure in its metric's unit: ``87.5 %`` or ``1.23 s``; ``n/a`` for None."""
    return seconds(value) if METRICS[metric].unit == "s" else pct(value)


def duration(value: float) -> str:
    """A phase's wall time: ``12.3 s``, whole seconds from 100 s (``118 s``)."""
    return f"{value:.0f} s" if value >= 99.95 else f"{value:.1f} s"


NOT_MEASURED = "not measured"


def figure(v: Verdict) -> str:
    if v.status is Status.SKIPPED:
        return "-"
    if v.status is Status.NOT_MEASURED:
        return NOT_MEASURED
    return value_text(v.metric, v.value)


def target(v: Verdict) -> str:
    return f"{v.comparison} {v.target:g} {METRICS[v.metric].unit}"


def verdict_text(v: Verdict) -> str:
    """``branch coverage 62.5 % (target >= 75 %): FAIL``."""
    tail = f" ({v.reason})" if v.reason and v.status in (Status.NA, Status.SKIPPED, Status.NOT_MEASURED) else ""
    return f"{METRIC_LABEL[v.metric]} {figure(v)} (target {target(v)}): {v.status.value.upper()}{tail}"


def compress_lines(lines: tuple[int, ...] | list[int]) -> str:
    """``1, 2, 3, 7, 9, 10`` -> ``1-3, 7, 9-10`` as coverage.py prints missing lines."""
    out: list[str] = []
    start = prev = None
    for n in sorted(lines):
        if start is None:
            start = prev = n
        elif prev is not None and n == prev + 1:
            prev = n
        else:
            out.append(f"{start}-{prev}" if start != prev else f"{start}")
            start = prev = n
    if start is not None:
        out.append(f"{start}-{prev}" if start != prev else f"{start}")
    return ", ".join(out)


def regression_text(r: Regression) -> str:
    """``branch coverage fell from 96.5 % to 90.0 % (ratchet tolerance 0.5 points)``."""
    if METRICS[r.metric].unit == "s":  # the tolerance is a percentage of the baseline's time
        return (f"{METRIC_LABEL[r.metric]} grew from {seconds(r.baseline)} to {seconds(r.value)} "
                f"(ratchet tolerance {r.tolerance:g} %)")
    verb = "fell" if METRICS[r.metric].higher_is_better else "rose"
    return (f"{METRIC_LABEL[r.metric]} {verb} from {pct(r.baseline)} to {pct(r.value)} "
            f"(ratchet tolerance {r.tolerance:g} points)")
