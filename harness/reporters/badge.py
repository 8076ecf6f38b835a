"""SVG badges, one per metric (shields.io style), for READMEs and dashboards.

The value is the project total; the colour is the gate's: red when any module (or the project) misses that
metric's target, green when it was checked and met, grey when n/a or not measured.
"""

from __future__ import annotations

from html import escape

from harness.model import METRICS, Metric, Scorecard, Status
from harness.reporters import fmt
from harness.reporters.fmt import METRIC_LABEL
from harness.workspace import FORMAT

COLOUR = {Status.PASS: "#2e7d32", Status.FAIL: "#c62828", Status.NA: "#757575", Status.SKIPPED: "#757575",
          Status.NOT_MEASURED: "#e65100"}
BADGE_METRICS = tuple(METRICS)


def _text_width(text: str) -> int:
    """Approximate width of Verdana 11px text (shields.io's font), wide enough for digits and lower case."""
    return sum(8 if c in "mwMW%" else 4 if c in "ijl.,: " else 7 for c in text) + 10


def status(sc: Scorecard, metric: Metric) -> Status:
    statuses = [v.status for c in sc.modules for v in c.verdicts if v.metric is metric]
    statuses += [v.status for v in sc.totals.verdicts if v.metric is metric]
    if Status.FAIL in statuses:
        return Status.FAIL
    if Status.NOT_MEASURED in statuses:
        return Status.NOT_MEASURED
    if Status.PASS in statuses:
        return Status.PASS
    return Status.NA


def value_text(sc: Scorecard, metric: Metric) -> str:
    """The project's figure for ``metric`` (read through ``METRICS``), or "not measured"."""
    if metric not in sc.metrics:
        return "not measured"
    return fmt.value_text(metric, METRICS[metric].project_value(sc.totals))


def svg(label: str, value: str, colour: str, version: str) -> str:
    lw, vw = _text_width(label), _text_width(value)
    w = lw + vw
    label, value = escape(label), escape(value)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="20" role="img" '
        f'aria-label="{label}: {value}">\n'
        f"<!-- quality-harness {escape(version)}, format {FORMAT} -->\n"
        f"<title>{label}: {value}</title>\n"
        f'<clipPath id="r"><rect width="{w}" height="20" rx="3" fill="#fff"/></clipPath>\n'
        f'<g clip-path="url(#r)"><rect width="{lw}" height="20" fill="#555"/>'
        f'<rect x="{lw}" width="{vw}" height="20" fill="{colour}"/></g>\n'
        f'<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" '
        f'font-size="11"><text x="{lw / 2}" y="14">{label}</text>'
        f'<text x="{lw + vw / 2}" y="14">{value}</text></g>\n</svg>\n'
    )


def badges(sc: Scorecard) -> dict[str, str]:
    """``{"branch_coverage.svg": "<svg ...>", ...}`` for every metric."""
    version = sc.meta.harness_version
    out = {}
    for metric in BADGE_METRICS:
        colour = COLOUR[status(sc, metric)] if metric in sc.metrics else COLOUR[Status.SKIPPED]
        out[f"{metric.value}.svg"] = svg(METRIC_LABEL[metric], value_text(sc, metric), colour, version)
    return out
