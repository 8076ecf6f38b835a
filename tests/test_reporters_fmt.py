"""Figures as every text report prints them: phase durations around 100 s and the ratchet's words."""

from __future__ import annotations

import pytest

from harness.model import Metric, Regression
from harness.reporters import fmt


@pytest.mark.parametrize(("seconds", "text"), [(99.94, "99.9 s"), (99.95, "100 s"), (100.0, "100 s"),
                                               (100.5, "100 s"), (118.2, "118 s"), (0.04, "0.0 s")])
def test_duration_drops_the_decimal_from_100_s(seconds: float, text: str) -> None:
    assert fmt.duration(seconds) == text


def test_regression_words_follow_the_metric_direction() -> None:
    assert fmt.regression_text(Regression("m", Metric.FLAKY_RATE, 0.0, 2.5, 0.5)) == (
        "flaky rate rose from 0.0 % to 2.5 % (ratchet tolerance 0.5 points)")
    assert fmt.regression_text(Regression("m", Metric.MUTATION_SCORE, 90.0, 80.0, 1.0)) == (
        "mutation score fell from 90.0 % to 80.0 % (ratchet tolerance 1 points)")
    assert fmt.regression_text(Regression("project", Metric.SUITE_RUNTIME, 2.0, 3.5, 50.0)) == (
        "suite runtime grew from 2.00 s to 3.50 s (ratchet tolerance 50 %)")
