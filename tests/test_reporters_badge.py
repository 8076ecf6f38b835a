"""Badges drawn exactly: widths from the text (wide and narrow letters), escaped text, the value's colour; a
metric the run did not measure is a grey "not measured" badge."""

from __future__ import annotations

from dataclasses import replace

import reportdata

from harness.model import Metric, Status
from harness.reporters import badge


def test_badge_svg_exactly() -> None:
    assert badge.svg("a<b", "mw%ij.,: x", "#123", "1&2") == (
        '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="20" role="img" aria-label="a&lt;b: mw%ij.,: x">\n'
        "<!-- quality-harness 1&amp;2, format 1 -->\n"
        "<title>a&lt;b: mw%ij.,: x</title>\n"
        '<clipPath id="r"><rect width="96" height="20" rx="3" fill="#fff"/></clipPath>\n'
        '<g clip-path="url(#r)"><rect width="31" height="20" fill="#555"/>'
        '<rect x="31" width="65" height="20" fill="#123"/></g>\n'
        '<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">'
        '<text x="15.5" y="14">a&lt;b</text><text x="63.5" y="14">mw%ij.,: x</text></g>\n</svg>\n')


def test_badges_of_the_project_figures() -> None:
    sc = reportdata.scorecard()
    runtime = badge.badges(sc)["suite_runtime.svg"]
    assert 'aria-label="suite runtime: 1.50 s"' in runtime and f'fill="{badge.COLOUR[Status.PASS]}"' in runtime
    assert "<!-- quality-harness 0.1.0, format 1 -->" in runtime  # the run's harness version
    flaky = badge.badges(replace(sc, metrics=(Metric.LINE_COVERAGE,)))["flaky_rate.svg"]
    assert 'aria-label="flaky rate: not measured"' in flaky and f'fill="{badge.COLOUR[Status.SKIPPED]}"' in flaky
